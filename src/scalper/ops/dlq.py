"""The pipeline's dead-letter queue: events EventBridge could not deliver, and their redrive.

EventBridge retries a failed StartExecution (throttling, a missing or deleting state
machine, a permissions mistake) for up to 24 hours, then puts the event, unchanged, in the
rule target's SQS dead-letter queue with message attributes saying why (``ERROR_CODE``,
``ERROR_MESSAGE``, ``EXHAUSTED_RETRY_CONDITION``, ``RETRY_ATTEMPTS``, ``RULE_ARN``,
``TARGET_ARN``).

- :func:`list_dead_letters` reads them without consuming them: messages are received with a
  short visibility timeout and made visible again at once.
- :func:`redrive_dead_letters` starts one execution per event, named with a UUID as
  EventBridge names its own, with the event as input, and deletes each message only after
  its execution started; a message whose start failed stays in the queue and is reported.
  Claim makes a redriven event that had in fact been processed end in AlreadyProcessed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from scalper.ops.common import OpsError
from scalper.ops.target import Target, describe_aws_error

if TYPE_CHECKING:
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef
    from mypy_boto3_stepfunctions.client import SFNClient

#: Seconds a listed message stays hidden while the list is collected.
LIST_VISIBILITY_SECONDS = 10
#: Seconds a message being redriven stays hidden (enough for one StartExecution).
REDRIVE_VISIBILITY_SECONDS = 60


@dataclass(frozen=True)
class DeadLetter:
    """One dead-lettered event."""

    message_id: str
    receipt_handle: str
    body: str
    event: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    exhausted: str | None
    retry_attempts: int | None
    sent_at: datetime | None
    receive_count: int

    @property
    def bucket(self) -> str | None:
        """The S3 bucket of an Object Created event."""
        detail = (self.event or {}).get("detail") or {}
        name = (detail.get("bucket") or {}).get("name")
        return name if isinstance(name, str) else None

    @property
    def key(self) -> str | None:
        """The object key of an Object Created event (as the event spells it)."""
        detail = (self.event or {}).get("detail") or {}
        key = (detail.get("object") or {}).get("key")
        return key if isinstance(key, str) else None

    def to_json(self) -> dict[str, Any]:
        """Plain data (``--json``)."""
        return {
            "message_id": self.message_id,
            "bucket": self.bucket,
            "key": self.key,
            "event_id": (self.event or {}).get("id"),
            "event_time": (self.event or {}).get("time"),
            "error_code": self.error_code,
            "error_message": self.error_message,
            "exhausted": self.exhausted,
            "retry_attempts": self.retry_attempts,
            "sent_at": None if self.sent_at is None else self.sent_at.isoformat(),
            "receive_count": self.receive_count,
        }


@dataclass(frozen=True)
class RedriveResult:
    """What happened to one dead letter."""

    message_id: str
    key: str | None
    status: str  # "started", "would-start", "not-an-event", "start-failed"
    execution_arn: str | None = None
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        """Plain data (``--json``)."""
        return {
            "message_id": self.message_id,
            "key": self.key,
            "status": self.status,
            "execution_arn": self.execution_arn,
            "detail": self.detail,
        }


def queue_url(sqs: SQSClient, target: Target) -> str:
    """The dead-letter queue's URL at this endpoint (from the ``DeadLetterQueueUrl`` output)."""
    if not target.dlq_url:
        raise OpsError(f"stack {target.stack!r} has no DeadLetterQueueUrl output")
    name = target.dlq_url.rstrip("/").rsplit("/", 1)[-1]
    try:
        return str(sqs.get_queue_url(QueueName=name)["QueueUrl"])
    except ClientError as exc:
        raise OpsError(f"dead-letter queue {name}: {describe_aws_error(exc)}") from None


def _attr(message: MessageTypeDef, name: str) -> str | None:
    attributes: dict[str, Any] = dict(message.get("MessageAttributes") or {})
    value = (attributes.get(name) or {}).get("StringValue")
    return value if isinstance(value, str) and value not in ("", "-") else None


