"""Names and helpers shared by the security tests (a uniquely named module: several test
folders have a conftest.py, so ``from conftest import`` would be ambiguous).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
EVENTS = REPO / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "silent-scalper-sec"


def names(stack: str = STACK) -> dict[str, Any]:
    """What the template's Refs resolve to when the handlers run as stack ``stack``."""
    return {
        "InputBucket": f"{stack}-input",
        "QuarantineBucket": f"{stack}-quarantine",
        "MetadataTable": f"{stack}-metadata",
        "AlertsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{stack}-alerts",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::StackName": stack,
    }


def resolve(value: Any, names: dict[str, Any]) -> Any:
    """Evaluate the intrinsics the functions' environment uses (Ref, Join) against ``names``."""
    if isinstance(value, dict) and "Ref" in value:
        return names[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        return separator.join(str(i) for i in resolve(items, names))
    return value


def template_env(template: dict[str, Any], stack: str = STACK) -> dict[str, str]:
    """The functions' environment exactly as the template's Globals set it, Refs resolved."""
    table = names(stack)
    for name, parameter in template["Parameters"].items():
        default = parameter.get("Default", "")
        table[name] = (
            default.split(",") if parameter["Type"] == "CommaDelimitedList" else str(default)
        )
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {key: str(resolve(value, table)) for key, value in variables.items()}
    env["AWS_REGION"] = REGION
    return env


@dataclass
class FakeContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str = f"{STACK}-handler"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{STACK}-handler"
    aws_request_id: str = "5f0c5d8e-2f5b-4b7e-9a61-2b7f0d3c9e11"


@dataclass
class Stack:
    """moto resources named as the handlers' environment names them."""

    env: dict[str, str]
    s3: Any

    def put(self, key: str, body: bytes) -> str:
        """Upload to the input bucket; returns the version id."""
        out = self.s3.put_object(Bucket=self.env["INPUT_BUCKET"], Key=key, Body=body)
        return str(out["VersionId"])


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, parsed."""
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data
