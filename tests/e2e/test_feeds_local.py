"""Feeds on the local stack (AuthMode=IAM): a schema per upload, the verdict for the
uploader, an event for the consumer.

A consumer subscribes a queue to valid invoices with an EventBridge rule (the example of
docs/events.md); an uploader sends an invoice file and a broken one with `scalper upload
--schema invoice.v1 --wait`, sees both verdicts with the located errors, and only the valid
invoice's event reaches the consumer's queue. Another IAM caller cannot read the uploads.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.credentials import Credentials
from rich.console import Console
from silent_scalper.records import item_key

from scalper.cli import EXIT_PROBLEM, EXIT_USAGE, main
from scalper.cli.demo import collect, run_files
from scalper.cli.upload import UploadError, read_upload, upload_file
from scalper.local import LocalStack
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
INVOICES = SAMPLES / "invoice.v1"
UPLOADER = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
SOMEONE_ELSE = Credentials("AKIASOMEONEELSE0001", "not-the-uploader")
WAIT_SECONDS = 120.0


def record_of(stack: LocalStack, key: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(stack.input_bucket, key)}},
        ConsistentRead=True,
    )
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in (item.get("Item") or {}).items()}


def subscribe_valid_invoices(stack: LocalStack) -> str:
    """The consumer's rule on the default bus: valid invoice.* files -> an SQS queue."""
    sqs, events = stack.client("sqs"), stack.client("events")
    url = str(sqs.create_queue(QueueName="valid-invoices")["QueueUrl"])
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    pattern = {
        "source": ["silent-scalper"],
        "detail-type": ["File Validated"],
        "detail": {"schema": [{"prefix": "invoice."}]},
    }
    events.put_rule(Name="valid-invoices", EventPattern=json.dumps(pattern))
    events.put_targets(Rule="valid-invoices", Targets=[{"Id": "q", "Arn": arn["QueueArn"]}])
    return url


def receive(
    stack: LocalStack, url: str, wanted: int, timeout: float = 60.0
) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < wanted and time.monotonic() < deadline:
        out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        got += [json.loads(m["Body"]) for m in out.get("Messages", [])]
    return got


