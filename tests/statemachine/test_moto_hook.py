"""Specification of the moto hook that runs Step Functions Local mock test cases.

The definitions here are deliberately tiny (one Task, a Catch, a Wait): they pin the hook's
own behaviour; the pipeline's transitions are specified in test_transitions.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scalper.sfn_mock import MockConfig, MotoHookMovedError, mock_config_installed
from scalper.sfn_mock.moto_hook import MOTO_VERSION, verify_hook_points
from scalper.sfn_mock.runner import deploy_state_machine, run_test_case

REPO = Path(__file__).resolve().parents[2]

RETRYING_TASK = {
    "StartAt": "Work",
    "States": {
        "Work": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "work", "Payload.$": "$"},
            "ResultSelector": {"result.$": "$.Payload"},
            "Retry": [
                {
                    "ErrorEquals": ["Lambda.ServiceException"],
                    "IntervalSeconds": 30,
                    "MaxAttempts": 2,
                    "BackoffRate": 2,
                    "MaxDelaySeconds": 60,
                    "JitterStrategy": "FULL",
                }
            ],
            "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Caught"}],
            "Next": "Pause",
        },
        "Pause": {"Type": "Wait", "Seconds": 60, "End": True},
        "Caught": {"Type": "Pass", "End": True},
    },
}

SERVICE_EXCEPTION = {"Throw": {"Error": "Lambda.ServiceException", "Cause": "try again"}}
SUCCESS = {"Return": {"StatusCode": 200, "Payload": {"done": True}}}

MOCK_CONFIG = MockConfig.from_json(
    {
        "StateMachines": {
            "Tiny": {
                "TestCases": {
                    "TwoRetriesThenSuccess": {"Work": "FailTwiceThenSucceed"},
                    "RetriesExhausted": {"Work": "AlwaysFail"},
                    "NotRetried": {"Work": "Forbidden"},
                }
            }
        },
        "MockedResponses": {
            "FailTwiceThenSucceed": {"0-1": SERVICE_EXCEPTION, "2": SUCCESS},
            "AlwaysFail": {"0-2": SERVICE_EXCEPTION},
            "Forbidden": {"0": {"Throw": {"Error": "AccessDenied", "Cause": "no"}}},
        },
    }
)


@pytest.fixture
def sfn() -> Iterator[tuple[Any, str]]:
    """A moto Step Functions client with the tiny machine deployed and the hook installed."""
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(MOCK_CONFIG, wait_scale=0.001),
    ):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = deploy_state_machine(client, "Tiny", json.dumps(RETRYING_TASK))
        yield client, arn


def test_given_this_moto_release_then_every_hook_point_is_where_the_hook_expects_it() -> None:
    problems = verify_hook_points()
    assert problems == [], "moto moved hook points:\n" + "\n".join(problems)


def test_given_the_project_pin_then_installed_moto_is_the_release_the_hook_targets() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"moto\[[^\]]*\]==([0-9.]+)"', pyproject)
    assert pin is not None, "pyproject.toml must pin moto exactly (moto[...]==X.Y.Z)"
    assert pin.group(1) == MOTO_VERSION == moto.__version__


def test_given_a_moved_hook_point_when_installing_then_it_fails_naming_that_hook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from moto.stepfunctions.parser.backend.execution import Execution

    monkeypatch.delattr(Execution, "_get_start_execution_worker")
    with (
        pytest.raises(MotoHookMovedError, match=r"Execution\._get_start_execution_worker"),
        mock_config_installed(MOCK_CONFIG),
    ):
        pass


def test_given_two_throws_then_a_return_when_run_then_the_task_retries_twice_and_succeeds(
    sfn: tuple[Any, str],
) -> None:
    client, arn = sfn
    trace = run_test_case(client, arn, "TwoRetriesThenSuccess", {"key": "a.csv"})
    assert trace.status == "SUCCEEDED"
    assert trace.path == ["Work", "Pause"]
    assert trace.visit("Work").attempts == 3
    assert trace.visit("Work").errors == ("Lambda.ServiceException", "Lambda.ServiceException")
    assert trace.output == {"result": {"done": True}}


def test_given_throws_past_max_attempts_when_run_then_the_catch_takes_over(
    sfn: tuple[Any, str],
) -> None:
    client, arn = sfn
    trace = run_test_case(client, arn, "RetriesExhausted", {"key": "a.csv"})
    assert trace.status == "SUCCEEDED"
    assert trace.path == ["Work", "Caught"]
    assert trace.retries == {"Work": 2}
    assert trace.output["error"]["Error"] == "Lambda.ServiceException"


def test_given_an_error_no_retrier_matches_when_run_then_it_is_caught_without_retry(
    sfn: tuple[Any, str],
) -> None:
    client, arn = sfn
    trace = run_test_case(client, arn, "NotRetried", {})
    assert trace.path == ["Work", "Caught"]
    assert trace.retries == {}
    assert trace.visit("Work").errors == ("AccessDenied",)


def test_given_the_hook_when_waits_run_then_they_are_scaled_and_the_seconds_recorded() -> None:
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(MOCK_CONFIG, wait_scale=0.001) as hook,
    ):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = deploy_state_machine(client, "Tiny", json.dumps(RETRYING_TASK))
        # Two 30-60 s backoffs and a 60 s Wait: well past the runner's 20 s deadline unscaled.
        trace = run_test_case(client, arn, "TwoRetriesThenSuccess", {})
    assert trace.status == "SUCCEEDED"
    assert hook.waits == [60]


def test_given_an_unknown_test_case_when_started_then_start_execution_fails_naming_it(
    sfn: tuple[Any, str],
) -> None:
    client, arn = sfn
    with pytest.raises(ClientError, match="NoSuchCase") as raised:
        client.start_execution(stateMachineArn=f"{arn}#NoSuchCase", input="{}")
    assert raised.value.response["Error"]["Code"] == "InvalidName"


def test_given_no_test_case_when_two_unnamed_executions_start_then_each_gets_its_own_name(
    sfn: tuple[Any, str],
) -> None:
    client, _ = sfn
    passing = {"StartAt": "Only", "States": {"Only": {"Type": "Pass", "End": True}}}
    arn = deploy_state_machine(client, "Plain", json.dumps(passing))
    first = client.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    second = client.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert first != second
    assert not first.endswith(":None")


def test_given_the_hook_when_uninstalled_then_moto_is_restored_exactly() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_dynamodb as dynamodb,
    )
    from moto.stepfunctions.parser.backend.execution import Execution
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    def patched() -> tuple[Any, ...]:
        return (
            StepFunctionsParserBackend.start_execution,
            Execution._get_start_execution_worker,
            dynamodb.StateTaskServiceDynamoDB._from_error,
        )

    before = patched()
    with mock_config_installed(MOCK_CONFIG):
        assert all(now is not then for now, then in zip(patched(), before, strict=True))
        with (
            pytest.raises(RuntimeError, match="already installed"),
            mock_config_installed(MOCK_CONFIG),
        ):
            pass
    assert patched() == before


def test_given_a_mock_file_path_when_started_then_the_file_is_read_at_each_start(
    tmp_path: Path,
) -> None:
    mock_file = tmp_path / "MockConfigFile.json"
    mock_file.write_text(json.dumps(MOCK_CONFIG.to_json()), encoding="utf-8")
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(mock_file, wait_scale=0.001),
    ):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = deploy_state_machine(client, "Tiny", json.dumps(RETRYING_TASK))
        assert run_test_case(client, arn, "NotRetried", {}).path == ["Work", "Caught"]
        mock_file.write_text("{not json", encoding="utf-8")
        with pytest.raises(ClientError, match=r"MockConfigFile\.json: line 1"):
            client.start_execution(stateMachineArn=f"{arn}#NotRetried", input="{}")


def test_given_a_mocked_dynamodb_throw_when_run_then_its_error_name_reaches_the_catch() -> None:
    """moto's DynamoDB integration renames non-ClientError failures; a mocked one must not be."""
    conditional_put = {
        "StartAt": "Put",
        "States": {
            "Put": {
                "Type": "Task",
                "Resource": "arn:aws:states:::dynamodb:putItem",
                "Parameters": {"TableName": "t", "Item": {"pk": {"S": "k"}}},
                "Catch": [
                    {
                        "ErrorEquals": ["DynamoDB.ConditionalCheckFailedException"],
                        "Next": "Duplicate",
                    },
                    {"ErrorEquals": ["States.ALL"], "Next": "Broken"},
                ],
                "End": True,
            },
            "Duplicate": {"Type": "Succeed"},
            "Broken": {"Type": "Fail"},
        },
    }
    config = MockConfig.from_json(
        {
            "StateMachines": {"Put": {"TestCases": {"Duplicate": {"Put": "Conditional"}}}},
            "MockedResponses": {
                "Conditional": {
                    "0": {
                        "Throw": {
                            "Error": "DynamoDB.ConditionalCheckFailedException",
                            "Cause": "The conditional request failed",
                        }
                    }
                }
            },
        }
    )
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(config),
    ):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = deploy_state_machine(client, "Put", json.dumps(conditional_put))
        trace = run_test_case(client, arn, "Duplicate", {})
    assert trace.path == ["Put", "Duplicate"]
    assert trace.visit("Put").errors == ("DynamoDB.ConditionalCheckFailedException",)
