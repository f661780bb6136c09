"""``scalper status KEY``: one file's metadata record, its execution's states and console link."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus

from botocore.exceptions import ClientError
from silent_scalper.records import item_key, plain_item

from scalper.ops.common import NotFoundError, OpsError
from scalper.ops.executions import ExecutionInfo, StateVisit, describe, history
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_stepfunctions.client import SFNClient


@dataclass(frozen=True)
class StatusReport:
    """Everything ``status`` shows for one file."""

    pk: str
    record: dict[str, Any]
    execution: ExecutionInfo | None
    states: list[StateVisit] = field(default_factory=list)
    execution_note: str | None = None

    @property
    def status(self) -> str:
        """The record's status (PROCESSING, VALID, QUARANTINED or FAILED)."""
        return str(self.record.get("status", "UNKNOWN"))

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "pk": self.pk,
            "status": self.status,
            "record": self.record,
            "execution": None if self.execution is None else self.execution.to_json(),
            "states": [s.to_json() for s in self.states],
            "execution_note": self.execution_note,
        }


@dataclass(frozen=True)
class Lookup:
    """What a user's KEY names: the object, and the partition keys its record may be under."""

    bucket: str
    key: str
    #: ``item_key`` of each spelling an S3 event may give the key, most likely first.
    pks: list[str]


def key_candidates(target: Target, key: str) -> Lookup:
    """The object a user's KEY names and where its record may be, most likely first.

    KEY is ``s3://bucket/key``, ``bucket/key`` or a key in the input bucket. Records are
    keyed by the key *as the S3 event spelled it*: raw, as captured EventBridge events
    show, or form-encoded (space as ``+``), as classic notifications do; both are tried.
    """
    bucket: str | None
    if key.startswith("s3://"):
        bucket, _, key = key[5:].partition("/")
    elif target.input_bucket and key.startswith(target.input_bucket + "/"):
        bucket, key = target.input_bucket, key[len(target.input_bucket) + 1 :]
    else:
        bucket = target.input_bucket
    if not bucket or not key:
        raise OpsError(f"{key!r}: give the object key, bucket/key or s3://bucket/key")
    spellings = dict.fromkeys([key, quote_plus(key, safe="/")])
    return Lookup(bucket, key, [item_key(bucket, spelling) for spelling in spellings])


def read_record(dynamodb: DynamoDBClient, table: str, pk: str) -> dict[str, Any] | None:
    """The raw record (any status, claims included) as plain Python values."""
    item = dynamodb.get_item(TableName=table, Key={"pk": {"S": pk}}, ConsistentRead=True).get(
        "Item"
    )
    if item is None:
        return None
    return plain_item(item)


def find_record(
    dynamodb: DynamoDBClient, table: str, lookup: Lookup
) -> tuple[str, dict[str, Any], str | None] | None:
    """The record of exactly ``lookup.key``: ``(pk, record, note)``, or ``None``.

    A terminal record names its object's real key (``key``); a record of another object
    whose event spelled its key the same way (``a b.csv`` sent form-encoded as ``a+b.csv``)
    is skipped. A record with no resolved key (a claim, or a failure recorded before
    TypeCheck read the object) is shown only when no exact match exists, the one under the
    likeliest spelling, with a note saying so.
    """
    claim: tuple[str, dict[str, Any], str | None] | None = None
    for pk in lookup.pks:
        record = read_record(dynamodb, table, pk)
        if record is None:
            continue
        if "key" in record:
            if record["key"] == lookup.key:
                return pk, record, None
            continue
        if claim is None:
            note = (
                f"this {record.get('status')} record has no resolved key yet: its event "
                f"spelled the key {record.get('event_key')!r}"
            )
            claim = (pk, record, note)
    return claim


def status(dynamodb: DynamoDBClient, sfn: SFNClient, target: Target, key: str) -> StatusReport:
    """The record of exactly ``key`` and its execution; :class:`NotFoundError` when none."""
    lookup = key_candidates(target, key)
    found = find_record(dynamodb, target.table, lookup)
    if found is None:
        raise NotFoundError(
            f"no record for s3://{lookup.bucket}/{lookup.key} in table {target.table} "
            "(unknown key, or its event has not reached the pipeline yet)"
        )
    pk, record, note = found
    arn = record.get("execution_arn")
    if not isinstance(arn, str):
        return StatusReport(pk, record, None, [], note or "the record names no execution")
    try:
        info = describe(sfn, arn, target)
        states = history(sfn, arn)
    except NotFoundError as exc:
        return StatusReport(pk, record, None, [], str(exc))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        return StatusReport(pk, record, None, [], f"{error.get('Code')}: {error.get('Message')}")
    if target.console_url(arn) and not record.get("execution_url"):
        record = {**record, "execution_url": target.console_url(arn)}
    return StatusReport(pk, record, info, states, note)