def test_given_a_consumer_rule_when_invoices_are_uploaded_with_wait_then_verdicts_and_one_event(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given a rule for valid invoices, when `scalper upload --schema invoice.v1 --wait`
    sends a valid and an invalid invoice file, then it prints VALID and QUARANTINED with the
    located errors and exits 1, both keys carry the invoice.v1 segment, and exactly the
    valid file's "File Validated" event reaches the queue, naming its upload."""
    queue = subscribe_valid_invoices(local_stack)
    for name, value in local_stack.env.items():
        monkeypatch.setenv(name, value)
    valid, invalid = (
        INVOICES / "valid" / "invoices.csv",
        INVOICES / "invalid" / "invoice-violations.csv",
    )

    code = main(["upload", "--schema", "invoice.v1", "--wait", str(valid), str(invalid)])

    out = capsys.readouterr().out
    assert code == EXIT_PROBLEM
    keys = re.findall(r"-> s3://[^/]+/(\S+)", out)
    assert len(keys) == 2
    assert all(k.startswith("uploads/invoice.v1/") for k in keys)
    assert f"VALID {valid}: 4 records, schema invoice.v1" in out
    assert f"QUARANTINED {invalid}: SCHEMA_VIOLATION" in out
    assert "record 2 (line 3), column issue_date:" in out
    assert "record 3 (line 4), column currency: Invalid enum value 'XXX'" in out
    assert "report: http" in out
    assert record_of(local_stack, keys[0])["schema_name"] == "invoice.v1"
    assert record_of(local_stack, keys[1])["schema_name"] == "invoice.v1"

    [event] = receive(local_stack, queue, wanted=1)
    assert (event["source"], event["detail-type"]) == ("silent-scalper", "File Validated")
    assert event["detail"]["key"] == keys[0]
    assert event["detail"]["upload_id"] == keys[0].split("/")[3]
    assert event["detail"]["uploader"]["principal"] == "arn:aws:iam::123456789012:user/local"
    assert receive(local_stack, queue, wanted=1, timeout=3) == []  # the invalid one: no event


def test_given_an_upload_then_only_its_iam_caller_reads_it_and_anyone_else_gets_404(
    local_stack: LocalStack,
) -> None:
    """Given a file uploaded with one access key, then GET /uploads/{id} answers it, and
    another key (another IAM principal) gets 404 Not Found, as for an id that never existed."""
    api = local_stack.api_url
    landed = upload_file(api, INVOICES / "valid" / "invoices.ndjson", credentials=UPLOADER,
                         region="us-east-1", schema="invoice.v1")  # fmt: skip
    local_stack.wait_for_keys([landed.key], timeout=WAIT_SECONDS)

    mine = read_upload(api, landed.upload_id, credentials=UPLOADER, region="us-east-1")
    assert (mine["status"], mine["schema"], mine["records"]) == ("VALID", "invoice.v1", 2)
    for caller, upload_id in ((SOMEONE_ELSE, landed.upload_id), (UPLOADER, "f" * 32)):
        with pytest.raises(UploadError) as refused:
            read_upload(api, upload_id, credentials=caller, region="us-east-1")
        assert (refused.value.code, refused.value.message) == ("HTTP 404", "Not Found")


def test_given_direct_uploads_then_the_key_s_schema_segment_chooses_the_schema(
    local_stack: LocalStack,
) -> None:
    """Given the same invoice file put straight into the bucket under uploads/invoice.v1/
    and under uploads/ (no schema segment), then the first is VALID against invoice.v1 and
    the second is validated against the default job.v1 and quarantined."""
    s3, body = local_stack.client("s3"), (INVOICES / "valid" / "invoices.csv").read_bytes()
    under_schema, plain = "uploads/invoice.v1/direct/lines.csv", "uploads/direct/lines.csv"
    for key in (under_schema, plain):
        s3.put_object(Bucket=local_stack.input_bucket, Key=key, Body=body)
    local_stack.wait_for_keys([under_schema, plain], timeout=WAIT_SECONDS)

    first, second = record_of(local_stack, under_schema), record_of(local_stack, plain)
    assert (first["status"], first["schema_name"]) == ("VALID", "invoice.v1")
    assert (second["status"], second["reason"]) == ("QUARANTINED", "SCHEMA_VIOLATION")
    assert second["schema_name"] == "job.v1"


def test_given_a_schema_the_api_does_not_know_then_upload_says_so_and_a_bad_name_is_usage(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in local_stack.env.items():
        monkeypatch.setenv(name, value)
    sample = str(INVOICES / "valid" / "invoices.csv")
    assert main(["upload", "--schema", "invoice.v9", "--wait", sample]) == EXIT_PROBLEM
    assert "UNKNOWN_SCHEMA" in capsys.readouterr().out
    assert main(["upload", "--schema", "../invoice.v1", sample]) == EXIT_USAGE


def test_the_demo_uploads_each_sample_with_the_schema_its_folder_names(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    """Given the samples' layout (job files at the top, invoice files under invoice.v1/),
    when the demo runs, then the invoice files are validated against invoice.v1 and the job
    file against job.v1, each ending with the outcome samples/README.md lists."""
    shutil.copy(SAMPLES / "valid" / "jobs.csv", tmp_path / "jobs.csv")
    shutil.copytree(INVOICES, tmp_path / "invoice.v1")
    console = Console(file=io.StringIO(), width=250)

    rows = run_files(local_stack, collect(tmp_path), console, timeout=WAIT_SECONDS)

    outcome = {
        p.relative_to(tmp_path).as_posix(): (r.schema, r.status, r.reason) for p, r in rows.items()
    }
    assert outcome == {
        "jobs.csv": ("job.v1", "VALID", ""),
        "invoice.v1/valid/invoices.csv": ("invoice.v1", "VALID", ""),
        "invoice.v1/valid/invoices.ndjson": ("invoice.v1", "VALID", ""),
        "invoice.v1/invalid/invoice-violations.csv": (
            "invoice.v1",
            "QUARANTINED",
            "SCHEMA_VIOLATION",
        ),
        "invoice.v1/invalid/float-amount.json": ("invoice.v1", "QUARANTINED", "SCHEMA_VIOLATION"),
    }
