"""POST /uploads refuses bad requests with 400 and a clear JSON error, never a traceback.

Each case goes through the real presign handler with the API Gateway HTTP API sample event
(events/api/presign-request.json), its body replaced by the hostile one.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from handler_support import load_event

SAFE_KEY = re.compile(r"^uploads/job\.v1/\d{4}-\d{2}-\d{2}/[0-9a-f]{32}/[A-Za-z0-9._-]+$")
GOOD = {"file_name": "jobs.csv", "size": 223, "content_type": "text/csv"}


@pytest.fixture
def presign(load_handler, context) -> Any:
    """``presign(body, base64=False)`` -> (status, parsed JSON body) via the real handler."""
    handler = load_handler("presign").handler

    def call(body: str | None, *, base64_encoded: bool = False) -> tuple[int, dict[str, Any]]:
        event = load_event("api/presign-request.json")
        event["body"] = body
        event["isBase64Encoded"] = base64_encoded
        response = handler(event, context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


def request(**changes: Any) -> str:
    body = {**GOOD, **changes}
    return json.dumps({k: v for k, v in body.items() if v is not ...})


def assert_refused(result: tuple[int, dict[str, Any]], code: str, field: str | None = None) -> str:
    status, body = result
    assert status == 400, body
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code, error
    assert error.get("field") == field, error
    message = str(error["message"])
    assert len(message.split()) >= 3, "the message says what to change"
    assert not any(ord(ch) < 32 for ch in message), "no control characters echoed back"
    if field is not None:
        assert field in message or field.replace("_", " ") in message, message
    return message


def test_given_a_good_request_when_presigned_then_201_and_a_server_chosen_key(presign):
    status, body = presign(request())
    assert status == 201
    assert SAFE_KEY.match(body["key"]), body["key"]


@pytest.mark.parametrize(
    "file_name",
    ["../../etc/passwd.csv", "uploads/../x.csv", "..\\..\\boot.csv", "a/b.csv", "/abs.csv", ".."],
)
def test_given_path_parts_in_the_file_name_when_presigning_then_path_traversal_is_refused(
    presign, file_name
):
    assert_refused(presign(request(file_name=file_name)), "PATH_TRAVERSAL", "file_name")


@pytest.mark.parametrize(
    "file_name",
    [
        "nul\x00.csv",
        "line\nbreak.csv",
        "tab\t.csv",
        "\x1b[31mred.csv",
        "del\x7f.csv",
        "rtl\u202evsc.csv",
        "zero\u200bwidth.csv",
        "para\u2029.csv",
    ],
    ids=["nul", "newline", "tab", "escape", "del", "rtl-override", "zero-width", "para-sep"],
)
def test_given_control_characters_in_the_file_name_when_presigning_then_they_are_refused(
    presign, file_name
):
    assert_refused(presign(request(file_name=file_name)), "CONTROL_CHARACTERS", "file_name")


@pytest.mark.parametrize(
    "file_name",
    [
        "%2e%2e%2fescape.csv",
        "..csv",
        "....csv",
        "~root.csv",
        "CON.csv",
        "é .csv",
        "..\uff0f..\uff0fetc.csv",  # fullwidth solidus: NFKD folds it to "/", then "_"
        "a\u2215b.csv",  # division slash
    ],
)
def test_given_odd_but_plain_names_when_presigned_then_the_key_stays_under_the_prefix(
    presign, file_name
):
    """Names that are plain file names are accepted; the key is built from a sanitised copy."""
    status, body = presign(request(file_name=file_name))
    assert status == 201, body
    assert SAFE_KEY.match(body["key"]), body["key"]
    assert ".." not in body["key"].rsplit("/", 1)[1].rsplit(".", 1)[0]


def test_given_a_file_name_over_255_characters_when_presigning_then_it_is_refused(presign):
    message = assert_refused(
        presign(request(file_name="a" * 300 + ".csv")), "INVALID_FILE_NAME", "file_name"
    )
    assert "255" in message


def test_given_a_declared_size_over_the_maximum_when_presigning_then_too_large_names_the_limit(
    presign, stack
):
    limit = int(stack.env["MAX_UPLOAD_BYTES"])
    message = assert_refused(presign(request(size=limit + 1)), "TOO_LARGE", "size")
    assert str(limit) in message


@pytest.mark.parametrize("size", [0, -1, "100", True, 1.5, None, 10**30])
def test_given_an_unusable_size_when_presigning_then_it_is_refused(presign, size):
    status, body = presign(request(size=size))
    assert status == 400
    expected = {None: "MISSING_FIELD", 10**30: "TOO_LARGE"}.get(size, "INVALID_SIZE")
    assert body["error"]["code"] == expected
    assert body["error"]["field"] == "size"


@pytest.mark.parametrize(
    ("file_name", "content_type", "field"),
    [
        ("setup.exe", "application/octet-stream", "file_name"),
        ("jobs.csv.exe", "text/csv", "file_name"),
        ("noextension", "text/csv", "file_name"),
        ("jobs.csv", "application/x-msdownload", "content_type"),
        ("jobs.json", "text/csv", "content_type"),
        ("jobs.csv", 5, "content_type"),
    ],
)
def test_given_an_unsupported_type_when_presigning_then_it_is_refused(
    presign, file_name, content_type, field
):
    result = presign(request(file_name=file_name, content_type=content_type))
    assert_refused(result, "UNSUPPORTED_TYPE", field)


@pytest.mark.parametrize("field", ["file_name", "size", "content_type"])
def test_given_a_missing_field_when_presigning_then_the_field_is_named(presign, field):
    assert_refused(presign(request(**{field: ...})), "MISSING_FIELD", field)


@pytest.mark.parametrize(
    ("body", "base64_encoded", "code"),
    [
        ("not json", False, "INVALID_JSON"),
        ('{"file_name": "a.csv",', False, "INVALID_JSON"),
        ("", False, "INVALID_BODY"),
        (None, False, "INVALID_BODY"),
        ("[1, 2]", False, "INVALID_BODY"),
        ('"jobs.csv"', False, "INVALID_BODY"),
        ("%%%not base64%%%", True, "INVALID_BODY"),
        (base64.b64encode(b"\xff\xfe\x00junk").decode(), True, "INVALID_JSON"),
        ("[" * 100_000, False, "INVALID_JSON"),
    ],
    ids=[
        "text",
        "truncated",
        "empty",
        "absent",
        "array",
        "string",
        "bad-base64",
        "binary",
        "deep-nesting",
    ],
)
def test_given_a_body_that_is_not_a_json_object_when_presigning_then_400_with_a_reason(
    presign, body, base64_encoded, code
):
    assert_refused(presign(body, base64_encoded=base64_encoded), code)
