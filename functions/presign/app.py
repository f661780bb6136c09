"""POST /uploads: check the upload request and return a presigned POST (or a 400 with a reason)."""

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config
from silent_scalper.engine import SchemaRegistry
from silent_scalper.identity import caller_identity
from silent_scalper.observability import logger, metrics, tracer
from silent_scalper.pipeline import PresignError, open_upload, parse_request
from silent_scalper.settings import Settings

SETTINGS = Settings.from_env(os.environ)
# The schema names a request may ask for, read once per cold start.
SCHEMAS = frozenset(SchemaRegistry.load().names)
# SigV4 is what presigned POST policies are signed with; the regional endpoint avoids redirects.
S3 = boto3.client("s3", region_name=SETTINGS.region, config=Config(signature_version="s3v4"))
DYNAMODB = boto3.client("dynamodb", config=Config(retries={"mode": "standard"}))


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
# The response holds the POST policy and signature: keep it out of the X-Ray trace too.
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload v2) -> 201 presigned upload | 400 JSON error."""
    try:
        request = parse_request(
            event.get("body"),
            base64_encoded=bool(event.get("isBase64Encoded")),
            settings=SETTINGS,
            schemas=SCHEMAS,
        )
    except PresignError as exc:
        logger.info("upload request refused", extra={"code": exc.code, "field": exc.field})
        metrics.add_metric(name="UploadsRefused", unit=MetricUnit.Count, value=1)
        return _response(400, exc.to_body())
    # The verified caller (IAM or Cognito JWT), from requestContext.authorizer only.
    uploader = caller_identity(event)
    upload = open_upload(
        S3,
        DYNAMODB,
        request,
        settings=SETTINGS,
        now=datetime.now(UTC),
        upload_id=uuid.uuid4().hex,
        uploader=uploader,
    )
    # The key and declared size only: the POST fields carry the signature and never reach the logs.
    logger.info(
        "upload presigned",
        extra={
            "key": upload.key,
            "schema": upload.schema_name,
            "declared_size": request.size,
            "uploader_kind": uploader.kind if uploader else None,
        },
    )
    metrics.add_metric(name="UploadsPresigned", unit=MetricUnit.Count, value=1)
    return _response(201, upload.model_dump(by_alias=True))
