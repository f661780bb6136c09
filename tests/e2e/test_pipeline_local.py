"""The whole pipeline on the local stack, over real HTTP, as a client uses it.

Files go through the HTTP API (``POST /uploads``, SigV4-signed: the route uses IAM auth)
and the presigned POST to the moto S3 endpoint; the bridge starts one execution per
Object Created event; the real handlers run in their worker processes. Two files cannot
come through the API by design -- an empty one and one over the upload limit: the
presigned POST's ``content-length-range`` refuses them -- so they are put straight into
the bucket, as any other writer with s3:PutObject could.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.credentials import Credentials
from failure_support import failed_alerts, wait_for_record
from silent_scalper.records import item_key

from scalper.cli.upload import UploadError, post_file, request_upload, upload_file, uploads_url
from scalper.local import ExecutionReport, Fault, LocalStack
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

from .conftest import MAX_UPLOAD_BYTES

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "samples"
CREDENTIALS = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
DIRECT_PREFIX = "uploads/e2e-direct/"
WAIT_SECONDS = 120.0
#: Who the local HTTP API says signed a request (IAM auth): what records name as uploader.
LOCAL_CALLER = "arn:aws:iam::123456789012:user/local"
LOCAL_USER_ID = LOCAL_ACCESS_KEY

VALID_PATH = (
    "Claim", "TypeCheck", "ValidateSchema", "Route", "ExtractMetadata", "WriteMetadata", "Done",
)  # fmt: skip
QUARANTINE_PATH = ("Claim", "TypeCheck", "ValidateSchema", "Route", "Quarantine", "Done")

#: Reason code -> the sample that carries it (uploaded through the API).
SAMPLE_FOR_REASON = {
    "UNSUPPORTED_TYPE": SAMPLES / "invalid" / "unsupported-gzip.csv",
    "BAD_ENCODING": SAMPLES / "invalid" / "bad-encoding-utf16.ndjson",
    "MALFORMED": SAMPLES / "invalid" / "malformed.json",
    "SCHEMA_VIOLATION": SAMPLES / "invalid" / "schema-violation.ndjson",
}
#: Reason code -> (key, body) put straight into the input bucket.
DIRECT_FOR_REASON = {
    "EMPTY_FILE": (DIRECT_PREFIX + "empty.csv", b""),
    "TOO_LARGE": (
        DIRECT_PREFIX + "too-large.csv",
        (SAMPLES / "valid" / "jobs.csv").read_bytes() * (MAX_UPLOAD_BYTES // 800 + 1),
    ),
}
REASONS = sorted([*SAMPLE_FOR_REASON, *DIRECT_FOR_REASON])


@dataclass(frozen=True)
class Landed:
    """One object in the input bucket and the execution it started."""

    key: str
    body: bytes
    report: ExecutionReport


def record_of(stack: LocalStack, key: str) -> dict[str, Any]:
    """The object's metadata record (deserialised), or {} when there is none."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(stack.input_bucket, key)}},
        ConsistentRead=True,
    )
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in (item.get("Item") or {}).items()}


def tags_of(stack: LocalStack, key: str) -> dict[str, str]:
    """The input object's tags."""
    tags = stack.client("s3").get_object_tagging(Bucket=stack.input_bucket, Key=key)["TagSet"]
    return {t["Key"]: t["Value"] for t in tags}


def read_s3(stack: LocalStack, location: str) -> bytes:
    """The bytes at an ``s3://bucket/key`` location."""
    bucket, _, key = location.removeprefix("s3://").partition("/")
    body: bytes = stack.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return body


def upload(stack: LocalStack, path: Path) -> str:
    """Upload through the API and the presigned POST; returns the object key."""
    return upload_file(stack.api_url, path, credentials=CREDENTIALS, region="us-east-1").key


def upload_while_failing(stack: LocalStack, function: str) -> tuple[str, ExecutionReport]:
    """Upload samples/valid/job.json while ``function`` raises RuntimeError on every call;
    -> its key and the report of its ended execution."""
    assert stack.lambdas is not None
    stack.lambdas.faults.inject(
        function, Fault.FUNCTION_ERROR, times=None, error_type="RuntimeError"
    )
    try:
        key = upload(stack, SAMPLES / "valid" / "job.json")
        return key, stack.wait_for_keys([key], timeout=WAIT_SECONDS)[key]
    finally:
        stack.lambdas.faults.clear()


