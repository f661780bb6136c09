"""Outcome events: one EventBridge event per terminal record, published by write_result.

The samples under events/outcomes/ are the contract consumers code against; these tests pin
that the code produces exactly their shape, that a rule on the bus delivers them, and that a
failed publish is retried by the stream (and counted) instead of lost.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from handler_support import EVENTS, REGION
from silent_scalper.outcome_events import (
    DETAIL_TYPES,
    OutcomeDetail,
    OutcomeEventError,
    OutcomeEventSettings,
    outcome_detail,
    outcome_entry,
    publish,
)

RESULTS = "silent-scalper-dev-results"
BUCKET = "silent-scalper-dev-input"
UPLOAD_ID = "0f8fad5bd9cb469fa16570867728950e"
KNOWN = frozenset({"any", "job.v1", "invoice.v1"})
SAMPLES = sorted((EVENTS / "outcomes").glob("*.json"))
USER = "arn:aws:iam::123456789012:user/ana"


def image(status: str, key: str, execution: str = "1", **fields: Any) -> dict[str, Any]:
    """A terminal record as the stream's NewImage carries it (plain values)."""
    return {
        "pk": f"{BUCKET}/{key}",
        "bucket": BUCKET,
        "key": key,
        "status": status,
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:p:{execution}",
        "processed_at": "2026-01-05T12:00:01.000Z",
        "updated_at": "2026-01-05T12:00:01.000Z",
        **fields,
    }


def stream_record(seq: str, new: dict[str, Any]) -> dict[str, Any]:
    serialize = TypeSerializer().serialize
    return {
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": seq,
            "NewImage": {k: serialize(v) for k, v in new.items()},
            "OldImage": {"pk": serialize(new["pk"]), "status": serialize("PROCESSING")},
        },
    }


@pytest.mark.parametrize("path", SAMPLES, ids=lambda p: p.name)
def test_each_sample_is_an_eventbridge_event_with_exactly_the_contract_s_detail(path) -> None:
    event = json.loads(path.read_text())
    assert event["source"] == "silent-scalper"
    assert event["detail-type"] == DETAIL_TYPES[event["detail"]["status"]]
    fields = {f.serialization_alias or name for name, f in OutcomeDetail.model_fields.items()}
    assert set(event["detail"]) == fields
    OutcomeDetail.model_validate({**event["detail"], "schema_name": event["detail"]["schema"]})
    # Never contents: no record values, no located messages (they quote cells).
    assert not {"message", "errors", "columns"} & set(event["detail"])


def test_the_samples_cover_each_detail_type_once() -> None:
    kinds = sorted(json.loads(p.read_text())["detail-type"] for p in SAMPLES)
    assert kinds == sorted(DETAIL_TYPES.values())


def test_given_a_quarantined_record_then_the_detail_names_outcome_upload_and_location() -> None:
    key = f"uploads/invoice.v1/2026-01-05/{UPLOAD_ID}/bad.csv"
    new = image(
        "QUARANTINED", key, reason="SCHEMA_VIOLATION", records=4, sha256="ab" * 32,
        version_id="v1", schema_name="invoice.v1", message="record 2: 'secret cell'",
        quarantine_location="s3://q/x", uploader={"kind": "IAM", "principal": USER},
    )  # fmt: skip
    detail = outcome_detail(new, settings=OutcomeEventSettings(), schemas=KNOWN)
    entry = outcome_entry(detail, settings=OutcomeEventSettings(event_bus_name="feeds"))
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "silent-scalper",
        "File Quarantined",
        "feeds",
    )
    body = json.loads(entry["Detail"])
    assert (body["schema"], body["upload_id"], body["version"]) == ("invoice.v1", UPLOAD_ID, "v1")
    assert body["uploader"]["principal"] == USER
    assert body["quarantine_location"] == "s3://q/x"
    assert "secret cell" not in entry["Detail"]
    assert entry["Resources"] == [f"arn:aws:s3:::{BUCKET}/{key}", new["execution_arn"]]


def test_given_a_failed_record_without_schema_then_the_key_s_rule_names_it() -> None:
    """RecordFailure (the state machine) writes no schema and only the event's spelling of
    the key: the detail has that key and the schema the one rule reads from it."""
    key = f"uploads/invoice.v1/2026-01-05/{UPLOAD_ID}/f.csv"
    new = image("FAILED", key, failure_error="States.Timeout")
    del new["key"]
    new["event_key"] = key  # the event's spelling
    detail = outcome_detail(new, settings=OutcomeEventSettings(), schemas=KNOWN)
    assert (detail.schema_name, detail.reason, detail.key) == ("invoice.v1", "States.Timeout", key)


def test_the_dedup_id_is_one_per_outcome() -> None:
    settings = OutcomeEventSettings()

    def dedup(status: str, execution: str) -> str:
        new = image(status, "uploads/job.v1/a.csv", execution)
        return outcome_detail(new, settings=settings, schemas=KNOWN).dedup_id

    assert dedup("VALID", "1") == dedup("VALID", "1")  # a redelivery of the same outcome
    assert len({dedup("VALID", "1"), dedup("VALID", "2"), dedup("FAILED", "1")}) == 3


