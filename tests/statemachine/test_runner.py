"""Specification of the runner: deploying, polling to any terminal status, reading history."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scalper.sfn_mock import MockConfig, mock_config_installed
from scalper.sfn_mock.runner import (
    ExecutionDeadlineError,
    deploy_state_machine,
    run_test_case,
    trace_from_history,
    wait_for_execution,
)

WAITING = {"StartAt": "Hold", "States": {"Hold": {"Type": "Wait", "Seconds": 60, "End": True}}}
FAILING = {"StartAt": "Stop", "States": {"Stop": {"Type": "Fail", "Error": "Boom", "Cause": "x"}}}
EMPTY_CONFIG = MockConfig.from_json({"StateMachines": {}, "MockedResponses": {}})


@pytest.fixture
def sfn() -> Iterator[Any]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield boto3.client("stepfunctions", region_name="us-east-1")


def test_given_an_existing_state_machine_when_deployed_again_then_it_is_updated_in_place(
    sfn: Any,
) -> None:
    first = deploy_state_machine(sfn, "Machine", json.dumps(WAITING))
    second = deploy_state_machine(sfn, "Machine", json.dumps(FAILING))
    assert first == second
    assert json.loads(sfn.describe_state_machine(stateMachineArn=first)["definition"]) == FAILING


def test_given_a_path_ending_in_a_fail_state_when_polled_then_it_returns_at_once_failed(
    sfn: Any,
) -> None:
    arn = deploy_state_machine(sfn, "Failing", json.dumps(FAILING))
    trace = run_test_case(sfn, arn, None, {}, deadline_seconds=5)
    assert (trace.status, trace.path, trace.error, trace.cause) == ("FAILED", ["Stop"], "Boom", "x")


def test_given_an_execution_still_running_at_the_deadline_then_the_error_shows_the_path(
    sfn: Any,
) -> None:
    # No hook installed: the Wait state really waits its 60 s, far past the deadline.
    arn = deploy_state_machine(sfn, "Waiting", json.dumps(WAITING))
    started = sfn.start_execution(stateMachineArn=arn, name="slow", input="{}")
    with pytest.raises(
        ExecutionDeadlineError, match=r"still RUNNING after 0\.2s; path so far: Hold"
    ):
        wait_for_execution(sfn, started["executionArn"], deadline_seconds=0.2)
    sfn.stop_execution(executionArn=started["executionArn"])


def test_given_the_hook_when_a_wait_state_runs_then_it_ends_within_the_deadline(
    sfn: Any,
) -> None:
    with mock_config_installed(EMPTY_CONFIG, wait_scale=0.001) as hook:
        arn = deploy_state_machine(sfn, "Waiting", json.dumps(WAITING))
        trace = run_test_case(sfn, arn, None, {}, deadline_seconds=5)
    assert (trace.status, trace.path, hook.waits) == ("SUCCEEDED", ["Hold"], [60])


def test_given_a_history_then_visits_count_each_scheduled_attempt_and_its_error() -> None:
    history: list[dict[str, Any]] = [
        {"type": "ExecutionStarted"},
        {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": "Work"}},
        {"type": "TaskScheduled", "taskScheduledEventDetails": {"parameters": '{"n": 1}'}},
        {"type": "TaskFailed", "taskFailedEventDetails": {"error": "Lambda.ServiceException"}},
        {"type": "TaskScheduled", "taskScheduledEventDetails": {"parameters": '{"n": 2}'}},
        {"type": "TaskTimedOut", "taskTimedOutEventDetails": {"error": "States.Timeout"}},
        {"type": "TaskScheduled", "taskScheduledEventDetails": {"parameters": '{"n": 3}'}},
        {"type": "TaskSucceeded", "taskSucceededEventDetails": {"output": "{}"}},
        {"type": "TaskStateExited", "stateExitedEventDetails": {"name": "Work", "output": "7"}},
        {"type": "SucceedStateEntered", "stateEnteredEventDetails": {"name": "Done"}},
        {"type": "ExecutionSucceeded"},
    ]
    trace = trace_from_history("arn", "SUCCEEDED", history)
    assert trace.path == ["Work", "Done"]
    assert trace.visit("Work").errors == ("Lambda.ServiceException", "States.Timeout")
    assert trace.retries == {"Work": 2}
    assert trace.scheduled_parameters("Work") == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert trace.state_output("Work") == 7
    with pytest.raises(KeyError, match="'Elsewhere' was not entered; path: Work -> Done"):
        trace.visit("Elsewhere")