@pytest.fixture(scope="module")
def outcomes(local_stack: LocalStack) -> dict[str, Landed]:
    """Given the valid CSV sample and one file per reason code have landed, when every
    execution has ended: their outcomes, by reason code ("VALID" for the valid file)."""
    keys: dict[str, tuple[str, bytes]] = {}
    valid = SAMPLES / "valid" / "jobs.csv"
    keys["VALID"] = (upload(local_stack, valid), valid.read_bytes())
    for reason, path in SAMPLE_FOR_REASON.items():
        keys[reason] = (upload(local_stack, path), path.read_bytes())
    s3 = local_stack.client("s3")
    for reason, (key, body) in DIRECT_FOR_REASON.items():
        s3.put_object(Bucket=local_stack.input_bucket, Key=key, Body=body, ContentType="text/csv")
        keys[reason] = (key, body)
    reports = local_stack.wait_for_keys([k for k, _ in keys.values()], timeout=WAIT_SECONDS)
    return {name: Landed(key, body, reports[key]) for name, (key, body) in keys.items()}


def test_a_valid_csv_uploaded_through_the_api_ends_valid_with_its_metadata(
    local_stack: LocalStack, outcomes: dict[str, Landed]
) -> None:
    """Given samples/valid/jobs.csv uploaded through the API, then its execution succeeds
    along the valid path and its record says VALID with the file's own metadata."""
    landed = outcomes["VALID"]
    assert landed.report.status == "SUCCEEDED"
    assert landed.report.states == VALID_PATH
    record = record_of(local_stack, landed.key)
    assert record["status"] == "VALID"
    assert record["records"] == 7
    assert record["format"] == "csv"
    assert record["size"] == len(landed.body)
    assert record["sha256"] == hashlib.sha256(landed.body).hexdigest()
    assert record["execution_arn"] == landed.report.arn
    assert record["uploader"] == {"kind": "IAM", "principal": LOCAL_CALLER, "name": LOCAL_USER_ID}
    assert tags_of(local_stack, landed.key)["scalper-status"] == "VALID"


def test_the_templates_functions_run_in_workers_forked_from_the_fork_server(
    local_stack: LocalStack, outcomes: dict[str, Landed]
) -> None:
    """Given the stack has run files through every step, then each of its functions'
    cold starts was a fork of the preloaded server: the template's environments and folders
    give the fork no reason to start a new interpreter instead."""
    assert local_stack.lambdas is not None
    kinds = {name: dict(pool.cold_starts) for name, pool in local_stack.lambdas.pools.items()}
    assert {name: counts for name, counts in kinds.items() if set(counts) - {"forked"}} == {}
    assert sum(1 for counts in kinds.values() if counts.get("forked")) >= 6  # every step's


@pytest.mark.parametrize("reason", REASONS)
def test_each_reason_code_ends_quarantined_with_its_report(
    local_stack: LocalStack, outcomes: dict[str, Landed], reason: str
) -> None:
    """Given a file with one problem, then it ends QUARANTINED with that reason code: an
    exact copy in the quarantine bucket and a JSON report beside it naming the reason."""
    landed = outcomes[reason]
    assert landed.report.status == "SUCCEEDED"
    assert landed.report.states == QUARANTINE_PATH
    record = record_of(local_stack, landed.key)
    assert (record["status"], record["reason"]) == ("QUARANTINED", reason)
    assert read_s3(local_stack, record["quarantine_location"]) == landed.body
    report = json.loads(read_s3(local_stack, record["report_location"]))
    assert report["reason"] == reason
    assert report["source"]["key"] == landed.key
    assert tags_of(local_stack, landed.key)["scalper-status"] == "QUARANTINED"


