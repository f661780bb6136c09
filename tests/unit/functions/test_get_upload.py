"""GET /uploads/{upload_id}: the uploader reads its verdict; anyone else gets 404, never 403.

Each test presigns through the real presign handler as one caller (the sample HTTP API
events: an IAM role session, or a Cognito user), lets the pipeline's record appear in the
metadata table as the pipeline writes it, and reads it back through the real get_upload
handler, as the same caller or as another one.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from silent_scalper.records import item_key

OTHER_ROLE = "arn:aws:sts::123456789012:assumed-role/uploader/someone-else"
OTHER_SUB = "0b5e1c1e-94a3-4d4c-8d5a-4a7f3f1b2c3d"


def as_other(event: dict[str, Any]) -> dict[str, Any]:
    """The same request by a different caller of the same kind."""
    other = copy.deepcopy(event)
    authorizer = other["requestContext"]["authorizer"]
    if "iam" in authorizer:
        authorizer["iam"]["userArn"] = OTHER_ROLE
    else:
        authorizer["jwt"]["claims"]["sub"] = OTHER_SUB
    return other


@pytest.fixture(params=["iam", "cognito"])
def mode(request: pytest.FixtureRequest) -> str:
    """Both authorisers: IAM (SigV4) and Cognito (JWT)."""
    return str(request.param)


@pytest.fixture
def presigned(load_handler, context, event, mode) -> dict[str, Any]:
    """An upload presigned by the sample caller of ``mode`` (invoice.v1)."""
    suffix = "" if mode == "iam" else "-cognito"
    payload = event(f"api/presign-request{suffix}.json")
    payload["body"] = json.dumps(
        {
            "file_name": "invoices.csv",
            "size": 10,
            "content_type": "text/csv",
            "schema": "invoice.v1",
        }
    )
    response = load_handler("presign").handler(payload, context)
    assert response["statusCode"] == 201
    return dict(json.loads(response["body"]))


@pytest.fixture
def get(load_handler, context, event, mode) -> Any:
    """``get(upload_id, other=False)`` -> (status, body) through the real handler."""
    suffix = "" if mode == "iam" else "-cognito"

    def call(upload_id: str, *, other: bool = False) -> tuple[int, dict[str, Any]]:
        payload = event(f"api/get-upload-request{suffix}.json")
        payload["pathParameters"] = {"upload_id": upload_id}
        if other:
            payload = as_other(payload)
        response = load_handler("get_upload").handler(payload, context)
        assert response["headers"]["Content-Type"] == "application/json"
        return response["statusCode"], json.loads(response["body"])

    return call


def put_record(stack, upload: dict[str, Any], **fields: Any) -> None:
    """The metadata record as the pipeline writes it for the uploaded key."""
    item: dict[str, Any] = {
        "pk": {"S": item_key(upload["bucket"], upload["key"])},
        "bucket": {"S": upload["bucket"]},
        "key": {"S": upload["key"]},
        "event_key": {"S": upload["key"]},
        "execution_arn": {"S": "arn:aws:states:us-east-1:123456789012:execution:p:1"},
        "updated_at": {"S": "2026-01-05T12:00:02.000Z"},
        "event_time": {"S": "2026-01-05T12:00:00Z"},
    }
    for name, value in fields.items():
        if isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int):
            item[name] = {"N": str(value)}
        elif isinstance(value, list):
            item[name] = {"L": [{"M": {k: {"S": str(v)} for k, v in e.items()}} for e in value]}
        else:
            item[name] = {"S": value}
    stack.dynamodb.put_item(TableName=stack.settings.table_name, Item=item)


def test_given_a_presigned_upload_when_nothing_landed_then_pending_to_its_uploader(presigned, get):
    status, body = get(presigned["upload_id"])
    assert status == 200
    assert body["status"] == "PENDING"
    assert (body["schema"], body["key"]) == ("invoice.v1", presigned["key"])
    assert body["reason"] is None
    assert body["presigned_at"]


def test_given_another_caller_then_404_exactly_like_an_unknown_id(presigned, get):
    """Not 403: the answer to someone else's id is indistinguishable from no such id."""
    theirs = get(presigned["upload_id"], other=True)
    unknown = get("f" * 32)
    malformed = get("../../etc/passwd")
    assert theirs == unknown == malformed == (404, {"message": "Not Found"})


