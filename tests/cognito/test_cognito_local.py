"""AuthMode=COGNITO end to end on the local stack, as an uploader uses it.

An administrator invites a user (temporary password, as the pool only allows); the user
signs in with `scalper login` (SRP, choosing a new password), uploads with `scalper
upload --token-file`, and the file's final record names the user's Cognito ``sub`` as its
uploader. IAM-signed requests and tokens of another app client are refused with API
Gateway's 401.
"""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.credentials import Credentials
from rich.console import Console
from silent_scalper.records import item_key

from scalper.cli import EXIT_OK, main
from scalper.cli.demo import collect, demo_token, run_files
from scalper.cli.upload import UploadError, request_upload
from scalper.cognito import sign_in
from scalper.local import LocalStack
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "valid" / "jobs.csv"
EMAIL = "uploader@example.com"
TEMPORARY = "Temporary-Pass-1!"
CHOSEN = "Chosen-Passw0rd-2?"
WAIT_SECONDS = 120.0


def outputs(stack: LocalStack) -> dict[str, Any]:
    assert stack.provisioned is not None
    return stack.provisioned.outputs


def record_of(stack: LocalStack, key: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(stack.input_bucket, key)}},
        ConsistentRead=True,
    )
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in (item.get("Item") or {}).items()}


def presign(stack: LocalStack, **auth: Any) -> dict[str, Any]:
    return request_upload(
        stack.api_url, file_name="jobs.csv", size=SAMPLE.stat().st_size,
        content_type="text/csv", region="us-east-1", **auth,
    )  # fmt: skip


def test_given_cognito_mode_then_post_uploads_is_a_jwt_route_of_the_stack_s_pool(
    cognito_stack: LocalStack,
) -> None:
    """Given AuthMode=COGNITO, then the route's security comes from the OpenAPI body
    (CognitoAuthorizer, the stack's pool and client), not DefaultAuthorizer's AWS_IAM."""
    assert cognito_stack.provisioned is not None
    (route,) = [r for r in cognito_stack.provisioned.routes if r.method == "POST"]
    pool, client = outputs(cognito_stack)["UserPoolId"], outputs(cognito_stack)["UserPoolClientId"]
    assert (route.method, route.path, route.auth) == ("POST", "/uploads", "JWT")
    assert route.authorizer is not None
    assert route.authorizer.issuer == f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    assert route.authorizer.audience == (client,)
    assert not any("SigV4" in gap or "Cognito::User" in gap for gap in cognito_stack.gaps)
    assert any(gap.startswith("Cognito (moto)") for gap in cognito_stack.gaps)
    assert cognito_stack.env["SCALPER_USER_POOL_ID"] == pool


def test_given_an_invited_user_then_login_and_upload_record_the_user_as_uploader(
    cognito_stack: LocalStack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given a user an administrator created, when they `scalper login` (choosing a new
    password) and `scalper upload --token-file`, then the file ends VALID and its record's
    uploader is ``COGNITO`` with the user's ``sub``."""
    idp = cognito_stack.client("cognito-idp")
    pool = outputs(cognito_stack)["UserPoolId"]
    created = idp.admin_create_user(
        UserPoolId=pool, Username=EMAIL, TemporaryPassword=TEMPORARY, MessageAction="SUPPRESS"
    )["User"]
    sub = next(a["Value"] for a in created["Attributes"] if a["Name"] == "sub")
    for name, value in cognito_stack.env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SCALPER_PASSWORD", TEMPORARY)
    monkeypatch.setenv("SCALPER_NEW_PASSWORD", CHOSEN)
    token_file = tmp_path / "token.jwt"

    assert main(["login", "--username", EMAIL, "--out", str(token_file)]) == EXIT_OK
    assert main(["upload", "--token-file", str(token_file), str(SAMPLE)]) == EXIT_OK

    landed = re.search(r"-> s3://[^/]+/(\S+)", capsys.readouterr().out)
    assert landed is not None
    key = landed.group(1)
    report = cognito_stack.wait_for_keys([key], timeout=WAIT_SECONDS)[key]
    assert report.status == "SUCCEEDED"
    record = record_of(cognito_stack, key)
    assert record["status"] == "VALID"
    assert record["uploader"]["kind"] == "COGNITO"
    assert record["uploader"]["principal"] == sub
    assert idp.admin_get_user(UserPoolId=pool, Username=EMAIL)["UserStatus"] == "CONFIRMED"


def test_given_an_iam_signed_request_then_the_cognito_api_answers_401(
    cognito_stack: LocalStack,
) -> None:
    """Given SigV4 credentials (AuthMode=IAM's way), then 401 Unauthorized, and the
    client says the API wants a Cognito token."""
    with pytest.raises(UploadError) as refused:
        presign(cognito_stack, credentials=Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY))
    assert refused.value.code == "HTTP 401"
    assert "AuthMode=COGNITO" in refused.value.message


def test_given_a_token_of_another_app_client_then_401_invalid_audience(
    cognito_stack: LocalStack,
) -> None:
    """Given a valid token of the same pool but another app client, then API Gateway's
    audience check refuses it."""
    idp = cognito_stack.client("cognito-idp")
    pool = outputs(cognito_stack)["UserPoolId"]
    other = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="not-the-uploads-client",
        ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH"],
    )
    cognito_stack.add_user("other-client@example.com", CHOSEN)
    tokens = sign_in(
        idp, user_pool_id=pool, client_id=other["UserPoolClient"]["ClientId"],
        username="other-client@example.com", password=CHOSEN,
    )  # fmt: skip
    with pytest.raises(UploadError, match="valid audience"):
        presign(cognito_stack, credentials=None, token=tokens.id_token)


def test_given_cognito_mode_then_the_demo_signs_a_demo_user_in(cognito_stack: LocalStack) -> None:
    """Given the demo on a COGNITO stack, then it gets a token the API accepts, and the
    presigned POST pins a COGNITO uploader."""
    token = demo_token(cognito_stack)
    assert token is not None
    fields = presign(cognito_stack, credentials=None, token=token)["fields"]
    assert fields["x-amz-meta-uploader-kind"] == "COGNITO"


def test_given_cognito_mode_when_the_demo_runs_then_its_file_ends_valid_with_a_cognito_uploader(
    cognito_stack: LocalStack, tmp_path: Path
) -> None:
    """The demo's whole client path on a COGNITO stack: sign a demo user in, upload with the
    token, wait; the file ends VALID and its record names a COGNITO uploader."""
    shutil.copy(SAMPLE, tmp_path / "jobs.csv")
    console = Console(file=io.StringIO(), width=250)

    rows = run_files(cognito_stack, collect(tmp_path), console, timeout=120)

    row = rows[tmp_path / "jobs.csv"]
    assert (row.status, row.reason) == ("VALID", "")
    key = row.where.removeprefix(f"s3://{cognito_stack.input_bucket}/")
    item = cognito_stack.client("dynamodb").get_item(
        TableName=cognito_stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(cognito_stack.input_bucket, key)}},
        ConsistentRead=True,
    )["Item"]
    assert item["uploader"]["M"]["kind"] == {"S": "COGNITO"}
