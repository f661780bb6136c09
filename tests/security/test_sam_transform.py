"""The offline SAM transform checkov scans: what SAM generates, made without network or AWS."""

from __future__ import annotations

import copy
import json
import socket
from typing import Any

import pytest
import yaml
from handler_support import TEMPLATE

from scalper.local.template import TemplateError, load_template
from scalper.security.__main__ import main
from scalper.security.checks import Templates, check_iam_least_privilege
from scalper.security.transform import (
    ARTIFACT_BUCKET,
    OfflineManagedPolicyLoader,
    TransformError,
    sam_to_cfn,
    with_s3_artifacts,
)


def of_type(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def test_given_no_network_when_transformed_then_sam_resources_become_cloudformation(
    sam_template, monkeypatch
):
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the transform tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    cfn = sam_to_cfn(sam_template)
    assert not [r for r in cfn["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]
    functions = of_type(sam_template, "AWS::Serverless::Function")
    lambdas = of_type(cfn, "AWS::Lambda::Function")
    assert set(lambdas) == set(functions)
    for function in lambdas.values():
        assert function["Properties"]["Code"]["S3Bucket"] == ARTIFACT_BUCKET
    (machine,) = of_type(cfn, "AWS::StepFunctions::StateMachine").values()
    assert machine["Properties"]["DefinitionS3Location"]["Bucket"] == ARTIFACT_BUCKET


def test_given_resource_metadata_when_transformed_then_generated_resources_keep_it(sam_template):
    """Scanner skips written on a SAM resource must reach the resource checkov reads."""
    sam = copy.deepcopy(sam_template)
    note = {"checkov": {"skip": [{"id": "CKV_AWS_117", "comment": "passthrough probe"}]}}
    sam["Resources"]["PresignFunction"]["Metadata"] = note
    cfn = sam_to_cfn(sam)
    assert cfn["Resources"]["PresignFunction"]["Metadata"] == note


def test_given_local_artifact_paths_when_rewritten_then_only_local_paths_change(sam_template):
    sam = copy.deepcopy(sam_template)
    sam["Resources"]["TypeCheckFunction"]["Properties"]["CodeUri"] = "s3://elsewhere/code.zip"
    out = with_s3_artifacts(sam)
    assert out["Resources"]["TypeCheckFunction"]["Properties"]["CodeUri"] == (
        "s3://elsewhere/code.zip"
    )
    presign = out["Resources"]["PresignFunction"]["Properties"]["CodeUri"]
    assert presign == f"s3://{ARTIFACT_BUCKET}/functions/presign"
    assert sam_template["Resources"]["PresignFunction"]["Properties"]["CodeUri"] != presign


def test_given_an_unknown_managed_policy_when_scanned_then_the_role_is_flagged(sam_template):
    """SAM passes a name it cannot map through unchanged; the IAM check refuses it."""
    sam = copy.deepcopy(sam_template)
    sam["Resources"]["PresignFunction"]["Properties"]["Policies"].append("NoSuchPolicy")
    cfn = sam_to_cfn(sam, policy_loader=OfflineManagedPolicyLoader({}))
    findings = check_iam_least_privilege(Templates(sam=sam, cfn=cfn))
    assert [str(f) for f in findings] == [
        "IAM_MANAGED_POLICY PresignFunctionRole: attaches 'NoSuchPolicy'"
    ]


def test_given_a_sam_error_when_transformed_then_transform_error_lists_sams_reasons(
    sam_template,
):
    sam = copy.deepcopy(sam_template)
    del sam["Resources"]["PresignFunction"]["Properties"]["CodeUri"]
    sam["Globals"]["Function"].pop("CodeUri", None)
    with pytest.raises(TransformError, match="PresignFunction"):
        sam_to_cfn(sam)


def test_given_a_file_that_is_not_a_template_when_loaded_then_the_error_names_the_file(tmp_path):
    path = tmp_path / "notes.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"notes\.yaml: not a CloudFormation template"):
        load_template(path)


def test_given_short_form_intrinsics_when_loaded_then_they_are_long_form(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "Resources:\n  R:\n    Type: X\n    Properties:\n"
        "      A: !GetAtt B.Arn\n      C: !Ref D\n      E: !Sub ['${F}', {F: !Ref G}]\n",
        encoding="utf-8",
    )
    props = load_template(path)["Resources"]["R"]["Properties"]
    assert props == {
        "A": {"Fn::GetAtt": ["B", "Arn"]},
        "C": {"Ref": "D"},
        "E": {"Fn::Sub": ["${F}", {"F": {"Ref": "G"}}]},
    }


def test_given_the_scan_command_when_run_on_template_yaml_then_it_writes_the_cfn_and_passes(
    tmp_path, capsys
):
    out = tmp_path / "build" / "template.cfn.json"
    assert main(["--template", str(TEMPLATE), "--out", str(out)]) == 0
    assert "AWS::Lambda::Function" in {
        r["Type"] for r in json.loads(out.read_text())["Resources"].values()
    }
    assert "0 finding(s)" in capsys.readouterr().out


def test_given_a_template_with_an_admin_statement_when_scanned_then_exit_1_names_it(
    sam_template, tmp_path, capsys
):
    sam = copy.deepcopy(sam_template)
    sam["Resources"]["PresignFunction"]["Properties"]["Policies"].append(
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    )
    path = tmp_path / "template.yaml"
    path.write_text(yaml.safe_dump(sam), encoding="utf-8")
    assert main(["--template", str(path), "--out", str(tmp_path / "out.json")]) == 1
    assert "FAILED IAM_WILDCARD PresignFunctionRole" in capsys.readouterr().out


def test_given_a_missing_template_when_scanned_then_exit_2_with_one_line(tmp_path, capsys):
    assert main(["--template", str(tmp_path / "absent.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scan: error:")
    assert "absent.yaml" in err
    assert "Traceback" not in err
