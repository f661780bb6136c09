"""The Lambdas never log file contents or presigned POST signatures.

A sample run drives every handler (presign, then type_check -> validate_schema ->
extract_metadata -> write_metadata for a valid file and type_check -> validate_schema ->
quarantine for an invalid one) against moto, with the Powertools Logger at DEBUG, and searches
everything it wrote for canary values planted in the files and for the signed POST fields.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import boto3
import pytest
from handler_support import load_event
from silent_scalper.records import item_key

EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:silent-scalper-sec-pipeline:run-1"

#: Values that only exist inside the uploaded files.
CANARIES = ("CanaryJob7Q2Z", "canary-note-5b1e", "CanaryBad4K7P", "canarystatus9x", "canary-bad-31")

VALID_CSV = (
    b"job_id,submitted_at,customer_id,status,priority,amount,currency,notes\n"
    b"CanaryJob7Q2Z,2026-01-05T09:30:00Z,42,queued,2,19.99,EUR,canary-note-5b1e\n"
    b"JOB-0002,2026-01-05T10:00:00Z,42,running,1,5.00,EUR,plain\n"
)
INVALID_CSV = (
    b"job_id,submitted_at,customer_id,status,priority,amount,currency,notes\n"
    b"CanaryBad4K7P,2026-01-05T09:30:00Z,42,canarystatus9x,2,19.99,EUR,canary-bad-31\n"
    b"JOB-0002,canary-bad-31,42,running,9,5.00,EUR,x\n"
)


def log_lines(buffer: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def assert_clean(buffer: Any, secrets: tuple[str, ...]) -> list[dict[str, Any]]:
    text = buffer.getvalue()
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == [], f"logged: {leaked}"
    return log_lines(buffer)


def step_input(stack: Any, key: str, body: bytes, sequencer: str) -> dict[str, Any]:
    """A pipeline Lambda's base payload for an object really uploaded to moto, and its claim."""
    event = load_event("states/type_check.json")
    event["bucket"] = stack.env["INPUT_BUCKET"]
    event["object"].update(
        key=key, size=len(body), sequencer=sequencer, **{"version-id": stack.put(key, body)}
    )
    event["execution_arn"] = EXECUTION
    # What the state machine's Claim writes before any Lambda runs.
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=stack.env["METADATA_TABLE"],
        Item={
            "pk": {"S": item_key(event["bucket"], key)},
            "status": {"S": "PROCESSING"},
            "execution_arn": {"S": EXECUTION},
            "sequencer": {"S": sequencer},
        },
    )
    return event


def runner(load_handler: Any, context: Any) -> Any:
    """``run(function, payload)``: call a handler with a private copy of the payload."""
    return lambda name, payload: load_handler(name).handler(copy.deepcopy(payload), context)


def test_given_a_presign_run_when_logs_are_read_then_no_signature_or_policy_appears(
    load_handler, context, captured_logs
):
    event = load_event("api/presign-request.json")
    response = load_handler("presign").handler(event, context)
    assert response["statusCode"] == 201
    fields = json.loads(response["body"])["fields"]
    signed = tuple(
        value
        for name, value in fields.items()
        if name.lower() in {"policy", "x-amz-signature", "x-amz-credential", "x-amz-security-token"}
    )
    assert len(signed) >= 3, fields
    lines = assert_clean(captured_logs, signed)
    assert any(line["message"] == "upload presigned" for line in lines)
    assert "signature" not in captured_logs.getvalue().lower()


def test_given_a_refused_presign_request_when_logs_are_read_then_the_body_is_not_logged(
    load_handler, context, captured_logs
):
    event = load_event("api/presign-request.json")
    event["body"] = json.dumps(
        {"file_name": "../canary-path-77.csv", "size": 1, "content_type": "x"}
    )
    response = load_handler("presign").handler(event, context)
    assert response["statusCode"] == 400
    lines = assert_clean(captured_logs, ("canary-path-77",))
    assert any(line["message"] == "upload request refused" for line in lines)


def test_given_a_valid_file_through_every_step_when_logs_are_read_then_no_content_appears(
    stack, load_handler, context, captured_logs
):
    key = "uploads/2026-01-05/0f8fad5bd9cb469fa16570867728950e/canary-valid.csv"
    base = step_input(stack, key, VALID_CSV, "0065A1B2C3D4E5F601")
    type_check = load_handler("type_check").handler(copy.deepcopy(base), context)
    assert type_check["ok"] is True
    validation = load_handler("validate_schema").handler(
        {**base, "type_check": type_check}, context
    )
    assert validation["valid"] is True, validation
    extracted = load_handler("extract_metadata").handler(
        {**base, "summary": validation["summary"], "key": type_check["key"]}, context
    )
    outcome = load_handler("write_metadata").handler(
        {**base, "record": extracted["record"]}, context
    )
    assert outcome["status"] == "VALID"
    lines = assert_clean(captured_logs, CANARIES)
    assert {"type checked", "validated", "metadata extracted", "recorded VALID"} <= {
        line["message"] for line in lines
    }


def test_given_an_invalid_file_quarantined_when_logs_are_read_then_no_content_appears(
    stack, load_handler, context, captured_logs
):
    """Error messages name the offending value (for the report); the logs must not carry them."""
    key = "uploads/2026-01-05/7c9e6679742540de944be07fc1f90ae7/canary-invalid.csv"
    base = step_input(stack, key, INVALID_CSV, "0065A1B2C3D4E5F7A2")
    type_check = load_handler("type_check").handler(copy.deepcopy(base), context)
    validation = load_handler("validate_schema").handler(
        {**base, "type_check": type_check}, context
    )
    assert validation["valid"] is False
    assert "canarystatus9x" in json.dumps(validation), "the report does carry the value"
    outcome = load_handler("quarantine").handler(
        {**base, "type_check": type_check, "validation": validation}, context
    )
    assert outcome["status"] == "QUARANTINED"
    lines = assert_clean(captured_logs, CANARIES)
    assert {"validated", "recorded QUARANTINED"} <= {line["message"] for line in lines}


@pytest.mark.parametrize("body", [b"\x00\x01CanaryJob7Q2Z\x00", b"PK\x03\x04canary-note-5b1e"])
def test_given_a_binary_file_renamed_csv_when_type_checked_then_its_bytes_are_not_logged(
    stack, load_handler, context, captured_logs, body
):
    key = f"uploads/2026-01-05/{body[:2].hex()}00000000000000000000000000000/binary.csv"
    base = step_input(stack, key, body, "0065A1B2C3D4E5F7B3")
    result = load_handler("type_check").handler(base, context)
    assert result["ok"] is False
    assert_clean(captured_logs, CANARIES)