class FlakyEvents:
    """PutEvents that fails some entries (a 200 with FailedEntryCount), as AWS may."""

    def __init__(self, failures: list[int]) -> None:
        self.failures = failures  # entries to fail on each call, in order
        self.calls: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        fail = self.failures.pop(0) if self.failures else 0
        self.calls.append(len(Entries))
        results = [{"ErrorCode": "ThrottlingException", "ErrorMessage": "slow down"}] * fail
        results += [{"EventId": f"e{i}"} for i in range(len(Entries) - fail)]
        return {"FailedEntryCount": fail, "Entries": results}


def test_given_a_partial_failure_then_only_the_failed_entries_are_sent_again() -> None:
    client = FlakyEvents([2, 0])
    entries: list[Any] = [{"Detail": str(n)} for n in range(12)]
    assert publish(client, entries, backoff_seconds=0) == 12  # type: ignore[arg-type]
    assert client.calls == [10, 2, 2]  # 10 a call; the 2 failed are retried alone


def test_given_failures_past_the_attempts_then_an_error_not_a_silent_loss() -> None:
    client = FlakyEvents([1, 1, 1])
    with pytest.raises(OutcomeEventError, match="ThrottlingException"):
        publish(client, [{"Detail": "x"}], attempts=3, backoff_seconds=0)  # type: ignore[list-item]


@pytest.fixture
def write_result(load_handler, monkeypatch, stack) -> Any:
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS)
    stack.s3.create_bucket(Bucket=RESULTS)
    return load_handler("write_result").handler


def test_given_a_rule_on_the_bus_then_a_valid_invoice_reaches_its_queue(
    write_result, stack, context
) -> None:
    """Given the consumer rule of docs/events.md (valid invoice.* files -> SQS), when a batch
    holds a valid invoice and a valid job file, then only the invoice's event is delivered."""
    events = boto3.client("events", region_name=REGION)
    queue = stack.sqs.create_queue(QueueName="valid-invoices")["QueueUrl"]
    arn = stack.sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    pattern = {
        "source": ["silent-scalper"],
        "detail-type": ["File Validated"],
        "detail": {"schema": [{"prefix": "invoice."}]},
    }
    events.put_rule(Name="valid-invoices", EventPattern=json.dumps(pattern))
    events.put_targets(
        Rule="valid-invoices", Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}]
    )
    invoice = image("VALID", f"uploads/invoice.v1/2026-01-05/{UPLOAD_ID}/i.csv", "1",
                    schema_name="invoice.v1")  # fmt: skip
    job = image("VALID", "uploads/job.v1/j.csv", "2", schema_name="job.v1")
    batch = {"Records": [stream_record("1", invoice), stream_record("2", job)]}

    assert write_result(batch, context) == {"batchItemFailures": []}

    messages = stack.sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    [delivered] = [json.loads(m["Body"]) for m in messages]
    assert delivered["detail-type"] == "File Validated"
    assert (delivered["detail"]["key"], delivered["detail"]["upload_id"]) == (
        invoice["key"],
        UPLOAD_ID,
    )


def test_given_the_bus_refusing_then_the_record_is_retried_and_counted(
    load_handler, monkeypatch, stack, context, capsys
) -> None:
    """Given a bus that does not exist, then the record and the rest of the batch are
    reported for retry (the stream mapping retries, then parks them), and
    OutcomeEventsFailed is emitted for the alarm."""
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS)
    monkeypatch.setenv("EVENT_BUS_NAME", "no-such-bus")
    stack.s3.create_bucket(Bucket=RESULTS)
    handler = load_handler("write_result").handler
    batch = {"Records": [stream_record(s, image("VALID", f"uploads/{s}.csv", s)) for s in "12"]}
    assert handler(batch, context) == {
        "batchItemFailures": [{"itemIdentifier": "1"}, {"itemIdentifier": "2"}]
    }
    assert '"OutcomeEventsFailed"' in capsys.readouterr().out


def test_an_entry_stays_far_under_the_256_kib_putevents_limit() -> None:
    """Given the largest record a file can leave (a 1024-byte key, a long uploader, long
    ARNs), then its entry, counted as EventBridge counts it, is a few KiB at most."""
    key = "uploads/invoice.v1/" + "k" * (1024 - len("uploads/invoice.v1/"))
    uploader = {"kind": "COGNITO", "principal": "p" * 512, "name": "n" * 512}
    new = image("QUARANTINED", key, reason="SCHEMA_VIOLATION", records=10**12, sha256="f" * 64,
                quarantine_location="s3://" + "q" * 63 + "/" + key, uploader=uploader)  # fmt: skip
    entry = outcome_entry(
        outcome_detail(new, settings=OutcomeEventSettings(), schemas=KNOWN),
        settings=OutcomeEventSettings(),
    )
    size = len(entry["Source"]) + len(entry["DetailType"]) + len(entry["Detail"].encode())
    size += sum(len(r.encode()) for r in entry["Resources"])
    assert size < 8 * 1024
