"""Putting quarantined files back through the pipeline (after a schema fix), losing nothing.

Why not start a new execution with the original event? Claim refuses it, on purpose: the
record is ``QUARANTINED`` for that S3 sequencer, and Claim only lets the same event in again
once the record is ``FAILED`` (so a duplicate event never redoes finished
work). A quarantined file is *released* instead:

1. :func:`release` copies the quarantined version of the input object onto its own key. S3
   stores a new version with the same bytes and a new, larger sequencer and emits Object
   Created; the normal path (EventBridge rule -> state machine -> Claim) takes it from there,
   and EventBridge's retries absorb StartExecution throttling however many files are
   released. The copy is skipped when a newer version of the key exists (a user's newer
   upload is never overwritten) or when the quarantined version is gone. A *pending marker*
   ``_reprocess/pending/<bucket>/<key>.json`` is written to the quarantine bucket first,
   naming the old sequencer. (No quarantine key collides with it: bucket names cannot start
   with ``_``.)
2. The pipeline records the new outcome (a new record for the same key, newer sequencer).
3. :func:`settle` looks at each marker's record. Newer and ``VALID``: the quarantine copy
   and its report are deleted, then the marker. Newer and ``QUARANTINED``: the Quarantine
   step has already replaced copy and report, the marker goes. Anything else (still
   ``PROCESSING``, ``FAILED``, not yet claimed): the marker stays, and so do the copy and
   report, until an outcome is recorded.

Until step 3 sees a recorded outcome, the quarantine copy and its report stay where they
are. The same functions serve the ``scalper reprocess`` command and the scheduled
``reprocess_quarantined`` function, which first revalidates each file against the current
schema (:func:`revalidate`) and releases only those that now pass.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from silent_scalper.engine import (
    CompiledSchema,
    FileFormat,
    Limits,
    SchemaRegistry,
    ValidationSummary,
)
from silent_scalper.engine import validate_stream as _validate_stream
from silent_scalper.records import MetadataRecord, Status, compare_sequencers, plain_item
from silent_scalper.schema_choice import schema_for_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

#: The table's global secondary index listing records by status and time (template.yaml).
STATUS_INDEX = "by-status"
#: Where pending markers live in the quarantine bucket.
PENDING_PREFIX = "_reprocess/pending/"
#: S3's longest object key, in UTF-8 bytes.
_MAX_KEY_BYTES = 1024


def pending_marker_key(bucket: str, key: str) -> str:
    """The pending marker of ``bucket``/``key``: ``_reprocess/pending/<bucket>/<key>.json``, or,
    for a key too long to take that prefix within S3's 1,024 bytes, its SHA-256 instead."""
    plain = f"{PENDING_PREFIX}{bucket}/{key}.json"
    if len(plain.encode()) <= _MAX_KEY_BYTES:
        return plain
    return f"{PENDING_PREFIX}{bucket}/{hashlib.sha256(key.encode()).hexdigest()}.json"


#: User metadata on a released copy naming the version it was released from.
RELEASED_FROM_METADATA = "scalper-released-from"
#: Reasons a schema change can cure; the others (empty, too large, bad encoding...) need a new file.
SCHEMA_REASONS: tuple[str, ...] = ("SCHEMA_VIOLATION",)


class ReleaseOutcome(StrEnum):
    """What :func:`release` did with one quarantined file."""

    RELEASED = "released"
    WOULD_RELEASE = "would-release"
    PENDING = "already-pending"
    NEWER_VERSION = "newer-version-exists"
    GONE = "source-version-gone"


class SettleOutcome(StrEnum):
    """What :func:`settle` did with one pending marker."""

    CLEARED_VALID = "valid-quarantine-copy-deleted"
    CLEARED_QUARANTINED = "quarantined-again"
    WAITING = "waiting-for-outcome"
    FAILED = "failed-copy-kept"


@dataclass(frozen=True)
class QuarantinedFile:
    """A ``QUARANTINED`` record, as far as reprocessing needs it."""

    pk: str
    bucket: str
    key: str
    version_id: str | None
    sequencer: str | None
    reason: str | None
    format: str | None
    schema_name: str | None
    updated_at: str
    quarantine_location: str | None
    report_location: str | None

    @classmethod
    def from_record(cls, record: MetadataRecord) -> QuarantinedFile:
        """Take the fields reprocessing needs from a metadata record."""
        return cls(
            pk=record.pk,
            bucket=record.bucket,
            key=record.key,
            version_id=record.version_id if record.version_id not in (None, "null") else None,
            sequencer=record.sequencer,
            reason=record.reason,
            format=record.format,
            schema_name=record.schema_name,
            updated_at=record.updated_at,
            quarantine_location=record.quarantine_location,
            report_location=record.report_location,
        )

    @property
    def quarantine_bucket(self) -> str | None:
        """The quarantine bucket, read from the record's copy location."""
        return split_s3_url(self.quarantine_location)[0] if self.quarantine_location else None

    @property
    def marker_key(self) -> str:
        """The pending marker's key in the quarantine bucket."""
        return pending_marker_key(self.bucket, self.key)


