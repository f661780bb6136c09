"""The uploader's identity: from the API event (IAM or Cognito JWT) into the object and the record.

Both HTTP API payload 2.0 shapes come from events/: ``api/presign-request.json`` (IAM
authoriser, ``requestContext.authorizer.iam``) and ``api/presign-request-cognito.json`` (JWT
authoriser, ``requestContext.authorizer.jwt.claims``). moto does not enforce presigned-POST
policies, so the policy is decoded and its conditions asserted: they are what S3 enforces.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
from silent_scalper.engine import Limits, TypeCheckResult
from silent_scalper.identity import AuthKind, Uploader, caller_identity
from silent_scalper.pipeline import (
    QuarantineRequest,
    StepInput,
    TypeCheckOutcome,
    WriteRequest,
    quarantine,
    type_check,
    write_metadata,
)
from silent_scalper.pipeline.extract_metadata import build_record
from silent_scalper.records import MetadataRecord, Status

IAM_EVENT = "api/presign-request.json"
COGNITO_EVENT = "api/presign-request-cognito.json"
LIMITS = Limits(max_bytes=100 * 1024 * 1024)


def presign(load_handler: Any, context: Any, payload: dict[str, Any]) -> dict[str, Any]:
    response = load_handler("presign").handler(payload, context)
    assert response["statusCode"] == 201, response["body"]
    body: dict[str, Any] = json.loads(response["body"])
    return body


def conditions(fields: dict[str, str]) -> list[Any]:
    policy = json.loads(base64.b64decode(fields["policy"]))
    result: list[Any] = policy["conditions"]
    return result


def test_given_the_iam_event_then_the_caller_is_the_iam_user_arn(event):
    uploader = caller_identity(event(IAM_EVENT))
    assert uploader == Uploader(
        kind=AuthKind.IAM,
        principal="arn:aws:sts::123456789012:assumed-role/uploader/uploader",
        name="AROAEXAMPLEID:uploader",
    )


def test_given_the_cognito_event_then_the_caller_is_the_sub_and_username(event):
    uploader = caller_identity(event(COGNITO_EVENT))
    assert uploader == Uploader(
        kind=AuthKind.COGNITO,
        principal="7d8ca528-4931-4254-9273-ea5ee853f271",
        name="ana.lópez@example.com",
    )


def test_given_an_access_token_then_its_username_claim_names_the_user(event):
    payload = event(COGNITO_EVENT)
    claims = payload["requestContext"]["authorizer"]["jwt"]["claims"]
    claims.pop("cognito:username")
    claims["username"] = "ana"
    uploader = caller_identity(payload)
    assert uploader is not None
    assert uploader.name == "ana"


@pytest.mark.parametrize(
    "authorizer",
    [None, {}, {"jwt": {"claims": {}}}, {"iam": {"userArn": ""}}, {"lambda": {"x": 1}}],
)
def test_given_no_verified_caller_then_there_is_no_uploader(event, authorizer):
    payload = event(IAM_EVENT)
    payload["requestContext"]["authorizer"] = authorizer
    assert caller_identity(payload) is None


@pytest.mark.parametrize(
    "case",
    [
        (IAM_EVENT, "IAM", "arn:aws:sts::123456789012:assumed-role/uploader/uploader"),
        (COGNITO_EVENT, "COGNITO", "7d8ca528-4931-4254-9273-ea5ee853f271"),
    ],
)
def test_given_either_event_when_presigned_then_the_policy_pins_the_uploader(
    load_handler, context, event, stack, case
):
    name, kind, principal = case
    body = presign(load_handler, context, event(name))
    fields = body["fields"]
    assert fields["x-amz-meta-uploader-kind"] == kind
    assert fields["x-amz-meta-uploader-principal"] == principal
    pinned = conditions(fields)
    for field in ("uploader-kind", "uploader-principal", "uploader-name"):
        assert {f"x-amz-meta-{field}": fields[f"x-amz-meta-{field}"]} in pinned
    assert ["content-length-range", 1, stack.settings.max_upload_bytes] in pinned


def test_given_a_unicode_username_then_the_header_value_is_ascii_and_reads_back_unchanged(
    load_handler, context, event, stack
):
    body = presign(load_handler, context, event(COGNITO_EVENT))
    value = body["fields"]["x-amz-meta-uploader-name"]
    assert value.isascii()
    meta = {k.removeprefix("x-amz-meta-"): v for k, v in body["fields"].items()}
    uploader = Uploader.from_object_metadata(meta)
    assert uploader is not None
    assert uploader.name == "ana.lópez@example.com"


def test_given_an_unauthenticated_request_then_no_identity_is_pinned(
    load_handler, context, event, stack
):
    payload = event(IAM_EVENT)
    del payload["requestContext"]["authorizer"]
    body = presign(load_handler, context, payload)
    assert not [f for f in body["fields"] if f.startswith("x-amz-meta-uploader")]


def test_given_a_presigned_post_when_uploaded_then_the_object_carries_the_uploader(
    load_handler, context, event, stack
):
    body = presign(load_handler, context, event(COGNITO_EVENT))
    response = requests.post(
        body["url"],
        data=body["fields"],
        files={"file": ("jobs.csv", b"job_id\n1\n", "text/csv")},
        timeout=10,
    )
    assert response.status_code in {200, 201, 204}, response.text
    head = stack.s3.head_object(Bucket=body["bucket"], Key=body["key"])
    uploader = Uploader.from_object_metadata(head["Metadata"])
    assert uploader is not None
    assert (uploader.kind, uploader.principal) == (
        AuthKind.COGNITO,
        "7d8ca528-4931-4254-9273-ea5ee853f271",
    )


UPLOADER = Uploader(kind=AuthKind.IAM, principal="arn:aws:iam::123456789012:user/ana", name="ana")


def with_uploader(stack: Any, step_event: dict[str, Any], uploader: Uploader) -> None:
    """Given the step's object re-written with the uploader's metadata (a new version)."""
    key = step_event["object"]["key"]
    stack.s3.copy_object(
        Bucket=stack.settings.input_bucket,
        Key=key,
        CopySource={"Bucket": stack.settings.input_bucket, "Key": key},
        Metadata=uploader.object_metadata(),
        MetadataDirective="REPLACE",
    )
    head = stack.s3.head_object(Bucket=stack.settings.input_bucket, Key=key)
    step_event["object"]["version-id"] = head["VersionId"]


def check(stack: Any, step: StepInput) -> TypeCheckOutcome:
    return type_check(stack.s3, step, limits=LIMITS)


def test_given_an_object_with_an_uploader_when_type_checked_then_the_result_names_them(
    object_event, stack
):
    """The ranged GET that reads the first bytes also returns the object's metadata."""
    step_event = object_event("states/type_check.json", "jobs-valid.csv")
    with_uploader(stack, step_event, UPLOADER)
    outcome = check(stack, StepInput.model_validate(step_event))
    assert outcome.verdict.ok
    assert outcome.uploader == UPLOADER
    assert outcome.model_dump(mode="json")["uploader_attribute"] == {
        "M": {"kind": {"S": "IAM"}, "principal": {"S": UPLOADER.principal}, "name": {"S": "ana"}}
    }


