"""Outcome events: one EventBridge event per terminal outcome, for the teams that consume files.

The metadata table's stream already brings every terminal write to ``write_result`` (the
Lambdas' and the state machine's alike), so the events are published there: no state of the
pipeline is added or changed. Each event has

- ``source`` ``silent-scalper``;
- ``detail-type`` ``File Validated``, ``File Quarantined`` or ``File Failed``;
- ``detail`` (:class:`OutcomeDetail`): where the file is (bucket, key, version), its outcome
  (status, reason, records, sha256, schema), who uploaded it (upload id, uploader), how it was
  processed (execution ARN, quarantine location) and ``dedup_id``.

Never file contents: no record values, no located error messages (they quote cells).

Delivery is at least once. A stream batch is retried when a publish fails, so a consumer
may see an outcome twice: ``dedup_id`` is the same for every copy of one outcome (record,
execution, status) and differs between outcomes.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from silent_scalper.pipeline.write_result import (
    ResultLine,
    outcome_id,
    result_line,
    terminal_images,
)
from silent_scalper.records import Status
from silent_scalper.schema_choice import schema_for_key
from silent_scalper.uploads import upload_id_of

if TYPE_CHECKING:
    from mypy_boto3_events.client import EventBridgeClient
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef
    from mypy_boto3_s3.client import S3Client

SOURCE = "silent-scalper"
DETAIL_TYPES: dict[str, str] = {
    Status.VALID: "File Validated",
    Status.QUARANTINED: "File Quarantined",
    Status.FAILED: "File Failed",
}
#: PutEvents takes at most 10 entries a call.
MAX_ENTRIES_PER_CALL = 10
#: Attempts for entries PutEvents reports as failed (throttling, internal errors).
PUBLISH_ATTEMPTS = 3


class OutcomeEventSettings(BaseModel):
    """What publishing needs: the bus, and the key layout to read schema and upload id from."""

    model_config = ConfigDict(frozen=True)

    event_bus_name: str = Field(default="default", min_length=1)
    upload_prefix: str = "uploads/"
    schema_name: str = "job.v1"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OutcomeEventSettings:
        """``EVENT_BUS_NAME``, ``UPLOAD_PREFIX``, ``SCHEMA_NAME`` (as the template sets them)."""
        values = {
            field: env[var]
            for var, field in (
                ("EVENT_BUS_NAME", "event_bus_name"),
                ("UPLOAD_PREFIX", "upload_prefix"),
                ("SCHEMA_NAME", "schema_name"),
            )
            if env.get(var)
        }
        return cls.model_validate(values)


class OutcomeUploader(BaseModel):
    """Who uploaded the file through the API."""

    kind: str
    principal: str
    name: str | None = None


class OutcomeDetail(BaseModel):
    """The ``detail`` of an outcome event (see ``events/outcomes/`` for one of each)."""

    bucket: str
    key: str
    version: str | None = None
    status: str
    reason: str | None = None
    records: int | None = None
    invalid_records: int | None = None
    size: int | None = None
    sha256: str | None = None
    schema_name: str = Field(serialization_alias="schema")
    upload_id: str | None = None
    uploader: OutcomeUploader | None = None
    execution_arn: str
    quarantine_location: str | None = None
    processed_at: str | None = None
    dedup_id: str


class OutcomeEventError(RuntimeError):
    """Some outcome events could not be published after retries."""


def outcome_detail(
    new: Mapping[str, Any], *, settings: OutcomeEventSettings, schemas: Collection[str]
) -> OutcomeDetail:
    """The event detail of a terminal record (a plain stream image)."""
    status = str(new.get("status"))
    if status not in DETAIL_TYPES:
        msg = f"record {new.get('pk')!r} is {status!r}, not terminal"
        raise ValueError(msg)
    # A FAILED record written by the state machine may hold only the event's spelling of the
    # key (never decoded on faith: silent_scalper.pipeline.keys).
    key = str(new.get("key") or new.get("event_key") or "")
    bucket = str(new.get("bucket") or str(new.get("pk", "")).partition("/")[0])
    execution_arn = str(new.get("execution_arn") or "")
    raw_uploader = new.get("uploader")
    version = new.get("version_id")
    return OutcomeDetail(
        bucket=bucket,
        key=key,
        version=None if version in (None, "null") else str(version),
        status=status,
        reason=new.get("reason") or new.get("failure_error"),
        records=new.get("records"),
        invalid_records=new.get("invalid_records"),
        size=new.get("size"),
        sha256=new.get("sha256"),
        # A FAILED record written by the state machine names no schema: the key's rule does.
        schema_name=new.get("schema_name")
        or schema_for_key(
            key, prefix=settings.upload_prefix, default=settings.schema_name, known=schemas
        ),
        upload_id=upload_id_of(key, prefix=settings.upload_prefix),
        uploader=OutcomeUploader.model_validate(raw_uploader)
        if isinstance(raw_uploader, Mapping) and raw_uploader.get("principal")
        else None,
        execution_arn=execution_arn,
        quarantine_location=new.get("quarantine_location"),
        processed_at=new.get("processed_at") or new.get("updated_at"),
        dedup_id=outcome_id(str(new.get("pk", "")), execution_arn, status),
    )


def outcome_entry(
    detail: OutcomeDetail, *, settings: OutcomeEventSettings
) -> PutEventsRequestEntryTypeDef:
    """The PutEvents entry of one outcome."""
    resources = [f"arn:aws:s3:::{detail.bucket}/{detail.key}"]
    if detail.execution_arn.startswith("arn:"):
        resources.append(detail.execution_arn)
    return {
        "Source": SOURCE,
        "DetailType": DETAIL_TYPES[detail.status],
        "Detail": json.dumps(
            detail.model_dump(mode="json", by_alias=True), ensure_ascii=False, sort_keys=True
        ),
        "Resources": resources,
        "EventBusName": settings.event_bus_name,
    }


def publish(
    events: EventBridgeClient,
    entries: list[PutEventsRequestEntryTypeDef],
    *,
    attempts: int = PUBLISH_ATTEMPTS,
    backoff_seconds: float = 0.2,
) -> int:
    """Put ``entries`` (10 a call), retrying the entries PutEvents reports as failed.

    PutEvents is not all-or-nothing: a 200 response can still list failed entries
    (``FailedEntryCount``), which are sent again. Raises :class:`OutcomeEventError` when
    some still fail after ``attempts``; returns how many were published.
    """
    published = 0
    for start in range(0, len(entries), MAX_ENTRIES_PER_CALL):
        pending = entries[start : start + MAX_ENTRIES_PER_CALL]
        for attempt in range(attempts):
            response = events.put_events(Entries=pending)
            results = response.get("Entries", [])
            failed = [
                entry
                for entry, result in zip(pending, results, strict=False)
                if result.get("ErrorCode") or not result.get("EventId")
            ]
            published += len(pending) - len(failed)
            if not failed:
                break
            pending = failed
            if attempt + 1 < attempts:
                time.sleep(backoff_seconds * 2**attempt)
        else:
            codes = sorted({str(r.get("ErrorCode")) for r in results if r.get("ErrorCode")})
            msg = f"{len(pending)} outcome event(s) not published: {', '.join(codes) or 'unknown'}"
            raise OutcomeEventError(msg)
    return published


@dataclass(frozen=True)
class StreamOutcome:
    """One terminal transition of the metadata stream: its result line and its event."""

    line: ResultLine
    entry: PutEventsRequestEntryTypeDef

    def deliver(self, s3: S3Client, events: EventBridgeClient, *, results_bucket: str) -> None:
        """Write the result line (idempotent: same object key), then publish the event.

        S3 or network errors propagate as they are; a failed publish is
        :class:`OutcomeEventError`, so the caller can count it apart.
        """
        s3.put_object(
            Bucket=results_bucket,
            Key=self.line.object_key(),
            Body=(self.line.to_json_line() + "\n").encode(),
            ContentType="application/x-ndjson",
        )
        try:
            publish(events, [self.entry])
        except (ClientError, BotoCoreError) as exc:
            raise OutcomeEventError(f"outcome event not published: {exc}") from exc


def outcomes_from_stream(
    records: list[Mapping[str, Any]],
    *,
    events: OutcomeEventSettings,
    schemas: Collection[str],
) -> list[StreamOutcome]:
    """The outcomes (line + event) of a stream batch's terminal transitions, in order.

    ``ValueError`` when a terminal record cannot become a line or an event.
    """
    return [
        StreamOutcome(
            result_line(new),
            outcome_entry(outcome_detail(new, settings=events, schemas=schemas), settings=events),
        )
        for new in terminal_images(records)
    ]
