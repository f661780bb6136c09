"""The deployed ASL runs on moto's Step Functions engine: Claim and the failure path.

The definition is statemachine/pipeline.asl.json with template.yaml's DefinitionSubstitutions
resolved. No Lambda endpoint is running here (the local stack provides one), so a Lambda task
fails with ResourceNotFound and the execution takes the failure path: exactly what these
tests need to prove Claim, RecordFailure, TagFailure and NotifyFailure on the real engine.
The full state-transition suite lives in tests/statemachine/.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from handler_support import create_buckets, create_metadata_table
from moto import mock_aws
from sam_template import pipeline_definition
from silent_scalper.records import compare_sequencers, item_key

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pipeline"
DEADLINE_SECONDS = 60
OLD_EXECUTION = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:pipeline:old"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class Pipeline:
    """The state machine on moto, with the table, bucket and alert subscriber it touches."""

    def __init__(self, template: dict[str, Any], names: dict[str, Any]) -> None:
        self.names = names
        self.sfn = boto3.client("stepfunctions", region_name=REGION)
        self.ddb = boto3.client("dynamodb", region_name=REGION)
        self.s3 = boto3.client("s3", region_name=REGION)
        sns = boto3.client("sns", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        create_metadata_table(self.ddb, template, names["MetadataTable"])
        create_buckets(self.s3, template, {"InputBucket": names["InputBucket"]})
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        assert topic == names["AlertsTopic"]
        self.queue = self.sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        definition = pipeline_definition(template, names)
        self.arn = self.sfn.create_state_machine(
            name="pipeline", definition=definition, roleArn=ROLE
        )["stateMachineArn"]

    def execution_arn(self, name: str) -> str:
        """The ARN an execution named ``name`` gets."""
        return self.arn.replace(":stateMachine:", ":execution:") + ":" + name

    def run(self, event: dict[str, Any], name: str | None = None) -> tuple[str, list[str]]:
        """Start one execution (always named: moto's unnamed ARNs collide) and wait for it."""
        execution = self.sfn.start_execution(
            stateMachineArn=self.arn, name=name or str(uuid.uuid4()), input=json.dumps(event)
        )["executionArn"]
        deadline = time.monotonic() + DEADLINE_SECONDS
        status = "RUNNING"
        while status == "RUNNING":
            assert time.monotonic() < deadline, "execution did not finish in time"
            time.sleep(0.05)
            status = self.sfn.describe_execution(executionArn=execution)["status"]
        events = self.sfn.get_execution_history(executionArn=execution)["events"]
        states = [
            e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
        ]
        return status, states

    def record(self, event: dict[str, Any]) -> dict[str, Any]:
        pk = item_key(event["detail"]["bucket"]["name"], event["detail"]["object"]["key"])
        item = self.ddb.get_item(TableName=self.names["MetadataTable"], Key={"pk": {"S": pk}})
        return {k: next(iter(v.values())) for k, v in item["Item"].items()}

    def seed(
        self, event: dict[str, Any], *, status: str, sequencer: str, owner: str = OLD_EXECUTION
    ) -> None:
        pk = item_key(event["detail"]["bucket"]["name"], event["detail"]["object"]["key"])
        self.ddb.put_item(
            TableName=self.names["MetadataTable"],
            Item={
                "pk": {"S": pk},
                "status": {"S": status},
                "sequencer": {"S": sequencer},
                "execution_arn": {"S": owner},
            },
        )

    def alerts(self) -> list[dict[str, Any]]:
        out = self.sqs.receive_message(QueueUrl=self.queue, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]


@pytest.fixture
def pipeline(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(var, value)
    names = {
        "MetadataTable": "metadata",
        "InputBucket": "silent-scalper-dev-input",
        "AlertsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts",
        "StageName": "dev",
        **{
            f"{fn}.Arn": function_arn(fn)
            for fn in (
                "TypeCheckFunction",
                "ValidateSchemaFunction",
                "ExtractMetadataFunction",
                "WriteMetadataFunction",
                "QuarantineFunction",
            )
        },
    }
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Pipeline(template, names)


@pytest.fixture
def object_created(event: Any, pipeline: Pipeline) -> dict[str, Any]:
    """The sample Object Created event, its object uploaded so tagging can find it."""
    ev = event("eventbridge/object-created.json")
    detail = ev["detail"]
    out = pipeline.s3.put_object(
        Bucket=detail["bucket"]["name"], Key=detail["object"]["key"], Body=b"x"
    )
    detail["object"]["version-id"] = out["VersionId"]
    return ev


FAILURE_PATH = [
    "Claim", "TypeCheck", "UploaderNotRead", "RecordFailure", "TagFailure", "NotifyFailure", "Fail"
]  # fmt: skip


def test_given_a_new_object_when_the_pipeline_breaks_then_failed_record_tag_and_alert(
    pipeline, object_created
):
    status, states = pipeline.run(object_created)
    assert status == "FAILED"
    assert states == FAILURE_PATH
    record = pipeline.record(object_created)
    assert record["status"] == "FAILED"
    assert record["failure_error"] == "Lambda.ResourceNotFoundException"
    assert record["sequencer"] == object_created["detail"]["object"]["sequencer"]
    detail = object_created["detail"]
    tags = pipeline.s3.get_object_tagging(
        Bucket=detail["bucket"]["name"],
        Key=detail["object"]["key"],
        VersionId=detail["object"]["version-id"],
    )["TagSet"]
    assert tags == [{"Key": "scalper-status", "Value": "FAILED"}]
    (alert,) = pipeline.alerts()
    assert alert["MessageAttributes"]["event"]["Value"] == "FAILED"
    message = json.loads(alert["Message"])
    assert message["key"] == detail["object"]["key"]
    assert message["error"] == "Lambda.ResourceNotFoundException"


@pytest.mark.parametrize("status", ["VALID", "QUARANTINED", "PROCESSING", "FAILED"])
def test_given_a_newer_event_was_recorded_when_an_older_one_arrives_then_it_ends_at_claim(
    pipeline, object_created, status
):
    seq = object_created["detail"]["object"]["sequencer"]
    newer = "0065A1B2C3D4E5F7"  # shorter, yet later once right-padded with zeros
    assert compare_sequencers(newer, seq) == 1
    pipeline.seed(object_created, status=status, sequencer=newer)
    assert pipeline.run(object_created) == ("SUCCEEDED", ["Claim", "AlreadyProcessed"])
    assert pipeline.record(object_created)["status"] == status


@pytest.mark.parametrize("status", ["VALID", "QUARANTINED"])
def test_given_the_same_event_already_finished_when_delivered_again_then_it_ends_at_claim(
    pipeline, object_created, status
):
    seq = object_created["detail"]["object"]["sequencer"]
    pipeline.seed(object_created, status=status, sequencer=seq)
    assert pipeline.run(object_created) == ("SUCCEEDED", ["Claim", "AlreadyProcessed"])


def test_given_the_same_event_failed_when_replayed_then_the_new_execution_proceeds(
    pipeline, object_created
):
    """Replay = a new execution with the same input: it must get past Claim and own the record."""
    seq = object_created["detail"]["object"]["sequencer"]
    pipeline.seed(object_created, status="FAILED", sequencer=seq)
    _, states = pipeline.run(object_created)
    assert states[:2] == ["Claim", "TypeCheck"]
    assert pipeline.record(object_created)["execution_arn"] != OLD_EXECUTION


def test_given_the_same_event_in_progress_when_delivered_again_then_it_ends_at_claim(
    pipeline, object_created
):
    """A duplicate delivery while the first execution works never does the work twice
    (a claim whose execution died is released to FAILED by `scalper replay`/`sweep` first)."""
    seq = object_created["detail"]["object"]["sequencer"]
    pipeline.seed(object_created, status="PROCESSING", sequencer=seq)
    assert pipeline.run(object_created) == ("SUCCEEDED", ["Claim", "AlreadyProcessed"])
    record = pipeline.record(object_created)
    assert (record["status"], record["execution_arn"]) == ("PROCESSING", OLD_EXECUTION)


def test_given_an_older_event_was_recorded_when_a_newer_one_arrives_then_it_takes_over(
    pipeline, object_created
):
    """Sequencers of different lengths: the shorter one is older after right-padding."""
    seq = object_created["detail"]["object"]["sequencer"]
    older = seq[:-2]
    assert compare_sequencers(older, seq) == -1
    pipeline.seed(object_created, status="VALID", sequencer=older)
    _, states = pipeline.run(object_created)
    assert states[:2] == ["Claim", "TypeCheck"]
    assert pipeline.record(object_created)["sequencer"] == seq


def test_given_this_execution_owns_the_record_when_claim_runs_again_then_it_proceeds(
    pipeline, object_created
):
    """Redrive re-runs Claim in the same execution: ownership alone lets it through, even
    over a record that looks finished and newer."""
    name = str(uuid.uuid4())
    seq = object_created["detail"]["object"]["sequencer"]
    pipeline.seed(
        object_created, status="VALID", sequencer=seq + "F", owner=pipeline.execution_arn(name)
    )
    _, states = pipeline.run(object_created, name=name)
    assert states[:2] == ["Claim", "TypeCheck"]
