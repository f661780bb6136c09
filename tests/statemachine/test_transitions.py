"""State transitions of statemachine/pipeline.asl.json, test case by test case.

Each case of tests/statemachine/MockConfigFile.json (Step Functions Local's format) runs as
an execution of ``stateMachineArn#TestCase`` of the deployed definition (template.yaml's
DefinitionSubstitutions resolved) with the sample EventBridge event as input, and must do
what MockConfigFile.expectations.json says: the exact states entered, the retries, the final
status, the error and the output (the file `scalper sfn-mock run` checks too). The backend
is moto's engine, or Amazon's Step Functions Local when SFN_LOCAL_ENDPOINT is set.
"""

from __future__ import annotations

from typing import Any

import pytest
from silent_scalper.pipeline.models import (
    ExtractOutcome,
    StepOutcome,
    TypeCheckOutcome,
    ValidationOutcome,
)
from silent_scalper.records import item_key
from transition_cases import CASES, EXPECTATIONS, OBJECT_CREATED_EVENT, Case

from scalper.sfn_mock import MockConfig
from scalper.sfn_mock.expectations import problems_between
from scalper.sfn_mock.model import problems_against
from scalper.sfn_mock.runner import DeployedStateMachine as Pipeline


def max_attempts(pipeline: Pipeline, state: str) -> int:
    """MaxAttempts of the state's first Retrier, read from the deployed definition."""
    return int(pipeline.definition.state(state)["Retry"][0]["MaxAttempts"])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_given_a_mock_test_case_when_executed_then_it_holds_its_expectation(
    pipeline: Pipeline, case: Case
) -> None:
    """Given the case's mocked responses, when it runs, then it takes exactly its path.

    The same check as `scalper sfn-mock run`: path, retries, status, error and output.
    """
    trace = pipeline.run(case.name)
    assert case.expectation.mismatches(trace, pipeline.definition) == [], case.spec


def test_given_the_expectations_then_every_test_case_of_the_mock_file_has_one(
    pipeline: Pipeline, mock_config: MockConfig
) -> None:
    cases = mock_config.StateMachines[pipeline.name].TestCases
    assert problems_between(EXPECTATIONS, cases, pipeline.name) == []
    assert EXPECTATIONS.input_path == OBJECT_CREATED_EVENT.resolve()


def test_given_a_duplicate_event_when_claim_fails_its_condition_then_the_input_survives(
    pipeline: Pipeline,
) -> None:
    trace = pipeline.run("DuplicateEvent")
    assert trace.output["detail"] == pipeline.execution_input["detail"]
    assert trace.output["claim"]["Error"] == "DynamoDB.ConditionalCheckFailedException"
    assert trace.visit("Claim").attempts == 1


def test_given_transient_errors_when_retried_then_each_attempt_failed_with_its_mocked_error(
    pipeline: Pipeline,
) -> None:
    assert pipeline.run("TransientLambdaErrorRetried").visit("TypeCheck").errors == (
        "Lambda.ServiceException",
        "Lambda.TooManyRequestsException",
    )
    assert pipeline.run("DynamoDbThrottleRetried").visit("Claim").errors == (
        "DynamoDB.ProvisionedThroughputExceededException",
        "DynamoDB.ThrottlingException",
    )


def test_given_retries_exhausted_then_the_execution_fails_at_that_task_with_its_input_intact(
    pipeline: Pipeline,
) -> None:
    """No catch-all: the failing Task is the execution's last state, so a redrive resumes
    there; nothing inside the state machine records or alerts (the failure recorder does)."""
    trace = pipeline.run("RetriesExhausted")
    assert trace.path[-1] == "ValidateSchema"
    assert trace.visit("ValidateSchema").attempts == max_attempts(pipeline, "ValidateSchema") + 1
    assert (
        trace.scheduled_parameters("ValidateSchema")[-1]["Payload"]["object"]
        == (pipeline.execution_input["detail"]["object"])
    )


def test_given_an_object_gone_then_the_record_and_the_alert_say_failed_object_gone(
    pipeline: Pipeline,
) -> None:
    trace = pipeline.run("TypeCheckObjectGone")
    detail = pipeline.execution_input["detail"]
    (recorded,) = trace.scheduled_parameters("RecordObjectGone")
    values = recorded["ExpressionAttributeValues"]
    assert values[":failed"] == {"S": "FAILED"}
    assert values[":error"] == {"S": "ObjectGone"}
    assert values[":exec"] == {"S": trace.execution_arn}
    assert recorded["ConditionExpression"] == "attribute_not_exists(pk) OR execution_arn = :exec"
    # The same partition key Claim writes: one expression for the record's key.
    (claim,) = trace.scheduled_parameters("Claim")
    assert recorded["Key"]["pk"] == claim["Item"]["pk"]
    (published,) = trace.scheduled_parameters("AlertObjectGone")
    assert published["TopicArn"] == pipeline.substitutions["AlertsTopicArn"]
    assert published["MessageAttributes"]["event"]["StringValue"] == "FAILED"
    assert published["Message"]["event"] == "FAILED"
    assert published["Message"]["error"] == "ObjectGone"
    assert published["Message"]["key"] == detail["object"]["key"]
    assert published["Message"]["execution_arn"] == trace.execution_arn


