"""Specification of `scalper sfn-mock scaffold`: a generated test case takes the path it names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from transition_cases import CASES

from scalper import cli
from scalper.sfn_mock import MockConfig, mock_config_installed
from scalper.sfn_mock.asl import Definition, PathError
from scalper.sfn_mock.definition import RenderedDefinition
from scalper.sfn_mock.runner import ExecutionTrace, deploy_state_machine, run_test_case
from scalper.sfn_mock.scaffold import SCAFFOLD_CAUSE, merge_test_case, scaffold_test_case

REPO = Path(__file__).resolve().parents[2]

PATHS = {
    "happy path (first rule of every Choice)": (
        None,
        ["Claim", "TypeCheck", "ValidateSchema", "Route", "ExtractMetadata", "WriteMetadata",
         "Done"],
    ),
    "Route's Default branch": (
        {"Route": "Quarantine"},
        ["Claim", "TypeCheck", "ValidateSchema", "Route", "Quarantine", "Done"],
    ),
    "a specific Catch": (None, ["Claim", "AlreadyProcessed"]),
    "retries exhausted: the execution fails at that Task": (
        None, ["Claim", "TypeCheck", "ValidateSchema"],
    ),
    "a named error's Catch into a Task path": (
        None, ["Claim", "TypeCheck", "RecordObjectGone", "AlertObjectGone", "ObjectGone"],
    ),
}  # fmt: skip


@pytest.fixture(scope="module")
def definition(rendered: RenderedDefinition) -> Definition:
    return Definition.from_json(rendered.definition)


def run_scaffolded(
    rendered: RenderedDefinition, mock: MockConfig, test_case: str, event: dict[str, Any]
) -> ExecutionTrace:
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(mock, wait_scale=0.001),
    ):
        client = boto3.client("stepfunctions", region_name="us-east-1")
        arn = deploy_state_machine(client, rendered.name, rendered.definition)
        return run_test_case(client, arn, test_case, event)


@pytest.mark.parametrize(("choices", "path"), PATHS.values(), ids=list(PATHS))
def test_given_a_path_when_scaffolded_then_the_generated_test_case_takes_exactly_that_path(
    rendered: RenderedDefinition,
    definition: Definition,
    object_created: dict[str, Any],
    choices: dict[str, str] | None,
    path: list[str],
) -> None:
    if choices is not None:
        assert definition.path_by_choices(choices) == path
    mapping, responses = scaffold_test_case(definition, path, test_case="Scaffolded")
    mock = merge_test_case(
        None, state_machine=rendered.name, test_case="Scaffolded", mapping=mapping,
        responses=responses,
    )  # fmt: skip
    trace = run_scaffolded(rendered, mock, "Scaffolded", object_created)
    assert trace.path == path
    assert set(mapping) == {s for s in path if definition.is_task(s)}


def test_given_no_choices_then_the_default_path_is_the_happy_path(definition: Definition) -> None:
    assert definition.path_by_choices() == PATHS["happy path (first rule of every Choice)"][1]


def test_given_a_path_through_a_catch_then_the_throw_is_one_that_catch_catches(
    definition: Definition,
) -> None:
    path = PATHS["a named error's Catch into a Task path"][1]
    _, responses = scaffold_test_case(definition, path, test_case="T")
    # Only the ObjectGone Catch takes it; no Retrier of TypeCheck lists it: one attempt.
    assert responses["TTypeCheck"] == {
        "0": {"Throw": {"Error": "ObjectGone", "Cause": SCAFFOLD_CAUSE}}
    }
    duplicate = scaffold_test_case(definition, ["Claim", "AlreadyProcessed"], test_case="D")[1]
    assert duplicate["DClaim"]["0"]["Throw"]["Error"] == "DynamoDB.ConditionalCheckFailedException"


def test_given_a_path_stopping_at_a_task_then_it_fails_there_after_every_retry(
    definition: Definition,
) -> None:
    path = PATHS["retries exhausted: the execution fails at that Task"][1]
    _, responses = scaffold_test_case(definition, path, test_case="F")
    retries = definition.state("ValidateSchema")["Retry"][0]
    assert responses["FValidateSchema"] == {
        f"0-{retries['MaxAttempts']}": {
            "Throw": {"Error": retries["ErrorEquals"][0], "Cause": SCAFFOLD_CAUSE}
        }
    }


def test_given_a_retrier_matching_the_thrown_error_then_the_throw_repeats_past_its_attempts() -> (
    None
):
    retried = Definition(
        {
            "StartAt": "Work",
            "States": {
                "Work": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::lambda:invoke",
                    "Retry": [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}],
                    "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                    "End": True,
                },
                "Caught": {"Type": "Fail"},
            },
        }
    )
    _, responses = scaffold_test_case(retried, ["Work", "Caught"], test_case="R")
    assert list(responses["RWork"]) == ["0-2"]


def test_given_each_integration_then_return_placeholders_have_its_result_shape(
    definition: Definition,
) -> None:
    path = ["Claim", "TypeCheck", "ValidateSchema", "RecordObjectGone", "AlertObjectGone",
            "ObjectGone"]  # fmt: skip
    _, responses = scaffold_test_case(definition, path, test_case="S")
    type_check = responses["STypeCheck"]["0"]["Return"]
    assert type_check["StatusCode"] == 200
    assert set(type_check["Payload"]) == {
        "ok",
        "key",
        "format",
        "encoding",
        "reason",
        "message",
        "uploader",
        "uploader_attribute",
    }
    assert responses["SRecordObjectGone"]["0"]["Return"]["SdkHttpMetadata"]["HttpStatusCode"] == 200
    assert "MessageId" in responses["SAlertObjectGone"]["0"]["Return"]


@pytest.mark.parametrize(
    ("states", "reason"),
    [
        (["Claim", "ExtractMetadata"], "'Claim' cannot go to 'ExtractMetadata'"),
        (["TypeCheck", "ValidateSchema"], "a path starts at 'Claim'"),
        (["Claim", "TypeCheck", "ValidateSchema", "Route"], "the path stops at 'Route'"),
        (["Claim", "Nowhere"], "no state 'Nowhere'"),
    ],
)
def test_given_states_that_are_not_a_path_then_the_error_says_where_it_breaks(
    definition: Definition, states: list[str], reason: str
) -> None:
    with pytest.raises(PathError, match=reason):
        scaffold_test_case(definition, states, test_case="X")


@pytest.fixture
def only_sfn_mock(monkeypatch: pytest.MonkeyPatch) -> None:
    # The command under test alone: other sub-commands' modules are not this spec's concern.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("sfn_mock",))
    monkeypatch.chdir(REPO)


def test_given_an_existing_mock_file_when_scaffolding_then_the_case_is_merged_in(
    only_sfn_mock: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "MockConfigFile.json"
    target.write_text((REPO / "tests/statemachine/MockConfigFile.json").read_text("utf-8"))
    before = MockConfig.load(target)
    argv = ["sfn-mock", "scaffold", "--test-case", "Quarantined", "--choice", "Route=Quarantine",
            "-o", str(target)]  # fmt: skip
    assert cli.main(argv) == cli.EXIT_OK
    after = MockConfig.load(target)
    machine = next(iter(before.StateMachines))
    cases = after.StateMachines[machine].TestCases
    assert set(cases) == set(before.StateMachines[machine].TestCases) | {"Quarantined"}
    assert cases["Quarantined"]["Quarantine"] == "QuarantinedQuarantine"
    assert "Claim -> TypeCheck -> ValidateSchema -> Route -> Quarantine -> Done" in (
        capsys.readouterr().err
    )
    # Once written, the same name is refused (exit 2) unless --replace.
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "already exists (use --replace)" in capsys.readouterr().err
    assert cli.main([*argv, "--replace"]) == cli.EXIT_OK


def test_given_no_output_when_scaffolding_then_the_mock_file_is_printed(
    only_sfn_mock: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sfn-mock", "scaffold", "--test-case", "Happy"]) == cli.EXIT_OK
    printed = json.loads(capsys.readouterr().out)
    assert MockConfig.from_json(printed).StateMachines


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--states", "Claim,Done"], "'Claim' cannot go to 'Done'"),
        (["--choice", "Route"], "--choice 'Route': expected STATE=TARGET"),
        (["--choice", "Route=Nowhere"], "Choice 'Route' has no branch to 'Nowhere'"),
        (["--definition", "statemachine/pipeline.asl.json"], "--definition needs --state-machine"),
        (["--template", "missing.yaml"], "missing.yaml: cannot read template"),
    ],
)
def test_given_bad_arguments_when_scaffolding_then_one_line_says_why_with_exit_2(
    only_sfn_mock: None, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code = cli.main(["sfn-mock", "scaffold", "--test-case", "X", *argv])
    err = capsys.readouterr().err
    assert code == cli.EXIT_USAGE
    assert message in err
    assert err.count("\n") == 1


def test_given_the_suite_mock_file_when_checked_then_it_has_no_problems(
    only_sfn_mock: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["sfn-mock", "check"]) == cli.EXIT_OK
    expected = f"{len(CASES)} test cases of 'scalper-local-PipelineStateMachine', no problems"
    assert expected in capsys.readouterr().out


def test_given_a_mock_file_with_mistakes_when_checked_then_each_is_reported_with_exit_1(
    only_sfn_mock: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mock = tmp_path / "MockConfigFile.json"
    mock.write_text(
        json.dumps(
            {
                "StateMachines": {
                    "scalper-local-PipelineStateMachine": {
                        "TestCases": {"Typo": {"Clam": "Ok", "Route": "Ok"}}
                    }
                },
                "MockedResponses": {"Ok": {"0": {"Return": {}}}, "Spare": {"0": {"Return": {}}}},
            }
        ),
        encoding="utf-8",
    )
    assert cli.main(["sfn-mock", "check", str(mock)]) == cli.EXIT_PROBLEM
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"{mock}: StateMachines.scalper-local-PipelineStateMachine.TestCases.Typo.Clam: "
        "not a Task state of the definition",
        f"{mock}: StateMachines.scalper-local-PipelineStateMachine.TestCases.Typo.Route: "
        "not a Task state of the definition",
        f"{mock}: MockedResponses.Spare: not used by any test case",
    ]
    mock.write_text('{"StateMachines": {}, "MockedResponses": {"X": {"1": {"Return": 1}}}}')
    assert cli.main(["sfn-mock", "check", str(mock)]) == cli.EXIT_PROBLEM
    assert "MockedResponses.X: attempt range '1' starts at 1, expected 0" in (
        capsys.readouterr().err
    )