def parse_message(message: MessageTypeDef) -> DeadLetter:
    """A received SQS message as a :class:`DeadLetter` (the body is the event, unchanged)."""
    body = message.get("Body", "")
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    attrs = message.get("Attributes") or {}
    sent = attrs.get("SentTimestamp")
    retries = _attr(message, "RETRY_ATTEMPTS")
    return DeadLetter(
        message_id=message.get("MessageId", ""),
        receipt_handle=message.get("ReceiptHandle", ""),
        body=body,
        event=event if isinstance(event, dict) else None,
        error_code=_attr(message, "ERROR_CODE"),
        error_message=_attr(message, "ERROR_MESSAGE"),
        exhausted=_attr(message, "EXHAUSTED_RETRY_CONDITION"),
        retry_attempts=int(retries) if retries and retries.isdigit() else None,
        sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
        receive_count=int(attrs.get("ApproximateReceiveCount", "0") or 0),
    )


def _receive(sqs: SQSClient, url: str, *, visibility: int, limit: int) -> list[DeadLetter]:
    seen: dict[str, DeadLetter] = {}
    while len(seen) < limit:
        page = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(seen)),
            VisibilityTimeout=visibility,
            MessageAttributeNames=["All"],
            AttributeNames=["SentTimestamp", "ApproximateReceiveCount"],
            WaitTimeSeconds=0,
        )
        messages = page.get("Messages", [])
        fresh = [m for m in messages if m.get("MessageId") not in seen]
        if not fresh:
            break
        for message in fresh:
            letter = parse_message(message)
            seen[letter.message_id] = letter
    return list(seen.values())


def _release(sqs: SQSClient, url: str, letters: list[DeadLetter]) -> None:
    """Make messages visible again at once (listing must not hide them)."""
    for start in range(0, len(letters), 10):
        chunk = letters[start : start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": letter.receipt_handle, "VisibilityTimeout": 0}
                for i, letter in enumerate(chunk)
            ],
        )


def list_dead_letters(sqs: SQSClient, target: Target, *, limit: int = 100) -> list[DeadLetter]:
    """The dead-lettered events (up to ``limit``), oldest first, left in the queue."""
    url = queue_url(sqs, target)
    letters = _receive(sqs, url, visibility=LIST_VISIBILITY_SECONDS, limit=limit)
    _release(sqs, url, letters)
    return sorted(letters, key=lambda d: d.sent_at or datetime.min.replace(tzinfo=UTC))


def redrive_dead_letters(
    sqs: SQSClient,
    sfn: SFNClient,
    target: Target,
    *,
    limit: int = 100,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[RedriveResult]:
    """Start an execution for each dead-lettered event; delete each message once started."""
    url = queue_url(sqs, target)
    visibility = LIST_VISIBILITY_SECONDS if dry_run else REDRIVE_VISIBILITY_SECONDS
    letters = _receive(sqs, url, visibility=visibility, limit=limit)
    results: list[RedriveResult] = []
    keep: list[DeadLetter] = []
    for letter in letters:
        results.append(_redrive_one(sqs, sfn, target, url, letter, dry_run=dry_run, keep=keep))
        if progress is not None:
            progress(1)
    _release(sqs, url, keep)
    return results


def _redrive_one(
    sqs: SQSClient,
    sfn: SFNClient,
    target: Target,
    url: str,
    letter: DeadLetter,
    *,
    dry_run: bool,
    keep: list[DeadLetter],
) -> RedriveResult:
    if letter.event is None or letter.event.get("detail-type") != "Object Created":
        keep.append(letter)
        return RedriveResult(
            letter.message_id,
            None,
            "not-an-event",
            detail="the message is not an S3 Object Created event; left in the queue",
        )
    if dry_run:
        keep.append(letter)
        return RedriveResult(letter.message_id, letter.key, "would-start")
    try:
        started = sfn.start_execution(
            stateMachineArn=target.state_machine_arn,
            name=str(uuid.uuid4()),
            input=letter.body,
        )
    except (ClientError, BotoCoreError) as exc:
        keep.append(letter)
        return RedriveResult(
            letter.message_id, letter.key, "start-failed", detail=describe_aws_error(exc)
        )
    arn = str(started["executionArn"])
    # Deleted only now: a crash before this line leaves the message for the next redrive,
    # and Claim turns a second start of the same event into AlreadyProcessed.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=letter.receipt_handle)
    return RedriveResult(letter.message_id, letter.key, "started", execution_arn=arn)
