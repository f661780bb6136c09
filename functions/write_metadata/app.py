"""WriteMetadata state: the final VALID record (idempotent, only by the owning execution) + tag."""

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.observability import (
    OBJECT_KEY_PATH,
    logger,
    metrics,
    record_outcome,
    record_superseded,
    tracer,
)
from silent_scalper.pipeline import WriteRequest, write_metadata
from silent_scalper.records import Status, SupersededError
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
CONFIG = Config(retries={"mode": "standard"})
DYNAMODB = boto3.client("dynamodb", config=CONFIG)
S3 = boto3.client("s3", config=CONFIG)


@logger.inject_lambda_context(correlation_id_path=OBJECT_KEY_PATH)
# Results can quote file content (located error messages): keep them out of X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=WriteRequest)
def handler(event: WriteRequest, context: LambdaContext) -> dict[str, Any]:
    """-> ``{"status": "VALID", "pk", "reason": null, "location"}``; raises SupersededError."""
    try:
        outcome = write_metadata(DYNAMODB, S3, event, settings=SETTINGS)
    except SupersededError:
        logger.warning("a newer execution owns this record; not writing", extra={"pk": event.pk})
        record_superseded()
        raise
    record_outcome(Status.VALID)
    logger.info("recorded VALID", extra={"pk": outcome.pk})
    return outcome.model_dump(mode="json")
