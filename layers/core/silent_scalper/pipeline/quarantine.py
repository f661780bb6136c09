"""Quarantine: copy an invalid object aside with a JSON report, tag, record, notify.

The copy lands in the quarantine bucket under ``<input bucket>/<key>`` (so it keeps its
origin) and the report beside it as ``<that key>.report.json``. The quarantine bucket has no
notifications, so nothing written here ever starts the pipeline again.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel

from silent_scalper.engine import TypeCheckResult
from silent_scalper.identity import Uploader
from silent_scalper.observability import logger, metrics
from silent_scalper.pipeline.extract_metadata import build_record
from silent_scalper.pipeline.keys import first_existing
from silent_scalper.pipeline.models import QuarantineRequest, StepOutcome, Summary
from silent_scalper.pipeline.tagging import tag_outcome, tag_query
from silent_scalper.records import (
    Located,
    MetadataRecord,
    Status,
    SupersededError,
    compare_sequencers,
    ensure_owner,
    put_final,
)
from silent_scalper.schema_choice import schema_for_key
from silent_scalper.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef
    from mypy_boto3_sns.client import SNSClient

REPORT_SUFFIX = ".report.json"
#: Metadata on the copy and the report naming the source version they were made from.
SOURCE_VERSION_META = "scalper-source-version"
SOURCE_ETAG_META = "scalper-source-etag"
#: Objects up to 5 GiB are copied with one server-side CopyObject; larger ones (only an upload
#: that bypassed the presign API can be that large, and it is TOO_LARGE) in parallel parts.
COPY_CONFIG = TransferConfig(multipart_threshold=5 * 1024**3, multipart_chunksize=512 * 1024**2)
#: When neither TypeCheck nor validation named a reason (should not happen), say so plainly.
UNKNOWN_REASON = "MALFORMED"


#: S3's longest object key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024


def quarantine_key(bucket: str, key: str) -> str:
    """Where the copy goes in the quarantine bucket: ``<bucket>/<key>``, the source's names.

    A key near S3's 1,024-byte limit cannot take the bucket in front of it (nor the report's
    suffix behind): such a copy keeps the key's leading folders that fit (the upload prefix
    with them, which the reprocess function's grant is scoped to), then the key's SHA-256
    and its extension. The record's ``quarantine_location`` names it either way.
    """
    plain = f"{bucket}/{key}"
    if len((plain + REPORT_SUFFIX).encode()) <= MAX_KEY_BYTES:
        return plain
    digest = hashlib.sha256(key.encode()).hexdigest()
    extension = posixpath.splitext(key)[1][:16]
    tail = f"{digest}{extension}"
    budget = MAX_KEY_BYTES - len(f"{bucket}/{tail}{REPORT_SUFFIX}".encode())
    head = key.encode()[: max(budget, 0)].decode("utf-8", "ignore")
    return f"{bucket}/{head[: head.rfind('/') + 1]}{tail}"


#: The source event's S3 sequencer on the copy and the report: a newer event's copy is never
#: replaced by an older one's.
SOURCE_SEQUENCER_META = "scalper-source-sequencer"
#: The source marker: which object version a copy or report was made from.
ORIGIN_META = (SOURCE_VERSION_META, SOURCE_ETAG_META, SOURCE_SEQUENCER_META)
#: How often a conditional write is decided again after another writer got there first.
CONDITIONAL_WRITE_ATTEMPTS = 3
_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
#: S3's answers to a conditional write that lost: 412, or 409 for a concurrent one in flight.
_LOST_RACE = frozenset({"PreconditionFailed", "412", "ConditionalRequestConflict", "409"})


@dataclass(frozen=True, slots=True)
class Placed:
    """The current version of a quarantine object: its source marker and its ETag."""

    origin: dict[str, str]
    etag: str

    def same_source(self, origin: Mapping[str, str]) -> bool:
        """Made from the same object version: version id and ETag (copies made before the
        sequencer was recorded have none, so it does not take part)."""
        same = (SOURCE_VERSION_META, SOURCE_ETAG_META)
        return all(self.origin.get(k) == origin.get(k) for k in same)

    def newer_than(self, sequencer: str | None) -> bool:
        """Made for a newer S3 event of the key than ``sequencer``."""
        theirs = self.origin.get(SOURCE_SEQUENCER_META)
        if not theirs or not sequencer:
            return False
        return compare_sequencers(theirs, sequencer) > 0


def placed(s3: S3Client, bucket: str, key: str) -> Placed | None:
    """The current version of ``bucket/key`` (source marker and ETag), or ``None`` if absent."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
            return None
        raise
    meta = head.get("Metadata", {})
    return Placed({k: meta[k] for k in ORIGIN_META if k in meta}, head["ETag"])


