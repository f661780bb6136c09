"""GET /uploads/{upload_id}: the uploader reads its file's verdict; anyone else gets a 404."""

import json
import os
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.identity import caller_identity
from silent_scalper.observability import logger, metrics, tracer
from silent_scalper.settings import Settings, SettingsError
from silent_scalper.uploads import upload_status

SETTINGS = Settings.from_env(os.environ)
if SETTINGS.uploads_table is None:
    raise SettingsError("environment variable UPLOADS_TABLE is missing")
UPLOADS_TABLE: str = SETTINGS.uploads_table
DYNAMODB = boto3.client("dynamodb", config=Config(retries={"mode": "standard"}))
# Signs the report link (SigV4, regional endpoint): no request is made.
S3 = boto3.client("s3", region_name=SETTINGS.region, config=Config(signature_version="s3v4"))
NOT_FOUND = {"message": "Not Found"}


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
# The response holds a presigned report link: keep it out of the X-Ray trace.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload v2) -> 200 upload status | 404 (unknown or not yours)."""
    upload_id = str((event.get("pathParameters") or {}).get("upload_id", ""))
    view = upload_status(
        DYNAMODB,
        S3,
        uploads_table=UPLOADS_TABLE,
        metadata_table=SETTINGS.table_name,
        upload_id=upload_id,
        caller=caller_identity(event),
        now=datetime.now(UTC),
    )
    logger.info("upload status", extra={"found": view is not None, "status": view and view.status})
    metrics.add_metric(
        name="UploadStatusRead" if view is not None else "UploadStatusNotFound",
        unit=MetricUnit.Count,
        value=1,
    )
    status, body = (404, NOT_FOUND) if view is None else (200, view.to_body())
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "Cache-Control": "no-store"},
        "body": json.dumps(body),
    }
