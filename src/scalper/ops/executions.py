"""Reading executions: history (states with times), inputs, listings, and starting replays."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from silent_scalper.records import item_key

from scalper.ops.common import NotFoundError, OpsError, iso
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_stepfunctions.client import SFNClient

#: ListExecutions status filters (the API's ExecutionStatus values).
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE")
#: Statuses a stopped execution ends in when it did not succeed.
UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")

Progress = Callable[[int], None]

_EXECUTION_ENDS = frozenset(
    {"ExecutionSucceeded", "ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted"}
)


def _noop(_: int) -> None:
    return None


@dataclass(frozen=True)
class StateVisit:
    """One state the execution entered: when, for how long, and how many attempts failed."""

    name: str
    entered: datetime
    exited: datetime | None
    #: Failed attempts inside the state (retried, or caught and routed to the failure path).
    failures: int = 0

    @property
    def seconds(self) -> float | None:
        """Time spent in the state."""
        return None if self.exited is None else (self.exited - self.entered).total_seconds()

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "name": self.name,
            "entered": iso(self.entered),
            "exited": None if self.exited is None else iso(self.exited),
            "seconds": self.seconds,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class ExecutionInfo:
    """One execution with the file it handled."""

    arn: str
    name: str
    status: str
    start: datetime
    stop: datetime | None
    key: str | None
    bucket: str | None
    redrive_count: int = 0
    redrive_status: str | None = None
    redrive_status_reason: str | None = None
    error: str | None = None
    cause: str | None = None
    console_url: str | None = None
    input: dict[str, Any] | None = field(default=None, compare=False)

    def to_json(self) -> dict[str, Any]:
        """Plain data (the input is left out: it can be large)."""
        return {
            "arn": self.arn,
            "name": self.name,
            "status": self.status,
            "start": iso(self.start),
            "stop": None if self.stop is None else iso(self.stop),
            "bucket": self.bucket,
            "key": self.key,
            "redrive_count": self.redrive_count,
            "redrive_status": self.redrive_status,
            "redrive_status_reason": self.redrive_status_reason,
            "error": self.error,
            "cause": self.cause,
            "console_url": self.console_url,
        }


def object_of(event: dict[str, Any] | None) -> tuple[str | None, str | None]:
    """(bucket, key as the event spelled it) of the Object Created event an execution started
    with. Not decoded: whether the event form-encoded it is resolved against the object by
    the pipeline, not guessed here."""
    detail = (event or {}).get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    key = (detail.get("object") or {}).get("key")
    return (
        bucket if isinstance(bucket, str) else None,
        key if isinstance(key, str) else None,
    )


def is_express_arn(arn: str) -> bool:
    """Express execution ARNs are ``arn:aws:states:<region>:<acct>:express:...``."""
    return ":express:" in arn


def describe(sfn: SFNClient, arn: str, target: Target) -> ExecutionInfo:
    """DescribeExecution, with the file it handled; :class:`NotFoundError` for an unknown ARN."""
    try:
        d = sfn.describe_execution(executionArn=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"ExecutionDoesNotExist", "ResourceNotFound", "InvalidArn"}:
            hint = (
                " (Express executions keep no history to describe: their input is in the "
                "state machine's CloudWatch Logs)"
                if is_express_arn(arn)
                else ""
            )
            raise NotFoundError(f"no execution {arn}{hint}") from None
        raise
    raw_input = d.get("input")
    event: dict[str, Any] | None = None
    if raw_input:
        try:
            loaded = json.loads(raw_input)
            event = loaded if isinstance(loaded, dict) else None
        except ValueError:
            event = None
    bucket, key = object_of(event)
    return ExecutionInfo(
        arn=arn,
        name=str(d.get("name", arn.rsplit(":", 1)[-1])),
        status=str(d["status"]),
        start=d["startDate"],
        stop=d.get("stopDate"),
        key=key,
        bucket=bucket,
        redrive_count=int(d.get("redriveCount", 0) or 0),
        redrive_status=d.get("redriveStatus"),
        redrive_status_reason=d.get("redriveStatusReason"),
        error=d.get("error"),
        cause=d.get("cause"),
        console_url=target.console_url(arn),
        input=event,
    )


def history(sfn: SFNClient, arn: str) -> list[StateVisit]:
    """The states an execution entered, in order, with enter/exit times and failed attempts."""
    visits: list[StateVisit] = []
    current: int | None = None
    kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
    while True:
        page = sfn.get_execution_history(**kwargs)
        for event in page["events"]:
            kind = str(event["type"])
            stamp: datetime = event["timestamp"]
            if kind.endswith("StateEntered"):
                name = str(event["stateEnteredEventDetails"]["name"])
                visits.append(StateVisit(name, stamp, None))
                current = len(visits) - 1
            elif kind.endswith("StateExited") and current is not None:
                visit = visits[current]
                visits[current] = StateVisit(visit.name, visit.entered, stamp, visit.failures)
                current = None
            elif current is not None and kind in _EXECUTION_ENDS:
                # A Fail state never "exits": the execution's end closes it.
                visit = visits[current]
                visits[current] = StateVisit(visit.name, visit.entered, stamp, visit.failures)
                current = None
            elif (
                current is not None
                and kind.endswith(("Failed", "TimedOut"))
                and not kind.startswith("Execution")
            ):
                visit = visits[current]
                visits[current] = StateVisit(
                    visit.name, visit.entered, visit.exited, visit.failures + 1
                )
        token = page.get("nextToken")
        if not token:
            return visits
        kwargs["nextToken"] = token


def iter_executions(
    sfn: SFNClient,
    state_machine_arn: str,
    *,
    status: str | None = None,
    since: datetime | None = None,
) -> Iterator[dict[str, Any]]:
    """ListExecutions pages, newest first, stopping at the first one older than ``since``."""
    kwargs: dict[str, Any] = {"stateMachineArn": state_machine_arn, "maxResults": 100}
    if status:
        kwargs["statusFilter"] = status
    while True:
        try:
            page = sfn.list_executions(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "StateMachineTypeNotSupported":
                raise OpsError(
                    "this is an EXPRESS state machine: Step Functions keeps no execution list "
                    "for it (its history is in CloudWatch Logs); use `scalper status KEY`"
                ) from None
            raise
        for item in page.get("executions", []):
            if since is not None and item["startDate"] < since:
                return
            yield dict(item)
        token = page.get("nextToken")
        if not token:
            return
        kwargs["nextToken"] = token


def list_executions(
    sfn: SFNClient,
    target: Target,
    *,
    status: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    progress: Progress = _noop,
) -> list[ExecutionInfo]:
    """Recent executions with the file each handled (one DescribeExecution each, for the input)."""
    rows: list[ExecutionInfo] = []
    for item in iter_executions(sfn, target.state_machine_arn, status=status, since=since):
        if len(rows) >= limit:
            break
        try:
            rows.append(describe(sfn, str(item["executionArn"]), target))
        except NotFoundError:
            continue
        progress(1)
    return rows


@dataclass(frozen=True)
class ReplayResult:
    """A replay: the execution it copied and the one it started (None on a dry run)."""

    source_arn: str
    new_arn: str | None
    key: str | None
    status: str
    detail: str = ""
    console_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "source_arn": self.source_arn,
            "new_arn": self.new_arn,
            "key": self.key,
            "status": self.status,
            "detail": self.detail,
            "console_url": self.console_url,
        }


def start(sfn: SFNClient, target: Target, event: dict[str, Any]) -> str:
    """StartExecution with ``event`` as input and a UUID name (what EventBridge does)."""
    response = sfn.start_execution(
        stateMachineArn=target.state_machine_arn,
        name=str(uuid.uuid4()),
        input=json.dumps(event),
    )
    return str(response["executionArn"])


def release_abandoned_claim(
    dynamodb: DynamoDBClient,
    target: Target,
    event: dict[str, Any],
    owner_arn: str | None,
    why: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Mark a claim whose execution ended without an outcome as ``FAILED``.

    Claim lets the same S3 event in again only after it ``FAILED``: a duplicate delivery
    while the record is ``PROCESSING`` ends at Claim, so the work is never done twice. An
    execution that was aborted or timed out leaves its record ``PROCESSING``; before such a
    file is replayed its claim is released here — only if the record is still
    ``PROCESSING`` and still owned by ``owner_arn`` (``None``: by no execution), so a claim
    that moved on in the meantime is left alone. Returns whether the record was released.
    """
    detail = event.get("detail") or {}
    bucket = (detail.get("bucket") or {}).get("name")
    event_key = (detail.get("object") or {}).get("key")
    if not isinstance(bucket, str) or not isinstance(event_key, str):
        return False
    owner = (
        "execution_arn = :owner" if owner_arn is not None else "attribute_not_exists(execution_arn)"
    )
    values: dict[str, Any] = {
        ":processing": {"S": "PROCESSING"},
        ":failed": {"S": "FAILED"},
        ":error": {"S": "Scalper.ExecutionEnded"},
        ":cause": {"S": why},
        ":now": {"S": iso(now or datetime.now().astimezone())},
    }
    if owner_arn is not None:
        values[":owner"] = {"S": owner_arn}
    try:
        dynamodb.update_item(
            TableName=target.table,
            Key={"pk": {"S": item_key(bucket, event_key)}},
            UpdateExpression=(
                "SET #status = :failed, failure_error = :error, failure_cause = :cause, "
                "updated_at = :now"
            ),
            ConditionExpression=f"#status = :processing AND {owner}",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def replay(
    sfn: SFNClient,
    target: Target,
    arns: list[str],
    *,
    dynamodb: DynamoDBClient | None = None,
    dry_run: bool = False,
    progress: Progress = _noop,
) -> list[ReplayResult]:
    """A new execution per ARN, with the original input; the pipeline's Claim decides the rest.

    Claim lets a replay in when the record for the same S3 event is ``FAILED``; an execution
    that ended without recording an outcome (aborted, timed out) has its claim released
    first (:func:`release_abandoned_claim`, given ``dynamodb``). For a file that already
    reached ``VALID`` or ``QUARANTINED`` the replay ends in ``AlreadyProcessed`` and does no
    work twice (use ``reprocess`` for quarantined files).
    """
    results: list[ReplayResult] = []
    for arn in arns:
        try:
            info = describe(sfn, arn, target)
        except NotFoundError as exc:
            results.append(ReplayResult(arn, None, None, "not-found", str(exc)))
            progress(1)
            continue
        if info.input is None:
            results.append(ReplayResult(arn, None, info.key, "no-input", "the input is gone"))
        elif info.status == "RUNNING":
            results.append(
                ReplayResult(arn, None, info.key, "running", "still running: not replayed")
            )
        elif dry_run:
            results.append(ReplayResult(arn, None, info.key, "would-replay"))
        else:
            if dynamodb is not None and info.status in UNSUCCESSFUL:
                release_abandoned_claim(
                    dynamodb, target, info.input, arn, f"execution {arn} ended {info.status}"
                )
            new = start(sfn, target, info.input)
            results.append(
                ReplayResult(arn, new, info.key, "replayed", console_url=target.console_url(new))
            )
        progress(1)
    return results
