"""`scalper sfn-mock run`: each test case checked against the expectations file beside it.

The expectations file is the one the state-transition suite reads
(tests/statemachine/MockConfigFile.expectations.json), so the command and the suite agree
on what every case must do; a case expected to fail holds when it fails as expected.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scalper import cli

REPO = Path(__file__).resolve().parents[2]
MOCK_FILE = REPO / "tests" / "statemachine" / "MockConfigFile.json"
EXPECTATIONS = MOCK_FILE.with_name("MockConfigFile.expectations.json")


@pytest.fixture
def in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command under test alone: other sub-commands' modules are not this spec's concern.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("sfn_mock",))
    monkeypatch.chdir(REPO)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = cli.main(["sfn-mock", "run", *argv])
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


def test_given_cases_expected_to_succeed_and_to_fail_when_both_hold_then_exit_0(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        capsys, "--test-case", "TransientLambdaErrorRetried", "--test-case", "TypeCheckFails"
    )

    assert out == [
        "TransientLambdaErrorRetried: Claim -> TypeCheck (3 attempts: Lambda.ServiceException,"
        " Lambda.TooManyRequestsException) -> ValidateSchema -> Route -> ExtractMetadata"
        " -> WriteMetadata -> Done: SUCCEEDED: holds",
        "TypeCheckFails: Claim -> TypeCheck (Runtime.ExitError): FAILED Runtime.ExitError: holds",
        "2 test cases: 2 hold their expectations",
    ]
    assert err == ""
    assert code == cli.EXIT_OK


def test_given_a_state_failing_on_every_attempt_then_its_attempts_are_summarised(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--test-case", "RetriesExhausted")

    assert "attempts: Lambda.ServiceException x" in out[0]
    assert out[0].count("Lambda.ServiceException") == 2  # the grouped attempts, and the ending
    assert code == cli.EXIT_OK


def test_given_an_expectation_the_case_breaks_then_each_difference_is_listed_and_exit_1(
    in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))
    cases = document["StateMachines"]["scalper-local-PipelineStateMachine"]["TestCases"]
    cases["TypeCheckFails"]["Status"] = "SUCCEEDED"
    document["Input"] = str(REPO / "events" / "eventbridge" / "object-created.json")
    wrong = tmp_path / "wrong.expectations.json"
    wrong.write_text(json.dumps(document), encoding="utf-8")

    code, out, _ = run(capsys, "--expectations", str(wrong), "--test-case", "TypeCheckFails")

    assert out[0].endswith(": FAILED Runtime.ExitError: does NOT hold")
    assert out[1:] == [
        "  status: expected SUCCEEDED; got FAILED",
        "1 test cases: 0 hold their expectations, 1 do not",
    ]
    assert code == cli.EXIT_PROBLEM


def test_given_a_case_the_expectations_lack_then_it_does_not_hold(
    in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))
    del document["StateMachines"]["scalper-local-PipelineStateMachine"]["TestCases"]["ValidJson"]
    document["Input"] = str(REPO / "events" / "eventbridge" / "object-created.json")
    partial = tmp_path / "partial.expectations.json"
    partial.write_text(json.dumps(document), encoding="utf-8")

    code, out, _ = run(capsys, "--expectations", str(partial), "--test-case", "ValidJson")

    assert out[1] == f"  no expectation in {partial}"
    assert code == cli.EXIT_PROBLEM


def test_given_no_expectations_file_then_every_case_is_expected_to_succeed(
    in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock = tmp_path / "MockConfigFile.json"
    shutil.copy(MOCK_FILE, mock)

    code, out, err = run(
        capsys, str(mock), "--test-case", "ValidJson", "--test-case", "RetriesExhausted"
    )

    beside = tmp_path / "MockConfigFile.expectations.json"
    assert err == f"no {beside}: every test case is expected to succeed\n"
    assert out[0].endswith(": SUCCEEDED: holds")
    assert out[1].endswith(": does NOT hold")
    assert code == cli.EXIT_PROBLEM


def test_given_another_input_then_outputs_are_not_compared_and_it_says_so(
    in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = json.loads((REPO / "events/eventbridge/object-created.json").read_text("utf-8"))
    event["detail"]["object"]["key"] = "elsewhere/jobs.csv"
    other = tmp_path / "event.json"
    other.write_text(json.dumps(event), encoding="utf-8")

    code, out, err = run(capsys, "--input", str(other), "--test-case", "ValidCsv")

    assert err == (
        "outputs are not compared: the expectations are for "
        "../../events/eventbridge/object-created.json\n"
    )
    assert out[0].endswith(": holds")
    assert code == cli.EXIT_OK


def test_given_an_unknown_test_case_then_one_line_lists_the_existing_ones_with_exit_2(
    in_repo: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "--test-case", "Nope")

    assert code == cli.EXIT_USAGE
    assert out == []
    assert len(err.splitlines()) == 1
    assert (
        "no test case 'Nope' for 'scalper-local-PipelineStateMachine'; its test cases: ValidCsv, "
        in err
    )
    assert "RetriesExhausted" in err


def test_given_a_test_case_without_expectation_when_checked_then_check_reports_it(
    in_repo: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock = tmp_path / "MockConfigFile.json"
    shutil.copy(MOCK_FILE, mock)
    document = json.loads(EXPECTATIONS.read_text(encoding="utf-8"))
    del document["StateMachines"]["scalper-local-PipelineStateMachine"]["TestCases"]["ValidJson"]
    (tmp_path / EXPECTATIONS.name).write_text(json.dumps(document), encoding="utf-8")

    code = cli.main(["sfn-mock", "check", str(mock)])

    assert capsys.readouterr().err.splitlines() == [
        f"{mock}: MockConfigFile.expectations.json: "
        "StateMachines.scalper-local-PipelineStateMachine.TestCases.ValidJson: no expectation"
    ]
    assert code == cli.EXIT_PROBLEM
    shutil.copy(EXPECTATIONS, tmp_path / EXPECTATIONS.name)
    assert cli.main(["sfn-mock", "check", str(mock)]) == cli.EXIT_OK