def test_given_a_claimed_file_then_processing(presigned, get, stack):
    put_record(stack, presigned, status="PROCESSING")
    status, body = get(presigned["upload_id"])
    assert (status, body["status"], body["landed_at"]) == (
        200,
        "PROCESSING",
        "2026-01-05T12:00:00Z",
    )
    assert body["records"] is None


def test_given_a_valid_file_then_counts_sha256_schema_and_times(presigned, get, stack):
    put_record(
        stack, presigned, status="VALID", records=4, invalid_records=0, sha256="ab" * 32,
        schema_name="invoice.v1", processed_at="2026-01-05T12:00:02.000Z", size=528,
    )  # fmt: skip
    status, body = get(presigned["upload_id"])
    assert status == 200
    assert (body["status"], body["records"], body["invalid_records"]) == ("VALID", 4, 0)
    assert (body["sha256"], body["schema"], body["size"]) == ("ab" * 32, "invoice.v1", 528)
    assert body["processed_at"] == "2026-01-05T12:00:02.000Z"
    assert body["report_url"] is None


def test_given_a_quarantined_file_then_reason_errors_and_a_short_lived_report_link(
    presigned, get, stack
):
    errors = [{"location": f"record {n} (line {n + 1}), column currency", "message": "bad"}
              for n in range(1, 13)]  # fmt: skip
    report = f"s3://{stack.settings.quarantine_bucket}/x/{presigned['key']}.report.json"
    put_record(
        stack, presigned, status="QUARANTINED", reason="SCHEMA_VIOLATION",
        message="record 1 (line 2), column currency: bad", errors=errors, errors_truncated=False,
        records=12, invalid_records=12, report_location=report,
    )  # fmt: skip
    status, body = get(presigned["upload_id"])
    assert status == 200
    assert (body["status"], body["reason"]) == ("QUARANTINED", "SCHEMA_VIOLATION")
    assert body["message"].startswith("record 1 (line 2)")
    assert len(body["errors"]) == 10
    assert body["errors_truncated"] is True
    assert body["errors"][0]["location"] == "record 1 (line 2), column currency"
    link = urlsplit(body["report_url"])
    assert link.path.endswith(f"/x/{presigned['key']}.report.json")
    assert parse_qs(link.query)["X-Amz-Expires"] == ["300"]
    expires = datetime.fromisoformat(body["report_url_expires_at"].replace("Z", "+00:00"))
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=300)


def test_given_a_quarantined_file_then_another_caller_still_gets_404(presigned, get, stack):
    put_record(stack, presigned, status="QUARANTINED", reason="MALFORMED",
               report_location="s3://q/r.report.json")  # fmt: skip
    assert get(presigned["upload_id"], other=True) == (404, {"message": "Not Found"})


def test_given_a_failed_file_then_failed_with_the_pipeline_error(presigned, get, stack):
    put_record(stack, presigned, status="FAILED", failure_error="States.Timeout")
    status, body = get(presigned["upload_id"])
    assert (status, body["status"], body["reason"]) == (200, "FAILED", "States.Timeout")


def test_given_an_expired_intent_still_in_the_table_then_404(presigned, get, stack):
    """DynamoDB deletes expired items only eventually: an intent past its TTL is gone here."""
    past = int((datetime.now(UTC) - timedelta(minutes=1)).timestamp())
    stack.dynamodb.update_item(
        TableName=stack.settings.uploads_table,
        Key={"upload_id": {"S": presigned["upload_id"]}},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"N": str(past)}},
    )
    assert get(presigned["upload_id"])[0] == 404


def test_given_a_report_link_then_its_signature_never_reaches_the_logs(
    presigned, get, stack, caplog
):
    caplog.set_level(logging.DEBUG)
    report = f"s3://{stack.settings.quarantine_bucket}/r.report.json"
    put_record(stack, presigned, status="QUARANTINED", reason="MALFORMED", report_location=report)
    status, body = get(presigned["upload_id"])
    assert status == 200
    signature = parse_qs(urlsplit(body["report_url"]).query)["X-Amz-Signature"][0]
    logs = "\n".join(repr(vars(record)) for record in caplog.records)
    assert "upload status" in logs
    assert signature not in logs
