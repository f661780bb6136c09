"""POST /uploads: the presign handler against the API Gateway HTTP API (v2) sample event.

moto does not enforce presigned-POST policies, so the policy is decoded and its conditions
asserted here: they are what S3 enforces in AWS.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

import pytest

KEY_PATTERN = re.compile(r"^uploads/job\.v1/\d{4}-\d{2}-\d{2}/[0-9a-f]{32}/[A-Za-z0-9._-]+$")


def request(event: Any, body: Any, *, raw: bool = False) -> dict[str, Any]:
    payload = event("api/presign-request.json")
    payload["body"] = body if raw else json.dumps(body)
    return payload


def call(load_handler: Any, context: Any, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = load_handler("presign").handler(payload, context)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"])


@pytest.fixture
def presign(load_handler: Any, context: Any) -> Any:
    """``presign(payload)`` -> (status code, parsed JSON body) through the real handler."""
    return lambda payload: call(load_handler, context, payload)


def decode_policy(fields: dict[str, str]) -> dict[str, Any]:
    policy = json.loads(base64.b64decode(fields["policy"]))
    assert isinstance(policy, dict)
    return policy


def test_given_a_good_request_when_presigned_then_the_policy_pins_key_type_and_size(
    load_handler, context, event, stack
):
    payload = event("api/presign-request.json")
    status, body = call(load_handler, context, payload)
    assert status == 201
    assert KEY_PATTERN.match(body["key"]), body["key"]
    assert body["key"].endswith("/jobs-valid.csv")
    assert body["bucket"] == stack.settings.input_bucket
    assert body["max_bytes"] == stack.settings.max_upload_bytes
    assert body["fields"]["key"] == body["key"]
    assert body["fields"]["Content-Type"] == "text/csv"
    policy = decode_policy(body["fields"])
    conditions = policy["conditions"]
    assert {"bucket": stack.settings.input_bucket} in conditions
    assert {"key": body["key"]} in conditions
    assert {"Content-Type": "text/csv"} in conditions
    assert ["content-length-range", 1, stack.settings.max_upload_bytes] in conditions
    expiration = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    lifetime = (expiration - datetime.now(UTC)).total_seconds()
    assert 0 < lifetime <= stack.settings.upload_url_ttl_seconds
    assert body["upload_id"] in body["key"]


def test_given_a_presigned_post_when_logged_then_no_signature_reaches_the_logs(
    load_handler, context, event, caplog
):
    caplog.set_level(logging.DEBUG)
    status, body = call(load_handler, context, event("api/presign-request.json"))
    assert status == 201
    logs = "\n".join(repr(vars(record)) for record in caplog.records)
    assert "upload presigned" in logs
    assert body["key"] in logs
    assert body["fields"]["x-amz-signature"] not in logs
    assert body["fields"]["policy"] not in logs


def test_given_an_unsafe_file_name_when_presigned_then_the_key_holds_a_sanitised_name(
    load_handler, context, event
):
    payload = request(
        event, {"file_name": "Jöbs März (final) #2.CSV", "size": 10, "content_type": "text/csv"}
    )
    status, body = call(load_handler, context, payload)
    assert status == 201
    assert body["key"].endswith("/Jobs_Marz_final_2.csv")
    assert KEY_PATTERN.match(body["key"])


def test_given_a_base64_body_when_presigned_then_it_is_decoded(load_handler, context, event):
    payload = event("api/presign-request.json")
    payload["body"] = base64.b64encode(payload["body"].encode()).decode()
    payload["isBase64Encoded"] = True
    status, _ = call(load_handler, context, payload)
    assert status == 201


@pytest.mark.parametrize("raw", [b'{"file_name": "\xff\xfe.csv"}', b"\xff\xfe\x00{"])
def test_given_a_body_that_is_not_utf8_when_presigned_then_400_not_a_crash(
    load_handler, context, event, raw
):
    """API Gateway passes such a body base64-encoded (the local HTTP API too)."""
    payload = event("api/presign-request.json")
    payload["body"] = base64.b64encode(raw).decode()
    payload["isBase64Encoded"] = True
    status, body = call(load_handler, context, payload)
    assert status == 400
    assert body["error"]["code"] == "INVALID_JSON"


MISSING = object()


def good_body(**changes: Any) -> dict[str, Any]:
    """A request body that presigns, with ``changes``: each bad row shows only what is wrong
    (a field set to ``MISSING`` is left out)."""
    body = {"file_name": "jobs.csv", "size": 10, "content_type": "text/csv", **changes}
    return {name: value for name, value in body.items() if value is not MISSING}


BAD_REQUESTS = [
    pytest.param("not json at all", "INVALID_JSON", None, id="not-json"),
    pytest.param("", "INVALID_BODY", None, id="empty-body"),
    pytest.param("[1, 2]", "INVALID_BODY", None, id="array-body"),
    pytest.param("[" * 100_000, "INVALID_JSON", None, id="deep-nesting"),
    pytest.param(good_body(file_name=MISSING), "MISSING_FIELD", "file_name", id="no-name"),
    pytest.param(good_body(size=MISSING), "MISSING_FIELD", "size", id="no-size"),
    pytest.param(good_body(content_type=MISSING), "MISSING_FIELD", "content_type", id="no-type"),
    pytest.param(
        good_body(file_name="../../etc/passwd.csv"), "PATH_TRAVERSAL", "file_name", id="traversal"
    ),
    pytest.param(
        good_body(file_name="..\\secrets.csv"), "PATH_TRAVERSAL", "file_name", id="backslash"
    ),
    pytest.param(good_body(file_name="jobs\x00.csv"), "CONTROL_CHARACTERS", "file_name", id="nul"),
    pytest.param(
        good_body(file_name="jobs\u202ecsv.exe.csv"),
        "CONTROL_CHARACTERS",
        "file_name",
        id="bidi-override",
    ),
    pytest.param(good_body(size=10**12), "TOO_LARGE", "size", id="oversize"),
    pytest.param(good_body(size=0), "INVALID_SIZE", "size", id="empty-file"),
    pytest.param(good_body(size="10"), "INVALID_SIZE", "size", id="size-string"),
    pytest.param(
        good_body(file_name="jobs.exe", content_type="application/octet-stream"),
        "UNSUPPORTED_TYPE",
        "file_name",
        id="bad-extension",
    ),
    pytest.param(
        good_body(content_type="application/zip"),
        "UNSUPPORTED_TYPE",
        "content_type",
        id="type-mismatch",
    ),
    pytest.param(
        good_body(file_name="x" * 300 + ".csv"), "INVALID_FILE_NAME", "file_name", id="long-name"
    ),
    pytest.param(good_body(schema="nope.v9"), "UNKNOWN_SCHEMA", "schema", id="unknown-schema"),
    pytest.param(good_body(schema="../job.v1"), "INVALID_SCHEMA", "schema", id="schema-path"),
    pytest.param(good_body(schema=7), "INVALID_SCHEMA", "schema", id="schema-number"),
    # "any" checks nothing: only an allow-list (or SchemaName) can open it to clients.
    pytest.param(good_body(schema="any"), "SCHEMA_NOT_ALLOWED", "schema", id="schema-any"),
]


@pytest.mark.parametrize(("body", "code", "field"), BAD_REQUESTS)
def test_given_a_bad_request_when_presigned_then_400_with_code_and_field(
    presign, event, body, code, field
):
    payload = request(event, body, raw=isinstance(body, str))
    status, response = presign(payload)
    assert status == 400
    error = response["error"]
    assert error["code"] == code
    assert error.get("field") == field
    assert error["message"]


def test_given_a_schema_when_presigned_then_the_key_and_policy_pin_its_segment(
    load_handler, context, event
):
    """Given schema invoice.v1, when presigned, then the key is
    <prefix>invoice.v1/<date>/<id>/<name>, the response names the schema, and the policy's
    exact key condition means a client cannot move the file under another schema."""
    status, body = call(load_handler, context, request(event, good_body(schema="invoice.v1")))
    assert status == 201
    assert body["schema"] == "invoice.v1"
    assert re.match(rf"^uploads/invoice\.v1/\d{{4}}-\d{{2}}-\d{{2}}/{body['upload_id']}/jobs\.csv$",
                    body["key"])  # fmt: skip
    assert {"key": body["key"]} in decode_policy(body["fields"])["conditions"]


def test_given_no_schema_when_presigned_then_the_stack_default_is_pinned(
    load_handler, context, event, stack
):
    status, body = call(load_handler, context, event("api/presign-request.json"))
    assert status == 201
    assert body["schema"] == stack.settings.schema_name == "job.v1"
    assert body["key"].startswith("uploads/job.v1/")


def test_given_an_allow_list_when_another_schema_is_asked_then_it_is_refused(
    load_handler, context, event, stack, monkeypatch
):
    """Given AllowedSchemas=invoice.v1, then job.v1 (the default) and invoice.v1 are accepted
    and a schema of the registry outside the list is not."""
    stack.env["ALLOWED_SCHEMAS"] = "invoice.v1"
    handler = load_handler("presign").handler
    assert handler(request(event, good_body(schema="invoice.v1")), context)["statusCode"] == 201
    assert handler(request(event, good_body(schema="job.v1")), context)["statusCode"] == 201
    stack.env["ALLOWED_SCHEMAS"] = "job.v1"
    response = load_handler("presign").handler(
        request(event, good_body(schema="invoice.v1")), context
    )
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"]["code"] == "SCHEMA_NOT_ALLOWED"


def test_given_a_presign_then_an_intent_with_key_schema_uploader_and_ttl_is_stored(
    load_handler, context, event, stack
):
    """Given a presign by an IAM caller, then the upload's intent (read back by
    GET /uploads/{id}) holds the key, schema and uploader, and expires after UploadStatusDays."""
    status, body = call(load_handler, context, request(event, good_body(schema="invoice.v1")))
    assert status == 201
    item = stack.dynamodb.get_item(
        TableName=stack.settings.uploads_table, Key={"upload_id": {"S": body["upload_id"]}}
    )["Item"]
    assert item["key"]["S"] == body["key"]
    assert item["schema_name"]["S"] == "invoice.v1"
    assert item["uploader"]["M"]["kind"]["S"] == "IAM"
    ttl = int(item["expires_at"]["N"]) - datetime.now(UTC).timestamp()
    days = stack.settings.upload_status_days
    assert days * 86400 - 60 < ttl <= days * 86400
