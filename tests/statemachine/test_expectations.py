"""The expectations file: what a test case must do, checked the same way by CLI and suite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scalper.sfn_mock.asl import Definition
from scalper.sfn_mock.expectations import (
    CaseExpectation,
    Expectations,
    ExpectationsError,
    expectations_path,
    problems_between,
)
from scalper.sfn_mock.runner import ExecutionTrace, StateVisit

DEFINITION = Definition(
    {
        "StartAt": "Work",
        "States": {
            "Work": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 3}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fail"}],
                "End": True,
            },
            "Fail": {"Type": "Fail"},
        },
    }
)


def trace(*visits: StateVisit, status: str = "SUCCEEDED", **extra: Any) -> ExecutionTrace:
    return ExecutionTrace("arn:aws:states:::execution:m:x", status, visits, **extra)


FAILED_AFTER_RETRIES = trace(
    StateVisit("Work", 4, ("Lambda.ServiceException",) * 4),
    StateVisit("Fail"),
    status="FAILED",
    error="Lambda.ServiceException",
)


def test_given_a_case_expected_to_fail_when_it_fails_that_way_then_it_holds() -> None:
    expected = CaseExpectation.model_validate(
        {
            "Path": ["Work", "Fail"],
            "Status": "FAILED",
            "Error": "Lambda.ServiceException",
            "Retries": {"Work": "MaxAttempts"},
            "Output": None,
        }
    )

    assert expected.mismatches(FAILED_AFTER_RETRIES, DEFINITION) == []


def test_given_a_case_expected_to_succeed_when_it_fails_then_every_difference_is_named() -> None:
    expected = CaseExpectation.model_validate({"Path": ["Work"], "Output": {"ok": True}})

    assert expected.mismatches(FAILED_AFTER_RETRIES, DEFINITION) == [
        "path: expected Work; got Work -> Fail",
        "status: expected SUCCEEDED; got FAILED",
        "error: expected None; got Lambda.ServiceException",
        "retries: expected none; got {'Work': 3}",
        'output: expected {"ok": true}; got null',
    ]


def test_given_no_output_in_the_file_or_another_input_then_the_output_is_not_compared() -> None:
    ran = trace(StateVisit("Work", 1), output={"anything": 1})

    assert CaseExpectation(Path=["Work"]).mismatches(ran, DEFINITION) == []
    with_output = CaseExpectation.model_validate({"Path": ["Work"], "Output": {"other": 2}})
    assert with_output.mismatches(ran, DEFINITION, check_output=False) == []


def test_given_retries_of_a_state_the_definition_lacks_then_a_mismatch_not_a_crash() -> None:
    expected = CaseExpectation.model_validate({"Path": ["Work"], "Retries": {"Wrok": 1}})

    [problem] = expected.mismatches(trace(StateVisit("Work", 1)), DEFINITION)
    assert problem.startswith("retries: no state 'Wrok' in the definition")


def test_given_a_mock_file_then_its_expectations_are_beside_it() -> None:
    mock = Path("tests/statemachine/MockConfigFile.json")

    assert expectations_path(mock) == Path("tests/statemachine/MockConfigFile.expectations.json")


def test_given_a_malformed_file_then_the_error_names_the_file_and_the_place(
    tmp_path: Path,
) -> None:
    path = tmp_path / "Mock.expectations.json"
    document = {"StateMachines": {"m": {"TestCases": {"A": {"Path": [], "Status": "DONE"}}}}}
    path.write_text(json.dumps(document))

    with pytest.raises(ExpectationsError) as raised:
        Expectations.load(path)
    message = str(raised.value)
    assert message.startswith(f"{path}: ")
    assert "StateMachines.m.TestCases.A.Path" in message
    assert "StateMachines.m.TestCases.A.Status" in message


def test_given_cases_and_expectations_then_each_missing_side_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "Mock.expectations.json"
    cases = {"A": {"Path": ["Work"]}, "Gone": {"Path": ["Work"]}}
    document = {"StateMachines": {"m": {"TestCases": cases}}}
    path.write_text(json.dumps(document))

    problems = problems_between(Expectations.load(path), {"A": {}, "New": {}}, "m")

    assert problems == [
        "StateMachines.m.TestCases.New: no expectation",
        "StateMachines.m.TestCases.Gone: an expectation for a test case the mock file does not "
        "define",
    ]


def test_given_an_input_then_it_is_resolved_against_the_files_folder(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "Mock.expectations.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"Input": "../event.json", "StateMachines": {}}))

    assert Expectations.load(path).input_path == (tmp_path / "event.json").resolve()