def write_once(
    s3: S3Client,
    *,
    bucket: str,
    key: str,
    origin: Mapping[str, str],
    write: Callable[[dict[str, str]], object],
) -> bool:
    """Write ``bucket/key`` for the source ``origin`` names, once, and never over a newer one.

    The copy and the report carry the source object's version id, ETag and event sequencer,
    so a retried Lambda, a redrive or a duplicate execution finds its work already done
    (``False``) instead of stacking a second version. A copy made for a newer S3 event of
    the key means a newer execution owns the outcome: :class:`SupersededError`. Otherwise
    ``write`` gets the condition to send (``IfNoneMatch: *`` when there is nothing,
    ``IfMatch: <ETag seen>`` when replacing an older source's copy), so a writer that got
    there between the look and the write makes S3 refuse this one, and the decision is
    taken again: a stalled older execution can never overwrite a newer copy.
    """
    sequencer = origin.get(SOURCE_SEQUENCER_META)
    lost = 0
    while True:
        found = placed(s3, bucket, key)
        if found is not None and found.same_source(origin):
            return False
        if found is not None and found.newer_than(sequencer):
            msg = f"s3://{bucket}/{key} already holds the copy of a newer event of the key"
            raise SupersededError(msg)
        condition = {"IfMatch": found.etag} if found is not None else {"IfNoneMatch": "*"}
        try:
            write(condition)
        except ClientError as exc:
            lost += 1
            code = exc.response.get("Error", {}).get("Code")
            if code not in _LOST_RACE or lost >= CONDITIONAL_WRITE_ATTEMPTS:
                raise
            continue
        return True


def copy_args(
    source_head: HeadObjectOutputTypeDef, origin: dict[str, str], tagging: str
) -> dict[str, Any]:
    """``ExtraArgs`` of the copy: the source's metadata and headers plus the origin marker."""
    extra: dict[str, Any] = {
        "MetadataDirective": "REPLACE",
        "Metadata": {**source_head.get("Metadata", {}), **origin},
        "TaggingDirective": "REPLACE",
        "Tagging": tagging,
    }
    for header in ("ContentType", "ContentEncoding", "ContentDisposition", "ContentLanguage"):
        value = source_head.get(header)
        if value:
            extra[header] = value
    return extra


class ReportSource(BaseModel):
    """The source object version a quarantine report is about."""

    bucket: str
    key: str
    version_id: str | None
    etag: str | None
    size: int
    sequencer: str | None


class QuarantineReport(BaseModel):
    """The JSON report written beside the copy: reason, located errors and the summary."""

    source: ReportSource
    reason: str | None
    message: str | None
    errors: list[Located]
    errors_truncated: bool
    summary: Summary | None
    #: The verdict only: the uploader is in the record already.
    type_check: TypeCheckResult
    execution_arn: str
    execution_url: str | None
    quarantined_at: str


def build_report(
    request: QuarantineRequest, record: MetadataRecord, *, quarantined_at: str
) -> QuarantineReport:
    """The report of ``request``'s file, whose quarantined record is ``record``."""
    summary = request.validation.summary
    return QuarantineReport(
        source=ReportSource(
            bucket=record.bucket,
            key=record.key,
            version_id=record.version_id,
            etag=record.etag,
            size=record.size,
            sequencer=record.sequencer,
        ),
        reason=record.reason,
        message=record.message,
        errors=[] if summary is None else summary.errors,
        errors_truncated=summary is not None and summary.errors_truncated,
        summary=summary,
        type_check=request.type_check.verdict,
        execution_arn=record.execution_arn,
        execution_url=record.execution_url,
        quarantined_at=quarantined_at,
    )


