"""Presigned-POST policies checked as S3 checks them (moto does not)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder

from scalper.local import moto_internals, s3_policy
from scalper.local.s3_policy import PolicyViolationError, PostPolicyMiddleware, check_post_policy

SECRETS = {"testing": "testing"}
BUCKET = "in-bucket"
KEY = "uploads/2026-11-25/abc/jobs.csv"


def presigned(conditions: list[Any] | None = None, expires_in: int = 900) -> dict[str, str]:
    """A presigned POST built by boto3 the way the presign function builds one."""
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(signature_version="s3v4"),
    )
    post = s3.generate_presigned_post(
        BUCKET,
        KEY,
        Fields={"Content-Type": "text/csv"},
        Conditions=conditions
        if conditions is not None
        else [{"Content-Type": "text/csv"}, ["content-length-range", 1, 1000]],
        ExpiresIn=expires_in,
    )
    fields: dict[str, str] = post["fields"]
    return fields


def check(fields: dict[str, str], size: int = 10, **kwargs: Any) -> None:
    check_post_policy(
        BUCKET, fields, file_size=size, filename="jobs.csv", secrets=SECRETS, **kwargs
    )


def test_a_post_matching_its_policy_is_accepted() -> None:
    """Given the fields boto3 signed and a size in range, then nothing is raised."""
    check(presigned())


@pytest.mark.parametrize(
    ("change", "status", "code", "message"),
    [
        ({"Content-Type": "application/json"}, 403, "AccessDenied", "Policy Condition failed"),
        ({"key": "uploads/elsewhere.csv"}, 403, "AccessDenied", "Policy Condition failed"),
        ({"x-amz-meta-extra": "1"}, 403, "AccessDenied", "Extra input fields: x-amz-meta-extra"),
        ({"x-amz-signature": "0" * 64}, 403, "SignatureDoesNotMatch", "signature"),
    ],
)
def test_a_changed_field_is_refused_with_s3s_error(
    change: dict[str, str], status: int, code: str, message: str
) -> None:
    """Given a field changed after signing, then S3's error code explains the refusal."""
    with pytest.raises(PolicyViolationError) as refused:
        check({**presigned(), **change})
    assert (refused.value.status, refused.value.code) == (status, code)
    assert message in refused.value.message


@pytest.mark.parametrize(("size", "code"), [(1001, "EntityTooLarge"), (0, "EntityTooSmall")])
def test_the_content_length_range_bounds_the_file(size: int, code: str) -> None:
    """Given content-length-range 1..1000, then 0 and 1001 bytes are refused."""
    with pytest.raises(PolicyViolationError) as refused:
        check(presigned(), size=size)
    assert (refused.value.status, refused.value.code) == (400, code)


def test_an_expired_policy_is_refused() -> None:
    """Given the policy's expiration has passed, then the POST is refused as expired."""
    later = datetime.now(UTC) + timedelta(minutes=16)
    with pytest.raises(PolicyViolationError, match="Policy expired"):
        check(presigned(expires_in=900), now=later)


def test_an_unknown_access_key_is_refused() -> None:
    """Given credentials the stack does not know, then S3 says the key does not exist."""
    fields = presigned()
    with pytest.raises(PolicyViolationError) as refused:
        check_post_policy(
            BUCKET, fields, file_size=10, filename="jobs.csv", secrets={"other": "secret"}
        )
    assert refused.value.code == "InvalidAccessKeyId"


def test_a_legacy_sigv2_policy_is_checked_too() -> None:
    """Given a SigV2 presigned POST (AWSAccessKeyId + signature), then it is verified."""
    s3 = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    fields = s3.generate_presigned_post(BUCKET, KEY)["fields"]
    assert "AWSAccessKeyId" in fields
    check(fields)
    with pytest.raises(PolicyViolationError, match="signature"):
        check({**fields, "signature": "forged"})


def test_starts_with_conditions_accept_any_value_with_the_prefix() -> None:
    """Given ["starts-with", "$Content-Type", "text/"], then text/csv passes."""
    check(presigned([["starts-with", "$Content-Type", "text/"], ["content-length-range", 1, 99]]))


# ---------------------------------------------------------------- the WSGI gate in front of moto