def test_the_same_event_delivered_twice_leaves_one_record_and_one_quarantine_copy(
    local_stack: LocalStack, outcomes: dict[str, Landed]
) -> None:
    """Given the Object Created event of a quarantined file, when EventBridge delivers it
    again (at-least-once), then the second execution stops at Claim and nothing is
    recorded or copied twice."""
    landed = outcomes["MALFORMED"]
    before = record_of(local_stack, landed.key)
    assert local_stack.bridge is not None
    (first,) = [d for d in local_stack.bridge.deliveries if d.key == landed.key]

    delivered = local_stack.bridge.publish(first.event)
    assert delivered is not None
    delivered.result(timeout=30)
    arns = local_stack.execution_arns_for(landed.key)
    assert len(arns) == 2
    second = local_stack.wait_for_execution(arns[-1], timeout=WAIT_SECONDS)

    assert second.status == "SUCCEEDED"
    assert second.states == ("Claim", "AlreadyProcessed")
    assert record_of(local_stack, landed.key) == before
    bucket, _, copy_key = before["quarantine_location"].removeprefix("s3://").partition("/")
    versions = local_stack.client("s3").list_object_versions(Bucket=bucket, Prefix=copy_key)
    assert sorted(v["Key"] for v in versions.get("Versions", [])) == [
        copy_key,
        copy_key + ".report.json",
    ]


def test_a_lambda_failing_transiently_is_retried_and_the_file_still_ends_valid(
    local_stack: LocalStack,
) -> None:
    """Given ValidateSchema's next two invocations fail with Lambda.ServiceException, when
    a valid file lands, then Step Functions retries and the file still ends VALID."""
    assert local_stack.lambdas is not None
    local_stack.lambdas.faults.inject("ValidateSchemaFunction", Fault.SERVICE_EXCEPTION, times=2)
    try:
        key = upload(local_stack, SAMPLES / "valid" / "jobs.ndjson")
        report = local_stack.wait_for_keys([key], timeout=WAIT_SECONDS)[key]
    finally:
        local_stack.lambdas.faults.clear()

    assert report.status == "SUCCEEDED"
    assert report.states == VALID_PATH
    assert record_of(local_stack, key)["status"] == "VALID"
    calls = [c for c in local_stack.lambdas.invocations("ValidateSchemaFunction")][-3:]
    assert [(c.outcome, c.injected) for c in calls] == [
        ("ServiceException", True),
        ("ServiceException", True),
        ("ok", False),
    ]
    history = local_stack.client("stepfunctions").get_execution_history(executionArn=report.arn)
    errors = [
        e["taskFailedEventDetails"]["error"] for e in history["events"] if e["type"] == "TaskFailed"
    ]
    assert errors == ["Lambda.ServiceException", "Lambda.ServiceException"]


def test_a_lambda_failing_permanently_fails_the_execution_there_and_the_recorder_alerts(
    local_stack: LocalStack,
) -> None:
    """Given TypeCheck fails on every invocation, when a file lands, then its execution fails
    at TypeCheck, the failure recorder turns its record FAILED (naming TypeCheck and, read
    from the object's metadata, who uploaded it) and one alert reaches a queue subscribed to
    the alerts topic."""
    queue = local_stack.subscribe_queue(
        local_stack.resource_name("AlertsTopic"), name="e2e-alerts-failed"
    )
    key, report = upload_while_failing(local_stack, "TypeCheckFunction")

    assert (report.status, report.states) == ("FAILED", ("Claim", "TypeCheck"))
    record = wait_for_record(local_stack, key, lambda r: r.get("status") == "FAILED")
    assert (record["failed_state"], record["failure_error"]) == ("TypeCheck", "RuntimeError")
    assert record["uploader"] == {"kind": "IAM", "principal": LOCAL_CALLER, "name": LOCAL_USER_ID}
    alerts = failed_alerts(local_stack, queue)
    assert [(a["key"], a["error"], a["failed_state"]) for a in alerts] == [
        (key, "RuntimeError", "TypeCheck")
    ]


