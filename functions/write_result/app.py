"""Metadata table stream -> one JSON line per terminal outcome in the results bucket (Athena).

Invoked by the DynamoDB Streams event source mapping (filtered to terminal statuses, with
partial batch responses): a record that fails to write is reported back by its sequence
number, so Lambda retries from there and the rest of the batch is not written twice.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from silent_scalper.observability import logger, metrics, tracer
from silent_scalper.pipeline.write_result import ResultsSettings, lines_from_stream

SETTINGS = ResultsSettings.from_env(os.environ)
S3 = boto3.client("s3", config=Config(retries={"mode": "standard"}))


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """-> ``{"batchItemFailures": [...]}`` (empty when every result was written)."""
    failures: list[dict[str, str]] = []
    written = 0
    for record in event.get("Records", []):
        sequence = str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
        try:
            lines = lines_from_stream([record])
        except ValueError as exc:
            # A record that can never become a line is logged and skipped, not retried forever.
            logger.error("record skipped", extra={"sequence": sequence, "error": str(exc)})
            metrics.add_metric(name="ResultsSkipped", unit=MetricUnit.Count, value=1)
            continue
        try:
            for line in lines:
                S3.put_object(
                    Bucket=SETTINGS.results_bucket,
                    Key=line.object_key(),
                    Body=(line.to_json_line() + "\n").encode(),
                    ContentType="application/x-ndjson",
                )
                written += 1
        except (ClientError, BotoCoreError) as exc:
            logger.warning("result not written", extra={"sequence": sequence, "error": str(exc)})
            failures.append({"itemIdentifier": sequence})
            # Stream order matters to a retry: report this record and everything after it.
            index = event["Records"].index(record)
            failures.extend(
                {"itemIdentifier": str((r.get("dynamodb") or {}).get("SequenceNumber", ""))}
                for r in event["Records"][index + 1 :]
            )
            break
    if written:
        metrics.add_metric(name="ResultsWritten", unit=MetricUnit.Count, value=written)
    return {"batchItemFailures": failures}