def post_through_gate(
    fields: dict[str, str], *, query: str = "", content_type: str | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """POST a form to the bucket through `PostPolicyMiddleware`; (status, requests moto saw)."""
    data: dict[str, Any] = {**fields, "file": (io.BytesIO(b"<html>owned</html>"), "x.html")}
    builder = EnvironBuilder(path=f"/{BUCKET}", method="POST", query_string=query, data=data)
    environ = builder.get_environ()
    if content_type is not None:
        boundary = environ["CONTENT_TYPE"].split("boundary=", 1)[1]
        environ["CONTENT_TYPE"] = f"{content_type}; boundary={boundary}"
    reached: list[dict[str, Any]] = []

    def moto(env: dict[str, Any], start_response: Any) -> list[bytes]:
        reached.append(env)
        start_response("204 No Content", [])
        return [b""]

    statuses: list[str] = []
    gate = PostPolicyMiddleware(moto, SECRETS)
    b"".join(gate(environ, lambda status, headers: statuses.append(status)))
    return statuses[0], reached


@pytest.mark.parametrize(
    ("query", "content_type"),
    [
        pytest.param("x=1", None, id="a query string"),
        pytest.param("", "Multipart/Form-Data", id="the content type in another case"),
        pytest.param("uploads", "MULTIPART/FORM-DATA", id="both"),
    ],
)
def test_given_a_post_with_no_policy_when_it_dresses_up_then_it_is_still_refused(
    query: str, content_type: str | None
) -> None:
    """S3 treats every POST to a bucket as a browser upload: no policy, no object."""
    status, reached = post_through_gate(
        {"key": "anything.html", "Content-Type": "text/html"},
        query=query,
        content_type=content_type,
    )
    assert status.startswith("403")
    assert reached == [], "moto must never see it"


def test_given_a_signed_post_with_a_query_string_then_it_is_checked_and_let_through() -> None:
    fields = presigned([["content-length-range", 1, 1000]])
    fields.pop("Content-Type")
    status, reached = post_through_gate(fields, query="x=1")
    assert status.startswith("204")
    assert len(reached) == 1


def test_given_a_post_that_is_not_a_form_then_s3s_precondition_error() -> None:
    gate = PostPolicyMiddleware(lambda env, start: [], SECRETS)
    environ = EnvironBuilder(
        path=f"/{BUCKET}", method="POST", data=b"<html/>", content_type="text/html"
    ).get_environ()
    statuses: list[str] = []
    body = b"".join(gate(environ, lambda status, headers: statuses.append(status)))
    assert statuses == ["412 Precondition Failed"]
    assert b"multipart/form-data" in body


def test_given_delete_objects_then_the_api_call_passes_untouched() -> None:
    reached: list[str] = []
    gate = PostPolicyMiddleware(
        lambda env, start: reached.append(env["QUERY_STRING"]) or [], SECRETS
    )
    environ = EnvironBuilder(path=f"/{BUCKET}", method="POST", query_string="delete").get_environ()
    list(gate(environ, lambda status, headers: None))
    assert reached == ["delete"]


def _upload_to_moto(
    reuse: bool, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str] | None = None
) -> tuple[str, int, Any]:
    """POST a presigned upload through the middleware to moto's server application (with
    or without the parsed form handed on): (status, form parses, the stored object)."""
    parses: list[object] = []
    original = FormDataParser.parse

    def counted(self: FormDataParser, *args: Any, **kwargs: Any) -> Any:
        parses.append(self)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FormDataParser, "parse", counted)
    extra = {"x-amz-meta-note": "kept", **(extra or {})}
    conditions: list[Any] = [["starts-with", f"${name}", ""] for name in extra]
    fields = {**presigned([{"Content-Type": "text/csv"}, *conditions]), **extra}
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        if reuse:
            s3_policy.reuse_parsed_forms()
            parsing = moto_internals.server_form_parsing()
        try:
            gate = PostPolicyMiddleware(
                moto_internals.server_application(),
                SECRETS,
                form_parsing=parsing if reuse else None,
            )
            data: dict[str, Any] = {**fields, "file": (io.BytesIO(b"id,n\n1,2\n"), "jobs.csv")}
            environ = EnvironBuilder(
                path=f"/{BUCKET}", method="POST", data=data, base_url="http://127.0.0.1:4566"
            ).get_environ()
            statuses: list[str] = []
            b"".join(gate(environ, lambda status, headers: statuses.append(status)))
        finally:
            s3_policy.restore_form_parsing()
        stored: Any = None
        if statuses[0].startswith("2"):
            got = s3.get_object(Bucket=BUCKET, Key=KEY)
            stored = (got["Body"].read(), got["ContentType"], got["Metadata"])
    return statuses[0], len(parses), stored


def test_given_moto_behind_the_gate_then_a_browser_upload_is_parsed_once_and_stored_alike(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a presigned upload through the gate to moto's server application, when the gate
    hands its parsed form on, then the body is parsed once instead of twice and moto
    answers and stores exactly what it does when it parses the body itself."""
    handed_on = _upload_to_moto(True, monkeypatch)
    parsed_twice = _upload_to_moto(False, monkeypatch)
    assert handed_on[1] == 1
    assert parsed_twice[1] == 2
    assert handed_on[0] == parsed_twice[0]
    assert handed_on[2] == parsed_twice[2] == (b"id,n\n1,2\n", "text/csv", {"note": "kept"})


def test_given_a_form_past_motos_limits_then_moto_still_parses_and_refuses_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a form with more parts than moto's server parses (every field signed), then
    the gate passes the body on unparsed and moto refuses it as it does alone."""
    parts = moto_internals.server_form_parsing()["max_form_parts"] or 0
    big = {f"x-amz-meta-f{i}": "v" for i in range(parts)}
    handed_on = _upload_to_moto(True, monkeypatch, big)
    parsed_twice = _upload_to_moto(False, monkeypatch, big)
    assert handed_on[0] == parsed_twice[0] == "413 REQUEST ENTITY TOO LARGE"
    assert handed_on[2] is parsed_twice[2] is None
