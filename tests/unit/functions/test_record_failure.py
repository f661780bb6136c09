"""The failure recorder: an execution that ended badly becomes one FAILED record, tag and alert.

Both feeds (the Standard status-change event, the Express log subscription) are read from the
samples in events/; the table, bucket and topic are template.yaml's, in moto.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from functions_support import Stack, empty_flushes, published_metrics
from handler_support import REGION, FakeContext
from silent_scalper.identity import AuthKind, Uploader
from silent_scalper.pipeline.failure import (
    EndedExecution,
    FailureInputError,
    decode_log_payload,
    failed_state,
    from_status_change,
    record_failure,
)
from silent_scalper.records import item_key

NEWER = "arn:aws:states:us-east-1:123456789012:execution:silent-scalper-dev-pipeline:newer"
UPLOADER = Uploader(kind=AuthKind.IAM, principal="arn:aws:iam::123456789012:user/ci", name="ci")


@pytest.fixture
def status_change(event: Callable[[str], dict[str, Any]], stack: Stack) -> dict[str, Any]:
    """The sample FAILED status-change event; its object uploaded (with an uploader)."""
    change = event("eventbridge/execution-failed.json")
    started = json.loads(change["detail"]["input"])
    obj = started["detail"]["object"]
    put = stack.s3.put_object(
        Bucket=started["detail"]["bucket"]["name"],
        Key=obj["key"],
        Body=b"job_id\nJOB-1\n",
        Metadata=UPLOADER.object_metadata(),
    )
    obj["version-id"] = put["VersionId"]
    change["detail"]["input"] = json.dumps(started)
    return change


def ended_from(change: dict[str, Any], **changes: Any) -> EndedExecution:
    ended = from_status_change(change, failed_state="ValidateSchema")
    return ended.model_copy(update=changes)


def record_of(stack: Stack, ended: EndedExecution) -> dict[str, Any]:
    item = stack.dynamodb.get_item(
        TableName=stack.settings.table_name, Key={"pk": {"S": ended.step().pk}}
    )
    return {k: next(iter(v.values())) for k, v in item.get("Item", {}).items()}


def claim(stack: Stack, ended: EndedExecution, *, owner: str | None = None, **extra: str) -> None:
    """The PROCESSING item Claim writes (or another status, with ``status=``)."""
    item = {
        "pk": {"S": ended.step().pk},
        "status": {"S": "PROCESSING"},
        "execution_arn": {"S": owner or ended.execution_arn},
        "sequencer": {"S": ended.step().object.sequencer or ""},
    }
    item.update({k: {"S": v} for k, v in extra.items()})
    stack.dynamodb.put_item(TableName=stack.settings.table_name, Item=item)


def record(stack: Stack, ended: EndedExecution) -> Any:
    return record_failure(
        ended, dynamodb=stack.dynamodb, s3=stack.s3, sns=stack.sns, settings=stack.settings
    )


def test_given_a_failed_execution_owning_its_claim_then_one_failed_record_tag_and_alert(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended)
    outcome = record(stack, ended)
    assert (outcome.recorded, outcome.alerted) == (True, True)
    saved = record_of(stack, ended)
    assert saved["status"] == "FAILED"
    assert saved["failure_error"] == "Lambda.ServiceException"
    assert saved["failure_cause"].startswith("Lambda is unable")
    assert saved["failed_state"] == "ValidateSchema"
    assert saved["execution_arn"] == ended.execution_arn
    assert saved["uploader"]["principal"]["S"] == UPLOADER.principal
    step = ended.step()
    tags = stack.s3.get_object_tagging(
        Bucket=step.bucket, Key=step.object.key, VersionId=step.version_id
    )["TagSet"]
    assert tags == [{"Key": "scalper-status", "Value": "FAILED"}]
    (alert,) = stack.alerts()
    assert alert["MessageAttributes"]["event"]["Value"] == "FAILED"
    assert alert["MessageAttributes"]["stage"]["Value"] == stack.settings.stage
    message = json.loads(alert["Message"])
    assert (message["event"], message["failed_state"], message["key"]) == (
        "FAILED",
        "ValidateSchema",
        step.object.key,
    )


def test_given_the_same_failure_delivered_twice_then_one_record_and_exactly_one_alert(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended)
    first, again = record(stack, ended), record(stack, ended)
    assert (first.recorded, again.recorded, again.alerted) == (True, False, False)
    assert len(stack.alerts()) == 1


def test_given_a_newer_execution_owns_the_record_then_nothing_is_written_or_alerted(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended, owner=NEWER)
    assert record(stack, ended).recorded is False
    assert (record_of(stack, ended)["status"], record_of(stack, ended)["execution_arn"]) == (
        "PROCESSING",
        NEWER,
    )
    assert stack.alerts() == []


def test_given_a_redrive_already_succeeded_then_a_late_delivery_never_downgrades_the_outcome(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended, status="VALID")
    assert record(stack, ended).recorded is False
    assert record_of(stack, ended)["status"] == "VALID"


def test_given_a_redriven_execution_fails_again_then_the_new_failure_is_recorded_and_alerted(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended)
    record(stack, ended)
    again = ended.model_copy(update={"redrive_count": 1, "failed_state": "WriteMetadata"})
    assert record(stack, again).recorded is True
    assert record_of(stack, again)["failed_state"] == "WriteMetadata"
    assert len(stack.alerts()) == 2


def test_given_the_alert_could_not_be_published_then_the_retried_delivery_publishes_it_once(
    stack: Stack, status_change: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ended = ended_from(status_change)
    claim(stack, ended)
    denied = ClientError({"Error": {"Code": "AuthorizationError", "Message": "no"}}, "Publish")
    with monkeypatch.context() as patch:
        patch.setattr(stack.sns, "publish", lambda **_: (_ for _ in ()).throw(denied))
        with pytest.raises(ClientError):
            record(stack, ended)
    assert record(stack, ended).alerted is True
    assert record(stack, ended).alerted is False
    assert len(stack.alerts()) == 1


@pytest.mark.parametrize(
    ("status", "error"), [("TIMED_OUT", "States.Timeout"), ("ABORTED", "ExecutionAborted")]
)
def test_given_a_timed_out_or_aborted_execution_then_the_record_says_how_it_ended(
    stack: Stack, status_change: dict[str, Any], status: str, error: str
) -> None:
    status_change["detail"].update(status=status, error=None, cause=None)
    # Ended before it entered any state: no cause, no failed state (never stored empty).
    ended = ended_from(status_change, failed_state=None)
    record(stack, ended)
    saved = record_of(stack, ended)
    assert (saved["status"], saved["failure_error"], saved["execution_status"]) == (
        "FAILED",
        error,
        status,
    )
    assert "failed_state" not in saved
    assert "failure_cause" not in saved


def test_given_claim_itself_failed_then_the_record_is_created_with_the_event_sequencer(
    stack: Stack, status_change: dict[str, Any]
) -> None:
    """Claim lets a replay of the same event in over a FAILED record with its sequencer."""
    ended = ended_from(status_change, failed_state="Claim")
    record(stack, ended)
    assert record_of(stack, ended)["sequencer"] == ended.step().object.sequencer


def test_given_history_newest_first_then_the_failed_state_is_the_last_one_entered() -> None:
    history = [
        {"type": "ExecutionFailed"},
        {"type": "LambdaFunctionFailed"},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "WriteMetadata"}},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "ExtractMetadata"}},
    ]
    assert failed_state(history) == "WriteMetadata"
    assert failed_state([{"type": "ExecutionAborted"}]) is None


@pytest.mark.parametrize(
    "change",
    [
        {"source": "aws.s3", "detail-type": "Object Created", "detail": {}},
        {
            "source": "aws.states",
            "detail-type": "Step Functions Execution Status Change",
            "detail": {"status": "SUCCEEDED"},
        },
    ],
)
def test_given_an_event_that_is_not_an_ended_execution_then_a_clear_error(
    change: dict[str, Any],
) -> None:
    with pytest.raises(FailureInputError):
        from_status_change(change, failed_state=None)


def test_given_an_express_failure_log_batch_when_handled_then_input_and_state_come_from_the_log(
    stack: Stack,
    event: Callable[[str], dict[str, Any]],
    load_handler: Callable[[str], ModuleType],
    capsys: pytest.CaptureFixture[str],
    recwarn: pytest.WarningsRecorder,
) -> None:
    """The Logs subscription delivers only ExecutionFailed; the recorder reads the
    execution's ExecutionStarted (its input) and last state entered from the same group.
    Delivered again, nothing is written and the repeat is counted (FailuresNotRecorded)."""
    execution_log = event("logs/execution-log.json")["events"]
    # CloudWatch Logs refuses events older than 14 days: move the sample's clock to now.
    shift = int(time.time() * 1000) - int(execution_log[-1]["event_timestamp"])
    for line in execution_log:
        line["event_timestamp"] = str(int(line["event_timestamp"]) + shift)
    batch = decode_log_payload(event("logs/execution-failed.json")["awslogs"]["data"])
    for log_event in batch["logEvents"]:
        log_event["timestamp"] += shift
    data = base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()
    started = json.loads(execution_log[0]["details"]["input"])
    obj = started["detail"]["object"]
    obj["version-id"] = stack.put(obj["key"], b"job_id\nJOB-1\n")
    execution_log[0]["details"]["input"] = json.dumps(started)
    logs = boto3.client("logs", region_name=REGION)
    group = "/aws/vendedlogs/states/silent-scalper-dev-pipeline"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[
            {"timestamp": int(e["event_timestamp"]), "message": json.dumps(e)}
            for e in execution_log
        ],
    )
    app = load_handler("record_failure")
    result = app.handler({"awslogs": {"data": data}}, FakeContext())
    (outcome,) = result["outcomes"]
    assert outcome["recorded"] is True
    arn = execution_log[-1]["execution_arn"]
    pk = item_key(started["detail"]["bucket"]["name"], obj["key"])
    item = stack.dynamodb.get_item(TableName=stack.settings.table_name, Key={"pk": {"S": pk}})
    saved = item["Item"]
    assert (saved["execution_arn"]["S"], saved["failed_state"]["S"]) == (arn, "ValidateSchema")
    assert saved["failure_error"]["S"] == "Lambda.ServiceException"
    assert len(stack.alerts()) == 1
    assert "FilesFailed" in published_metrics(capsys.readouterr().out)

    (again,) = app.handler({"awslogs": {"data": data}}, FakeContext())["outcomes"]
    assert again["recorded"] is False
    assert "FailuresNotRecorded" in published_metrics(capsys.readouterr().out)
    assert stack.alerts() == []
    assert empty_flushes(recwarn) == []


def test_given_an_unrelated_event_when_handled_then_it_is_logged_dropped_and_counted(
    load_handler: Callable[[str], ModuleType],
    event: Callable[[str], dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
    recwarn: pytest.WarningsRecorder,
) -> None:
    app = load_handler("record_failure")
    assert app.handler(event("eventbridge/object-created.json"), FakeContext()) == {"outcomes": []}
    assert "EventsIgnored" in published_metrics(capsys.readouterr().out)
    assert empty_flushes(recwarn) == []
