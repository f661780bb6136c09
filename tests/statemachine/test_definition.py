"""Specification of the deployed definition as the tests load it (substitutions resolved)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from scalper.local.template import TemplateError
from scalper.sfn_mock.definition import RenderedDefinition, load_definition

REPO = Path(__file__).resolve().parents[2]

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: test}
Resources:
  Work:
    Type: AWS::Serverless::Function
    Properties: {Handler: app.handler, CodeUri: fn/, Runtime: python3.13}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      Name: !Sub "${AWS::StackName}-machine"
      DefinitionUri: machine.asl.json
      DefinitionSubstitutions:
        WorkArn: !GetAtt Work.Arn
        Stage: !Ref Stage
"""
ASL: dict[str, Any] = {
    "StartAt": "Run",
    "States": {
        "Run": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "${WorkArn}", "Payload": {"stage": "${Stage}"}},
            "End": True,
        }
    },
}


def write_app(directory: Path, asl: dict[str, Any], template: str = TEMPLATE) -> Path:
    (directory / "machine.asl.json").write_text(json.dumps(asl), encoding="utf-8")
    path = directory / "template.yaml"
    path.write_text(template, encoding="utf-8")
    return path


def test_given_the_project_template_then_every_placeholder_is_resolved_as_on_deploy(
    rendered: RenderedDefinition,
) -> None:
    source = rendered.definition_path.read_text(encoding="utf-8")
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", source))
    assert placeholders == set(rendered.substitutions)
    assert "${" not in rendered.definition
    for value in rendered.substitutions.values():
        assert str(value) in rendered.definition
    # Only the placeholders differ: the rest is the deployed file, byte for byte.
    expected = source
    for name, value in rendered.substitutions.items():
        expected = expected.replace("${" + name + "}", str(value))
    assert rendered.definition == expected


def test_given_a_function_arn_substitution_then_it_is_the_local_stack_function_arn(
    tmp_path: Path,
) -> None:
    rendered = load_definition(write_app(tmp_path, ASL), stack_name="unit")
    run = json.loads(rendered.definition)["States"]["Run"]["Parameters"]
    assert run["FunctionName"] == "arn:aws:lambda:us-east-1:123456789012:function:unit-Work"
    assert run["Payload"] == {"stage": "test"}
    assert rendered.name == "unit-machine"


def test_given_a_placeholder_without_substitution_then_loading_names_it(tmp_path: Path) -> None:
    asl = {**ASL, "Comment": "${Missing}"}
    with pytest.raises(TemplateError, match=r"\$\{Missing\}"):
        load_definition(write_app(tmp_path, asl))


def test_given_a_template_without_that_state_machine_then_the_error_lists_the_found_ones(
    tmp_path: Path,
) -> None:
    path = write_app(tmp_path, ASL)
    with pytest.raises(TemplateError, match=r"no state machine 'Other' \(found: Machine\)"):
        load_definition(path, state_machine="Other")
