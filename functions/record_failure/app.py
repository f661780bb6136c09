"""Failure recorder: an execution that ended FAILED, TIMED_OUT or ABORTED -> FAILED record,
tag and ``event=FAILED`` alert (once per failure, only while the execution owns the record).

Fed by EventBridge status-change events (Standard) or the execution log's subscription
(Express); both arrive as asynchronous invocations, so a raised AWS error is retried.
"""

import os
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.observability import logger, metrics, record_outcome, tracer
from silent_scalper.pipeline import FailureInputError, record_ended_executions
from silent_scalper.records import Status
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
CONFIG = Config(retries={"mode": "standard"})
SFN = boto3.client("stepfunctions", config=CONFIG)
LOGS = boto3.client("logs", config=CONFIG)
DYNAMODB = boto3.client("dynamodb", config=CONFIG)
S3 = boto3.client("s3", config=CONFIG)
SNS = boto3.client("sns", config=CONFIG)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """-> ``{"outcomes": [{"execution_arn", "pk", "recorded", "alerted", "note"}]}``."""
    try:
        outcomes = record_ended_executions(
            event, sfn=SFN, logs=LOGS, dynamodb=DYNAMODB, s3=S3, sns=SNS, settings=SETTINGS
        )
    except FailureInputError as exc:
        # Not an ended execution of this pipeline: retrying cannot help.
        logger.error("not an ended execution; ignored", extra={"error": str(exc)})
        metrics.add_metric(name="EventsIgnored", unit=MetricUnit.Count, value=1)
        return {"outcomes": []}
    for outcome in outcomes:
        if outcome.recorded:
            record_outcome(Status.FAILED)
        else:
            # A newer owner, an outcome already recorded or a repeated delivery: nothing written.
            metrics.add_metric(name="FailuresNotRecorded", unit=MetricUnit.Count, value=1)
        logger.info("failure handled", extra=outcome.model_dump())
    return {"outcomes": [o.model_dump() for o in outcomes]}