def quarantine(
    s3: S3Client,
    dynamodb: DynamoDBClient,
    sns: SNSClient,
    request: QuarantineRequest,
    *,
    settings: Settings,
    now: datetime,
    schemas: Collection[str] = (),
) -> StepOutcome:
    """Quarantine the object ``request`` names; return where the copy is.

    ``schemas`` are the registry's names: a file TypeCheck refused has no summary, and its
    record names the schema its key chose (:func:`~silent_scalper.schema_choice.schema_for_key`).

    Raises :class:`~silent_scalper.records.SupersededError` (before copying anything) when a
    newer execution owns the record or a newer event's copy is already in place. Every step
    is safe to repeat: the copy and the report are written once per source version, by
    conditional writes (see :func:`write_once`); tags and the record are overwritten with
    the same values.
    """
    ensure_owner(dynamodb, settings.table_name, request.pk, request.execution_arn)
    validation = request.validation
    summary = validation.summary
    reason = validation.reason or UNKNOWN_REASON
    # The real key: TypeCheck's resolution first, then the event's forms; gone -> ObjectGone.
    key, source_head = first_existing(
        request,
        lambda k: s3.head_object(**request.get_args(k)),
        hint=request.type_check.key,
    )
    record = build_record(
        request,
        key=key,
        status=Status.QUARANTINED,
        settings=settings,
        now=now,
        summary=summary,
        reason=reason,
        schema_name=(summary.schema if summary is not None else None)
        or schema_for_key(
            key,
            prefix=settings.upload_prefix,
            default=settings.schema_name,
            known=schemas,
        ),
    )
    target_key = quarantine_key(request.bucket, record.key)
    report_key = target_key + REPORT_SUFFIX
    record = record.model_copy(
        update={
            "message": validation.message,
            "uploader": Uploader.from_object_metadata(source_head.get("Metadata", {})),
            "quarantine_location": f"s3://{settings.quarantine_bucket}/{target_key}",
            "report_location": f"s3://{settings.quarantine_bucket}/{report_key}",
        }
    )
    source = request.copy_source(key)
    tagging = tag_query(Status.QUARANTINED, reason)
    origin = {
        SOURCE_VERSION_META: request.version_id or "null",
        SOURCE_ETAG_META: source_head["ETag"].strip('"'),
    }
    if request.object.sequencer:
        origin[SOURCE_SEQUENCER_META] = request.object.sequencer
    extra = copy_args(source_head, origin, tagging)

    def copy(condition: dict[str, str]) -> None:
        if source_head["ContentLength"] <= COPY_CONFIG.multipart_threshold:
            s3.copy_object(
                CopySource=source,
                Bucket=settings.quarantine_bucket,
                Key=target_key,
                **extra,
                **condition,  # type: ignore[arg-type]
            )
        else:
            # Over 5 GiB only in parts; CompleteMultipartUpload's condition is not reachable
            # through the managed copy, so such a copy (only a direct upload that bypassed the
            # API can be that large, and it is TOO_LARGE) relies on the look before it.
            s3.copy(
                CopySource=source,
                Bucket=settings.quarantine_bucket,
                Key=target_key,
                ExtraArgs=extra,
                Config=COPY_CONFIG,
            )

    def put_report(condition: dict[str, str]) -> None:
        report = build_report(request, record, quarantined_at=record.processed_at)
        s3.put_object(
            Bucket=settings.quarantine_bucket,
            Key=report_key,
            Body=json.dumps(report.model_dump(mode="json"), indent=2, ensure_ascii=False).encode(),
            ContentType="application/json",
            Metadata=origin,
            Tagging=tagging,
            **condition,  # type: ignore[arg-type]
        )

    write_once(s3, bucket=settings.quarantine_bucket, key=target_key, origin=origin, write=copy)
    write_once(
        s3, bucket=settings.quarantine_bucket, key=report_key, origin=origin, write=put_report
    )
    # The copy and its report carry their tags in the requests that write them; the input
    # object's tag is a request of its own, which the deployment may turn off.
    if settings.tag_objects:
        tag_outcome(
            s3,
            bucket=request.bucket,
            key=record.key,
            version_id=record.version_id,
            status=Status.QUARANTINED,
            reason=reason,
        )
    put_final(dynamodb, settings.table_name, record)
    if not notify_quarantined(sns, record, settings=settings):
        logger.error("could not publish the QUARANTINED notification", extra={"pk": record.pk})
        metrics.add_metric(name="NotificationsFailed", unit=MetricUnit.Count, value=1)
    return StepOutcome(
        status=Status.QUARANTINED,
        pk=record.pk,
        reason=reason,
        location=record.quarantine_location or "",
    )


def notify_quarantined(sns: SNSClient, record: MetadataRecord, *, settings: Settings) -> bool:
    """Publish ``event=QUARANTINED`` to the alerts topic; subscribers filter on the attribute.

    Best effort: the record is the source of truth, so a failed publish returns ``False`` (the
    caller logs it and counts ``NotificationsFailed``) rather than turning a correct quarantine
    into FAILED.
    """
    message = {
        "event": "QUARANTINED",
        "bucket": record.bucket,
        "key": record.key,
        "version_id": record.version_id,
        "reason": record.reason,
        "message": record.message,
        "quarantine_location": record.quarantine_location,
        "report_location": record.report_location,
        "execution_arn": record.execution_arn,
        "at": record.processed_at,
    }
    try:
        sns.publish(
            TopicArn=settings.topic_arn,
            Subject="Silent Scalper: file QUARANTINED",
            Message=json.dumps(message, ensure_ascii=False),
            MessageAttributes={
                "event": {"DataType": "String", "StringValue": "QUARANTINED"},
                "reason": {"DataType": "String", "StringValue": record.reason or UNKNOWN_REASON},
                "stage": {"DataType": "String", "StringValue": settings.stage},
            },
        )
    except (ClientError, BotoCoreError):
        return False
    return True
