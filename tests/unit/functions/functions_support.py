"""Shared names and helpers of the handler tests (imported by conftest.py and the tests).

A uniquely named module rather than ``from conftest import``: several test folders have a
conftest.py, and which one that import finds depends on what pytest collected first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sam_template import REPO, parameter_defaults, resolve
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


def template_env(template: dict[str, Any]) -> dict[str, str]:
    """The functions' environment as the template sets it, Refs resolved for the tests."""
    names = {**NAMES, **parameter_defaults(template)}
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {key: str(resolve(value, names)) for key, value in variables.items()}
    env["AWS_REGION"] = REGION
    return env
