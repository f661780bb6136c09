"""The metadata record: one DynamoDB item per object key, and how it is written.

The item's partition key ``pk`` is ``"<bucket>/<SHA-256 of the key as the event spells it>"``
(:func:`item_key`): the state machine's Claim step builds it in ASL with ``States.Hash`` (ASL
cannot URL-decode, so every writer uses the event's form of the key), and a hash keeps it
within DynamoDB's 2,048-byte partition-key limit for any S3 key (up to 1,024 bytes of UTF-8,
which percent-encoding can triple). ``key`` holds the object's real S3 key, as resolved
against the object (see :mod:`silent_scalper.pipeline.keys`), and ``event_key`` the key as
the event delivered it: both forms, for people and programs.

Ownership: Claim stores the execution ARN; every later write is conditional on
``execution_arn`` still being this execution's. A newer execution (a newer S3 event for the
same key, or a replay of the same one) may take the record over; the older execution then
gets :class:`SupersededError` and ends in the state machine's ``Superseded`` state instead
of overwriting newer work.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from silent_scalper.engine.types import LocatedError
from silent_scalper.identity import Uploader

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

#: How many located errors a record keeps (the quarantine report keeps the summary's share).
RECORD_ERRORS = 10

#: One located error as a model field: read from its stored map (DynamoDB, a payload), written
#: as the engine's summary writes its errors (the place fields that are unknown left out).
Located = Annotated[LocatedError, PlainSerializer(LocatedError.to_dict)]


class Status(StrEnum):
    """Lifecycle of a record: ``PROCESSING`` then exactly one terminal status."""

    PROCESSING = "PROCESSING"
    VALID = "VALID"
    QUARANTINED = "QUARANTINED"
    FAILED = "FAILED"


class SupersededError(Exception):
    """A newer execution owns the record; this one must not write its outcome.

    The class name is part of the contract with the ASL (``Catch`` on ``SupersededError``).
    """


class ObjectGone(Exception):  # noqa: N818 - the name is the ASL's error name
    """The object version the event names exists under no form of its key any more.

    Raised when the key as delivered and its decoded form both miss the event's version
    (the file was deleted, or overwritten in an unversioned bucket, before it was read). No
    retry or redrive can bring it back. The class name is part of the contract with the ASL
    (``Catch`` on ``ObjectGone``).
    """


class MetadataRecord(BaseModel):
    """The terminal record of one object (see docs/metadata-record.md)."""

    model_config = ConfigDict(extra="ignore")

    pk: str
    bucket: str
    key: str
    event_key: str
    version_id: str | None = None
    etag: str | None = None
    sequencer: str | None = None
    size: int = Field(ge=0)
    status: Status
    reason: str | None = None
    message: str | None = None
    errors: list[Located] = Field(default_factory=list)
    errors_truncated: bool = False
    records: int | None = None
    invalid_records: int | None = None
    sha256: str | None = None
    format: str | None = None
    encoding: str | None = None
    schema_name: str | None = None
    columns: list[str] | None = None
    job_ids: int | None = None
    first_submitted_at: str | None = None
    last_submitted_at: str | None = None
    formula_cells: int | None = None
    execution_arn: str
    execution_url: str | None = None
    event_time: str | None = None
    processed_at: str
    updated_at: str
    quarantine_location: str | None = None
    report_location: str | None = None
    #: Who uploaded the file through the API (from the object's ``x-amz-meta-uploader-*``).
    uploader: Uploader | None = None

    def to_item(self) -> dict[str, Any]:
        """The DynamoDB low-level item (attribute values); ``None`` fields are left out."""
        data = self.model_dump(mode="json", exclude_none=True)
        serializer = TypeSerializer()
        return {name: serializer.serialize(value) for name, value in data.items()}

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> MetadataRecord:
        """Inverse of :meth:`to_item` (numbers come back from DynamoDB as ``Decimal``)."""
        return cls.model_validate(plain_item(item))


def uploader_attribute(uploader: Uploader | None) -> dict[str, Any]:
    """``uploader`` as the DynamoDB attribute value a record stores (``NULL`` when unknown).

    The same serialisation as :meth:`MetadataRecord.to_item`, so a FAILED record written by
    the state machine holds the uploader in exactly the shape a VALID record does.
    """
    if uploader is None:
        return {"NULL": True}
    return dict(TypeSerializer().serialize(uploader.model_dump(mode="json", exclude_none=True)))


def plain_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB low-level item (or stream image) as plain Python values.

    Numbers come back from DynamoDB as ``Decimal``: whole ones become ``int``, others
    ``float``; sets become sorted lists, so the result is JSON-safe.
    """
    deserializer = TypeDeserializer()
    return {name: _plain(deserializer.deserialize(value)) for name, value in item.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return sorted(_plain(v) for v in value)
    return value


def item_key(bucket: str, event_key: str) -> str:
    """The partition key of the record of ``event_key`` (the key as the event spells it).

    Exactly what Claim builds in ASL: ``States.Format('{}/{}', bucket,
    States.Hash(key, 'SHA-256'))``, the lower-case hex SHA-256 of the key's UTF-8 bytes. At
    most 63 + 1 + 64 bytes whatever the key. Every lookup goes through this one function.
    """
    return f"{bucket}/{hashlib.sha256(event_key.encode()).hexdigest()}"


def compare_sequencers(left: str, right: str) -> Literal[-1, 0, 1]:
    """Order two S3 event sequencers of the same key as S3 documents it.

    "The sequencers can be of different lengths. To compare these values, first right pad
    the shorter value with zeros, and then do a lexicographical comparison." Hex digits are
    compared case-insensitively. Returns -1, 0 or 1 like a classic ``cmp``.

    The ASL's Claim compares the raw strings with DynamoDB's ``<``; that agrees with this
    function whenever this function does not return 0, i.e. for every pair of distinct events.
    """
    a, b = left.upper(), right.upper()
    width = max(len(a), len(b))
    a, b = a.ljust(width, "0"), b.ljust(width, "0")
    return -1 if a < b else (1 if a > b else 0)


def execution_console_url(execution_arn: str, region: str, workflow_type: str) -> str:
    """Link to the execution in the Step Functions console."""
    base = f"https://{region}.console.aws.amazon.com/states/home?region={region}"
    if workflow_type == "EXPRESS":
        return f"{base}#/express-executions/details/{execution_arn}"
    return f"{base}#/v2/executions/details/{execution_arn}"


def current_owner(client: DynamoDBClient, table: str, pk: str) -> str | None:
    """The execution ARN that owns the record now (strongly consistent read)."""
    item = client.get_item(
        TableName=table,
        Key={"pk": {"S": pk}},
        ConsistentRead=True,
        ProjectionExpression="execution_arn",
    ).get("Item")
    if item is None:
        return None
    value = item.get("execution_arn", {}).get("S")
    return value if isinstance(value, str) else None


def ensure_owner(client: DynamoDBClient, table: str, pk: str, execution_arn: str) -> None:
    """Raise :class:`SupersededError` unless ``execution_arn`` owns the record."""
    owner = current_owner(client, table, pk)
    if owner != execution_arn:
        msg = f"record {pk!r} is owned by {owner!r}, not by this execution"
        raise SupersededError(msg)


def put_final(client: DynamoDBClient, table: str, record: MetadataRecord) -> None:
    """Write a terminal record, replacing the claim, if this execution still owns it.

    Idempotent: the same execution writing the same record again (a retried Lambda) succeeds.
    """
    try:
        client.put_item(
            TableName=table,
            Item=record.to_item(),
            ConditionExpression="execution_arn = :me",
            ExpressionAttributeValues={":me": {"S": record.execution_arn}},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            msg = f"record {record.pk!r} was taken over by a newer execution"
            raise SupersededError(msg) from None
        raise
