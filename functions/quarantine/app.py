"""Quarantine state: copy aside with a JSON report, tag, record QUARANTINED, notify subscribers."""

import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.engine import SchemaRegistry
from silent_scalper.observability import (
    OBJECT_KEY_PATH,
    logger,
    metrics,
    record_outcome,
    record_superseded,
    tracer,
)
from silent_scalper.pipeline import QuarantineRequest, quarantine
from silent_scalper.records import Status, SupersededError
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
# Schema names, once per cold start: the record of a file TypeCheck refused names its schema.
SCHEMAS = frozenset(SchemaRegistry.load().names)
CONFIG = Config(retries={"mode": "standard"})
S3 = boto3.client("s3", config=CONFIG)
DYNAMODB = boto3.client("dynamodb", config=CONFIG)
SNS = boto3.client("sns", config=CONFIG)


@logger.inject_lambda_context(correlation_id_path=OBJECT_KEY_PATH)
# Results can quote file content (located error messages): keep them out of X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=QuarantineRequest)
def handler(event: QuarantineRequest, context: LambdaContext) -> dict[str, Any]:
    """-> ``{"status": "QUARANTINED", "pk", "reason", "location"}``; raises SupersededError."""
    try:
        outcome = quarantine(
            S3, DYNAMODB, SNS, event, settings=SETTINGS, now=datetime.now(UTC), schemas=SCHEMAS
        )
    except SupersededError:
        logger.warning(
            "a newer execution owns this record; not quarantining", extra={"pk": event.pk}
        )
        record_superseded()
        raise
    record_outcome(Status.QUARANTINED)
    logger.info(
        "recorded QUARANTINED", extra={"reason": outcome.reason, "location": outcome.location}
    )
    return outcome.model_dump(mode="json")
