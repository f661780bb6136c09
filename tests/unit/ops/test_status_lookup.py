"""``scalper status KEY`` finds the record of exactly KEY, under either spelling of its event.

Records are keyed by the SHA-256 of the key as the S3 event spelled it. EventBridge may send
``a b.csv`` raw or form-encoded as ``a+b.csv``, and ``a+b.csv`` raw or as ``a%2Bb.csv``, so
the record of ``a b.csv`` and the record of ``a+b.csv`` can sit under the same partition key
in one deployment and under different ones in another. The readable ``key`` a record holds
(resolved against the object) tells them apart.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from silent_scalper.records import item_key

from scalper.ops.common import NotFoundError
from scalper.ops.status import find_record, key_candidates, status
from scalper.ops.target import Target

BUCKET = "in"
TARGET = Target(
    stack="test",
    region="us-east-1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
    table="records",
    input_bucket=BUCKET,
)


def put_record(dynamodb: Any, *, event_key: str, key: str | None, status: str = "VALID") -> None:
    item: dict[str, Any] = {
        "pk": {"S": item_key(BUCKET, event_key)},
        "bucket": {"S": BUCKET},
        "event_key": {"S": event_key},
        "status": {"S": status},
        "execution_arn": {"S": f"arn:aws:states:us-east-1:123456789012:execution:p:{status}"},
    }
    if key is not None:
        item["key"] = {"S": key}
    dynamodb.put_item(TableName=TARGET.table, Item=item)


def found_key(dynamodb: Any, key: str) -> str | None:
    found = find_record(dynamodb, TARGET.table, key_candidates(TARGET, key))
    return None if found is None else str(found[1].get("key"))


def test_given_raw_delivery_of_a_plus_key_then_status_of_the_spaced_key_finds_nothing(
    dynamodb: Any,
) -> None:
    put_record(dynamodb, event_key="uploads/a+b.csv", key="uploads/a+b.csv")

    assert found_key(dynamodb, "uploads/a+b.csv") == "uploads/a+b.csv"
    assert found_key(dynamodb, "uploads/a b.csv") is None


def test_given_form_encoded_delivery_then_each_key_finds_its_own_record_not_the_other(
    dynamodb: Any,
) -> None:
    """``a b.csv`` sent as ``a+b.csv`` and ``a+b.csv`` sent as ``a%2Bb.csv``."""
    put_record(dynamodb, event_key="uploads/a+b.csv", key="uploads/a b.csv")
    put_record(dynamodb, event_key="uploads/a%2Bb.csv", key="uploads/a+b.csv")

    assert found_key(dynamodb, "uploads/a b.csv") == "uploads/a b.csv"
    assert found_key(dynamodb, "uploads/a+b.csv") == "uploads/a+b.csv"


def test_given_only_the_spaced_file_was_recorded_then_status_of_the_plus_key_says_none(
    dynamodb: Any,
) -> None:
    put_record(dynamodb, event_key="uploads/a+b.csv", key="uploads/a b.csv")

    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    with pytest.raises(NotFoundError, match=r"no record for s3://in/uploads/a\+b\.csv"):
        status(dynamodb, sfn, TARGET, "uploads/a+b.csv")
    assert found_key(dynamodb, "uploads/a+b.csv") is None


def test_given_a_claim_with_no_resolved_key_then_it_is_shown_with_a_note(dynamodb: Any) -> None:
    put_record(dynamodb, event_key="uploads/c d.csv", key=None, status="PROCESSING")

    found = find_record(dynamodb, TARGET.table, key_candidates(TARGET, "uploads/c d.csv"))

    assert found is not None
    pk, record, note = found
    assert (pk, record["status"]) == (item_key(BUCKET, "uploads/c d.csv"), "PROCESSING")
    assert "no resolved key" in str(note)
