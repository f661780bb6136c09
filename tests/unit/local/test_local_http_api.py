"""The template's HTTP API routes, in API Gateway's payload format 2.0."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any, cast

import pytest

from scalper.local.http_api import HttpApi
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.lambda_runtime import InvokeResult
from scalper.local.provision import Route

SIGNED = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host, Signature=0"  # noqa: E501


class Recorder:
    """Stands in for the Lambda endpoint: records events, answers with a set result."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.result = InvokeResult(b'{"statusCode": 201, "body": "{\\"ok\\": true}"}')

    def invoke(self, function: str, payload: dict[str, Any]) -> InvokeResult:
        self.events.append(payload)
        return self.result


@pytest.fixture
def api() -> Iterator[tuple[HttpApi, Recorder]]:
    server = HttpApi(account_id="123456789012")
    recorder = Recorder()
    routes = [
        Route("Api", "POST", "/uploads", "Presign", "AWS_IAM"),
        Route("Api", "GET", "/files/{id}", "Files", "NONE"),
    ]
    server.configure(routes, cast(LambdaEndpoint, recorder), api_id="abc123", stage="$default")
    try:
        yield server, recorder
    finally:
        server.stop()


def test_a_signed_post_becomes_a_v2_event_with_the_caller(api: tuple[HttpApi, Recorder]) -> None:
    """Given a SigV4-signed POST /uploads, then the function gets a payload 2.0 event with
    routeKey, lower-case headers, the body and the IAM caller, and its result is the
    response."""
    server, recorder = api
    status, headers, body = server.handle(
        "POST", "/uploads?x=1", {"authorization": SIGNED, "content-type": "application/json"},
        b'{"file_name": "a.csv"}', "127.0.0.1",
    )  # fmt: skip
    assert (status, json.loads(body)) == (201, {"ok": True})
    assert ("Content-Type", "application/json") in headers
    (event,) = recorder.events
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /uploads"
    assert event["rawPath"] == "/uploads"
    assert event["queryStringParameters"] == {"x": "1"}
    assert event["body"] == '{"file_name": "a.csv"}'
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["authorizer"]["iam"]["accessKey"] == "AKIDEXAMPLE"


def test_an_iam_route_refuses_an_unsigned_request(api: tuple[HttpApi, Recorder]) -> None:
    """Given no Authorization header on an AWS_IAM route, then 403 and no invocation."""
    server, recorder = api
    status, _, body = server.handle("POST", "/uploads", {}, b"{}", "127.0.0.1")
    assert (status, json.loads(body)) == (403, {"message": "Forbidden"})
    assert recorder.events == []


def test_path_parameters_and_unknown_routes(api: tuple[HttpApi, Recorder]) -> None:
    """Given GET /files/{id}, then the id is a path parameter; an unknown path is 404."""
    server, recorder = api
    server.handle("GET", "/files/42", {}, b"", "127.0.0.1")
    assert recorder.events[-1]["pathParameters"] == {"id": "42"}
    assert server.handle("GET", "/nothing", {}, b"", "127.0.0.1")[0] == 404


def test_a_function_error_is_an_internal_server_error(api: tuple[HttpApi, Recorder]) -> None:
    """Given the function fails, then API Gateway's 500 body, not the error, is returned."""
    server, recorder = api
    recorder.result = InvokeResult(b'{"errorType": "ValueError"}', "Unhandled")
    status, _, body = server.handle("GET", "/files/1", {}, b"", "127.0.0.1")
    assert (status, json.loads(body)) == (500, {"message": "Internal Server Error"})


def test_a_result_without_status_code_is_a_json_200(api: tuple[HttpApi, Recorder]) -> None:
    """Given the function returns plain JSON, then payload 2.0 makes it a 200 JSON body."""
    server, recorder = api
    recorder.result = InvokeResult(b'{"hello": "world"}')
    assert server.handle("GET", "/files/1", {}, b"", "127.0.0.1")[::2] == (
        200,
        b'{"hello": "world"}',
    )


def test_a_binary_body_is_base64_encoded(api: tuple[HttpApi, Recorder]) -> None:
    """Given a non-text content type, then the body reaches the function base64-encoded."""
    server, recorder = api
    server.handle(
        "GET", "/files/1", {"content-type": "application/octet-stream"}, b"\x00\x01", "::1"
    )
    assert (recorder.events[-1]["body"], recorder.events[-1]["isBase64Encoded"]) == ("AAE=", True)


@pytest.mark.parametrize("content_type", ["application/json", "text/plain; charset=utf-8"])
def test_a_text_body_that_is_not_utf8_is_base64_encoded_not_a_500(
    api: tuple[HttpApi, Recorder], content_type: str
) -> None:
    """API Gateway passes a body it cannot take for text base64-encoded; the function, not the
    gateway, then answers it."""
    server, recorder = api
    status, _, _ = server.handle(
        "POST", "/uploads", {"content-type": content_type, "authorization": SIGNED},
        b'{"file_name": "\xff\xfe.csv"}', "::1",
    )  # fmt: skip
    event = recorder.events[-1]
    assert status == 201
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b'{"file_name": "\xff\xfe.csv"}'
