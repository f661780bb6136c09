"""Every AWS call a handler makes is allowed by that function's policy in template.yaml.

moto enforces no IAM, so a handler that starts calling a new API passes every local test and
fails with AccessDenied once deployed. Here each handler runs its sample scenario with its
boto3 clients recorded; every operation becomes the IAM actions AWS checks for it (a versioned
GET is ``s3:GetObjectVersion``, a copy reads the source and writes the target, ...), and each
must appear in the function's ``Policies`` statements.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from types import ModuleType
from typing import Any

import boto3
import pytest
from sam_template import resource

FUNCTIONS = {
    "type_check": "TypeCheckFunction",
    "validate_schema": "ValidateSchemaFunction",
    "extract_metadata": "ExtractMetadataFunction",
    "write_metadata": "WriteMetadataFunction",
    "quarantine": "QuarantineFunction",
    "record_failure": "RecordFailureFunction",
}


def actions_for(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions AWS authorises for one API call."""
    versioned = bool(params.get("VersionId"))
    if service == "s3":
        if operation in {"GetObject", "HeadObject"}:
            return {"s3:GetObjectVersion" if versioned else "s3:GetObject"}
        if operation == "CopyObject":
            source = params.get("CopySource")
            source_versioned = isinstance(source, dict) and bool(source.get("VersionId"))
            source_versioned |= isinstance(source, str) and "versionId=" in source
            read = "s3:GetObjectVersion" if source_versioned else "s3:GetObject"
            write = {"s3:PutObject"} | ({"s3:PutObjectTagging"} if params.get("Tagging") else set())
            return {read} | write
        if operation == "PutObject":
            return {"s3:PutObject"} | ({"s3:PutObjectTagging"} if params.get("Tagging") else set())
        if operation == "PutObjectTagging":
            return {"s3:PutObjectVersionTagging" if versioned else "s3:PutObjectTagging"}
    return {f"{service}:{operation}"}


def granted(template: dict[str, Any], logical_id: str) -> set[str]:
    actions: set[str] = set()
    for policy in resource(template, logical_id).get("Policies", []):
        for statement in policy["Statement"]:
            if statement["Effect"] == "Allow":
                value = statement["Action"]
                actions.update(value if isinstance(value, list) else [value])
    return actions


def record_calls(module: ModuleType) -> set[str]:
    """Hook every boto3 client the handler module created; returns the live set of actions."""
    seen: set[str] = set()
    for value in vars(module).values():
        meta = getattr(value, "meta", None)
        if meta is None or not hasattr(meta, "events") or not hasattr(meta, "service_model"):
            continue
        service = meta.service_model.service_name

        def on_call(params: dict[str, Any], model: Any, service: str = service, **_: Any) -> None:
            seen.update(actions_for(service, model.name, params))

        meta.events.register("provide-client-params", on_call)
    return seen


#: handler -> (its sample state input, the object it reads)
SCENARIOS = {
    "type_check": ("states/type_check.json", "jobs-valid.csv"),
    "validate_schema": ("states/validate_schema.json", "jobs-valid.csv"),
    "extract_metadata": ("states/extract_metadata.json", "jobs-valid.csv"),
    "write_metadata": ("states/write_metadata.json", "jobs-valid.csv"),
    "quarantine": ("states/quarantine.json", "jobs-invalid.csv"),
}


@pytest.fixture
def run_recorded(load_handler, object_event, claim, context):
    """``run_recorded(name)``: run a handler's sample scenario; the IAM actions it needed."""

    def run(name: str) -> set[str]:
        state_event, body_file = SCENARIOS[name]
        payload = object_event(state_event, body_file)
        if "record" in payload:
            payload["record"]["version_id"] = payload["object"]["version-id"]
        claim(payload)
        module = load_handler(name)
        seen = record_calls(module)
        module.handler(payload, context)
        return seen

    return run


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_call_a_handler_makes_is_granted_by_its_policy(template, run_recorded, name):
    seen = run_recorded(name)
    missing = seen - granted(template, FUNCTIONS[name])
    assert not missing, f"{FUNCTIONS[name]} calls {sorted(missing)} its policy does not allow"
    if name != "extract_metadata":
        assert seen, "the recorder saw no calls: the hook is not attached"


def test_every_call_the_failure_recorder_makes_on_the_express_feed_is_granted(
    template, load_handler, stack, event, context
):
    """The Logs-subscription feed: FilterLogEvents, the record, the object's head and tag,
    the alert."""
    execution_log = event("logs/execution-log.json")["events"]
    started = json.loads(execution_log[0]["details"]["input"])
    obj = started["detail"]["object"]
    obj["version-id"] = stack.put(obj["key"], b"job_id\nJOB-1\n")
    execution_log[0]["details"]["input"] = json.dumps(started)
    now = int(time.time() * 1000)
    logs = boto3.client("logs", region_name="us-east-1")
    group = "/aws/vendedlogs/states/silent-scalper-dev-pipeline"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    logs.put_log_events(
        logGroupName=group,
        logStreamName="s",
        logEvents=[{"timestamp": now, "message": json.dumps(e)} for e in execution_log],
    )
    batch = {
        "messageType": "DATA_MESSAGE",
        "logGroup": group,
        "logEvents": [{"id": "1", "timestamp": now, "message": json.dumps(execution_log[-1])}],
    }
    data = base64.b64encode(gzip.compress(json.dumps(batch).encode())).decode()
    module = load_handler("record_failure")
    seen = record_calls(module)
    assert module.handler({"awslogs": {"data": data}}, context)["outcomes"][0]["recorded"]
    missing = seen - granted(template, "RecordFailureFunction")
    assert not missing, f"RecordFailureFunction calls {sorted(missing)} its policy does not allow"
    assert {"logs:FilterLogEvents", "dynamodb:UpdateItem", "sns:Publish"} <= seen