def test_a_file_that_fails_after_type_check_keeps_its_uploader_on_the_failed_record(
    local_stack: LocalStack,
) -> None:
    """Given ValidateSchema fails on every invocation, when a file uploaded through the API
    lands, then the FAILED record names ValidateSchema and who uploaded it."""
    key, report = upload_while_failing(local_stack, "ValidateSchemaFunction")

    assert report.status == "FAILED"
    assert report.states == ("Claim", "TypeCheck", "ValidateSchema")
    record = wait_for_record(local_stack, key, lambda r: r.get("status") == "FAILED")
    assert record["failure_error"] == "RuntimeError"
    assert record["failed_state"] == "ValidateSchema"
    assert record["uploader"] == {"kind": "IAM", "principal": LOCAL_CALLER, "name": LOCAL_USER_ID}


def test_the_presigned_post_policy_is_enforced_over_http(local_stack: LocalStack) -> None:
    """Given a presigned POST, when the client changes the pinned content type or sends
    more than the upload limit, then S3 refuses with its own error codes and nothing lands."""
    path = SAMPLES / "valid" / "jobs.csv"
    presigned = request_upload(
        local_stack.api_url,
        file_name="jobs.csv",
        size=path.stat().st_size,
        content_type="text/csv",
        credentials=CREDENTIALS,
        region="us-east-1",
    )
    tampered = {**presigned["fields"], "Content-Type": "application/json"}
    with pytest.raises(UploadError) as refused:
        post_file(presigned["url"], tampered, path, "application/json")
    assert refused.value.code == "AccessDenied"
    assert "Policy Condition failed" in refused.value.message

    too_large = DIRECT_FOR_REASON["TOO_LARGE"][1]
    big = Path(local_stack.log_dir) / "too-large.csv"
    big.write_bytes(too_large)
    with pytest.raises(UploadError) as oversize:
        post_file(presigned["url"], presigned["fields"], big, "text/csv")
    assert oversize.value.code == "EntityTooLarge"

    listed = local_stack.client("s3").list_objects_v2(
        Bucket=local_stack.input_bucket, Prefix=presigned["key"]
    )
    assert listed.get("KeyCount") == 0


def test_the_upload_api_refuses_an_unsigned_request(local_stack: LocalStack) -> None:
    """Given the route uses IAM authorisation, when a request carries no SigV4 signature,
    then the API answers 403 before the presign function runs."""
    request = urllib.request.Request(
        uploads_url(local_stack.api_url),
        data=b'{"file_name": "a.csv", "size": 1, "content_type": "text/csv"}',
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert json.loads(refused.value.read()) == {"message": "Forbidden"}


def test_an_event_the_bridge_cannot_deliver_lands_in_the_templates_dead_letter_queue(
    local_stack: LocalStack,
) -> None:
    """Given StartExecution refused with a non-retryable error, when a file lands, then no
    execution starts and the event waits in the rule target's dead-letter queue with
    EventBridge's error attributes."""
    assert local_stack.bridge is not None
    key = DIRECT_PREFIX + "undeliverable.csv"
    local_stack.bridge.faults.inject(times=1, code="AccessDeniedException", message="denied")
    local_stack.client("s3").put_object(Bucket=local_stack.input_bucket, Key=key, Body=b"x\n")
    assert local_stack.bridge.wait_idle(30)

    assert local_stack.execution_arns_for(key) == []
    sqs = local_stack.client("sqs")
    queue = local_stack.resource_name("PipelineDeadLetterQueue")
    messages = sqs.receive_message(
        QueueUrl=queue, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    ).get("Messages", [])
    (message,) = [m for m in messages if json.loads(m["Body"])["detail"]["object"]["key"] == key]
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "AccessDeniedException"
    assert attributes["TARGET_ARN"] == local_stack.state_machine_arn


def test_the_stack_lists_what_the_template_asks_for_but_it_cannot_provide(
    local_stack: LocalStack,
) -> None:
    """Given template.yaml's alarms, IAM policies and IAM-authorised API, then the stack
    says it does not provide them instead of skipping them silently."""
    gaps = "\n".join(local_stack.gaps)
    assert "CloudWatch alarms are not created" in gaps
    assert "IAM roles and policies are not enforced" in gaps
    assert "HTTP API IAM authorisation" in gaps
