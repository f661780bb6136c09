"""The failure recorder: "this execution ended badly" becomes a FAILED record, a tag and an alert.

The state machine catches only the failures it has the answer to; any other failure ends the
execution at the Task that failed (so a redrive resumes there), a timeout or an abort ends it
wherever it was. Either way the execution itself cannot record the outcome, so this runs
outside it, fed two ways:

- **STANDARD**: EventBridge's ``Step Functions Execution Status Change`` event (FAILED,
  TIMED_OUT, ABORTED), which carries the execution's input: :func:`from_status_change`.
- **EXPRESS**: Express workflows send no such events; a CloudWatch Logs subscription on the
  execution log group delivers the ``ExecutionFailed`` / ``ExecutionTimedOut`` /
  ``ExecutionAborted`` log events: :func:`from_log_event`. Their input is the
  ``ExecutionStarted`` event of the same execution in the same log group.

The state that failed is the last state the execution entered (:func:`failed_state`), read
from the execution history (Standard) or the execution's log events (Express).

:func:`record_failure` is idempotent: the same failure (one execution, one redrive count)
delivered twice gives one record and one alert. The record is written only while the
execution owns it and has no outcome newer than this failure, so a newer upload, a replay
or a successful redrive is never overwritten.
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

from silent_scalper.identity import Uploader
from silent_scalper.observability import logger
from silent_scalper.pipeline.keys import first_existing
from silent_scalper.pipeline.models import S3ObjectDetail, StepInput
from silent_scalper.pipeline.tagging import tag_outcome
from silent_scalper.records import ObjectGone, Status, uploader_attribute
from silent_scalper.settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_logs.client import CloudWatchLogsClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sns.client import SNSClient
    from mypy_boto3_stepfunctions.client import SFNClient

#: EventBridge ``detail-type`` of Step Functions' execution events.
STATUS_CHANGE = "Step Functions Execution Status Change"
#: Execution log event type -> the execution status it ends in.
ENDING_LOG_EVENTS = {
    "ExecutionFailed": "FAILED",
    "ExecutionTimedOut": "TIMED_OUT",
    "ExecutionAborted": "ABORTED",
}
#: The error a record gets when the execution's end carries none (a timeout, an abort).
DEFAULT_ERRORS = {"TIMED_OUT": "States.Timeout", "ABORTED": "ExecutionAborted"}
#: Longest cause kept in the record and the alert (SNS messages stay far below 256 KiB).
MAX_CAUSE_CHARS = 4000


class EndStatus(StrEnum):
    """How an execution ended badly."""

    FAILED = "FAILED"
    TIMED_OUT = "TIMED_OUT"
    ABORTED = "ABORTED"


class FailureInputError(ValueError):
    """The delivered event does not describe an ended execution of this pipeline."""


class EndedExecution(BaseModel):
    """One execution that ended FAILED, TIMED_OUT or ABORTED: what the recorder needs."""

    model_config = ConfigDict(frozen=True)

    execution_arn: str = Field(min_length=1)
    status: EndStatus
    error: str | None = None
    cause: str | None = None
    #: The state the execution was in when it ended (``None`` when it never entered one).
    failed_state: str | None = None
    #: Which attempt of the execution this is: 0, then +1 for each redrive.
    redrive_count: int = Field(default=0, ge=0)
    #: The execution's input: the S3 Object Created event.
    input: dict[str, Any] | None = None

    @property
    def error_name(self) -> str:
        """The error to record: the execution's own, or one naming how it ended."""
        return self.error or DEFAULT_ERRORS.get(self.status.value, self.status.value)

    def step(self) -> StepInput:
        """The S3 object the execution handled, as every pipeline step sees it."""
        detail = (self.input or {}).get("detail")
        if not isinstance(detail, Mapping):
            raise FailureInputError(f"execution {self.execution_arn} has no S3 event input")
        try:
            return StepInput(
                bucket=(detail.get("bucket") or {}).get("name", ""),
                object=S3ObjectDetail.model_validate(detail.get("object") or {}),
                execution_arn=self.execution_arn,
                event_time=(self.input or {}).get("time"),
            )
        except ValueError as exc:
            msg = f"execution {self.execution_arn}: its input is not an S3 event ({exc})"
            raise FailureInputError(msg) from None


class FailureOutcome(BaseModel):
    """What the recorder did for one ended execution."""

    execution_arn: str
    pk: str | None
    recorded: bool
    alerted: bool
    note: str = ""