def test_given_an_empty_object_with_an_uploader_when_type_checked_then_a_head_names_them(
    object_event, stack
):
    """An empty object gets no ranged GET (S3 would answer 416): a HeadObject reads it."""
    step_event = object_event("states/type_check.json", "empty.csv")
    with_uploader(stack, step_event, UPLOADER)
    outcome = check(stack, StepInput.model_validate(step_event))
    assert outcome.verdict.reason == "EMPTY_FILE"
    assert outcome.uploader == UPLOADER


def test_given_an_object_not_uploaded_through_the_api_then_the_uploader_is_null(
    object_event, stack
):
    step_event = object_event("states/type_check.json", "jobs-valid.csv")
    outcome = check(stack, StepInput.model_validate(step_event)).model_dump(mode="json")
    assert outcome["uploader"] is None
    assert outcome["uploader_attribute"] == {"NULL": True}


def test_given_a_nameless_uploader_then_the_attribute_leaves_the_name_out_as_records_do():
    """A FAILED record (written by the ASL from this attribute) and a VALID record (written
    from the model) must hold the uploader in the same shape."""
    nameless = Uploader(kind=AuthKind.COGNITO, principal="7d8ca528-4931-4254-9273-ea5ee853f271")
    verdict = TypeCheckResult(ok=True, format=None, encoding=None, reason=None, message=None)
    outcome = TypeCheckOutcome(verdict=verdict, uploader=nameless)
    record_item = MetadataRecord(
        pk="b/k", bucket="b", key="k", event_key="k", size=1, status=Status.VALID,
        execution_arn="arn",
        processed_at="t", updated_at="t", uploader=nameless,
    ).to_item()  # fmt: skip
    assert outcome.uploader_attribute == record_item["uploader"]
    assert "name" not in outcome.uploader_attribute["M"]


