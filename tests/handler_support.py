"""What the tests that run the real handlers on moto share (tests/unit/functions, tests/security).

A uniquely named module rather than ``from conftest import``: several test folders have a
conftest.py, and which one that import finds depends on what pytest collected first. It sits
at the tests root, which the root conftest.py puts on ``sys.path`` for every test folder.

Template intrinsics are evaluated by the local stack's own `Resolver` (one implementation for
the stack, the mock-config tooling and the tests), told the names the tests give resources.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from scalper.local.template import DEFAULT_STACK_NAME, Resolver, ResourceRef

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
EVENTS = REPO / "events"
REGION = "us-east-1"
ACCOUNT = "123456789012"

#: moto's fake credentials: no test may reach a real account.
TEST_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def names(stack: str) -> dict[str, Any]:
    """What the template's Refs resolve to when the handlers run as stack ``stack``."""
    return {
        "InputBucket": f"{stack}-input",
        "QuarantineBucket": f"{stack}-quarantine",
        "MetadataTable": f"{stack}-metadata",
        "UploadsTable": f"{stack}-uploads",
        "AlertsTopic": f"arn:aws:sns:{REGION}:{ACCOUNT}:{stack}-alerts",
        "AWS::Region": REGION,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::StackName": stack,
    }


def resolver(template: dict[str, Any], names: Mapping[str, Any]) -> Resolver:
    """The local stack's `Resolver` for ``template``, with the names a test uses.

    ``names`` maps a pseudo parameter (``AWS::Region``, ``AWS::AccountId``,
    ``AWS::StackName``; the local stack's defaults when absent), a template parameter
    (overriding its default; a list for a ``CommaDelimitedList``), a logical id (its ``Ref``)
    or ``"Id.Attr"`` (its ``GetAtt``) to a value. Parameters not named keep their defaults;
    conditions come from the template.
    """
    declared = template.get("Parameters") or {}
    overrides: dict[str, str] = {}
    resources: dict[str, ResourceRef] = {}
    for key, value in names.items():
        if key.startswith("AWS::"):
            continue
        if key in declared:
            overrides[key] = ",".join(value) if isinstance(value, list) else str(value)
            continue
        logical_id, dot, attribute = key.partition(".")
        known = resources.setdefault(logical_id, ResourceRef(ref=""))
        if dot:
            known.attributes[attribute] = value
        else:
            known.ref = value
    return Resolver(
        template,
        region=str(names.get("AWS::Region", REGION)),
        account_id=str(names.get("AWS::AccountId", ACCOUNT)),
        stack_name=str(names.get("AWS::StackName", DEFAULT_STACK_NAME)),
        overrides=overrides,
        resources=resources,
    )


def template_env(template: dict[str, Any], stack: str) -> dict[str, str]:
    """The functions' environment exactly as the template's Globals set it, running as stack
    ``stack`` with the template's parameter defaults."""
    resolve = resolver(template, names(stack)).resolve
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {key: str(resolve(value, f"Globals.{key}")) for key, value in variables.items()}
    env["AWS_REGION"] = REGION
    return env


def create_buckets(s3: Any, template: Mapping[str, Any], names: Mapping[str, str]) -> None:
    """Buckets as template.yaml declares them (versioning included): ``names`` maps each
    bucket's logical id (``InputBucket``, ``QuarantineBucket``) to the name a test gives it."""
    for logical_id, name in names.items():
        s3.create_bucket(Bucket=name)
        properties = template["Resources"][logical_id].get("Properties") or {}
        status = (properties.get("VersioningConfiguration") or {}).get("Status")
        if status:
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": status})


def create_metadata_table(dynamodb: Any, template: Mapping[str, Any], name: str) -> None:
    """The metadata table as template.yaml declares it (keys, indexes, billing), named
    ``name``."""
    table = template["Resources"]["MetadataTable"]["Properties"]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        GlobalSecondaryIndexes=table["GlobalSecondaryIndexes"],
        BillingMode=table["BillingMode"],
    )


def create_uploads_table(dynamodb: Any, template: Mapping[str, Any], name: str) -> None:
    """The upload intents table as template.yaml declares it (key, TTL), named ``name``."""
    table = template["Resources"]["UploadsTable"]["Properties"]
    dynamodb.create_table(
        TableName=name,
        AttributeDefinitions=table["AttributeDefinitions"],
        KeySchema=table["KeySchema"],
        BillingMode=table["BillingMode"],
    )
    ttl = table["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": ttl["Enabled"], "AttributeName": ttl["AttributeName"]},
    )


@dataclass
class FakeContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str = "silent-scalper-test"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:silent-scalper-test"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (e.g. ``"states/type_check.json"``), parsed."""
    data = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def import_handler(
    name: str,
    module_name: str,
    register: Callable[[str, ModuleType], object] = sys.modules.__setitem__,
) -> ModuleType:
    """Import ``functions/<name>/app.py`` afresh as module ``module_name``.

    ``register`` puts the module in ``sys.modules`` before it runs (dataclasses and pydantic
    look their module up there); pass ``functools.partial(monkeypatch.setitem, sys.modules)``
    to have it removed after the test.
    """
    path = REPO / "functions" / name / "app.py"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    register(module_name, module)
    spec.loader.exec_module(module)
    return module
