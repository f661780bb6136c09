"""write_result: a DynamoDB stream batch -> result lines, and partial batch failures."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from functions_support import empty_flushes, published_metrics

RESULTS = "silent-scalper-dev-results"
PK = "silent-scalper-dev-input/uploads/2026-01-05/abc/jobs.csv"


def stream_record(
    seq: str, status: str, key: str = "uploads/2026-01-05/abc/jobs.csv"
) -> dict[str, Any]:
    serialize = TypeSerializer().serialize
    new = {
        "pk": f"silent-scalper-dev-input/{key}",
        "bucket": "silent-scalper-dev-input",
        "key": key,
        "status": status,
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:p:{seq}",
        "processed_at": "2026-01-05T12:00:01.000Z",
        "updated_at": "2026-01-05T12:00:01.000Z",
    }
    return {
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "SequenceNumber": seq,
            "NewImage": {k: serialize(v) for k, v in new.items()},
            "OldImage": {"pk": serialize(new["pk"]), "status": serialize("PROCESSING")},
        },
    }


@pytest.fixture
def write_result(load_handler, monkeypatch, stack) -> Any:
    monkeypatch.setenv("RESULTS_BUCKET", RESULTS)
    return load_handler("write_result").handler


def objects(stack) -> list[str]:
    listed = stack.s3.list_objects_v2(Bucket=RESULTS)
    return [o["Key"] for o in listed.get("Contents", [])]


def test_given_a_batch_then_terminal_records_become_lines_and_the_rest_is_skipped(
    write_result, stack, context
):
    stack.s3.create_bucket(Bucket=RESULTS)
    batch = {"Records": [stream_record("1", "VALID"), stream_record("2", "PROCESSING", "b.csv")]}
    assert write_result(batch, context) == {"batchItemFailures": []}
    [key] = objects(stack)
    assert key.startswith("results/dt=2026-01-05/")
    body = stack.s3.get_object(Bucket=RESULTS, Key=key)["Body"].read().decode()
    assert json.loads(body)["status"] == "VALID"


def test_given_s3_refusing_then_the_failed_record_and_the_rest_are_reported_for_retry(
    write_result, stack, context, capsys, recwarn
):
    # No results bucket: every put fails; stream order means everything from the first
    # failure on is retried.
    batch = {"Records": [stream_record(str(n), "QUARANTINED", f"k{n}.csv") for n in (7, 8, 9)]}
    result = write_result(batch, context)
    assert result == {"batchItemFailures": [{"itemIdentifier": s} for s in ("7", "8", "9")]}
    assert "ResultsFailed" in published_metrics(capsys.readouterr().out)
    assert empty_flushes(recwarn) == []


def test_given_a_record_that_can_never_be_a_line_then_it_is_skipped_not_retried(
    write_result, stack, context
):
    stack.s3.create_bucket(Bucket=RESULTS)
    broken = stream_record("3", "FAILED")
    for name in ("processed_at", "updated_at"):
        del broken["dynamodb"]["NewImage"][name]
    assert write_result({"Records": [broken]}, context) == {"batchItemFailures": []}
    assert objects(stack) == []
