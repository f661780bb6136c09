"""ValidateSchema state: stream the object once through the engine -> the small outcome."""

import os
import time
from typing import Any

import boto3
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.engine import Limits, SchemaRegistry
from silent_scalper.engine.heap import keep_freed_heap
from silent_scalper.observability import OBJECT_KEY_PATH, logger, metrics, record_validation, tracer
from silent_scalper.pipeline import ValidateRequest, schema_of, validate_schema
from silent_scalper.settings import Settings

# This process runs the engine and nothing else: each block's freed buffers are kept for
# the next instead of being given back and faulted in again (engine/heap.py).
keep_freed_heap()
SETTINGS = Settings.from_env(os.environ)
LIMITS = Limits(max_bytes=SETTINGS.max_upload_bytes, max_errors=SETTINGS.max_errors)
# Loaded once per cold start; an unknown default schema fails here, loudly, not per file.
REGISTRY = SchemaRegistry.load()
REGISTRY.get(SETTINGS.schema_name)
S3 = boto3.client("s3", config=Config(retries={"mode": "standard"}))


@logger.inject_lambda_context(correlation_id_path=OBJECT_KEY_PATH)
# Results can quote file content (located error messages): keep them out of X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
@event_parser(model=ValidateRequest)
def handler(event: ValidateRequest, context: LambdaContext) -> dict[str, Any]:
    """-> ValidationOutcome ``{"valid", "reason", "message", "summary"}`` (summary ``None`` if
    TypeCheck said no)."""
    started = time.perf_counter()
    checked = event.type_check
    outcome = validate_schema(
        S3,
        event,
        type_result=checked.verdict,
        # Each file's schema comes from its key (schema_choice.schema_for_key).
        schema=schema_of(event, registry=REGISTRY, settings=SETTINGS, key_hint=checked.key),
        limits=LIMITS,
        key_hint=checked.key,
    )
    if outcome.summary is None:
        # TypeCheck refused the file, so nothing was streamed through the engine.
        metrics.add_metric(name="ValidationSkipped", unit=MetricUnit.Count, value=1)
    else:
        record_validation(outcome.summary.size, time.perf_counter() - started)
    logger.info("validated", extra={"valid": outcome.valid, "reason": outcome.reason})
    return outcome.model_dump(mode="json")