class PendingMarker(BaseModel):
    """The JSON body of a pending marker: enough to settle without the old record."""

    model_config = ConfigDict(extra="ignore")

    pk: str
    bucket: str
    key: str
    version_id: str | None = None
    sequencer: str | None = None
    reason: str | None = None
    quarantine_location: str | None = None
    report_location: str | None = None
    released_at: str
    released_version_id: str | None = None


@dataclass(frozen=True)
class Released:
    """One file handed to :func:`release` and what happened to it."""

    file: QuarantinedFile
    outcome: ReleaseOutcome
    detail: str = ""
    new_version_id: str | None = None


@dataclass(frozen=True)
class Settled:
    """One pending marker handed to :func:`settle` and what happened to it."""

    marker: PendingMarker
    outcome: SettleOutcome
    status: str | None = None
    detail: str = ""


class ReprocessSettings(BaseModel):
    """Settings of the scheduled ``reprocess_quarantined`` function (its own variables)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reasons: tuple[str, ...] = SCHEMA_REASONS
    lookback_days: int = Field(default=14, ge=1, le=3650)
    max_files: int = Field(default=200, ge=1, le=10_000)
    #: A PROCESSING claim older than this is stuck (the state machine's 900 s timeout + margin).
    stuck_after_seconds: int = Field(default=1800, ge=60, le=366 * 86400)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReprocessSettings:
        """``REPROCESS_REASONS`` (comma list), ``REPROCESS_LOOKBACK_DAYS``, ``REPROCESS_MAX_FILES``,
        ``STUCK_AFTER_SECONDS``.

        Raises ``ValueError`` naming the bad variable.
        """
        names = {
            "REPROCESS_REASONS": "reasons",
            "REPROCESS_LOOKBACK_DAYS": "lookback_days",
            "REPROCESS_MAX_FILES": "max_files",
            "STUCK_AFTER_SECONDS": "stuck_after_seconds",
        }
        values: dict[str, object] = {}
        for var, field in names.items():
            raw = env.get(var, "").strip()
            if not raw:
                continue
            values[field] = (
                tuple(r.strip().upper() for r in raw.split(",") if r.strip())
                if field == "reasons"
                else raw
            )
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            loc = exc.errors()[0]["loc"]
            field = str(loc[0]) if loc else "?"
            var = next((v for v, f in names.items() if f == field), field)
            msg = f"environment variable {var}: {exc.errors()[0]['msg']}"
            raise ValueError(msg) from None


def split_s3_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        msg = f"not an s3:// URL: {url!r}"
        raise ValueError(msg)
    return parts.netloc, parts.path.lstrip("/")


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _missing(exc: ClientError) -> bool:
    return _code(exc) in {"404", "NoSuchKey", "NoSuchVersion", "NotFound", "400"}


def iter_records(
    dynamodb: DynamoDBClient,
    table: str,
    status: Status,
    *,
    since: str | None = None,
    until: str | None = None,
) -> Iterator[MetadataRecord | dict[str, Any]]:
    """Records of one status from the ``by-status`` index, oldest first.

    ``since`` / ``until`` bound ``updated_at`` (ISO 8601 strings sort as times). Terminal
    records come back as :class:`MetadataRecord`; ``PROCESSING`` claims (which lack most
    fields) as plain dicts of their attributes.

    The index projects keys only (its entries cost one write unit whatever the record's
    size), so each page of keys is completed from the table with ``BatchGetItem``. A
    record whose status changed since the (eventually consistent) index saw it is skipped:
    it is no longer one of the records asked for.
    """
    condition = "#s = :s"
    values: dict[str, Any] = {":s": {"S": str(status)}}
    if since is not None and until is not None:
        condition += " AND updated_at BETWEEN :a AND :b"
        values.update({":a": {"S": since}, ":b": {"S": until}})
    elif since is not None:
        condition += " AND updated_at >= :a"
        values[":a"] = {"S": since}
    elif until is not None:
        condition += " AND updated_at <= :b"
        values[":b"] = {"S": until}
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": values,
    }
    while True:
        page = dynamodb.query(**kwargs)
        keys = [str(item["pk"]["S"]) for item in page.get("Items", [])]
        for start in range(0, len(keys), _BATCH_GET_KEYS):
            chunk = keys[start : start + _BATCH_GET_KEYS]
            records = _get_items(dynamodb, table, chunk)
            for pk in chunk:  # index order: oldest first
                item = records.get(pk)
                if item is None or item.get("status", {}).get("S") != str(status):
                    continue
                if status is Status.PROCESSING:
                    yield plain_item(item)
                else:
                    yield MetadataRecord.from_item(dict(item))
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        kwargs["ExclusiveStartKey"] = last


#: BatchGetItem takes at most 100 keys per request.
_BATCH_GET_KEYS = 100


def _get_items(dynamodb: DynamoDBClient, table: str, pks: list[str]) -> dict[str, Any]:
    """The items of these keys (pk -> item); keys with no item are left out.

    Strongly consistent, like the reads that act on a record; unprocessed keys (throttling)
    are asked for again until none is left.
    """
    found: dict[str, Any] = {}
    request: dict[str, Any] = {
        table: {"Keys": [{"pk": {"S": pk}} for pk in pks], "ConsistentRead": True}
    }
    while request:
        response = dynamodb.batch_get_item(RequestItems=request)
        for item in response.get("Responses", {}).get(table, []):
            found[str(item["pk"]["S"])] = item
        request = dict(response.get("UnprocessedKeys") or {})
    return found


def find_quarantined(
    dynamodb: DynamoDBClient,
    table: str,
    *,
    since: str | None = None,
    prefix: str | None = None,
    reasons: tuple[str, ...] | None = None,
    limit: int | None = None,
) -> list[QuarantinedFile]:
    """Quarantined files, oldest first, filtered by update time, key prefix and reason."""
    found: list[QuarantinedFile] = []
    for record in iter_records(dynamodb, table, Status.QUARANTINED, since=since):
        if not isinstance(record, MetadataRecord):  # pragma: no cover - QUARANTINED is terminal
            continue
        if prefix and not record.key.startswith(prefix):
            continue
        if reasons is not None and (record.reason or "") not in reasons:
            continue
        found.append(QuarantinedFile.from_record(record))
        if limit is not None and len(found) >= limit:
            break
    return found


def schema_picker(
    registry: SchemaRegistry, *, prefix: str, default: str
) -> Callable[[QuarantinedFile], CompiledSchema]:
    """Each file's own schema, in its current version (the registry as loaded now): the one
    its record names, else (a record from before records named it) the one its key chooses
    (:func:`~silent_scalper.schema_choice.schema_for_key`). A schema that no longer exists
    raises :class:`~silent_scalper.engine.UnknownSchemaError`."""
    known = registry.names

    def pick(file: QuarantinedFile) -> CompiledSchema:
        name = file.schema_name or schema_for_key(
            file.key, prefix=prefix, default=default, known=known
        )
        return registry.get(name)

    return pick


def revalidate(
    s3: S3Client,
    file: QuarantinedFile,
    *,
    schema: CompiledSchema,
    limits: Limits,
) -> ValidationSummary:
    """Validate the quarantined version again with the engine and the given (current) schema."""
    args: dict[str, Any] = {"Bucket": file.bucket, "Key": file.key}
    if file.version_id:
        args["VersionId"] = file.version_id
    body = s3.get_object(**args)["Body"]
    fmt = FileFormat(file.format) if file.format in {f.value for f in FileFormat} else None
    try:
        data = io.BufferedReader(cast(Any, _StreamingReader(body)), buffer_size=1 << 20)
        return _validate_stream(data, key=file.key, schema=schema, limits=limits, fmt=fmt)
    finally:
        body.close()


class _StreamingReader(io.RawIOBase):
    """botocore's streaming body as a raw binary file for the engine."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = cast(bytes, self._body.read(len(buffer)))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def has_marker(s3: S3Client, quarantine_bucket: str, file: QuarantinedFile) -> bool:
    """Whether a release of this file is already waiting to be settled.

    A listing, not a HEAD: the scheduled function may list only the marker prefix, and S3
    answers a HEAD of a missing key with 403 rather than 404 without bucket-wide ListBucket.
    """
    listed = s3.list_objects_v2(Bucket=quarantine_bucket, Prefix=file.marker_key, MaxKeys=1)
    return any(obj.get("Key") == file.marker_key for obj in listed.get("Contents", []))


