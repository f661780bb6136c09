"""The local stack follows the template it is given, not only the project's.

A small SAM template written here -- a bucket with EventBridge on, a function, a state
machine started by an EventBridge rule, and a resource type the local stack does not
know -- is provisioned and run end to end.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from scalper.local import LocalStack, StackConfig

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Parameters:
  Prefix: {Type: String, Default: incoming/}
  FlowType: {Type: String, Default: STANDARD, AllowedValues: [STANDARD, EXPRESS]}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 5
    Environment:
      Variables:
        GREETING: !Sub "hello from ${AWS::Region}"
Resources:
  Drop:
    Type: AWS::S3::Bucket
    Properties:
      NotificationConfiguration: {EventBridgeConfiguration: {EventBridgeEnabled: true}}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: app.handler
  Flow:
    Type: AWS::Serverless::StateMachine
    Properties:
      Type: !Ref FlowType
      Definition:
        StartAt: Call
        States:
          Call:
            Type: Task
            Resource: arn:aws:states:::lambda:invoke
            Parameters: {FunctionName: "${EchoArn}", "Payload.$": "$.detail.object"}
            OutputPath: $.Payload
            End: true
      DefinitionSubstitutions:
        EchoArn: !GetAtt Echo.Arn
      Events:
        Landed:
          Type: EventBridgeRule
          Properties:
            Pattern:
              source: [aws.s3]
              detail:
                bucket: {name: [!Ref Drop]}
                object: {key: [{prefix: !Ref Prefix}]}
  Cluster:
    Type: AWS::ECS::Cluster
Outputs:
  BucketName: {Value: !Ref Drop}
"""

HANDLER = """
import os

def handler(event, context):
    return {"key": event["key"], "greeting": os.environ["GREETING"]}
"""


def test_stopping_the_stack_unfreezes_what_it_froze(tmp_path: Path) -> None:
    """Given a stack started and stopped (none other running), then nothing stays frozen."""
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "app.py").write_text(HANDLER)
    if LocalStack._active is not None or gc.get_freeze_count():
        pytest.skip("another stack (or freeze) is active in this process")
    with LocalStack(
        StackConfig(template=tmp_path / "template.yaml", stack_name="thaw", prewarm=False)
    ):
        frozen = gc.get_freeze_count()
    assert frozen > 0
    assert gc.get_freeze_count() == 0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    root = tmp_path_factory.mktemp("app")
    (root / "template.yaml").write_text(TEMPLATE)
    (root / "fn").mkdir()
    (root / "fn" / "app.py").write_text(HANDLER)
    with LocalStack(StackConfig(template=root / "template.yaml", stack_name="mini")) as local:
        yield local


def test_an_object_under_the_prefix_runs_the_templates_state_machine(stack: LocalStack) -> None:
    """Given the mini template, when an object lands under its prefix, then its rule
    starts its state machine, which calls its function with its environment."""
    bucket = stack.provisioned.outputs["BucketName"] if stack.provisioned else ""
    assert bucket == "mini-drop"
    stack.client("s3").put_object(Bucket=bucket, Key="incoming/a.txt", Body=b"x")
    stack.client("s3").put_object(Bucket=bucket, Key="elsewhere/b.txt", Body=b"x")
    report = stack.wait_for_keys(["incoming/a.txt"], timeout=60)["incoming/a.txt"]
    assert report.status == "SUCCEEDED"
    assert report.output == {"key": "incoming/a.txt", "greeting": "hello from us-east-1"}
    assert stack.bridge is not None
    assert stack.bridge.wait_idle(10)
    assert stack.execution_arns_for("elsewhere/b.txt") == []


def test_while_the_stack_runs_what_it_started_with_is_frozen_for_the_collector(
    stack: LocalStack,
) -> None:
    """Given a running stack, then the objects that existed once it started are out of the
    cyclic collector's full collections (gc.freeze); stopping it gives them back."""
    assert gc.get_freeze_count() > 0
    assert stack._froze_gc


def test_a_resource_type_it_does_not_know_is_listed_not_skipped(stack: LocalStack) -> None:
    """Given an AWS::ECS::Cluster, then the stack says it does not provide it."""
    assert "Cluster (AWS::ECS::Cluster): not provided by the local stack" in stack.gaps


def test_the_provisioned_names_follow_the_stack_name(stack: LocalStack) -> None:
    """Given stack name "mini", then resources get CloudFormation-like names from it."""
    assert stack.resource_name("Echo") == "mini-Echo"
    assert stack.state_machine_arn.endswith(":stateMachine:mini-Flow")


def test_the_function_code_is_found_from_the_templates_folder(stack: LocalStack) -> None:
    """Given CodeUri fn/, then the worker runs the code beside that template."""
    assert stack.lambdas is not None
    spec = stack.lambdas.pools["Echo"].spec
    assert spec.code_dir == Path(stack.config.template).parent / "fn"
    assert spec.timeout == 5


def test_the_state_machine_type_is_resolved_from_its_parameter(stack: LocalStack) -> None:
    """Given Type: !Ref FlowType, then the local state machine has the parameter's value."""
    described = stack.client("stepfunctions").describe_state_machine(
        stateMachineArn=stack.state_machine_arn
    )
    assert described["type"] == "STANDARD"


def test_ended_reports_template_and_other_executions_once_they_end(stack: LocalStack) -> None:
    """Given an execution of the template's state machine and one of a machine a test made
    itself, when both have ended, then `ended` reports each with its status (the first read
    from moto's backend, the second described through the API), and a running one not."""
    sfn = stack.client("stepfunctions")
    waits = sfn.create_state_machine(
        name="waits",
        definition=json.dumps(
            {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 30, "End": True}}}
        ),
        roleArn="arn:aws:iam::123456789012:role/test",
    )["stateMachineArn"]
    passes = sfn.create_state_machine(
        name="passes",
        definition=json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}),
        roleArn="arn:aws:iam::123456789012:role/test",
    )["stateMachineArn"]
    running = sfn.start_execution(stateMachineArn=waits)["executionArn"]
    own = sfn.start_execution(stateMachineArn=passes)["executionArn"]
    stack.client("s3").put_object(Bucket="mini-drop", Key="incoming/ended.txt", Body=b"x")

    statuses = stack.wait_for_statuses(["incoming/ended.txt"], timeout=60)
    template_run = stack.execution_arns_for("incoming/ended.txt")[-1]
    stack.wait_for_execution(own, timeout=30)

    assert statuses == {"incoming/ended.txt": "SUCCEEDED"}
    assert stack.ended([template_run, own, running]) == {
        template_run: "SUCCEEDED",
        own: "SUCCEEDED",
    }
    sfn.stop_execution(executionArn=running)
