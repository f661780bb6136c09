"""ExtractMetadata: the metadata record from the event and the summary, without re-reading."""

from __future__ import annotations

from datetime import datetime

from silent_scalper.engine import ValidationSummary
from silent_scalper.pipeline.models import ExtractRequest, StepInput
from silent_scalper.records import (
    RECORD_ERRORS,
    MetadataRecord,
    Status,
    execution_console_url,
)
from silent_scalper.settings import Settings


def iso(now: datetime) -> str:
    """Timestamps in records: ISO 8601 UTC with milliseconds, so they sort as strings."""
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# Keyword arguments name themselves at every call; a parameter object would only rename them.
def build_record(  # noqa: PLR0913
    step: StepInput,
    *,
    key: str,
    status: Status,
    settings: Settings,
    now: datetime,
    summary: ValidationSummary | None = None,
    reason: str | None = None,
    schema_name: str | None = None,
) -> MetadataRecord:
    """A terminal record for ``step``'s object; the summary fills the content fields.

    ``key`` is the object's real key, resolved against the object; the event's spelling of
    it is kept as ``event_key``. ``schema_name`` is the schema chosen for the object (the
    summary's when there is one). The uploader and message, when known, are added by the
    caller.
    """
    stamp = iso(now)
    record = MetadataRecord(
        pk=step.pk,
        bucket=step.bucket,
        key=key,
        event_key=step.object.key,
        version_id=step.object.version_id,
        etag=step.object.etag,
        sequencer=step.object.sequencer,
        size=step.object.size,
        status=status,
        reason=reason,
        execution_arn=step.execution_arn,
        event_time=step.event_time,
        execution_url=execution_console_url(
            step.execution_arn, settings.region, settings.workflow_type
        ),
        processed_at=stamp,
        updated_at=stamp,
        schema_name=schema_name,
    )
    if summary is None:
        return record
    return record.model_copy(
        update={
            "reason": reason if reason is not None else _str_or_none(summary.reason),
            "errors": summary.errors[:RECORD_ERRORS],
            "errors_truncated": summary.errors_truncated or len(summary.errors) > RECORD_ERRORS,
            "records": summary.records,
            "invalid_records": summary.invalid_records,
            "sha256": summary.sha256 or None,
            "format": _str_or_none(summary.format),
            "encoding": summary.encoding,
            "schema_name": summary.schema,
            "columns": summary.columns,
            "job_ids": summary.job_ids,
            "first_submitted_at": summary.first_submitted_at,
            "last_submitted_at": summary.last_submitted_at,
            "formula_cells": summary.formula_cells,
            "size": max(step.object.size, summary.size),
        }
    )


def _str_or_none(value: object) -> str | None:
    return None if value is None else str(value)


def extract_metadata(
    step: ExtractRequest,
    *,
    settings: Settings,
    now: datetime,
) -> MetadataRecord:
    """The ``VALID`` record of the file whose summary ``step`` carries, which must say valid.

    The uploader and the real key come from TypeCheck (the object's metadata and the key its
    read resolved): no second request.
    """
    summary = step.summary
    if not summary.valid:
        msg = "extract_metadata needs the summary of a valid file; invalid files go to Quarantine"
        raise ValueError(msg)
    return build_record(
        step,
        key=step.key,
        status=Status.VALID,
        settings=settings,
        now=now,
        summary=summary,
    ).model_copy(update={"uploader": step.uploader})
