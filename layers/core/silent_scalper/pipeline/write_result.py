"""Results for Athena: every terminal record as one JSON line under ``results/dt=YYYY-MM-DD/``.

The metadata table's stream (``NEW_AND_OLD_IMAGES``) feeds the ``write_result`` Lambda; a
record that *enters* a terminal status (``VALID``, ``QUARANTINED``, ``FAILED``) becomes one
line. The stream is the one place every terminal write passes through, whoever writes it:
the WriteMetadata and Quarantine Lambdas, the failure recorder and the state machine's
RecordObjectGone direct integration alike.

The object key is derived from the record (``pk``, execution, status), never from the time
of delivery: a stream batch retried by Lambda rewrites the same objects, so results are
at-least-once delivered but written once. A file processed again later (a new version, a
replay after FAILED, a reprocess) gets a new execution and so a new line: the results are
the history of outcomes, the table holds the latest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from silent_scalper.records import Status, plain_item

#: Statuses that end a file's processing.
TERMINAL = frozenset({Status.VALID, Status.QUARANTINED, Status.FAILED})
#: Key prefix of the results in the results bucket (the Glue table's location).
RESULTS_PREFIX = "results/"


class ResultsSettings(BaseModel):
    """What ``write_result`` needs: the bucket (``RESULTS_BUCKET``)."""

    model_config = ConfigDict(frozen=True)

    results_bucket: str = Field(min_length=3)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ResultsSettings:
        """Build from the environment the template sets; ``ValueError`` names what is missing."""
        bucket = env.get("RESULTS_BUCKET", "")
        if len(bucket) < 3:
            msg = "environment variable RESULTS_BUCKET is missing"
            raise ValueError(msg)
        return cls(results_bucket=bucket)


class ResultLine(BaseModel):
    """One line of the results table (the Glue table's columns, in this order)."""

    model_config = ConfigDict(frozen=True)

    pk: str
    bucket: str
    key: str
    status: str
    reason: str | None = None
    size: int | None = None
    records: int | None = None
    invalid_records: int | None = None
    format: str | None = None
    schema_name: str | None = None
    sha256: str | None = None
    job_ids: int | None = None
    formula_cells: int | None = None
    event_time: str | None = None
    processed_at: str
    #: Seconds from S3 creating the object to the terminal record (``None`` if unknown).
    latency_seconds: float | None = None
    execution_arn: str
    quarantine_location: str | None = None
    failure_error: str | None = None
    uploader_kind: str | None = None
    uploader_principal: str | None = None
    uploader_name: str | None = None
    #: The partition value (``YYYY-MM-DD`` of ``processed_at``); also in the key.
    dt: str

    def object_key(self) -> str:
        """``results/dt=<dt>/<hash of pk, execution and status>.json``: stable per outcome."""
        digest = outcome_id(self.pk, self.execution_arn, self.status)
        return f"{RESULTS_PREFIX}dt={self.dt}/{digest}.json"

    def to_json_line(self) -> str:
        """The line as written: compact JSON ending in a newline (JSON SerDe reads it)."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


def outcome_id(pk: str, execution_arn: str, status: str) -> str:
    """One outcome's stable id: the same record, execution and status always give the same id
    (the result line's object name, and the outcome event's ``dedup_id``)."""
    return hashlib.sha256(f"{pk}\n{execution_arn}\n{status}".encode()).hexdigest()[:32]


def terminal_images(records: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The new images (plain values) of a stream batch's terminal transitions, in order.

    Records that are not a terminal transition are skipped; so are REMOVE records.
    """
    images: list[dict[str, Any]] = []
    for record in records:
        if record.get("eventName") not in {"INSERT", "MODIFY"}:
            continue
        change = record.get("dynamodb") or {}
        new_image = change.get("NewImage")
        if not new_image:
            continue
        new = plain_image(new_image)
        old_image = change.get("OldImage")
        old = plain_image(old_image) if old_image else None
        if is_terminal_transition(new, old):
            images.append(new)
    return images


def plain_image(image: Mapping[str, Any]) -> dict[str, Any]:
    """A stream image (DynamoDB attribute values) as plain Python values."""
    return plain_item(image)


def is_terminal_transition(new: Mapping[str, Any], old: Mapping[str, Any] | None) -> bool:
    """True when ``new`` is terminal and the record was not already in that outcome.

    Rewriting a terminal record with the same status and execution (an idempotent retry of
    WriteMetadata, a tag update) is not a new outcome.
    """
    status = new.get("status")
    if status not in TERMINAL:
        return False
    if old is None:
        return True
    return bool(old.get("status") != status or old.get("execution_arn") != new.get("execution_arn"))


def result_line(new: Mapping[str, Any]) -> ResultLine:
    """The result line of a terminal record (a plain image). ``ValueError`` if it is not one."""
    status = new.get("status")
    if status not in TERMINAL:
        msg = f"record {new.get('pk')!r} is {status!r}, not terminal"
        raise ValueError(msg)
    processed_at = str(new.get("processed_at") or new.get("updated_at") or "")
    if len(processed_at) < 10:
        msg = f"record {new.get('pk')!r} has no processed_at/updated_at time"
        raise ValueError(msg)
    raw_uploader = new.get("uploader")
    uploader: Mapping[str, Any] = raw_uploader if isinstance(raw_uploader, Mapping) else {}
    key = new.get("key") or new.get("event_key") or ""
    try:
        return ResultLine(
            pk=str(new["pk"]),
            bucket=str(new.get("bucket") or str(new["pk"]).partition("/")[0]),
            key=str(key),
            status=str(status),
            reason=new.get("reason"),
            size=new.get("size"),
            records=new.get("records"),
            invalid_records=new.get("invalid_records"),
            format=new.get("format"),
            schema_name=new.get("schema_name"),
            sha256=new.get("sha256"),
            job_ids=new.get("job_ids"),
            formula_cells=new.get("formula_cells"),
            event_time=new.get("event_time"),
            processed_at=processed_at,
            latency_seconds=_latency(new.get("event_time"), processed_at),
            execution_arn=str(new.get("execution_arn") or ""),
            quarantine_location=new.get("quarantine_location"),
            failure_error=new.get("failure_error"),
            uploader_kind=uploader.get("kind"),
            uploader_principal=uploader.get("principal"),
            uploader_name=uploader.get("name"),
            dt=processed_at[:10],
        )
    except (KeyError, ValidationError) as exc:
        msg = f"record {new.get('pk')!r} cannot become a result line: {exc}"
        raise ValueError(msg) from None


def _latency(event_time: object, processed_at: str) -> float | None:
    if not isinstance(event_time, str):
        return None
    try:
        start = datetime.fromisoformat(event_time.replace("Z", "+00:00"))
        end = datetime.fromisoformat(processed_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return round(max(0.0, (end - start).total_seconds()), 3)


def lines_from_stream(records: list[Mapping[str, Any]]) -> list[ResultLine]:
    """The result lines of a DynamoDB stream batch (the Lambda event's ``Records``).

    Records that are not a terminal transition are skipped; so are REMOVE records.
    """
    return [result_line(new) for new in terminal_images(records)]
