"""Fixtures for the handler tests: moto resources built from template.yaml's own properties.

The buckets, table and topic are created from the template's resource properties (key
schema, indexes, versioning), and each handler gets the environment the template gives it,
so the tests cannot drift from what deploys.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws
from sam_template import REPO, load_template, resolve, resource
from silent_scalper.settings import Settings

REGION = "us-east-1"
ACCOUNT = "123456789012"
EVENTS = REPO / "events"
DATA = Path(__file__).with_name("data")

#: What the template's Refs resolve to in these tests (names as the sample events use them).
NAMES: dict[str, Any] = {
    "InputBucket": "silent-scalper-dev-input",
    "QuarantineBucket": "silent-scalper-dev-quarantine",
    "MetadataTable": "silent-scalper-dev-metadata",
    "AlertsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:silent-scalper-dev-alerts",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::Partition": "aws",
    "AWS::StackName": "silent-scalper-dev",
}


@dataclass
class FakeContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str = "silent-scalper-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:silent-scalper-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@dataclass
class Stack:
    """The moto resources and the settings/environment the handlers run with."""

    env: dict[str, str]
    settings: Settings
    s3: Any
    dynamodb: Any
    sns: Any
    sqs: Any
    alerts_queue_url: str

    def alerts(self) -> list[dict[str, Any]]:
        """SNS messages that reached the alerts topic (via its SQS subscriber), parsed."""
        out = self.sqs.receive_message(QueueUrl=self.alerts_queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]

    def put(self, key: str, body: bytes) -> str:
        """Upload an object to the input bucket; returns its version id."""
        out = self.s3.put_object(Bucket=self.settings.input_bucket, Key=key, Body=body)
        return str(out["VersionId"])


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (e.g. ``"states/type_check.json"``)."""
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml, parsed with CloudFormation tags."""
    return load_template()


def template_env(template: dict[str, Any]) -> dict[str, str]:
    """The functions' environment as the template sets it, Refs resolved for the tests."""
    names = dict(NAMES)
    for name, param in template["Parameters"].items():
        default = param.get("Default", "")
        names[name] = default.split(",") if param["Type"] == "CommaDelimitedList" else default
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {key: str(resolve(value, names)) for key, value in variables.items()}
    env["AWS_REGION"] = REGION
    return env


@pytest.fixture
def stack(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Buckets, table and topic per template.yaml, inside moto; yields the Stack."""
    for var, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(var, value)
    env = template_env(template)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        for logical_id in ("InputBucket", "QuarantineBucket"):
            props = resource(template, logical_id)
            name = NAMES[logical_id]
            s3.create_bucket(Bucket=name)
            status = props.get("VersioningConfiguration", {}).get("Status")
            if status:
                s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})
        table = resource(template, "MetadataTable")
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=NAMES["MetadataTable"],
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
            BillingMode=table["BillingMode"],
        )
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name=NAMES["AlertsTopic"].rsplit(":", 1)[1])["TopicArn"]
        assert topic_arn == NAMES["AlertsTopic"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        yield Stack(
            env=env,
            settings=Settings.from_env(env),
            s3=s3,
            dynamodb=dynamodb,
            sns=sns,
            sqs=sqs,
            alerts_queue_url=queue_url,
        )


@pytest.fixture
def load_handler(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``functions/<name>/app.py`` fresh, with the template's environment, inside moto."""

    def load(name: str) -> ModuleType:
        for var, value in stack.env.items():
            monkeypatch.setenv(var, value)
        path = REPO / "functions" / name / "app.py"
        module_name = f"scalper_test_handler_{name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, module_name, module)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def context() -> FakeContext:
    """A Lambda context for handler calls."""
    return FakeContext()


@pytest.fixture
def object_event(stack: Stack) -> Callable[..., dict[str, Any]]:
    """``object_event("states/x.json", "jobs-valid.csv")``: a state's sample input whose object
    really exists in moto (uploaded from tests/unit/functions/data, with its real version id)."""

    def make(name: str, body_file: str, *, key: str | None = None) -> dict[str, Any]:
        event = load_event(name)
        if key is not None:
            event["object"]["key"] = key
        body = (DATA / body_file).read_bytes()
        event["object"]["version-id"] = stack.put(event["object"]["key"], body)
        event["object"]["size"] = len(body)
        return event

    return make


@pytest.fixture
def claim(stack: Stack) -> Callable[..., None]:
    """``claim(event, owner=None)``: the PROCESSING item the state machine's Claim writes."""

    def write(event: dict[str, Any], owner: str | None = None) -> None:
        stack.dynamodb.put_item(
            TableName=stack.settings.table_name,
            Item={
                "pk": {"S": f"{event['bucket']}/{event['object']['key']}"},
                "status": {"S": "PROCESSING"},
                "execution_arn": {"S": owner or event["execution_arn"]},
                "sequencer": {"S": event["object"]["sequencer"]},
            },
        )

    return write


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    """``event("api/presign-request.json")``: a sample event from events/, parsed."""
    return load_event