def release(
    s3: S3Client,
    file: QuarantinedFile,
    *,
    now: datetime,
    dry_run: bool = False,
    quarantine_bucket: str | None = None,
) -> Released:
    """Put one quarantined file back through the pipeline (see the module docstring)."""
    qbucket = quarantine_bucket or file.quarantine_bucket
    if qbucket is None:
        return Released(file, ReleaseOutcome.GONE, "the record names no quarantine copy")
    if has_marker(s3, qbucket, file):
        return Released(file, ReleaseOutcome.PENDING, "a release is already waiting to settle")
    try:
        current = s3.head_object(Bucket=file.bucket, Key=file.key)
    except ClientError as exc:
        if _missing(exc):
            return Released(file, ReleaseOutcome.GONE, "the input object no longer exists")
        raise
    current_version = current.get("VersionId")
    if file.version_id is not None and current_version not in (None, file.version_id):
        return Released(
            file,
            ReleaseOutcome.NEWER_VERSION,
            f"the key has a newer version ({current_version}); it is processed on its own",
        )
    if dry_run:
        return Released(file, ReleaseOutcome.WOULD_RELEASE)
    marker = PendingMarker(
        pk=file.pk,
        bucket=file.bucket,
        key=file.key,
        version_id=file.version_id,
        sequencer=file.sequencer,
        reason=file.reason,
        quarantine_location=file.quarantine_location,
        report_location=file.report_location,
        released_at=now.isoformat(),
    )
    # The marker goes first: if the copy then fails, settle finds no newer outcome and keeps
    # everything; the reverse order could leave a released file with nobody to clean up.
    _put_marker(s3, qbucket, file.marker_key, marker)
    source: dict[str, str] = {"Bucket": file.bucket, "Key": file.key}
    if file.version_id is not None:
        source["VersionId"] = file.version_id
    metadata = dict(current.get("Metadata") or {})
    metadata[RELEASED_FROM_METADATA] = file.version_id or "null"
    copy_args: dict[str, Any] = {
        "Bucket": file.bucket,
        "Key": file.key,
        "CopySource": source,
        # REPLACE is what lets S3 copy an object onto itself; the content type is carried over.
        "MetadataDirective": "REPLACE",
        "Metadata": metadata,
        # The old outcome tag must not ride along onto the new version.
        "TaggingDirective": "REPLACE",
        "Tagging": "",
    }
    if current.get("ContentType"):
        copy_args["ContentType"] = current["ContentType"]
    copied = s3.copy_object(**copy_args)
    new_version = copied.get("VersionId")
    _put_marker(
        s3, qbucket, file.marker_key, marker.model_copy(update={"released_version_id": new_version})
    )
    return Released(file, ReleaseOutcome.RELEASED, new_version_id=new_version)