def _json_object(text: Any) -> dict[str, Any] | None:
    if isinstance(text, Mapping):
        return dict(text)
    if not isinstance(text, str) or not text:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def from_status_change(event: Mapping[str, Any], *, failed_state: str | None) -> EndedExecution:
    """The ended execution an EventBridge status-change event describes.

    ``detail.input`` is the execution's input as a JSON string; ``redriveCount`` says which
    attempt ended. Raises :class:`FailureInputError` for any other event.
    """
    if event.get("detail-type") != STATUS_CHANGE or event.get("source") != "aws.states":
        raise FailureInputError(f"not a {STATUS_CHANGE!r} event: {event.get('detail-type')!r}")
    detail = event.get("detail")
    if not isinstance(detail, Mapping) or detail.get("status") not in EndStatus.__members__:
        raise FailureInputError("the status-change event does not end FAILED/TIMED_OUT/ABORTED")
    return EndedExecution(
        execution_arn=str(detail.get("executionArn") or ""),
        status=EndStatus(str(detail["status"])),
        error=detail.get("error") or None,
        cause=_cap(detail.get("cause")),
        failed_state=failed_state,
        redrive_count=int(detail.get("redriveCount") or 0),
        input=_json_object(detail.get("input")),
    )


def from_log_event(
    message: Mapping[str, Any], execution_log: Iterable[Mapping[str, Any]]
) -> EndedExecution:
    """The ended execution an ``Execution{Failed,TimedOut,Aborted}`` log event describes.

    ``execution_log`` is the same execution's log events (any order): its ``ExecutionStarted``
    event holds the input (logged with ``IncludeExecutionData``) and its last
    ``...StateEntered`` names the state that failed.
    """
    kind = str(message.get("type", ""))
    if kind not in ENDING_LOG_EVENTS:
        raise FailureInputError(f"log event {kind!r} does not end an execution")
    arn = str(message.get("execution_arn") or "")
    details = message.get("details") or {}
    events = [e for e in execution_log if e.get("execution_arn", arn) == arn]
    started = next((e for e in events if e.get("type") == "ExecutionStarted"), None)
    entered = sorted(
        (e for e in events if str(e.get("type", "")).endswith("StateEntered")),
        key=lambda e: int(str(e.get("id") or 0)),
    )
    return EndedExecution(
        execution_arn=arn,
        status=EndStatus(ENDING_LOG_EVENTS[kind]),
        error=details.get("error") or None,
        cause=_cap(details.get("cause")),
        failed_state=str(entered[-1]["details"]["name"]) if entered else None,
        redrive_count=int(str(message.get("redrive_count") or 0)),
        input=_json_object((started or {}).get("details", {}).get("input")),
    )


def failed_state(history_newest_first: Iterable[Mapping[str, Any]]) -> str | None:
    """The state an execution was in when it ended: the last ``...StateEntered`` event of
    its history (GetExecutionHistory events, newest first)."""
    for event in history_newest_first:
        details = event.get("stateEnteredEventDetails")
        if str(event.get("type", "")).endswith("StateEntered") and details:
            return str(details["name"])
    return None


def _cap(cause: Any) -> str | None:
    if not isinstance(cause, str) or not cause:
        return None
    return cause if len(cause) <= MAX_CAUSE_CHARS else cause[: MAX_CAUSE_CHARS - 1] + "…"


def read_object(s3: S3Client, step: StepInput) -> tuple[str | None, Uploader | None]:
    """The object's real key and its uploader (from its metadata), where they can still be
    read: the same key resolution as every step (:func:`first_existing`); ``(None, None)``
    when the object or its version is gone, or cannot be read."""
    try:
        key, head = first_existing(step, lambda k: s3.head_object(**step.get_args(k)))
    except (ObjectGone, ClientError, BotoCoreError):
        return None, None
    return key, Uploader.from_object_metadata(head.get("Metadata", {}))


_WRITE_CONDITION = (
    "(attribute_not_exists(pk) OR execution_arn = :exec) AND ("
    "attribute_not_exists(#status) OR #status = :processing OR "
    "(#status = :failed AND (attribute_not_exists(failure_attempt) OR failure_attempt < :attempt)))"
)


