"""The EventBridge hop the local stack makes itself: S3 event -> rule -> StartExecution."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.exceptions import ClientError

from scalper.local import retry
from scalper.local.bridge import EventBridgeBridge, Sequencer
from scalper.local.provision import BridgeRule, BridgeTarget

SM_ARN = "arn:aws:states:us-east-1:123456789012:stateMachine:pipeline"
DLQ_ARN = "arn:aws:sqs:us-east-1:123456789012:dlq"
PATTERN = {
    "source": ["aws.s3"],
    "detail-type": ["Object Created"],
    "detail": {"bucket": {"name": ["in"]}, "object": {"key": [{"wildcard": "uploads/*.csv"}]}},
}


@dataclass
class FakeAws:
    """Records StartExecution and SendMessage calls; fails the first ``failures`` starts."""

    failures: list[str] = field(default_factory=list)
    started: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, service: str) -> FakeAws:
        return self

    def start_execution(self, **kwargs: Any) -> dict[str, Any]:
        if self.failures:
            code = self.failures.pop(0)
            raise ClientError({"Error": {"Code": code, "Message": code}}, "StartExecution")
        self.started.append(kwargs)
        return {"executionArn": f"{SM_ARN.replace('stateMachine', 'execution')}:{kwargs['name']}"}

    def get_queue_url(self, QueueName: str) -> dict[str, str]:  # noqa: N803 - boto3's name
        return {"QueueUrl": f"https://sqs/{QueueName}"}

    def send_message(self, **kwargs: Any) -> dict[str, str]:
        self.sent.append(kwargs)
        return {"MessageId": "1"}


@dataclass
class FakeBucket:
    name: str = "in"
    region_name: str = "us-east-1"
    is_versioned: bool = True


@dataclass
class FakeKey:
    name: str
    size: int = 10
    etag: str = '"abc123"'
    version_id: str = "v1"


@pytest.fixture(autouse=True)
def fast_retries() -> Iterator[None]:
    retry.install(0.001)
    yield
    retry.uninstall()


def bridge(aws: FakeAws, max_retries: int = 3) -> EventBridgeBridge:
    target = BridgeTarget("t", SM_ARN, max_retry_attempts=max_retries, dead_letter_arn=DLQ_ARN)
    rule = BridgeRule("Rule", "rule", "arn:rule", "default", json.dumps(PATTERN), True, (target,))
    return EventBridgeBridge([rule], aws)


def test_an_object_created_event_starts_an_execution_named_by_a_uuid() -> None:
    """Given an upload under the prefix, then one execution starts with the S3 event as
    input, named by a UUID (an unnamed one collides in moto's interpreter)."""
    aws = FakeAws()
    b = bridge(aws)
    b.on_s3_event("123456789012", FakeBucket(), "s3:ObjectCreated:Post", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    (started,) = aws.started
    uuid.UUID(started["name"])
    event = json.loads(started["input"])
    assert event["detail-type"] == "Object Created"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", event["time"])
    assert event["detail"]["object"] == {
        "key": "uploads/a.csv",
        "size": 10,
        "etag": "abc123",
        "version-id": "v1",
        "sequencer": event["detail"]["object"]["sequencer"],
    }
    assert event["detail"]["reason"] == "PostObject"
    assert b.deliveries[0].execution_arn is not None


def test_objects_outside_the_rule_pattern_start_nothing() -> None:
    """Given keys outside the prefix or suffixes, and a deletion, then nothing starts."""
    aws = FakeAws()
    b = bridge(aws)
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("other/a.csv"))
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("uploads/a.txt"))
    b.on_s3_event("1", FakeBucket(), "s3:ObjectRemoved:Delete", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    assert aws.started == []


def test_sequencers_grow_for_each_event() -> None:
    """Given many events, then each sequencer is an 18-digit hex string above the last."""
    sequencer = Sequencer()
    values = [sequencer.next() for _ in range(1000)]
    assert all(re.fullmatch(r"[0-9A-F]{18}", v) for v in values)
    assert values == sorted(values)
    assert len(set(values)) == len(values)


def test_a_throttled_start_is_retried_until_it_succeeds() -> None:
    """Given StartExecution throttled twice, then the third attempt starts the execution."""
    aws = FakeAws(failures=["ThrottlingException", "ThrottlingException"])
    b = bridge(aws)
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    assert len(aws.started) == 1
    assert b.deliveries[0].attempts == 3
    assert aws.sent == []


def test_exhausted_retries_park_the_event_in_the_dead_letter_queue() -> None:
    """Given MaximumRetryAttempts=1 and a start that keeps failing, then the event goes to
    the DLQ with EventBridge's attributes."""
    aws = FakeAws(failures=["ThrottlingException"] * 5)
    b = bridge(aws, max_retries=1)
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    (sent,) = aws.sent
    attributes = {k: v["StringValue"] for k, v in sent["MessageAttributes"].items()}
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttemptsExhausted"
    assert attributes["ERROR_CODE"] == "ThrottlingException"
    assert attributes["RETRY_ATTEMPTS"] == "1"
    assert json.loads(sent["MessageBody"])["detail"]["object"]["key"] == "uploads/a.csv"


def test_a_non_retryable_error_goes_to_the_dead_letter_queue_at_once() -> None:
    """Given the state machine does not exist, then there is no retry: straight to DLQ."""
    aws = FakeAws(failures=["StateMachineDoesNotExist"])
    b = bridge(aws)
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    assert b.deliveries[0].attempts == 1
    assert b.deliveries[0].dead_lettered
    assert "EXHAUSTED_RETRY_CONDITION" not in aws.sent[0]["MessageAttributes"]


def test_the_same_event_published_twice_starts_two_executions() -> None:
    """Given at-least-once delivery, then a redelivered event is a second execution
    (the state machine's Claim makes it harmless)."""
    aws = FakeAws()
    b = bridge(aws)
    b.on_s3_event("1", FakeBucket(), "s3:ObjectCreated:Put", FakeKey("uploads/a.csv"))
    assert b.wait_idle(10)
    b.publish(b.deliveries[0].event)
    assert b.wait_idle(10)
    assert aws.started[0]["input"] == aws.started[1]["input"]
    assert aws.started[0]["name"] != aws.started[1]["name"]
