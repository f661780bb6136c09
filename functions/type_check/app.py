"""TypeCheck state: a ranged GET of the object's first bytes -> format and encoding, or a reason."""

import os
from typing import Any

import boto3
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.engine import Limits
from silent_scalper.observability import OBJECT_KEY_PATH, logger, tracer
from silent_scalper.pipeline import StepInput, type_check
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
LIMITS = Limits(max_bytes=SETTINGS.max_upload_bytes, max_errors=SETTINGS.max_errors)
S3 = boto3.client("s3", config=Config(retries={"mode": "standard"}))


@logger.inject_lambda_context(correlation_id_path=OBJECT_KEY_PATH)
# Results can quote file content (located error messages): keep them out of X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=StepInput)
def handler(event: StepInput, context: LambdaContext) -> dict[str, Any]:
    """-> TypeCheckOutcome: the verdict ``{"ok", "format", "encoding", "reason", "message"}``,
    the resolved ``key`` and the uploader; raises ObjectGone when the object version is gone."""
    result = type_check(S3, event, limits=LIMITS, accepted_suffixes=SETTINGS.accepted_suffixes)
    verdict = result.verdict
    logger.info(
        "type checked", extra={"ok": verdict.ok, "format": verdict.format, "reason": verdict.reason}
    )
    return result.model_dump(mode="json")