def record_failure(
    ended: EndedExecution,
    *,
    dynamodb: DynamoDBClient,
    s3: S3Client,
    sns: SNSClient,
    settings: Settings,
    now: datetime | None = None,
) -> FailureOutcome:
    """Record FAILED, tag the object version, alert ``event=FAILED``: once per failure.

    The write is conditional: the record must belong to this execution (or not exist yet)
    and hold no outcome newer than this failure (a VALID/QUARANTINED record, or a FAILED one
    from the same or a later redrive). A delivery that finds the failure recorded but not
    yet alerted (the previous attempt's publish failed) publishes it; otherwise a repeat
    delivery does nothing. Raises when the alert cannot be published, so the delivery is
    retried.
    """
    step = ended.step()
    pk = step.pk
    stamp = (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z")
    resolved, uploader = read_object(s3, step)
    key = resolved or step.object.key
    names = {"#status": "status", "#bucket": "bucket", "#key": "key"}
    values: dict[str, Any] = {
        ":exec": {"S": ended.execution_arn},
        ":processing": {"S": Status.PROCESSING.value},
        ":failed": {"S": Status.FAILED.value},
        ":attempt": {"N": str(ended.redrive_count)},
        ":bucket": {"S": step.bucket},
        ":key": {"S": key},
        ":event_key": {"S": step.object.key},
        ":error": {"S": ended.error_name},
        ":ended": {"S": ended.status.value},
        ":now": {"S": stamp},
    }
    sets = [
        "#status = :failed",
        "#bucket = :bucket",
        "#key = :key",
        "event_key = :event_key",
        "execution_arn = :exec",
        "failure_error = :error",
        "execution_status = :ended",
        "failure_attempt = :attempt",
        "updated_at = :now",
        "processed_at = :now",
    ]
    removes: list[str] = []
    # An absent cause or state is removed, not stored empty: an earlier attempt's must not
    # linger, and no value is ever an empty string.
    for attribute, name, value in (
        ("failure_cause", ":cause", ended.cause),
        ("failed_state", ":state", ended.failed_state),
    ):
        if value:
            sets.append(f"{attribute} = {name}")
            values[name] = {"S": value}
        else:
            removes.append(attribute)
    if uploader is not None:
        sets.append("uploader = :uploader")
        values[":uploader"] = uploader_attribute(uploader)
    if step.version_id is not None:
        sets.append("version_id = :version")
        values[":version"] = {"S": step.version_id}
    if step.object.sequencer:
        # A claim that never happened (Claim itself failed) leaves no sequencer; Claim needs
        # one to let a replay of the same event in after this FAILED.
        sets.append("sequencer = if_not_exists(sequencer, :sequencer)")
        values[":sequencer"] = {"S": step.object.sequencer}
    try:
        dynamodb.update_item(
            TableName=settings.table_name,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET "
            + ", ".join(sets)
            + (" REMOVE " + ", ".join(removes) if removes else ""),
            ConditionExpression=_WRITE_CONDITION,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        if not _recorded_but_not_alerted(dynamodb, settings, pk, ended):
            return FailureOutcome(
                execution_arn=ended.execution_arn,
                pk=pk,
                recorded=False,
                alerted=False,
                note="already recorded, or the record belongs to a newer execution or outcome",
            )
    if resolved is not None:
        _tag(s3, step, key=resolved)
    _alert(sns, ended, step, key=key, settings=settings, at=stamp)
    _mark_alerted(dynamodb, settings, pk, ended)
    return FailureOutcome(execution_arn=ended.execution_arn, pk=pk, recorded=True, alerted=True)


def _recorded_but_not_alerted(
    dynamodb: DynamoDBClient, settings: Settings, pk: str, ended: EndedExecution
) -> bool:
    key = {"pk": {"S": pk}}
    item = dynamodb.get_item(TableName=settings.table_name, Key=key, ConsistentRead=True)
    found = item.get("Item") or {}
    return (
        found.get("execution_arn", {}).get("S") == ended.execution_arn
        and found.get("status", {}).get("S") == Status.FAILED.value
        and found.get("failure_attempt", {}).get("N") == str(ended.redrive_count)
        and found.get("alerted_attempt", {}).get("N") != str(ended.redrive_count)
    )


def _mark_alerted(
    dynamodb: DynamoDBClient, settings: Settings, pk: str, ended: EndedExecution
) -> None:
    """Remember the alert went out, so a repeated delivery does not send it again."""
    try:
        dynamodb.update_item(
            TableName=settings.table_name,
            Key={"pk": {"S": pk}},
            UpdateExpression="SET alerted_attempt = :attempt",
            ConditionExpression="execution_arn = :exec AND failure_attempt = :attempt",
            ExpressionAttributeValues={
                ":exec": {"S": ended.execution_arn},
                ":attempt": {"N": str(ended.redrive_count)},
            },
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise


def _tag(s3: S3Client, step: StepInput, *, key: str) -> None:
    """Tag the version FAILED. Best effort: a deleted object has nothing to tag."""
    try:
        tag_outcome(
            s3, bucket=step.bucket, key=key, version_id=step.version_id, status=Status.FAILED
        )
    except (ClientError, BotoCoreError) as exc:
        logger.warning("could not tag the failed object", extra={"pk": step.pk, "error": str(exc)})


def failure_message(ended: EndedExecution, step: StepInput, *, key: str, at: str) -> dict[str, Any]:
    """The alert's body: the same fields the state machine's own FAILED alert has, and more."""
    return {
        "event": "FAILED",
        "bucket": step.bucket,
        "key": key,
        "version_id": step.version_id,
        "execution_arn": ended.execution_arn,
        "execution_status": ended.status.value,
        "failed_state": ended.failed_state,
        "error": ended.error_name,
        "cause": ended.cause,
        "redrive_count": ended.redrive_count,
        "at": at,
    }


def _alert(
    sns: SNSClient,
    ended: EndedExecution,
    step: StepInput,
    *,
    key: str,
    settings: Settings,
    at: str,
) -> None:
    sns.publish(
        TopicArn=settings.topic_arn,
        Subject="Silent Scalper: pipeline FAILED",
        Message=json.dumps(failure_message(ended, step, key=key, at=at), ensure_ascii=False),
        MessageAttributes={
            "event": {"DataType": "String", "StringValue": "FAILED"},
            "stage": {"DataType": "String", "StringValue": settings.stage},
        },
    )


def decode_log_payload(data: str) -> dict[str, Any]:
    """A CloudWatch Logs subscription's ``awslogs.data``: base64 of gzipped JSON."""
    try:
        decoded = json.loads(gzip.decompress(base64.b64decode(data)))
    except (ValueError, OSError) as exc:
        raise FailureInputError(f"awslogs.data is not base64 gzipped JSON ({exc})") from None
    if not isinstance(decoded, dict):
        raise FailureInputError("awslogs.data is not a JSON object")
    return decoded


#: How far before an Express execution's end its first log event can be: the 5-minute cap
#: plus a margin for log delivery.
EXPRESS_LOOKBACK_MS = 6 * 60 * 1000


def ended_executions(
    event: Mapping[str, Any], *, sfn: SFNClient, logs: CloudWatchLogsClient
) -> list[EndedExecution]:
    """The executions one delivery says ended badly, from either feed.

    A status-change event (Standard) names one; the failed state is read from its history.
    A Logs subscription batch (Express) may hold several; each one's input and failed state
    are read from the same log group's events of that execution.
    """
    if "awslogs" in event:
        batch = decode_log_payload(str((event.get("awslogs") or {}).get("data", "")))
        if batch.get("messageType") != "DATA_MESSAGE":
            return []  # CONTROL_MESSAGE: CloudWatch Logs checking the destination is reachable
        found: list[EndedExecution] = []
        for log_event in batch.get("logEvents") or []:
            message = _json_object(log_event.get("message"))
            if message is None or message.get("type") not in ENDING_LOG_EVENTS:
                continue
            arn = str(message.get("execution_arn") or "")
            stamp = int(log_event.get("timestamp") or 0)
            execution_log = _execution_log(logs, str(batch.get("logGroup", "")), arn, stamp)
            found.append(from_log_event(message, execution_log))
        return found
    detail = event.get("detail")
    arn = str(detail.get("executionArn") or "") if isinstance(detail, Mapping) else ""
    if not arn:
        raise FailureInputError("the event names no execution")
    page = sfn.get_execution_history(executionArn=arn, reverseOrder=True, maxResults=50)
    return [from_status_change(event, failed_state=failed_state(page["events"]))]


def _execution_log(
    logs: CloudWatchLogsClient, group: str, arn: str, stamp_ms: int
) -> list[dict[str, Any]]:
    """The log events of one execution: a quoted-term filter on its ARN (an exact phrase)."""
    found: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "logGroupName": group,
        "filterPattern": f'"{arn}"',
        "startTime": max(0, stamp_ms - EXPRESS_LOOKBACK_MS),
        "endTime": stamp_ms + 60_000,
    }
    while True:
        page = logs.filter_log_events(**kwargs)
        for item in page.get("events", []):
            message = _json_object(item.get("message"))
            if message is not None and message.get("execution_arn") == arn:
                found.append(message)
        token = page.get("nextToken")
        if not token:
            return found
        kwargs["nextToken"] = token


def record_ended_executions(
    event: Mapping[str, Any],
    *,
    sfn: SFNClient,
    logs: CloudWatchLogsClient,
    dynamodb: DynamoDBClient,
    s3: S3Client,
    sns: SNSClient,
    settings: Settings,
) -> list[FailureOutcome]:
    """The recorder's whole job for one delivery, from either feed: one outcome per execution.

    Raises :class:`FailureInputError` for a delivery that names no ended execution of this
    pipeline (never retried); AWS errors propagate so the delivery is retried.
    """
    return [
        record_failure(ended, dynamodb=dynamodb, s3=s3, sns=sns, settings=settings)
        for ended in ended_executions(event, sfn=sfn, logs=logs)
    ]