def test_given_the_event_when_the_pipeline_runs_then_each_task_is_sent_what_it_needs(
    pipeline: Pipeline,
) -> None:
    trace = pipeline.run("ValidCsv")
    detail = pipeline.execution_input["detail"]
    (claim,) = trace.scheduled_parameters("Claim")
    assert claim["TableName"] == pipeline.substitutions["MetadataTableName"]
    assert claim["Item"]["pk"] == {"S": item_key(detail["bucket"]["name"], detail["object"]["key"])}
    assert claim["Item"]["sequencer"] == {"S": detail["object"]["sequencer"]}
    (type_check,) = trace.scheduled_parameters("TypeCheck")
    assert type_check["FunctionName"] == pipeline.substitutions["TypeCheckFunctionArn"]
    assert type_check["Payload"]["object"] == detail["object"]
    assert type_check["Payload"]["execution_arn"] == trace.execution_arn
    (extract,) = trace.scheduled_parameters("ExtractMetadata")
    validated = trace.scheduled_parameters("ValidateSchema")[0]["Payload"]
    assert validated["type_check"]["format"] == "csv"
    assert extract["Payload"]["summary"]["format"] == "csv"


def test_given_every_test_case_then_together_they_take_every_transition_of_the_definition(
    pipeline: Pipeline, mock_config: MockConfig
) -> None:
    """Every Next, Catch, Choice rule and Default edge is taken by at least one test case."""
    definition = pipeline.definition
    taken = set()
    for case in mock_config.StateMachines[pipeline.name].TestCases:
        trace = pipeline.run(case)
        # The visits say how each state was left: by a Catch when its last attempt failed.
        for visit, following in zip(trace.visits, trace.visits[1:], strict=False):
            edges = [
                t for t in definition.transitions_from(visit.name) if t.target == following.name
            ]
            failed = bool(visit.errors) and len(visit.errors) == visit.attempts
            kind = [t for t in edges if (t.kind == "catch") == failed] or edges
            taken.add(kind[0])
    missing = [t.label() for t in definition.transitions() if t not in taken]
    assert missing == [], "transitions no test case takes:\n" + "\n".join(missing)


def test_given_the_mock_file_then_it_targets_the_deployed_state_machine_and_its_tasks(
    pipeline: Pipeline, mock_config: MockConfig
) -> None:
    definition = pipeline.definition
    tasks = {name for name in definition.states if definition.is_task(name)}
    assert problems_against(mock_config, pipeline.name, tasks) == []
    assert list(mock_config.StateMachines) == [pipeline.name]


def _lambda_payloads(mock_config: MockConfig, state: str) -> list[Any]:
    """Every mocked Lambda Payload the test cases give ``state``."""
    names = {
        states[state]
        for states in next(iter(mock_config.StateMachines.values())).TestCases.values()
        if state in states
    }
    payloads = [
        attempt.Return["Payload"]  # type: ignore[index,call-overload]
        for name in sorted(names)
        for _, attempt in mock_config.MockedResponses[name].sequence()
        if not attempt.is_throw
    ]
    assert payloads, f"no {state} Return in the mock file"
    return payloads


def test_given_the_mocked_lambda_results_then_they_are_exactly_what_the_handlers_return(
    mock_config: MockConfig,
) -> None:
    """Each mocked Payload round-trips through the model its handler returns, so it has
    every field, the right types and nothing extra: the mocked paths are realistic."""
    for payload in _lambda_payloads(mock_config, "TypeCheck"):
        assert TypeCheckOutcome.model_validate(payload).model_dump(mode="json") == payload
    for payload in _lambda_payloads(mock_config, "ValidateSchema"):
        assert ValidationOutcome.model_validate(payload).model_dump(mode="json") == payload
    for payload in _lambda_payloads(mock_config, "ExtractMetadata"):
        assert ExtractOutcome.model_validate(payload).model_dump(mode="json") == payload
    for state in ("WriteMetadata", "Quarantine"):
        for payload in _lambda_payloads(mock_config, state):
            assert StepOutcome.model_validate(payload).model_dump(mode="json") == payload