def _put_marker(s3: S3Client, bucket: str, key: str, marker: PendingMarker) -> None:
    s3.put_object(
        Bucket=bucket,
        Key=key,
        Body=marker.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )


def pending_markers(s3: S3Client, quarantine_bucket: str) -> Iterator[PendingMarker]:
    """Every pending marker in the quarantine bucket."""
    paginator = s3.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=quarantine_bucket, Prefix=PENDING_PREFIX):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=quarantine_bucket, Key=obj["Key"])["Body"].read()
            try:
                yield PendingMarker.model_validate_json(body)
            except ValidationError:
                continue


def read_marker(s3: S3Client, quarantine_bucket: str, file: QuarantinedFile) -> PendingMarker:
    """The pending marker of one file (raises ``ClientError`` when there is none)."""
    body = s3.get_object(Bucket=quarantine_bucket, Key=file.marker_key)["Body"].read()
    return PendingMarker.model_validate_json(body)


def settle(
    s3: S3Client,
    dynamodb: DynamoDBClient,
    table: str,
    quarantine_bucket: str,
    marker: PendingMarker,
) -> Settled:
    """Finish one release once its new outcome is recorded (see the module docstring)."""
    item = dynamodb.get_item(
        TableName=table, Key={"pk": {"S": marker.pk}}, ConsistentRead=True
    ).get("Item")
    marker_key = pending_marker_key(marker.bucket, marker.key)
    if item is None:
        return Settled(marker, SettleOutcome.WAITING, None, "no record yet")
    status = item.get("status", {}).get("S")
    sequencer = item.get("sequencer", {}).get("S")
    newer = (
        sequencer is not None
        and marker.sequencer is not None
        and compare_sequencers(sequencer, marker.sequencer) > 0
    )
    if not newer or status == Status.PROCESSING:
        return Settled(marker, SettleOutcome.WAITING, status, "the new execution has not ended")
    if status == Status.FAILED:
        return Settled(
            marker,
            SettleOutcome.FAILED,
            status,
            "the new execution FAILED: quarantine copy kept; redrive or replay it",
        )
    if status == Status.VALID:
        for location in (marker.quarantine_location, marker.report_location):
            if location:
                bucket, key = split_s3_url(location)
                s3.delete_object(Bucket=bucket, Key=key)
        s3.delete_object(Bucket=quarantine_bucket, Key=marker_key)
        return Settled(marker, SettleOutcome.CLEARED_VALID, status)
    s3.delete_object(Bucket=quarantine_bucket, Key=marker_key)
    return Settled(
        marker,
        SettleOutcome.CLEARED_QUARANTINED,
        status,
        "still invalid: the Quarantine step replaced the copy and its report",
    )


