"""WriteMetadata: the final VALID record, written idempotently, and the object's tag."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silent_scalper.pipeline.models import StepOutcome, WriteRequest
from silent_scalper.pipeline.tagging import tag_outcome
from silent_scalper.records import Status, put_final
from silent_scalper.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client


def write_metadata(
    dynamodb: DynamoDBClient,
    s3: S3Client,
    step: WriteRequest,
    *,
    settings: Settings,
) -> StepOutcome:
    """Replace the claim with the ``VALID`` record ``step`` carries, then tag the object
    ``scalper-status=VALID`` (unless ``settings.tag_objects`` is off).

    Raises :class:`~silent_scalper.records.SupersededError` when a newer execution owns the
    record. The record is written first: a retry after a failed tag rewrites the same item.
    """
    record = step.record
    if record.pk != step.pk or record.execution_arn != step.execution_arn:
        msg = "the record does not belong to this object and execution"
        raise ValueError(msg)
    if record.status is not Status.VALID:
        msg = f"write_metadata writes VALID records, not {record.status}"
        raise ValueError(msg)
    put_final(dynamodb, settings.table_name, record)
    if settings.tag_objects:
        tag_outcome(
            s3,
            bucket=step.bucket,
            key=record.key,
            version_id=record.version_id,
            status=Status.VALID,
        )
    return StepOutcome(
        status=Status.VALID, pk=record.pk, reason=None, location=f"s3://{step.bucket}/{record.key}"
    )
