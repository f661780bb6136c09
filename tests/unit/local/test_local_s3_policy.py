"""Presigned-POST policies checked as S3 checks them (moto does not)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.config import Config
from werkzeug.test import EnvironBuilder

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
