"""The five state-machine Lambdas, each run through its real handler against moto.

Inputs are the sample state inputs under events/states/, with the object uploaded first so
its version id is real; outputs are checked against the shapes the ASL's ResultSelectors read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from functions_support import empty_flushes, published_metrics
from silent_scalper.engine import heap
from silent_scalper.records import MetadataRecord, ObjectGone, item_key

TYPE_CHECK_KEYS = {
    "ok", "key", "format", "encoding", "reason", "message", "uploader", "uploader_attribute"
}  # fmt: skip
VALIDATION_KEYS = {"valid", "reason", "message", "summary"}
OUTCOME_KEYS = {"status", "pk", "reason", "location"}


def get_item(stack: Any, pk: str) -> dict[str, Any] | None:
    item = stack.dynamodb.get_item(TableName=stack.settings.table_name, Key={"pk": {"S": pk}})
    return item.get("Item")


def tags(stack: Any, bucket: str, key: str, version_id: str | None = None) -> dict[str, str]:
    args = {"Bucket": bucket, "Key": key}
    if version_id:
        args["VersionId"] = version_id
    return {t["Key"]: t["Value"] for t in stack.s3.get_object_tagging(**args)["TagSet"]}


def test_given_a_valid_csv_when_type_checked_then_format_and_encoding_are_returned(
    load_handler, object_event, context
):
    event = object_event("states/type_check.json", "jobs-valid.csv")
    result = load_handler("type_check").handler(event, context)
    assert set(result) == TYPE_CHECK_KEYS
    assert result == {
        "ok": True,
        "key": event["object"]["key"],
        "format": "csv",
        "encoding": "utf-8",
        "reason": None,
        "message": None,
        "uploader": None,
        "uploader_attribute": {"NULL": True},
    }


def test_given_an_empty_object_when_type_checked_then_empty_file_without_a_ranged_get(
    load_handler, object_event, context
):
    event = object_event("states/type_check.json", "empty.csv")
    result = load_handler("type_check").handler(event, context)
    assert result["ok"] is False
    assert result["reason"] == "EMPTY_FILE"


def test_given_an_upper_case_extension_when_type_checked_then_it_is_that_format(
    load_handler, object_event, context
):
    """Extensions are matched case-insensitively: DATA.CSV is a CSV file."""
    event = object_event("states/type_check.json", "jobs-valid.csv", key="uploads/x/DATA.CSV")
    result = load_handler("type_check").handler(event, context)
    assert (result["ok"], result["format"], result["key"]) == (True, "csv", "uploads/x/DATA.CSV")


def test_given_an_extension_that_is_not_accepted_when_type_checked_then_unsupported_type(
    load_handler, object_event, context
):
    """Every object under the prefix reaches TypeCheck: the others get a reason, not silence."""
    event = object_event("states/type_check.json", "jobs-valid.csv", key="uploads/x/notes.TXT")
    result = load_handler("type_check").handler(event, context)
    assert (result["ok"], result["reason"]) == (False, "UNSUPPORTED_TYPE")
    assert "'.txt' is not accepted" in result["message"]


def test_given_a_form_encoded_key_when_type_checked_then_the_decoded_object_is_read(
    load_handler, object_event, context
):
    """Classic notifications form-encode: "jobs 2026.csv" may arrive as "jobs+2026.csv"."""
    event = object_event("states/type_check.json", "jobs-valid.csv", key="uploads/x/jobs 2026.csv")
    event["object"]["key"] = "uploads/x/jobs+2026.csv"
    result = load_handler("type_check").handler(event, context)
    assert (result["ok"], result["key"]) == (True, "uploads/x/jobs 2026.csv")


def test_given_a_raw_key_with_a_plus_when_type_checked_then_that_very_object_is_read(
    load_handler, object_event, context
):
    """Captured EventBridge events carry keys raw: "a+b.csv" is the object "a+b.csv"."""
    event = object_event("states/type_check.json", "jobs-valid.csv", key="uploads/x/a+b.csv")
    result = load_handler("type_check").handler(event, context)
    assert (result["ok"], result["key"]) == (True, "uploads/x/a+b.csv")


def test_given_both_spellings_exist_when_type_checked_then_the_events_version_decides(
    load_handler, object_event, stack, context
):
    """The object "a b.csv" delivered form-encoded as "a+b.csv", and "a+b.csv" also exists:
    the version id belongs to "a b.csv" only, so that is the object read."""
    stack.put("uploads/x/a+b.csv", b"not, the file, this event is about\n")
    event = object_event("states/type_check.json", "empty.csv", key="uploads/x/a b.csv")
    event["object"]["key"] = "uploads/x/a+b.csv"
    result = load_handler("type_check").handler(event, context)
    assert (result["reason"], result["key"]) == ("EMPTY_FILE", "uploads/x/a b.csv")


def test_given_the_object_is_gone_under_every_spelling_then_type_check_raises_object_gone(
    load_handler, object_event, stack, context
):
    event = object_event("states/type_check.json", "jobs-valid.csv", key="uploads/x/gone+1.csv")
    stack.s3.delete_object(
        Bucket=stack.settings.input_bucket,
        Key="uploads/x/gone+1.csv",
        VersionId=event["object"]["version-id"],
    )
    with pytest.raises(ObjectGone, match="as delivered or its decoded form"):
        load_handler("type_check").handler(event, context)


def test_given_a_missing_object_field_when_invoked_then_the_handler_raises(
    load_handler, context, event
):
    """A malformed payload is a pipeline bug, not a content problem: it must fail loudly."""
    payload = event("states/type_check.json")
    del payload["object"]["key"]
    handler = load_handler("type_check").handler
    with pytest.raises(Exception, match="key"):
        handler(payload, context)


def test_given_a_valid_csv_when_validated_then_the_summary_counts_every_record(
    load_handler, object_event, context
):
    event = object_event("states/validate_schema.json", "jobs-valid.csv")
    result = load_handler("validate_schema").handler(event, context)
    assert set(result) == VALIDATION_KEYS
    assert result["valid"] is True
    assert result["reason"] is None
    summary = result["summary"]
    assert summary["records"] == 3
    assert summary["invalid_records"] == 0
    assert summary["size"] == event["object"]["size"]
    assert summary["schema"] == "job.v1"
    assert len(json.dumps(result)) < 16 * 1024


def test_given_a_cold_start_of_validate_schema_then_its_freed_blocks_are_kept_for_reuse(
    load_handler, monkeypatch
):
    """The function runs the engine and nothing else: its cold start keeps the engine's
    freed buffers in the heap (silent_scalper.engine.heap)."""
    calls = []
    monkeypatch.setattr(heap, "keep_freed_heap", lambda: calls.append("kept") or True)
    load_handler("validate_schema")
    assert calls == ["kept"]


def test_given_an_invalid_csv_when_validated_then_schema_violation_with_located_errors(
    load_handler, object_event, context
):
    event = object_event("states/validate_schema.json", "jobs-invalid.csv")
    result = load_handler("validate_schema").handler(event, context)
    assert result["valid"] is False
    assert result["reason"] == "SCHEMA_VIOLATION"
    assert result["message"].startswith("record 2 (line 3), column submitted_at")
    assert result["summary"]["invalid_records"] == 2


def test_given_type_check_said_no_when_validated_then_the_object_is_not_read(
    load_handler, event, stack, context, capsys, recwarn
):
    """The object does not even exist: a read would fail, the short-circuit must not read.
    The skip is counted (ValidationSkipped), so the metrics flush is never empty."""
    payload = event("states/validate_schema.json")
    payload["type_check"] = {
        "ok": False,
        "format": None,
        "encoding": None,
        "reason": "UNSUPPORTED_TYPE",
        "message": "a zip archive, not csv",
    }
    result = load_handler("validate_schema").handler(payload, context)
    assert result == {
        "valid": False,
        "reason": "UNSUPPORTED_TYPE",
        "message": "a zip archive, not csv",
        "summary": None,
    }
    assert "ValidationSkipped" in published_metrics(capsys.readouterr().out)
    assert empty_flushes(recwarn) == []


def test_given_a_valid_summary_when_metadata_is_extracted_then_a_valid_record_is_built(
    load_handler, event, context
):
    payload = event("states/extract_metadata.json")
    result = load_handler("extract_metadata").handler(payload, context)
    record = MetadataRecord.model_validate(result["record"])
    assert record.status == "VALID"
    assert record.pk == item_key(payload["bucket"], payload["object"]["key"])
    assert record.records == 3
    assert record.job_ids == 3
    assert record.first_submitted_at == "2026-01-05T09:30:00+00:00"
    assert record.last_submitted_at == "2026-01-05T11:15:00+00:00"
    assert record.sha256 == payload["summary"]["sha256"]
    assert record.execution_arn == payload["execution_arn"]
    assert record.execution_url is not None
    assert payload["execution_arn"] in record.execution_url
    assert record.event_time == payload["event_time"]


def test_given_an_invalid_summary_when_metadata_is_extracted_then_the_handler_refuses(
    load_handler, event, context
):
    payload = event("states/extract_metadata.json")
    payload["summary"]["valid"] = False
    payload["summary"]["reason"] = "SCHEMA_VIOLATION"
    handler = load_handler("extract_metadata").handler
    with pytest.raises(ValueError, match="Quarantine"):
        handler(payload, context)


def test_given_a_claimed_record_when_written_then_valid_record_and_tag(
    load_handler, object_event, claim, stack, context
):
    payload = object_event("states/write_metadata.json", "jobs-valid.csv")
    payload["record"]["version_id"] = payload["object"]["version-id"]
    claim(payload)
    handler = load_handler("write_metadata").handler
    result = handler(payload, context)
    assert set(result) == OUTCOME_KEYS
    assert result["status"] == "VALID"
    item = get_item(stack, result["pk"])
    assert item is not None
    record = MetadataRecord.from_item(item)
    assert record.status == "VALID"
    assert record.records == 3
    assert tags(stack, payload["bucket"], payload["object"]["key"], record.version_id) == {
        "scalper-status": "VALID"
    }
    # Idempotent: Lambda retrying the same invocation writes the same record again.
    assert handler(payload, context) == result


def test_given_a_newer_execution_owns_the_record_when_written_then_superseded(
    load_handler, object_event, claim, stack, context, capsys, recwarn
):
    payload = object_event("states/write_metadata.json", "jobs-valid.csv")
    claim(payload, owner="arn:aws:states:us-east-1:123456789012:execution:p:newer")
    module = load_handler("write_metadata")
    with pytest.raises(module.SupersededError):
        module.handler(payload, context)
    item = get_item(stack, item_key(payload["bucket"], payload["object"]["key"]))
    assert item is not None
    assert item["status"]["S"] == "PROCESSING"
    assert "WritesSuperseded" in published_metrics(capsys.readouterr().out)
    assert empty_flushes(recwarn) == []


def test_given_an_invalid_file_when_quarantined_then_copy_report_tags_record_and_alert(
    load_handler, object_event, claim, stack, context
):
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    result = load_handler("quarantine").handler(payload, context)
    settings = stack.settings
    key = payload["object"]["key"]
    copy_key = f"{payload['bucket']}/{key}"
    assert result == {
        "status": "QUARANTINED",
        "pk": item_key(payload["bucket"], key),
        "reason": "SCHEMA_VIOLATION",
        "location": f"s3://{settings.quarantine_bucket}/{copy_key}",
    }
    copied = stack.s3.get_object(Bucket=settings.quarantine_bucket, Key=copy_key)["Body"].read()
    assert copied.startswith(b"job_id,submitted_at")
    report_obj = stack.s3.get_object(
        Bucket=settings.quarantine_bucket, Key=copy_key + ".report.json"
    )
    report = json.loads(report_obj["Body"].read())
    assert report["reason"] == "SCHEMA_VIOLATION"
    assert report["errors"][0]["location"] == "record 2 (line 3), column submitted_at"
    assert report["source"]["key"] == key
    assert report["summary"]["invalid_records"] == 2
    expected_tags = {"scalper-status": "QUARANTINED", "scalper-reason": "SCHEMA_VIOLATION"}
    assert tags(stack, settings.quarantine_bucket, copy_key) == expected_tags
    assert tags(stack, payload["bucket"], key, payload["object"]["version-id"]) == expected_tags
    item = get_item(stack, result["pk"])
    assert item is not None
    record = MetadataRecord.from_item(item)
    assert record.status == "QUARANTINED"
    assert record.quarantine_location == result["location"]
    assert record.errors[0].column == "submitted_at"
    alerts = stack.alerts()
    assert len(alerts) == 1
    assert alerts[0]["MessageAttributes"]["event"]["Value"] == "QUARANTINED"
    message = json.loads(alerts[0]["Message"])
    assert message["reason"] == "SCHEMA_VIOLATION"
    assert message["key"] == key


def test_given_a_type_check_reason_when_quarantined_then_the_report_has_no_summary(
    load_handler, object_event, claim, stack, context
):
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    payload["validation"] = {
        "valid": False,
        "reason": "UNSUPPORTED_TYPE",
        "message": "looks like a zip archive",
        "summary": None,
    }
    claim(payload)
    result = load_handler("quarantine").handler(payload, context)
    assert result["reason"] == "UNSUPPORTED_TYPE"
    item = get_item(stack, result["pk"])
    assert item is not None
    assert MetadataRecord.from_item(item).message == "looks like a zip archive"


def test_given_a_newer_execution_owns_the_record_when_quarantining_then_nothing_is_copied(
    load_handler, object_event, claim, stack, context, capsys, recwarn
):
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload, owner="arn:aws:states:us-east-1:123456789012:execution:p:newer")
    module = load_handler("quarantine")
    with pytest.raises(module.SupersededError):
        module.handler(payload, context)
    listed = stack.s3.list_objects_v2(Bucket=stack.settings.quarantine_bucket)
    assert listed.get("KeyCount", 0) == 0
    assert stack.alerts() == []
    assert "WritesSuperseded" in published_metrics(capsys.readouterr().out)
    assert empty_flushes(recwarn) == []


def test_given_quarantine_is_retried_when_it_runs_again_then_one_copy_and_one_report(
    load_handler, object_event, claim, stack, context
):
    """Lambda retries, redrives and superseded duplicates re-run Quarantine: the copy and the
    report are made once per source version, not stacked as new versions."""
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    handler = load_handler("quarantine").handler
    first = handler(payload, context)
    assert handler(payload, context) == first
    versions = stack.s3.list_object_versions(Bucket=stack.settings.quarantine_bucket)
    keys = sorted(v["Key"] for v in versions.get("Versions", []))
    copy_key = f"{payload['bucket']}/{payload['object']['key']}"
    assert keys == [copy_key, copy_key + ".report.json"]
    head = stack.s3.head_object(Bucket=stack.settings.quarantine_bucket, Key=copy_key)
    assert head["Metadata"]["scalper-source-version"] == payload["object"]["version-id"]
    source = stack.s3.head_object(
        Bucket=payload["bucket"],
        Key=payload["object"]["key"],
        VersionId=payload["object"]["version-id"],
    )
    assert head["ContentType"] == source["ContentType"]


def test_given_a_new_version_of_the_key_when_quarantined_then_a_new_copy_version_is_made(
    load_handler, object_event, claim, stack, context
):
    handler = load_handler("quarantine").handler
    first = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(first)
    handler(first, context)
    second = object_event("states/quarantine.json", "jobs-invalid.csv")
    second["execution_arn"] += "-second"
    second["object"]["sequencer"] += "1"
    claim(second)
    handler(second, context)
    versions = stack.s3.list_object_versions(Bucket=stack.settings.quarantine_bucket)
    copy_key = f"{first['bucket']}/{first['object']['key']}"
    copies = [v for v in versions.get("Versions", []) if v["Key"] == copy_key]
    assert len(copies) == 2


def test_given_a_file_larger_than_the_read_buffer_when_validated_then_every_record_counts(
    load_handler, event, stack, context
):
    """The object streams through the 1 MiB buffer in several reads; nothing is lost between."""
    header = b"job_id,submitted_at,customer_id,status,priority,amount,currency\n"
    rows = b"".join(
        b"JOB-%06d,2026-01-05T09:30:00Z,42,queued,2,19.99,EUR\n" % i for i in range(40_000)
    )
    body = header + rows
    assert len(body) > 2 * 1024 * 1024
    payload = event("states/validate_schema.json")
    payload["object"]["version-id"] = stack.put(payload["object"]["key"], body)
    payload["object"]["size"] = len(body)
    result = load_handler("validate_schema").handler(payload, context)
    assert result["valid"] is True
    assert result["summary"]["records"] == 40_000
    assert result["summary"]["size"] == len(body)
    assert result["summary"]["job_ids"] == 40_000
