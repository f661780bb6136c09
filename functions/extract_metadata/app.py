"""ExtractMetadata state: the VALID record from the event and the summary (no second read)."""

import os
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext
from silent_scalper.observability import OBJECT_KEY_PATH, logger, tracer
from silent_scalper.pipeline import ExtractOutcome, ExtractRequest, extract_metadata
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)


@logger.inject_lambda_context(correlation_id_path=OBJECT_KEY_PATH)
# Results can quote file content (located error messages): keep them out of X-Ray.
@tracer.capture_lambda_handler(capture_response=False)
@event_parser(model=ExtractRequest)
def handler(event: ExtractRequest, context: LambdaContext) -> dict[str, Any]:
    """-> ExtractOutcome ``{"record": <metadata record>}``."""
    record = extract_metadata(event, settings=SETTINGS, now=datetime.now(UTC))
    logger.info("metadata extracted", extra={"records": record.records, "job_ids": record.job_ids})
    return ExtractOutcome(record=record).model_dump(mode="json")
