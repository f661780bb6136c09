"""What the local stack adds at and after an execution's end: AWS's redrive rules, the
merged history, the status-change event, the execution log and the log subscription."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from scalper.local.execution_ends import (
    EndedRun,
    StepFunctionsExtensions,
    log_lines,
    status_change_event,
)
from scalper.local.log_subscriptions import FilterPatternError, LogSubscription, pattern_matches
from scalper.local.template import load_template

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ARN = "arn:aws:states:us-east-1:123456789012:execution:pipeline:e1"


def execution(
    status: str = "FAILED", *, kind: str = "STANDARD", stopped: timedelta = timedelta(hours=1)
) -> Any:
    """Just the attributes of moto's Execution the rules read (moto's sm_type is always
    STANDARD; the state machine's ``type`` is the real one)."""
    return SimpleNamespace(
        status=status,
        stop_date=NOW - stopped,
        sm_type="STANDARD",
        state_machine=SimpleNamespace(type=kind),
    )


@pytest.mark.parametrize(
    ("run", "reason"),
    [
        (execution("FAILED"), None),
        (execution("TIMED_OUT"), None),
        (execution("ABORTED", stopped=timedelta(days=13, hours=23)), None),
        (execution("SUCCEEDED"), "Execution is SUCCEEDED and cannot be redriven"),
        (execution("RUNNING"), "Execution is RUNNING and cannot be redriven"),
        (execution("FAILED", kind="EXPRESS"), "Express executions cannot be redriven"),
        (execution("FAILED", stopped=timedelta(days=14, seconds=1)), "max redrivable period"),
    ],
)
def test_given_an_execution_then_redrive_follows_aws_rules(run: Any, reason: str | None) -> None:
    refusal = StepFunctionsExtensions.refusal(run, now=NOW)
    if reason is None:
        assert refusal is None
    else:
        assert refusal is not None
        assert reason in refusal


