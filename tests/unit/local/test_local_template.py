"""Reading template.yaml the way CloudFormation and SAM do, for the local stack."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from scalper.local.template import (
    Resolver,
    ResourceRef,
    TemplateError,
    load_template,
    merged_function_properties,
    render_definition,
)

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
ASL = REPO / "statemachine" / "pipeline.asl.json"


def rule_pattern(resolver: Resolver) -> dict[str, Any]:
    props = resolver.template["Resources"]["PipelineStateMachine"]["Properties"]
    resolver.resources["InputBucket"] = ResourceRef("in-bucket", {"Arn": "arn:aws:s3:::in-bucket"})
    pattern: dict[str, Any] = resolver.resolve(
        props["Events"]["ObjectCreated"]["Properties"]["Pattern"]
    )
    return pattern


def test_short_form_tags_load_as_their_long_form(tmp_path: Path) -> None:
    """Given !Ref, !GetAtt A.B, !Sub and !If, then they read as Ref / Fn::* mappings."""
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n  R:\n    Type: X\n    Properties:\n"
        "      A: !Ref P\n      B: !GetAtt Q.Arn\n      C: !Sub '${P}-x'\n"
        "      D: !If [Cond, 1, 2]\n"
    )
    props = load_template(path)["Resources"]["R"]["Properties"]
    assert props == {
        "A": {"Ref": "P"},
        "B": {"Fn::GetAtt": ["Q", "Arn"]},
        "C": {"Fn::Sub": "${P}-x"},
        "D": {"Fn::If": ["Cond", 1, 2]},
    }


TRICKY_YAML = [
    "A: !GetAtt [Q, Arn]\nB: !GetAtt Q.Outputs.Deep.Name\nC: !Ref 'AWS::NoValue'\n",
    "A: !Sub\n  - '${X}-${Y}'\n  - {X: !Ref P, Y: !ImportValue E}\n",
    "A: !Join ['', [a, !Select [0, !Split [',', 'x,y']]]]\nB: !Base64 |\n  line one\n  line two\n",
    "A: &anchor {k: [1, 2.5, 'text', true, null, 2026-12-03]}\nB: *anchor\n",
    "C: >-\n  folded\n  text\nD: |+\n  kept\n\n",
    "A: !Condition IsProd\nB: !Equals [!Ref P, 'yes']\nC: '0x1F'\nD: 0o17\nE: 1e3\nF: ~\n",
    "A: 'unicode \u00e9 \U0001f600'\nB: \"esc\\t\\u00e9\"\nC: !GetAZs ''\n",
]


@pytest.mark.parametrize("text", [*TRICKY_YAML, TEMPLATE.read_text(encoding="utf-8")])
def test_the_compiled_loader_reads_as_pyyamls_own_parser_does(text: str) -> None:
    """Given YAML with every short-form tag shape and the tricky scalars, and template.yaml,
    when read by the loader built on libyaml (what `load_template` uses) and by PyYAML's
    parser in Python, then both give the same data."""
    from scalper.local import template

    assert issubclass(template._CfnLoader, yaml.CSafeLoader)
    ours = yaml.load(text, Loader=template._CfnLoader)
    reference = yaml.load(text, Loader=template._cfn_loader(yaml.SafeLoader))
    assert ours == reference


def test_malformed_yaml_is_a_template_error_naming_the_file(tmp_path: Path) -> None:
    """Given a template that is not valid YAML, then loading it raises TemplateError with
    the file's name, not a YAML traceback."""
    path = tmp_path / "broken.yaml"
    path.write_text("Resources:\n  R: [unclosed\n")
    with pytest.raises(TemplateError, match=r"broken\.yaml: not valid YAML"):
        load_template(path)


def test_the_rule_pattern_matches_every_key_under_the_upload_prefix() -> None:
    """Given the template, then the EventBridge pattern resolves to the upload prefix, for the
    input bucket only: the extension is TypeCheck's to judge, case-insensitively."""
    pattern = rule_pattern(Resolver(load_template(TEMPLATE)))
    assert pattern["detail"]["bucket"]["name"] == ["in-bucket"]
    assert pattern["detail"]["object"]["key"] == [{"prefix": "uploads/"}]


