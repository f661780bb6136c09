"""Results for Athena on the local stack: every terminal record becomes one JSON line.

The metadata table's stream reaches write_result through the local streams bridge, as the
event source mapping does in AWS; VALID and QUARANTINED come from the Lambdas, FAILED from
the state machine's RecordFailure direct integration: all three must be there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from silent_scalper.records import item_key

from scalper.local import Fault, LocalStack

from .conftest import Outcomes

pytestmark = pytest.mark.e2e

LOCAL_UPLOADER = "arn:aws:iam::123456789012:user/local"


def result_lines(stack: LocalStack) -> dict[str, dict[str, Any]]:
    """Every result line in the results bucket, by object key (the file's)."""
    s3 = stack.client("s3")
    bucket = stack.resource_name("ResultsBucket")
    lines: dict[str, dict[str, Any]] = {}
    for obj in s3.list_objects_v2(Bucket=bucket, Prefix="results/").get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read().decode()
        assert body.endswith("\n")
        assert body.count("\n") == 1, "one JSON line per object"
        line = json.loads(body)
        line["_object_key"] = obj["Key"]
        lines[line["key"]] = line
    return lines


def object_count(stack: LocalStack) -> int:
    """How many result objects the bucket holds."""
    listed = stack.client("s3").list_objects_v2(
        Bucket=stack.resource_name("ResultsBucket"), Prefix="results/"
    )
    return len(listed.get("Contents", []))


def test_given_three_outcomes_then_each_has_one_line_in_todays_partition(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    lines = result_lines(local_stack)
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    expected = {
        outcomes.valid.key: "VALID",
        outcomes.quarantined.key: "QUARANTINED",
        outcomes.failed.key: "FAILED",
    }
    for key, status in expected.items():
        assert lines[key]["status"] == status
        assert lines[key]["dt"] == today
        assert lines[key]["_object_key"].startswith(f"results/dt={today}/")
        assert lines[key]["_object_key"].endswith(".json")


def test_given_a_valid_file_then_its_line_has_the_content_facts_and_the_uploader(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    line = result_lines(local_stack)[outcomes.valid.key]
    assert line["records"] > 0
    assert line["format"] == "ndjson"
    assert line["size"] > 0
    assert len(line["sha256"]) == 64
    assert line["execution_arn"] == outcomes.valid.arn
    assert line["latency_seconds"] is not None
    assert line["uploader_kind"] == "IAM"
    assert line["uploader_principal"] == LOCAL_UPLOADER


def test_given_a_quarantined_file_then_its_line_has_the_reason_and_the_uploader(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    line = result_lines(local_stack)[outcomes.quarantined.key]
    assert line["reason"] == "MALFORMED"
    assert line["quarantine_location"].startswith("s3://")
    assert line["uploader_principal"] == LOCAL_UPLOADER


def test_given_a_failed_execution_then_recordfailure_s_write_has_a_line_too(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    assert outcomes.failed.status == "FAILED"
    assert "RecordFailure" in outcomes.failed.states
    line = result_lines(local_stack)[outcomes.failed.key]
    assert line["failure_error"]
    assert line["execution_arn"] == outcomes.failed.arn


def test_given_the_same_terminal_record_rewritten_then_no_second_line_appears(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    before = object_count(local_stack)
    table = local_stack.resource_name("MetadataTable")
    ddb = local_stack.client("dynamodb")
    pk = item_key(local_stack.input_bucket, outcomes.valid.key)
    item = ddb.get_item(TableName=table, Key={"pk": {"S": pk}})["Item"]
    ddb.put_item(TableName=table, Item=item)  # the same VALID record, same execution
    streams = local_stack.streams
    assert streams is not None
    assert streams.wait_idle(30)
    assert object_count(local_stack) == before


def failure_queue_messages(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=stack.resource_name("ResultsFailureQueue").rsplit("/", 1)[1])[
        "QueueUrl"
    ]
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def put_terminal(stack: LocalStack, key: str) -> None:
    """A terminal record written straight to the table (as RecordFailure would)."""
    stack.client("dynamodb").put_item(
        TableName=stack.resource_name("MetadataTable"),
        Item={
            "pk": {"S": item_key(stack.input_bucket, key)},
            "key": {"S": key},
            "status": {"S": "FAILED"},
            "execution_arn": {"S": f"arn:aws:states:us-east-1:123456789012:execution:x:{key}"},
            "failure_error": {"S": "States.Timeout"},
            "updated_at": {"S": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")},
        },
    )


def test_given_write_result_failing_twice_then_the_batch_is_retried_and_written(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    streams, lambdas = local_stack.streams, local_stack.lambdas
    assert streams is not None
    assert lambdas is not None
    lambdas.faults.inject("WriteResultFunction", Fault.FUNCTION_ERROR, times=2)
    key = "uploads/additions/retried.csv"
    put_terminal(local_stack, key)
    assert streams.wait_idle(30)
    assert result_lines(local_stack)[key]["status"] == "FAILED"
    [delivery] = [d for d in streams.deliveries if d.function == "WriteResultFunction"][-1:]
    assert delivery.attempts == 3
    assert not delivery.sent_to_on_failure


def test_given_write_result_failing_for_good_then_the_batch_is_parked_in_the_failure_queue(
    local_stack: LocalStack, outcomes: Outcomes
) -> None:
    streams, lambdas = local_stack.streams, local_stack.lambdas
    assert streams is not None
    assert lambdas is not None
    lambdas.faults.inject("WriteResultFunction", Fault.FUNCTION_ERROR, times=None)
    try:
        key = "uploads/additions/parked.csv"
        put_terminal(local_stack, key)
        assert streams.wait_idle(60)
    finally:
        lambdas.faults.clear("WriteResultFunction")
    assert key not in result_lines(local_stack)
    [parked] = failure_queue_messages(local_stack)
    assert parked["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert parked["DDBStreamBatchInfo"]["batchSize"] == 1
