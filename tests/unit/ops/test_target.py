"""Finding the pipeline: CloudFormation outputs (Stubber), the local template, and keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from silent_scalper.records import item_key

from scalper.ops.common import TargetError
from scalper.ops.status import key_candidates
from scalper.ops.target import Target, local_outputs, stack_outputs

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudformation",
        region_name="eu-west-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_a_deployed_stack_is_found_by_its_outputs(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "silent-scalper-dev",
                    "CreationTime": "2026-11-01T00:00:00Z",
                    "StackStatus": "UPDATE_COMPLETE",
                    "Outputs": [
                        {"OutputKey": "StateMachineArn", "OutputValue": "arn:sm"},
                        {"OutputKey": "MetadataTableName", "OutputValue": "table"},
                    ],
                }
            ]
        },
        {"StackName": "silent-scalper-dev"},
    )
    assert stack_outputs(client, "silent-scalper-dev") == {
        "StateMachineArn": "arn:sm",
        "MetadataTableName": "table",
    }


def test_no_such_stack_is_one_line_naming_what_to_check(
    cloudformation: tuple[Any, Stubber],
) -> None:
    client, stub = cloudformation
    stub.add_client_error(
        "describe_stacks",
        service_error_code="ValidationError",
        service_message="Stack with id nope does not exist",
    )
    with pytest.raises(TargetError, match=r"no stack named 'nope'.*--region"):
        stack_outputs(client, "nope")


def test_the_local_stack_is_found_from_the_template_under_the_local_names() -> None:
    outputs = local_outputs(REPO / "template.yaml", stack="scalper-local", region="us-east-1")
    assert outputs["StateMachineArn"].endswith(":stateMachine:scalper-local-PipelineStateMachine")
    assert outputs["MetadataTableName"].startswith("scalper-local-")
    assert {"InputBucketName", "QuarantineBucketName", "AlertsTopicArn"} <= set(outputs)


def test_a_missing_template_in_local_mode_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="no template"):
        local_outputs(tmp_path / "template.yaml", stack="scalper-local", region="us-east-1")


def _target(**changes: Any) -> Target:
    values: dict[str, Any] = {
        "stack": "s",
        "region": "eu-west-1",
        "state_machine_arn": "arn:aws:states:eu-west-1:1:stateMachine:s",
        "table": "t",
        "input_bucket": "in",
    }
    values.update(changes)
    return Target(**values)


@pytest.mark.parametrize(
    "key",
    ["uploads/a b.csv", "in/uploads/a b.csv", "s3://in/uploads/a b.csv"],
)
def test_a_key_may_be_given_bare_with_its_bucket_or_as_an_s3_url(key: str) -> None:
    """Records are keyed by the key as the S3 event spells it (raw, or form-encoded), so the
    record may be under either spelling's hash; both are looked up, raw first."""
    lookup = key_candidates(_target(), key)
    assert (lookup.bucket, lookup.key) == ("in", "uploads/a b.csv")
    assert lookup.pks == [item_key("in", "uploads/a b.csv"), item_key("in", "uploads/a+b.csv")]


def test_console_links_exist_only_for_deployed_targets() -> None:
    arn = "arn:aws:states:eu-west-1:1:execution:s:x"
    assert _target().console_url(arn) == (
        "https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1"
        f"#/v2/executions/details/{arn}"
    )
    assert "express-executions" in str(_target(workflow_type="EXPRESS").console_url(arn))
    assert _target(endpoint_url="http://127.0.0.1:4566").console_url(arn) is None
