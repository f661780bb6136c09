"""Upload intents and ``GET /uploads/{upload_id}``: the uploader reads its file's verdict.

``POST /uploads`` writes an *intent* beside the presigned POST: the upload id, the key the
POST pins, the schema and the verified caller, with a TTL. The id is therefore known before
anything lands, and the GET route can answer ``PENDING`` for it. Once the object lands, the
metadata record (looked up through :func:`silent_scalper.records.item_key`, like every
other reader) gives ``PROCESSING`` and then the terminal outcome.

Only the uploader may read an upload: the caller's identity (IAM principal ARN or Cognito
``sub``, from the authoriser) must be the intent's. Anyone else, like an id that does not
exist or whose intent expired, gets ``None`` from :func:`upload_status`, which the handler
answers with 404: a 403 would confirm that the id exists.

DynamoDB deletes expired items only eventually (typically within days), so an intent past its
``expires_at`` is treated as gone here, whatever the table still returns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field

from silent_scalper.identity import Uploader
from silent_scalper.records import RECORD_ERRORS, Status, item_key, plain_item, uploader_attribute

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

#: Upload ids are what presign makes: ``uuid4().hex``.
UPLOAD_ID = re.compile(r"^[0-9a-f]{32}$")
#: Lifetime of the presigned GET of a quarantine report: short, the client fetches it now.
REPORT_URL_SECONDS = 300


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def upload_id_of(key: str, *, prefix: str) -> str | None:
    """The upload id in a key presign made, or ``None`` for any other key.

    Presign's keys are ``<prefix><schema>/<date>/<upload id>/<name>`` (and were
    ``<prefix><date>/<upload id>/<name>`` before schemas had a segment).
    """
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("/")
    for start in (1, 0):
        if (
            len(parts) == start + 3
            and _DAY.match(parts[start])
            and UPLOAD_ID.match(parts[start + 1])
        ):
            return parts[start + 1]
    return None


class UploadState(StrEnum):
    """What ``GET /uploads/{id}`` says about an upload."""

    PENDING = "PENDING"  # presigned, nothing landed (yet)
    PROCESSING = "PROCESSING"
    VALID = "VALID"
    QUARANTINED = "QUARANTINED"
    FAILED = "FAILED"


class UploadIntent(BaseModel):
    """What presign knows about an upload before anything lands."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    upload_id: str = Field(pattern=UPLOAD_ID.pattern)
    bucket: str
    key: str
    schema_name: str
    file_name: str
    uploader: Uploader | None = None
    presigned_at: str
    #: Epoch seconds: the table's TTL attribute.
    expires_at: int

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB item (``uploader`` as the records store it)."""
        item: dict[str, Any] = {
            "upload_id": {"S": self.upload_id},
            "bucket": {"S": self.bucket},
            "key": {"S": self.key},
            "schema_name": {"S": self.schema_name},
            "file_name": {"S": self.file_name},
            "presigned_at": {"S": self.presigned_at},
            "expires_at": {"N": str(self.expires_at)},
        }
        if self.uploader is not None:
            item["uploader"] = uploader_attribute(self.uploader)
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> UploadIntent:
        """Inverse of :meth:`to_item`."""
        return cls.model_validate(plain_item(item))

    def readable_by(self, caller: Uploader | None) -> bool:
        """True only for the caller who presigned it (same kind and principal)."""
        return (
            caller is not None
            and self.uploader is not None
            and caller.kind == self.uploader.kind
            and caller.principal == self.uploader.principal
        )


# Keyword arguments name themselves at every call; a parameter object would only rename them.
def new_intent(  # noqa: PLR0913
    *,
    upload_id: str,
    bucket: str,
    key: str,
    schema_name: str,
    file_name: str,
    uploader: Uploader | None,
    now: datetime,
    keep_days: int,
) -> UploadIntent:
    """The intent of a fresh presign, expiring ``keep_days`` from ``now``."""
    return UploadIntent(
        upload_id=upload_id,
        bucket=bucket,
        key=key,
        schema_name=schema_name,
        file_name=file_name,
        uploader=uploader,
        presigned_at=_iso(now),
        expires_at=int((now + timedelta(days=keep_days)).timestamp()),
    )


def put_intent(client: DynamoDBClient, table: str, intent: UploadIntent) -> None:
    """Store a new intent; an id is written once (a collision would be refused, not merged)."""
    client.put_item(
        TableName=table,
        Item=intent.to_item(),
        ConditionExpression="attribute_not_exists(upload_id)",
    )


def get_intent(
    client: DynamoDBClient, table: str, upload_id: str, *, now: datetime
) -> UploadIntent | None:
    """The live intent of ``upload_id``, or ``None`` (unknown, malformed or expired)."""
    if not UPLOAD_ID.match(upload_id):
        return None
    item = client.get_item(
        TableName=table, Key={"upload_id": {"S": upload_id}}, ConsistentRead=True
    ).get("Item")
    if item is None:
        return None
    intent = UploadIntent.from_item(item)
    # TTL deletion lags expiry: an expired item may still be returned for a while.
    if intent.expires_at <= now.timestamp():
        return None
    return intent


class UploadView(BaseModel):
    """The body of ``GET /uploads/{upload_id}``."""

    upload_id: str
    status: UploadState
    reason: str | None = None
    message: str | None = None
    #: The first located errors (at most ``RECORD_ERRORS``); ``errors_truncated`` says if more.
    errors: list[dict[str, Any]] = Field(default_factory=list)
    errors_truncated: bool = False
    records: int | None = None
    invalid_records: int | None = None
    sha256: str | None = None
    schema_name: str = Field(serialization_alias="schema")
    bucket: str
    key: str
    version_id: str | None = None
    size: int | None = None
    presigned_at: str
    landed_at: str | None = None
    processed_at: str | None = None
    updated_at: str | None = None
    #: A presigned GET of the JSON report of a quarantined file, and when it stops working.
    report_url: str | None = None
    report_url_expires_at: str | None = None

    def to_body(self) -> dict[str, Any]:
        """The JSON body (``schema`` under its public name; absent values as ``null``)."""
        return self.model_dump(mode="json", by_alias=True)


def upload_status(
    dynamodb: DynamoDBClient,
    s3: S3Client,
    *,
    uploads_table: str,
    metadata_table: str,
    upload_id: str,
    caller: Uploader | None,
    now: datetime,
) -> UploadView | None:
    """What the caller may know about ``upload_id``; ``None`` means answer 404.

    ``None`` covers an unknown or expired id and an id presigned by someone else alike.
    """
    intent = get_intent(dynamodb, uploads_table, upload_id, now=now)
    if intent is None or not intent.readable_by(caller):
        return None
    view = UploadView(
        upload_id=intent.upload_id,
        status=UploadState.PENDING,
        schema_name=intent.schema_name,
        bucket=intent.bucket,
        key=intent.key,
        presigned_at=intent.presigned_at,
    )
    # Presigned keys hold only characters S3 never encodes in events, so the key is also the
    # event's form that the record key is built from.
    item = dynamodb.get_item(
        TableName=metadata_table,
        Key={"pk": {"S": item_key(intent.bucket, intent.key)}},
        ConsistentRead=True,
    ).get("Item")
    if item is None:
        return view
    record = plain_item(item)
    raw_status = str(record.get("status", Status.PROCESSING))
    # A status this reader does not know is not a verdict yet.
    status = UploadState(raw_status) if raw_status in UploadState else UploadState.PROCESSING
    update: dict[str, Any] = {
        "status": status,
        "version_id": record.get("version_id"),
        "size": record.get("size"),
        "landed_at": record.get("event_time"),
        "updated_at": record.get("updated_at"),
    }
    if status is not UploadState.PROCESSING:
        errors = list(record.get("errors") or [])
        update.update(
            reason=record.get("reason") or record.get("failure_error"),
            message=record.get("message"),
            errors=errors[:RECORD_ERRORS],
            errors_truncated=bool(record.get("errors_truncated")) or len(errors) > RECORD_ERRORS,
            records=record.get("records"),
            invalid_records=record.get("invalid_records"),
            sha256=record.get("sha256"),
            processed_at=record.get("processed_at") or record.get("updated_at"),
        )
        if record.get("schema_name"):
            update["schema_name"] = record["schema_name"]
    if status is UploadState.QUARANTINED and record.get("report_location"):
        update.update(_report_link(s3, str(record["report_location"]), now=now))
    return view.model_copy(update=update)


def _report_link(s3: S3Client, location: str, *, now: datetime) -> dict[str, str]:
    bucket, _, key = location.removeprefix("s3://").partition("/")
    try:
        url = s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=REPORT_URL_SECONDS,
        )
    except ClientError:  # pragma: no cover - signing is local; no request is made
        return {}
    expires = now + timedelta(seconds=REPORT_URL_SECONDS)
    return {"report_url": url, "report_url_expires_at": _iso(expires)}


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
