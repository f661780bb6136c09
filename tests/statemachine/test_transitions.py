"""State transitions of statemachine/pipeline.asl.json, test case by test case.

Each case of tests/statemachine/MockConfigFile.json (Step Functions Local's format) runs as
an execution of ``stateMachineArn#TestCase`` of the deployed definition (template.yaml's
DefinitionSubstitutions resolved) with the sample EventBridge event as input. Each test
asserts the exact states entered, the retries, the final status and the output. The backend
is moto's engine, or Amazon's Step Functions Local when SFN_LOCAL_ENDPOINT is set.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from silent_scalper.engine import ValidationSummary
from silent_scalper.pipeline.models import StepOutcome, TypeCheckOutcome, ValidationOutcome
from silent_scalper.records import MetadataRecord, item_key
from transition_cases import CASES, Case

from scalper.sfn_mock import MockConfig
from scalper.sfn_mock.model import problems_against
from scalper.sfn_mock.runner import DeployedStateMachine as Pipeline


def max_attempts(pipeline: Pipeline, state: str) -> int:
    """MaxAttempts of the state's first Retrier, read from the deployed definition."""
    return int(pipeline.definition.state(state)["Retry"][0]["MaxAttempts"])


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_given_a_mock_test_case_when_executed_then_path_retries_status_and_output_match(
    pipeline: Pipeline, case: Case
) -> None:
    """Given the case's mocked responses, when it runs, then it takes exactly its path."""
    trace = pipeline.run(case.name)
    assert trace.path == case.path, case.spec
    expected_retries = {
        state: max_attempts(pipeline, state) if count < 0 else count
        for state, count in case.retries.items()
    }
    assert trace.retries == expected_retries, case.spec
    assert trace.status == case.status, case.spec
    if case.output is not None:
        assert trace.output == case.output, case.spec
    if case.status == "FAILED":
        assert (trace.error, trace.output) == (case.error, None), case.spec


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


def test_given_retries_exhausted_when_failing_then_the_alert_is_published_with_event_failed(
    pipeline: Pipeline,
) -> None:
    trace = pipeline.run("RetriesExhausted")
    (published,) = trace.scheduled_parameters("NotifyFailure")
    detail = pipeline.execution_input["detail"]
    assert published["TopicArn"] == pipeline.substitutions["AlertsTopicArn"]
    assert published["MessageAttributes"]["event"]["StringValue"] == "FAILED"
    assert published["Message"]["event"] == "FAILED"
    assert published["Message"]["key"] == detail["object"]["key"]
    assert published["Message"]["error"] == "Lambda.ServiceException"
    assert published["Message"]["execution_arn"] == trace.execution_arn
    (recorded,) = trace.scheduled_parameters("RecordFailure")
    assert recorded["ExpressionAttributeValues"][":failed"] == {"S": "FAILED"}
    assert recorded["ExpressionAttributeValues"][":error"] == {"S": "Lambda.ServiceException"}


def test_given_a_failure_after_type_check_then_the_failed_record_names_the_uploader(
    pipeline: Pipeline, mock_config: MockConfig
) -> None:
    """TypeCheck reads the uploader from the object's metadata; the FAILED record keeps it."""
    # Every mocked TypeCheck result names the same uploader (one file, one uploader).
    (attribute,) = {
        json.dumps(p["uploader_attribute"], sort_keys=True)
        for p in _lambda_payloads(mock_config, "TypeCheck")
    }
    trace = pipeline.run("RetriesExhausted")
    (recorded,) = trace.scheduled_parameters("RecordFailure")
    assert "uploader = :uploader" in recorded["UpdateExpression"]
    assert recorded["ExpressionAttributeValues"][":uploader"] == json.loads(attribute)
    assert json.loads(attribute)["M"]["kind"] == {"S": "IAM"}


@pytest.mark.parametrize("case", ["ClaimFails", "TypeCheckFails"])
def test_given_a_failure_before_type_check_read_the_object_then_the_uploader_is_null(
    pipeline: Pipeline, case: str
) -> None:
    trace = pipeline.run(case)
    (recorded,) = trace.scheduled_parameters("RecordFailure")
    assert recorded["ExpressionAttributeValues"][":uploader"] == {"NULL": True}


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
    assert {case.name for case in CASES} == set(mock_config.StateMachines[pipeline.name].TestCases)


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
        assert TypeCheckOutcome.from_dict(payload).to_dict() == payload
    for payload in _lambda_payloads(mock_config, "ValidateSchema"):
        assert ValidationOutcome.model_validate(payload).model_dump(mode="json") == payload
        if payload["summary"] is not None:
            assert ValidationSummary.from_dict(payload["summary"]).to_dict() == payload["summary"]
    for payload in _lambda_payloads(mock_config, "ExtractMetadata"):
        record = MetadataRecord.model_validate(payload["record"])
        assert {"record": record.model_dump(mode="json")} == payload
    for state in ("WriteMetadata", "Quarantine"):
        for payload in _lambda_payloads(mock_config, state):
            assert StepOutcome.model_validate(payload).model_dump(mode="json") == payload