def test_given_an_uploaded_object_when_checked_extracted_and_written_then_the_record_names_them(
    object_event, claim, stack
):
    """The uploader TypeCheck read rides to ExtractMetadata: WriteMetadata reads nothing more."""
    step_event = object_event("states/write_metadata.json", "jobs-valid.csv")
    with_uploader(stack, step_event, UPLOADER)
    claim(step_event)
    step = StepInput.model_validate(step_event)
    checked = check(stack, step)
    assert checked.key == step.object.key
    record = build_record(
        step,
        key=checked.key,
        status=Status.VALID,
        settings=stack.settings,
        now=datetime.now(UTC),
    ).model_copy(update={"uploader": checked.uploader})
    request = WriteRequest.model_validate({**step_event, "record": record})
    write_metadata(stack.dynamodb, stack.s3, request, settings=stack.settings)
    item = stack.dynamodb.get_item(TableName=stack.settings.table_name, Key={"pk": {"S": step.pk}})
    stored = MetadataRecord.from_item(item["Item"])
    assert stored.uploader == UPLOADER


def test_given_an_object_with_an_uploader_when_quarantined_then_the_record_names_them(
    object_event, claim, stack
):
    step_event = object_event("states/quarantine.json", "jobs-invalid.csv")
    key = step_event["object"]["key"]
    version = stack.s3.put_object(
        Bucket=stack.settings.input_bucket,
        Key=key,
        Body=(b"job_id\nnot-a-number\n"),
        Metadata=UPLOADER.object_metadata(),
    )["VersionId"]
    step_event["object"]["version-id"] = version
    claim(step_event)
    request = QuarantineRequest.model_validate(step_event)
    quarantine(
        stack.s3,
        stack.dynamodb,
        stack.sns,
        request,
        settings=stack.settings,
        now=datetime.now(UTC),
    )
    item = stack.dynamodb.get_item(
        TableName=stack.settings.table_name, Key={"pk": {"S": request.pk}}
    )
    assert MetadataRecord.from_item(item["Item"]).uploader == UPLOADER


def test_given_an_empty_object_deleted_since_the_event_then_still_empty_file_and_no_uploader(
    object_event, stack
):
    """The EMPTY_FILE verdict needs no bytes: a HEAD answering 404 does not fail the file."""
    step_event = object_event("states/type_check.json", "empty.csv")
    stack.s3.delete_object(
        Bucket=stack.settings.input_bucket,
        Key=step_event["object"]["key"],
        VersionId=step_event["object"]["version-id"],
    )
    outcome = check(stack, StepInput.model_validate(step_event))
    assert outcome.verdict.reason == "EMPTY_FILE"
    assert outcome.uploader is None
