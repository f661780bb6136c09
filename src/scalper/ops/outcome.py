"""What became of the file an execution handled, from its metadata record.

An execution's status says whether the state machine ran to the end, not what it decided:
a quarantined file, a duplicate event stopped at Claim and a valid file all end
``SUCCEEDED``. The record says the file's outcome (VALID, QUARANTINED, FAILED, or
PROCESSING while a claim is held) and which execution owns it, so an operator also sees
when the outcome was decided by another execution (a duplicate delivery, a replay, a newer
upload of the key).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from silent_scalper.records import Status, compare_sequencers, item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from scalper.ops.executions import ExecutionInfo

#: Outcomes a replay of the same S3 event cannot change: Claim refuses it (only a FAILED
#: record lets the same event in again).
FINAL = frozenset({Status.VALID, Status.QUARANTINED})


@dataclass(frozen=True)
class FileOutcome:
    """The record of the file one execution handled."""

    #: The record's status; None when the file has no record (Claim never ran, or failed).
    status: str | None
    #: The reason code of a QUARANTINED record.
    reason: str | None = None
    #: The execution that owns the record (the one whose outcome it holds).
    owner_arn: str | None = None
    #: Whether that is the execution asked about.
    decided_here: bool = False
    #: The S3 event sequencer of the object version the record is about.
    sequencer: str | None = None

    @property
    def final(self) -> bool:
        """VALID or QUARANTINED: the verdict on these bytes, which a replay cannot change."""
        return self.status in FINAL

    @property
    def label(self) -> str:
        """A table cell, one part a line: ``QUARANTINED`` / ``SCHEMA_VIOLATION`` / ``other
        execution`` (the last when the record holds what another execution decided)."""
        if self.status is None:
            return "no record"
        parts = [self.status]
        if self.status == Status.QUARANTINED and self.reason:
            parts.append(self.reason)
        if not self.decided_here:
            parts.append("other execution")
        return "\n".join(parts)

    def decides(self, event: dict[str, Any] | None) -> bool:
        """Whether this outcome stands for ``event``'s object: a replay of it cannot change it.

        Mirrors the state machine's Claim, which lets an event in over an existing record
        only when the record is FAILED for the same event, or holds an older event (a
        smaller sequencer, as S3 documents the comparison). A VALID or QUARANTINED record
        of the same or a newer event makes a replay end at AlreadyProcessed, untouched.
        """
        if not self.final:
            return False
        sequencer = ((event or {}).get("detail") or {}).get("object", {}).get("sequencer")
        if not isinstance(sequencer, str) or self.sequencer is None:
            return True
        return compare_sequencers(self.sequencer, sequencer) >= 0

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "status": self.status,
            "reason": self.reason,
            "owner_arn": self.owner_arn,
            "decided_here": self.decided_here,
        }


def record_key(info: ExecutionInfo) -> str | None:
    """The record's partition key: bucket and key *as the event spelled it* (as Claim builds it)."""
    detail = (info.input or {}).get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    event_key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(event_key, str):
        return None
    return item_key(bucket, event_key)


def file_outcome(dynamodb: DynamoDBClient, table: str, info: ExecutionInfo) -> FileOutcome:
    """The outcome of the file ``info`` handled, read from its record (strongly consistent)."""
    pk = record_key(info)
    if pk is None:
        return FileOutcome(None)
    item = dynamodb.get_item(
        TableName=table,
        Key={"pk": {"S": pk}},
        ConsistentRead=True,
        ProjectionExpression="#status, reason, execution_arn, sequencer",
        ExpressionAttributeNames={"#status": "status"},
    ).get("Item")
    if item is None:
        return FileOutcome(None)
    owner = item.get("execution_arn", {}).get("S")
    return FileOutcome(
        status=item.get("status", {}).get("S"),
        reason=item.get("reason", {}).get("S"),
        owner_arn=owner,
        decided_here=owner == info.arn,
        sequencer=item.get("sequencer", {}).get("S"),
    )


def file_outcomes(
    dynamodb: DynamoDBClient,
    table: str,
    infos: Iterable[ExecutionInfo],
    *,
    progress: Callable[[int], None] = lambda _: None,
) -> dict[str, FileOutcome]:
    """Execution ARN -> the outcome of its file, one read per execution."""
    outcomes: dict[str, FileOutcome] = {}
    for info in infos:
        outcomes[info.arn] = file_outcome(dynamodb, table, info)
        progress(1)
    return outcomes
