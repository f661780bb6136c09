"""Scheduled maintenance: reprocess quarantined files that now pass, and count stuck records.

Two EventBridge Scheduler schedules invoke this function (template.yaml):

- ``{"task": "reprocess"}`` (disabled by default): settle earlier releases, then revalidate
  quarantined files against the current version of their own schema and release those that
  now pass into the normal pipeline (silent_scalper.pipeline.reprocess_quarantined explains
  how nothing is lost on the way).
- ``{"task": "stuck-records"}`` (every 5 minutes): publish ``StuckRecords``, the number of
  records still PROCESSING past the state machine's timeout; an alarm watches it and
  ``scalper sweep`` replays them.
"""

import os
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.engine import Limits, SchemaRegistry
from silent_scalper.observability import logger, metrics, tracer
from silent_scalper.pipeline.reprocess_quarantined import (
    QuarantineStore,
    ReprocessSettings,
    Revalidation,
    count_stuck,
    scheduled_run,
    schema_picker,
)
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
REPROCESS = ReprocessSettings.from_env(os.environ)
# Each file is revalidated against its own schema, as this deployment's schemas/ has it now.
SCHEMA_FOR = schema_picker(
    SchemaRegistry.load(), prefix=SETTINGS.upload_prefix, default=SETTINGS.schema_name
)
LIMITS = Limits(max_bytes=SETTINGS.max_upload_bytes, max_errors=SETTINGS.max_errors)
CONFIG = Config(retries={"mode": "standard"})
S3 = boto3.client("s3", config=CONFIG)
DYNAMODB = boto3.client("dynamodb", config=CONFIG)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """-> the run's summary (``reprocess``) or ``{"stuck_records": n}`` (``stuck-records``)."""
    now = datetime.now(UTC)
    task = str((event or {}).get("task", "reprocess"))
    if task == "stuck-records":
        cutoff = now - timedelta(seconds=REPROCESS.stuck_after_seconds)
        stuck = count_stuck(
            DYNAMODB, SETTINGS.table_name, claimed_before=cutoff.strftime("%Y-%m-%dT%H:%M:%S")
        )
        metrics.add_metric(name="StuckRecords", unit=MetricUnit.Count, value=stuck)
        if stuck:
            logger.warning("records stuck in PROCESSING", extra={"stuck_records": stuck})
        return {"stuck_records": stuck}
    if task != "reprocess":
        msg = f"unknown task {task!r}: expected 'reprocess' or 'stuck-records'"
        raise ValueError(msg)
    summary = scheduled_run(
        S3,
        DYNAMODB,
        store=QuarantineStore(SETTINGS.table_name, SETTINGS.quarantine_bucket),
        revalidation=Revalidation(SCHEMA_FOR, LIMITS),
        settings=REPROCESS,
        now=now,
        time_left=lambda: context.get_remaining_time_in_millis() / 1000,
    )
    metrics.add_metric(name="FilesReleased", unit=MetricUnit.Count, value=summary.released)
    metrics.add_metric(name="FilesStillInvalid", unit=MetricUnit.Count, value=summary.still_invalid)
    logger.info("reprocessing run", extra=summary.to_dict())
    return summary.to_dict()
