"""Releasing an abandoned claim before a replay (scalper.ops.executions) on moto.

The promise under test: Claim lets the same S3 event in again only after it FAILED, so a
duplicate delivery never does the work twice; a claim whose execution died (aborted, timed
out) is released to FAILED — and only that claim: one that moved on is left alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from silent_scalper.records import item_key

from scalper.ops.executions import release_abandoned_claim
from scalper.ops.target import Target

REPO = Path(__file__).resolve().parents[3]
EVENT = json.loads((REPO / "events" / "eventbridge" / "object-created.json").read_text())
BUCKET = EVENT["detail"]["bucket"]["name"]
EVENT_KEY = EVENT["detail"]["object"]["key"]
OWNER = "arn:aws:states:us-east-1:123456789012:execution:pipeline:dead"
TARGET = Target(
    stack="test",
    region="us-east-1",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:pipeline",
    table="records",
)


def _seed(dynamodb: Any, status: str, owner: str) -> None:
    dynamodb.put_item(
        TableName=TARGET.table,
        Item={
            "pk": {"S": item_key(BUCKET, EVENT_KEY)},
            "status": {"S": status},
            "execution_arn": {"S": owner},
            "sequencer": {"S": EVENT["detail"]["object"]["sequencer"]},
            "claimed_at": {"S": "2026-11-25T10:00:00.000Z"},
        },
    )


def _record(dynamodb: Any) -> dict[str, Any]:
    item = dynamodb.get_item(TableName=TARGET.table, Key={"pk": {"S": item_key(BUCKET, EVENT_KEY)}})
    return {k: next(iter(v.values())) for k, v in item["Item"].items()}


def test_given_a_claim_whose_execution_died_when_released_then_it_is_failed(dynamodb: Any) -> None:
    _seed(dynamodb, "PROCESSING", OWNER)

    released = release_abandoned_claim(dynamodb, TARGET, EVENT, OWNER, "execution ended ABORTED")

    record = _record(dynamodb)
    assert released is True
    assert (record["status"], record["failure_error"]) == ("FAILED", "Scalper.ExecutionEnded")
    assert record["failure_cause"] == "execution ended ABORTED"
    assert record["execution_arn"] == OWNER


@pytest.mark.parametrize(
    ("status", "owner"),
    [("PROCESSING", OWNER.replace("dead", "alive")), ("VALID", OWNER), ("QUARANTINED", OWNER)],
)
def test_given_a_claim_that_moved_on_when_released_then_it_is_left_alone(
    dynamodb: Any, status: str, owner: str
) -> None:
    _seed(dynamodb, status, owner)

    released = release_abandoned_claim(dynamodb, TARGET, EVENT, OWNER, "execution ended ABORTED")

    assert released is False
    record = _record(dynamodb)
    assert (record["status"], record["execution_arn"]) == (status, owner)
    assert "failure_error" not in record