def count_stuck(dynamodb: DynamoDBClient, table: str, *, claimed_before: str) -> int:
    """How many records are still ``PROCESSING`` with a claim older than ``claimed_before``.

    A claim that old outlived the state machine's timeout: its execution died without
    recording an outcome (aborted, or its failure path failed too). The scheduled function
    publishes this count as the ``StuckRecords`` metric; ``scalper sweep`` replays them.
    """
    kwargs: dict[str, Any] = {
        "TableName": table,
        "IndexName": STATUS_INDEX,
        "KeyConditionExpression": "#s = :s AND updated_at < :t",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {
            ":s": {"S": str(Status.PROCESSING)},
            ":t": {"S": claimed_before},
        },
        "Select": "COUNT",
    }
    total = 0
    while True:
        page = dynamodb.query(**kwargs)
        total += int(page.get("Count", 0))
        last = page.get("LastEvaluatedKey")
        if not last:
            return total
        kwargs["ExclusiveStartKey"] = last


@dataclass(frozen=True)
class QuarantineStore:
    """Where quarantined files are recorded (the metadata table) and kept (the bucket)."""

    table: str
    bucket: str


@dataclass(frozen=True)
class Revalidation:
    """What a quarantined file must pass to be released: its own schema (as the registry has it
    now, chosen by `schema_for`), within the limits."""

    schema_for: Callable[[QuarantinedFile], CompiledSchema]
    limits: Limits


@dataclass
class RunSummary:
    """What one scheduled run did (the function's result, and its metrics)."""

    settled: dict[str, int]
    checked: int = 0
    still_invalid: int = 0
    released: int = 0
    skipped: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "settled": dict(self.settled),
            "checked": self.checked,
            "still_invalid": self.still_invalid,
            "released": self.released,
            "skipped": self.skipped,
            "stopped_early": self.stopped_early,
        }


def scheduled_run(
    s3: S3Client,
    dynamodb: DynamoDBClient,
    *,
    store: QuarantineStore,
    revalidation: Revalidation,
    settings: ReprocessSettings,
    now: datetime,
    time_left: Callable[[], float],
) -> RunSummary:
    """One run of the scheduled reprocessing: settle earlier releases, then release what passes.

    Quarantined files (of the configured reasons, quarantined within the lookback) are
    revalidated against the current version of their own schema (``schema_for``, usually
    :func:`schema_picker`); only those that now pass are released, so a
    schedule that runs before the schema is fixed changes nothing. Stops early, before
    ``time_left()`` seconds run out, leaving the rest for the next run.
    """
    table, quarantine_bucket = store.table, store.bucket
    settled: dict[str, int] = {}
    for marker in pending_markers(s3, quarantine_bucket):
        done = settle(s3, dynamodb, table, quarantine_bucket, marker)
        settled[str(done.outcome)] = settled.get(str(done.outcome), 0) + 1
    summary = RunSummary(settled=settled)
    since = (now - timedelta(days=settings.lookback_days)).strftime("%Y-%m-%dT%H:%M:%S")
    for file in find_quarantined(dynamodb, table, since=since, reasons=settings.reasons):
        if summary.checked >= settings.max_files or time_left() < _SAFETY_SECONDS:
            summary.stopped_early = True
            break
        if has_marker(s3, quarantine_bucket, file):
            continue
        summary.checked += 1
        try:
            result = revalidate(
                s3, file, schema=revalidation.schema_for(file), limits=revalidation.limits
            )
        except ClientError as exc:
            if _missing(exc):
                summary.skipped += 1
                continue
            raise
        if not result.valid:
            summary.still_invalid += 1
            continue
        released = release(s3, file, now=now, quarantine_bucket=quarantine_bucket)
        if released.outcome is ReleaseOutcome.RELEASED:
            summary.released += 1
        else:
            summary.skipped += 1
    return summary


#: Stop starting new files when fewer seconds than this remain in the invocation.
_SAFETY_SECONDS = 20.0
