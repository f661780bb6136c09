"""`scalper dlq` edge cases on moto: what is not an event, and a start that fails, stay queued."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scalper.ops.common import OpsError
from scalper.ops.dlq import list_dead_letters, redrive_dead_letters
from scalper.ops.target import Target

REGION = "us-east-1"
EVENT = Path(__file__).resolve().parents[3] / "events" / "eventbridge" / "object-created.json"
MISSING_SM = "arn:aws:states:us-east-1:123456789012:stateMachine:gone"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        url = sqs.create_queue(QueueName="pipeline-dlq")["QueueUrl"]
        yield {"sqs": sqs, "sfn": boto3.client("stepfunctions", region_name=REGION), "url": url}


def target(url: str | None, state_machine: str = MISSING_SM) -> Target:
    return Target(stack="s", region=REGION, state_machine_arn=state_machine, table="t", dlq_url=url)


def depth(aws: dict[str, Any]) -> int:
    attrs = aws["sqs"].get_queue_attributes(
        QueueUrl=aws["url"],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attrs.values())


def send(aws: dict[str, Any], body: str, **attributes: str) -> None:
    aws["sqs"].send_message(
        QueueUrl=aws["url"],
        MessageBody=body,
        MessageAttributes={
            k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()
        },
    )


def test_given_a_message_that_is_not_an_event_then_redrive_leaves_it_and_says_so(aws):
    send(aws, "not json at all")
    [result] = redrive_dead_letters(aws["sqs"], aws["sfn"], target(aws["url"]))
    assert result.status == "not-an-event"
    assert depth(aws) == 1
    [listed] = list_dead_letters(aws["sqs"], target(aws["url"]))
    assert listed.event is None
    assert listed.key is None


def test_given_a_start_that_fails_then_the_message_stays_and_the_reason_is_reported(aws):
    send(
        aws,
        EVENT.read_text(encoding="utf-8"),
        ERROR_CODE="ThrottlingException",
        EXHAUSTED_RETRY_CONDITION="MaximumEventAgeExhausted",
        RETRY_ATTEMPTS="185",
    )
    [listed] = list_dead_letters(aws["sqs"], target(aws["url"]))
    assert (listed.error_code, listed.exhausted, listed.retry_attempts) == (
        "ThrottlingException",
        "MaximumEventAgeExhausted",
        185,
    )
    assert listed.key == json.loads(EVENT.read_text())["detail"]["object"]["key"]
    [result] = redrive_dead_letters(aws["sqs"], aws["sfn"], target(aws["url"]))
    assert result.status == "start-failed"
    assert "StateMachineDoesNotExist" in result.detail
    assert depth(aws) == 1
    # Made visible again at once: the next redrive sees it.
    assert len(list_dead_letters(aws["sqs"], target(aws["url"]))) == 1


def test_given_a_stack_without_a_dead_letter_queue_output_then_a_clear_error(aws):
    with pytest.raises(OpsError, match="DeadLetterQueueUrl"):
        list_dead_letters(aws["sqs"], target(None))