def test_given_a_redriven_execution_then_its_history_keeps_every_attempt_in_order() -> None:
    prior = [
        {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
        {"id": 2, "previousEventId": 1, "type": "TaskStateEntered"},
        {"id": 3, "previousEventId": 2, "type": "ExecutionFailed"},
    ]
    redriven = SimpleNamespace(
        _scalper_prior_events=prior, _scalper_redrive_count=1, _scalper_redrive_date=NOW
    )
    current = {
        "events": [
            {"id": 1, "previousEventId": 0, "type": "ExecutionStarted"},
            {"id": 2, "previousEventId": 1, "type": "TaskStateEntered"},
            {"id": 3, "previousEventId": 2, "type": "ExecutionSucceeded"},
        ]
    }
    merged = StepFunctionsExtensions.history(redriven, current)
    assert [(e["id"], e["type"]) for e in merged] == [
        (1, "ExecutionStarted"),
        (2, "TaskStateEntered"),
        (3, "ExecutionFailed"),
        (4, "ExecutionRedriven"),
        (5, "TaskStateEntered"),
        (6, "ExecutionSucceeded"),
    ]
    assert merged[3]["executionRedrivenEventDetails"] == {"redriveCount": 1}
    assert [e["previousEventId"] for e in merged[4:]] == [4, 5]


def run_of(status: str = "FAILED") -> EndedRun:
    events = (
        {
            "id": 1,
            "previousEventId": 0,
            "timestamp": NOW,
            "type": "ExecutionStarted",
            "executionStartedEventDetails": {"input": '{"detail": {}}', "roleArn": "r"},
        },
        {
            "id": 2,
            "previousEventId": 1,
            "timestamp": NOW,
            "type": "TaskStateEntered",
            "stateEnteredEventDetails": {"name": "TypeCheck", "input": "{}"},
        },
        {
            "id": 3,
            "previousEventId": 2,
            "timestamp": NOW,
            "type": "ExecutionFailed",
            "executionFailedEventDetails": {"error": "E", "cause": "C"},
        },
    )
    return EndedRun(
        arn=ARN,
        state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
        name="e1",
        workflow_type="STANDARD",
        status=status,
        start=NOW - timedelta(seconds=5),
        stop=NOW,
        input='{"detail": {}}',
        output=None,
        error="E",
        cause="C",
        redrive_count=2,
        redrive_date=NOW - timedelta(seconds=3),
        events=events,
    )


def test_given_an_ended_run_then_the_status_change_event_carries_its_input_and_redrives() -> None:
    event = status_change_event(run_of(), account="123456789012", region="us-east-1")
    assert (event["source"], event["detail-type"]) == (
        "aws.states",
        "Step Functions Execution Status Change",
    )
    detail = event["detail"]
    assert (detail["status"], detail["input"], detail["redriveCount"]) == (
        "FAILED",
        '{"detail": {}}',
        2,
    )
    assert detail["stopDate"] == int(NOW.timestamp() * 1000)
    assert detail["inputDetails"] == {"included": True}


@pytest.mark.parametrize(
    ("level", "logged"),
    [
        ("ALL", ["ExecutionStarted", "TaskStateEntered", "ExecutionFailed"]),
        ("ERROR", ["ExecutionFailed"]),
        ("FATAL", ["ExecutionFailed"]),
        ("OFF", []),
    ],
)
def test_given_a_log_level_then_only_its_events_are_logged_in_the_aws_shape(
    level: str, logged: list[str]
) -> None:
    lines = log_lines(run_of(), level=level, include_data=True)
    assert [line["type"] for line in lines] == logged
    for line in lines:
        assert set(line) == {
            "id",
            "type",
            "details",
            "previous_event_id",
            "event_timestamp",
            "execution_arn",
            "redrive_count",
        }
        assert (line["execution_arn"], line["redrive_count"]) == (ARN, "2")


def test_given_no_execution_data_then_inputs_are_left_out_of_the_log() -> None:
    (started, *_) = log_lines(run_of(), level="ALL", include_data=False)
    assert "input" not in started["details"]
    assert started["details"]["roleArn"] == "r"


def template_subscription() -> LogSubscription:
    template = load_template(Path(__file__).resolve().parents[3] / "template.yaml")
    props = template["Resources"]["ExecutionEndsSubscription"]["Properties"]
    return LogSubscription("S", "s", "/group", str(props["FilterPattern"]), "arn:aws:lambda:x")


@pytest.mark.parametrize(
    ("kind", "matches"),
    [
        ("ExecutionFailed", True),
        ("ExecutionTimedOut", True),
        ("ExecutionAborted", True),
        ("ExecutionSucceeded", False),
        ("TaskStateEntered", False),
    ],
)
def test_given_the_templates_filter_pattern_then_only_execution_ends_match(
    kind: str, matches: bool
) -> None:
    assert template_subscription().matches({"type": kind, "details": {}}) is matches


def test_given_matched_events_then_the_payload_is_what_cloudwatch_logs_sends() -> None:
    payload = template_subscription().payload(
        [{"timestamp": 1, "message": '{"type": "ExecutionFailed"}'}],
        owner="123456789012",
        log_group="/group",
        log_stream="stream",
    )
    data = json.loads(gzip.decompress(base64.b64decode(payload["awslogs"]["data"])))
    assert data["messageType"] == "DATA_MESSAGE"
    assert (data["logGroup"], data["logStream"], data["subscriptionFilters"]) == (
        "/group",
        "stream",
        ["s"],
    )
    assert data["logEvents"][0]["message"] == '{"type": "ExecutionFailed"}'


@pytest.mark.parametrize(
    "pattern", ['{ ($.type = "A") }', "ERROR", '{ $.a = "x" || $.b = "y" && $.c = "z" }']
)
def test_given_a_pattern_the_local_stack_cannot_evaluate_then_it_says_so(pattern: str) -> None:
    with pytest.raises(FilterPatternError):
        pattern_matches(pattern, {"type": "A"})


def test_given_and_and_wildcards_then_patterns_match_like_cloudwatch_logs() -> None:
    message: dict[str, Any] = {"type": "ExecutionFailed", "details": {"error": "States.Timeout"}}
    assert pattern_matches('{ $.type = "ExecutionFailed" && $.details.error = States.* }', message)
    assert not pattern_matches('{ $.type != "ExecutionFailed" }', message)
