"""Every AWS call a handler makes is allowed by that function's policy in template.yaml.

moto enforces no IAM, so a handler that starts calling a new API passes every local test and
fails with AccessDenied once deployed. Here each handler runs its sample scenario with its
boto3 clients recorded; every operation becomes the IAM actions AWS checks for it (a versioned
GET is ``s3:GetObjectVersion``, a copy reads the source and writes the target, ...), and each
must appear in the function's ``Policies`` statements.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest
from sam_template import resource

FUNCTIONS = {
    "type_check": "TypeCheckFunction",
    "validate_schema": "ValidateSchemaFunction",
    "extract_metadata": "ExtractMetadataFunction",
    "write_metadata": "WriteMetadataFunction",
    "quarantine": "QuarantineFunction",
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