def test_a_false_condition_drops_its_list_item_through_no_value(tmp_path: Path) -> None:
    """Given a list item under !If [Cond, x, !Ref AWS::NoValue], when Cond is false, then the
    item disappears from the list."""
    path = tmp_path / "t.yaml"
    path.write_text(
        "Parameters:\n  P: {Type: String, Default: a}\n"
        "Conditions:\n  IsB: !Equals [!Ref P, b]\n"
        "Resources:\n  R:\n    Type: X\n    Properties:\n"
        "      L: [one, !If [IsB, two, !Ref AWS::NoValue]]\n"
    )
    template = load_template(path)
    props = template["Resources"]["R"]["Properties"]
    assert Resolver(template).resolve(props["L"]) == ["one"]
    assert Resolver(template, overrides={"P": "b"}).resolve(props["L"]) == ["one", "two"]


def test_globals_merge_into_each_function_and_its_own_values_win() -> None:
    """Given Globals.Function, then a function gets the global environment merged with
    its own properties (its Timeout replaces the global one)."""
    props = merged_function_properties(load_template(TEMPLATE), "ValidateSchemaFunction")
    assert props["Timeout"] == {"Fn::If": ["IsExpress", 60, 300]}
    assert props["Runtime"] == "python3.13"
    assert "INPUT_BUCKET" in props["Environment"]["Variables"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"NoSuchParameter": "1"}, r"unknown template parameter\(s\): NoSuchParameter"),
        ({"WorkflowType": "FAST"}, "is not one of"),
        ({"MaxUploadBytes": "0"}, "is outside"),
        ({"MaxUploadBytes": "lots"}, "is not a number"),
        ({"StageName": "Has Spaces"}, "does not match"),
    ],
)
def test_a_bad_parameter_value_is_a_clear_error(overrides: dict[str, str], message: str) -> None:
    """Given a parameter override the template does not allow, then the error names it."""
    with pytest.raises(TemplateError, match=message):
        Resolver(load_template(TEMPLATE), overrides=overrides)


def test_sub_reads_attributes_and_keeps_escaped_placeholders() -> None:
    """Given ${Res.Attr}, ${AWS::Region} and ${!Literal}, then !Sub fills the first two
    and writes the third as ${Literal}."""
    resolver = Resolver({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}}, region="eu-west-1")
    resolver.resources["B"] = ResourceRef("b", {"Arn": "arn:aws:s3:::b"})
    assert resolver.resolve({"Fn::Sub": "${B.Arn}/*@${AWS::Region}:${!Keep}"}) == (
        "arn:aws:s3:::b/*@eu-west-1:${Keep}"
    )


def test_an_unknown_attribute_names_the_resource_and_what_is_known() -> None:
    """Given !GetAtt of an attribute the local stack does not model, then the error says
    which resource and which attributes exist."""
    resolver = Resolver({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})
    resolver.resources["B"] = ResourceRef("b", {"Arn": "arn:aws:s3:::b"})
    with pytest.raises(TemplateError, match=r"B has no attribute 'Nope' locally \(known: Arn\)"):
        resolver.resolve({"Fn::GetAtt": ["B", "Nope"]}, "Outputs.X")


def test_the_deployed_asl_renders_with_every_substitution_resolved() -> None:
    """Given the template's DefinitionSubstitutions, then the ASL has no ${...} left and
    names the function ARNs the template defines."""
    template = load_template(TEMPLATE)
    resolver = Resolver(template)
    for lid in template["Resources"]:
        resolver.resources[lid] = ResourceRef(f"ref-{lid}", {"Arn": f"arn:aws:lambda:::{lid}"})
    subs = resolver.resolve(
        template["Resources"]["PipelineStateMachine"]["Properties"]["DefinitionSubstitutions"]
    )
    rendered = render_definition(ASL.read_text(), subs)
    assert "${" not in rendered
    assert json.loads(rendered)["States"]["TypeCheck"]["Parameters"]["FunctionName"] == (
        "arn:aws:lambda:::TypeCheckFunction"
    )


def test_a_placeholder_without_substitution_is_an_error_naming_it() -> None:
    """Given an ASL placeholder DefinitionSubstitutions lacks, then rendering refuses."""
    with pytest.raises(TemplateError, match=r"no value for \$\{Missing\}"):
        render_definition('{"A": "${Present}", "B": "${Missing}"}', {"Present": "x"})
