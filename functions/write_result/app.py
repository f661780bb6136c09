"""Metadata table stream -> per terminal outcome: one JSON result line (Athena) and one event.

Invoked by the DynamoDB Streams event source mapping (filtered to terminal statuses, with
partial batch responses). For each record the result line is written to the results bucket
and the outcome event put on the outcome bus (silent_scalper.outcome_events). A record whose
line or event fails is reported back by its sequence number, so Lambda retries from there
(the line is rewritten in place, the event carries the same dedup_id) and, after the
mapping's retries, parks the batch in the on-failure queue.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from silent_scalper.engine import SchemaRegistry
from silent_scalper.observability import logger, metrics, tracer
from silent_scalper.outcome_events import (
    OutcomeEventError,
    OutcomeEventSettings,
    StreamOutcome,
    outcomes_from_stream,
)
from silent_scalper.pipeline.write_result import ResultsSettings

SETTINGS = ResultsSettings.from_env(os.environ)
EVENT_SETTINGS = OutcomeEventSettings.from_env(os.environ)
# A FAILED record names no schema; the key's rule picks it among these (once per cold start).
SCHEMAS = frozenset(SchemaRegistry.load().names)
CONFIG = Config(retries={"mode": "standard"})
S3 = boto3.client("s3", config=CONFIG)
EVENTS = boto3.client("events", config=CONFIG)


def _sequence(record: dict[str, Any]) -> str:
    return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """-> ``{"batchItemFailures": [...]}`` (empty when every line and event went out)."""
    records: list[dict[str, Any]] = event.get("Records", [])
    for index, record in enumerate(records):
        try:
            outcomes: list[StreamOutcome] = outcomes_from_stream(
                [record], events=EVENT_SETTINGS, schemas=SCHEMAS
            )
        except ValueError as exc:
            # A record that can never become a line is logged and skipped, not retried forever.
            logger.error("record skipped", extra={"sequence": _sequence(record), "error": str(exc)})
            metrics.add_metric(name="ResultsSkipped", unit=MetricUnit.Count, value=1)
            continue
        try:
            for outcome in outcomes:
                outcome.deliver(S3, EVENTS, results_bucket=SETTINGS.results_bucket)
                metrics.add_metric(name="ResultsWritten", unit=MetricUnit.Count, value=1)
                metrics.add_metric(name="OutcomeEventsPublished", unit=MetricUnit.Count, value=1)
        except (ClientError, BotoCoreError, OutcomeEventError) as exc:
            logger.warning(
                "outcome not delivered", extra={"sequence": _sequence(record), "error": str(exc)}
            )
            failed = (
                "OutcomeEventsFailed" if isinstance(exc, OutcomeEventError) else "ResultsFailed"
            )
            metrics.add_metric(name=failed, unit=MetricUnit.Count, value=1)
            # Stream order matters to a retry: report this record and everything after it.
            return {
                "batchItemFailures": [{"itemIdentifier": _sequence(r)} for r in records[index:]]
            }
    return {"batchItemFailures": []}
