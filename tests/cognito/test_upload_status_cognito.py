"""GET /uploads/{upload_id} with AuthMode=COGNITO: two users, each reads only its own uploads.

The route sits behind the same JWT authoriser as POST /uploads; the function compares the
token's ``sub`` with the upload's uploader, and answers anyone else 404, exactly as for an
id that never existed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.credentials import Credentials

from scalper.cli.upload import UploadError, read_upload, upload_file
from scalper.cognito import sign_in
from scalper.local import LocalStack
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

pytestmark = pytest.mark.e2e

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "invoice.v1" / "valid" / "invoices.csv"
PASSWORD = "Chosen-Passw0rd-2?"
WAIT_SECONDS = 120.0


def token_of(stack: LocalStack, username: str) -> str:
    """A confirmed user's ID token from the stack's pool and app client (SRP)."""
    assert stack.provisioned is not None
    stack.add_user(username, PASSWORD)
    outputs = stack.provisioned.outputs
    return sign_in(
        stack.client("cognito-idp"), user_pool_id=str(outputs["UserPoolId"]),
        client_id=str(outputs["UserPoolClientId"]), username=username, password=PASSWORD,
    ).id_token  # fmt: skip


def test_given_two_users_then_each_reads_its_own_upload_and_gets_404_for_the_other_s(
    cognito_stack: LocalStack,
) -> None:
    """Given Ana and Ben signed in, when Ana uploads an invoice file, then Ana's GET follows
    it to VALID and Ben's GET of the same id is 404 Not Found; and a SigV4 request is refused
    by the authoriser itself (401), before the function runs."""
    api = cognito_stack.api_url
    ana, ben = (
        token_of(cognito_stack, "ana@example.com"),
        token_of(cognito_stack, "ben@example.com"),
    )
    landed = upload_file(api, SAMPLE, credentials=None, region="us-east-1", token=ana,
                         schema="invoice.v1")  # fmt: skip
    assert read_upload(api, landed.upload_id, credentials=None, region="us-east-1", token=ana)[
        "status"
    ] in {"PENDING", "PROCESSING", "VALID"}
    cognito_stack.wait_for_keys([landed.key], timeout=WAIT_SECONDS)

    mine = read_upload(api, landed.upload_id, credentials=None, region="us-east-1", token=ana)
    assert (mine["status"], mine["schema"], mine["records"]) == ("VALID", "invoice.v1", 4)
    with pytest.raises(UploadError) as refused:
        read_upload(api, landed.upload_id, credentials=None, region="us-east-1", token=ben)
    assert (refused.value.code, refused.value.message) == ("HTTP 404", "Not Found")
    with pytest.raises(UploadError) as unsigned:
        read_upload(api, landed.upload_id, region="us-east-1",
                    credentials=Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY))  # fmt: skip
    assert unsigned.value.code == "HTTP 401"


def test_given_cognito_mode_then_both_upload_routes_are_jwt_routes(
    cognito_stack: LocalStack,
) -> None:
    assert cognito_stack.provisioned is not None
    routes = {(r.method, r.path): r.auth for r in cognito_stack.provisioned.routes}
    assert routes == {("POST", "/uploads"): "JWT", ("GET", "/uploads/{upload_id}"): "JWT"}
