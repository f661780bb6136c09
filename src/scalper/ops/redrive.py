"""``scalper redrive``: RedriveExecution for failed Standard executions, in bulk, within quota.

Redrive resumes a FAILED, TIMED_OUT or ABORTED Standard execution from its unsuccessful
state, with the same ARN and input, for 14 days after it stopped. The pipeline catches only
what it has the answer to, so that state is the Task that failed: a redrive re-runs it and
what follows. What cannot be redriven is listed with the reason and ``replay`` (a new
execution, same input) as the way out: Express executions, executions beyond the window.
The local stack answers RedriveExecution for its own executions with the same rules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from silent_scalper.records import current_owner, item_key

from scalper.ops.common import NotFoundError, TokenBucket
from scalper.ops.executions import (
    UNSUCCESSFUL,
    ExecutionInfo,
    describe,
    failed_state,
    is_express_arn,
    iter_executions,
)
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_stepfunctions.client import SFNClient

#: How long after it stopped an execution can be redriven.
REDRIVE_WINDOW = timedelta(days=14)
#: Client-side pace of RedriveExecution calls. Step Functions throttles its control-plane
#: API with a token bucket per account and Region; these defaults stay well below it so a
#: bulk redrive never starves the pipeline's own StartExecution calls (override with
#: --rate/--burst after checking the account's quota in the Service Quotas console).
DEFAULT_RATE = 5.0
DEFAULT_BURST = 10


class Outcome(StrEnum):
    """What happened to one execution."""

    REDRIVEN = "redriven"
    WOULD_REDRIVE = "would-redrive"
    OUTSIDE_WINDOW = "outside-window"
    NOT_REDRIVABLE = "not-redrivable"
    EXPRESS = "express"
    NOT_FOUND = "not-found"
    THROTTLED = "throttled"
    SUPERSEDED = "superseded"


#: Outcomes whose way out is ``scalper replay``.
REPLAYABLE = frozenset({Outcome.OUTSIDE_WINDOW, Outcome.EXPRESS, Outcome.NOT_REDRIVABLE})


@dataclass(frozen=True)
class RedriveItem:
    """One execution considered for redrive."""

    arn: str
    outcome: Outcome
    status: str | None = None
    key: str | None = None
    stopped: datetime | None = None
    reason: str = ""
    note: str = ""
    console_url: str | None = None
    #: Where the execution ended (a redrive resumes there) and with what error.
    failed_state: str | None = None
    error: str | None = None

    @property
    def replay_hint(self) -> str | None:
        """The command that gets the file through anyway, when replay is the way out."""
        if self.outcome in REPLAYABLE and self.status in UNSUCCESSFUL:
            return f"scalper replay {self.arn}"
        return None

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "arn": self.arn,
            "outcome": str(self.outcome),
            "status": self.status,
            "key": self.key,
            "stopped": None if self.stopped is None else self.stopped.isoformat(),
            "reason": self.reason,
            "note": self.note,
            "failed_state": self.failed_state,
            "error": self.error,
            "replay": self.replay_hint,
            "console_url": self.console_url,
        }


def client_token(info: ExecutionInfo) -> str:
    """Idempotency token per redrive attempt: re-running the command never redrives twice."""
    return hashlib.sha256(f"{info.arn}#{info.redrive_count}".encode()).hexdigest()[:64]


def candidates(
    sfn: SFNClient,
    target: Target,
    *,
    arns: list[str] | None = None,
    all_failed: bool = False,
    since: datetime | None = None,
) -> list[str]:
    """The ARNs to consider: those given, or every unsuccessful execution since ``since``."""
    if arns:
        return list(dict.fromkeys(arns))
    if not all_failed:
        return []
    found: list[tuple[datetime, str]] = []
    for status in UNSUCCESSFUL:
        for item in iter_executions(sfn, target.state_machine_arn, status=status, since=since):
            found.append((item.get("stopDate") or item["startDate"], str(item["executionArn"])))
    return [arn for _, arn in sorted(found)]


def _item(info: ExecutionInfo) -> RedriveItem:
    return RedriveItem(
        info.arn,
        Outcome.NOT_REDRIVABLE,
        status=info.status,
        key=info.key,
        stopped=info.stop,
        console_url=info.console_url,
        failed_state=info.failed_state,
        error=info.error,
    )


def classify(info: ExecutionInfo, target: Target, *, now: datetime) -> RedriveItem | None:
    """Why ``info`` cannot be redriven, or None when it can."""
    base = _item(info)
    if target.workflow_type == "EXPRESS" or is_express_arn(info.arn):
        return replace(
            base,
            outcome=Outcome.EXPRESS,
            reason="RedriveExecution does not support Express workflows",
        )
    if info.status not in UNSUCCESSFUL:
        return replace(base, outcome=Outcome.NOT_REDRIVABLE, reason=f"execution is {info.status}")
    if info.stop is not None and now - info.stop > REDRIVE_WINDOW:
        return replace(
            base,
            outcome=Outcome.OUTSIDE_WINDOW,
            reason=f"stopped {(now - info.stop).days} days ago: beyond the 14-day redrive window",
        )
    if info.redrive_status == "NOT_REDRIVABLE":
        reason = info.redrive_status_reason or "Step Functions says it is not redrivable"
        outcome = (
            Outcome.OUTSIDE_WINDOW
            if "redrivable period" in reason.lower()
            else Outcome.NOT_REDRIVABLE
        )
        return replace(base, outcome=outcome, reason=reason)
    return None


def superseded_by(dynamodb: DynamoDBClient, target: Target, info: ExecutionInfo) -> str | None:
    """The execution that owns the file's record now, when it is not ``info``'s.

    After a replay (or a newer upload of the key) a newer execution owns the record: the
    file is handled, and redriving the old execution could only end in ``Superseded``.
    """
    detail = (info.input or {}).get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    event_key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(event_key, str):
        return None
    owner = current_owner(dynamodb, target.table, item_key(bucket, event_key))
    return owner if owner is not None and owner != info.arn else None


def redrivability(
    info: ExecutionInfo,
    target: Target,
    *,
    now: datetime,
    dynamodb: DynamoDBClient | None = None,
) -> tuple[bool, str]:
    """Whether ``info`` can be redriven, and why not: Standard, unsuccessful, within 14 days
    of stopping, and its file not taken over by a newer execution (given ``dynamodb``)."""
    refused = classify(info, target, now=now)
    if refused is not None:
        return False, refused.reason
    owner = None if dynamodb is None else superseded_by(dynamodb, target, info)
    if owner is not None:
        return False, f"superseded by {owner.rsplit(':', 1)[-1]}"
    return True, ""


def redrive(
    sfn: SFNClient,
    target: Target,
    arns: list[str],
    *,
    now: datetime,
    dynamodb: DynamoDBClient | None = None,
    dry_run: bool = False,
    bucket: TokenBucket | None = None,
) -> list[RedriveItem]:
    """Redrive every redrivable execution of ``arns``; report every one of them (see
    `redrive_each`)."""
    return list(
        redrive_each(sfn, target, arns, now=now, dynamodb=dynamodb, dry_run=dry_run, bucket=bucket)
    )


def redrive_each(
    sfn: SFNClient,
    target: Target,
    arns: list[str],
    *,
    now: datetime,
    dynamodb: DynamoDBClient | None = None,
    dry_run: bool = False,
    bucket: TokenBucket | None = None,
) -> Iterator[RedriveItem]:
    """Redrive the executions of ``arns`` one by one, yielding each one's report.

    With ``dynamodb``, an execution whose file a newer execution now owns is reported
    ``superseded`` and left alone.
    """
    bucket = bucket or TokenBucket(DEFAULT_RATE, DEFAULT_BURST)
    for arn in arns:
        yield _one(sfn, target, arn, now=now, dry_run=dry_run, bucket=bucket, dynamodb=dynamodb)


def _one(
    sfn: SFNClient,
    target: Target,
    arn: str,
    *,
    now: datetime,
    dry_run: bool,
    bucket: TokenBucket,
    dynamodb: DynamoDBClient | None,
) -> RedriveItem:
    try:
        info = describe(sfn, arn, target)
    except NotFoundError as exc:
        return RedriveItem(arn, Outcome.NOT_FOUND, reason=str(exc))
    refused = classify(info, target, now=now) or _superseded(dynamodb, target, info)
    if refused is not None:
        return refused
    # Only for what can be redriven: one history read, to say where it resumes.
    info = replace(info, failed_state=failed_state(sfn, arn))
    base = _item(info)
    if info.failed_state:
        base = replace(base, note=f"resumes at {info.failed_state}")
    if dry_run:
        return replace(base, outcome=Outcome.WOULD_REDRIVE)
    bucket.acquire()
    return _redriven(sfn, arn, info, base)


def _superseded(
    dynamodb: DynamoDBClient | None, target: Target, info: ExecutionInfo
) -> RedriveItem | None:
    """The report of an execution whose file a newer execution owns now (None otherwise)."""
    owner = None if dynamodb is None else superseded_by(dynamodb, target, info)
    if owner is None:
        return None
    return replace(
        _item(info),
        outcome=Outcome.SUPERSEDED,
        reason=f"the file is now handled by {owner.rsplit(':', 1)[-1]}: nothing to redrive",
    )


def _redriven(sfn: SFNClient, arn: str, info: ExecutionInfo, base: RedriveItem) -> RedriveItem:
    """RedriveExecution, and its answer as a report (a throttled call says to slow down)."""
    try:
        sfn.redrive_execution(executionArn=arn, clientToken=client_token(info))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        message = str(error.get("Message", "")) or code
        if code == "ExecutionNotRedrivable":
            outcome = (
                Outcome.OUTSIDE_WINDOW
                if "redrivable period" in message.lower()
                else Outcome.NOT_REDRIVABLE
            )
            return replace(base, outcome=outcome, reason=message)
        if code == "ExecutionDoesNotExist":
            return replace(base, outcome=Outcome.NOT_FOUND, reason=message)
        if code in {"ThrottlingException", "TooManyRequestsException"}:
            return replace(
                base,
                outcome=Outcome.THROTTLED,
                reason=f"{message} (after retries): run again with a lower --rate",
            )
        raise
    return replace(base, outcome=Outcome.REDRIVEN)
