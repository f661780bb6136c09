"""What the end-to-end failure tests share: waiting for the failure recorder's record and
reading the alerts it published (through a queue subscribed to the alerts topic)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from silent_scalper.records import item_key

from scalper.local import ExecutionReport, LocalStack

#: The recorder runs after the execution's end is delivered: give it time on a busy machine.
RECORD_SECONDS = 60.0
VALID_CSV = Path(__file__).resolve().parent / "unit" / "functions" / "data" / "jobs-valid.csv"
#: How long an upload may take to reach the end of its execution.
WAIT_SECONDS = 120.0


def alerts_queue(stack: LocalStack, name: str) -> str:
    """A queue subscribed to the alerts topic (raw SNS envelopes), named ``name-<ns>``."""
    return stack.subscribe_queue(
        stack.resource_name("AlertsTopic"), name=f"{name}-{time.monotonic_ns()}"
    )


def land_valid_csv(stack: LocalStack, key: str) -> tuple[str, ExecutionReport]:
    """Put a valid CSV at ``key``; -> the key and its ended execution."""
    stack.client("s3").put_object(Bucket=stack.input_bucket, Key=key, Body=VALID_CSV.read_bytes())
    return key, stack.wait_for_keys([key], timeout=WAIT_SECONDS)[key]


def record_of(stack: LocalStack, key: str) -> dict[str, Any]:
    """The object's metadata record (deserialised), or {} when there is none."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(stack.input_bucket, key)}},
        ConsistentRead=True,
    )
    deserializer = TypeDeserializer()
    return {k: deserializer.deserialize(v) for k, v in (item.get("Item") or {}).items()}


def wait_for_record(
    stack: LocalStack,
    key: str,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = RECORD_SECONDS,
) -> dict[str, Any]:
    """Poll the record until ``until(record)``; fail the test with the last one seen."""
    deadline = time.monotonic() + timeout
    while True:
        record = record_of(stack, key)
        if until(record):
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"record of {key} never matched; last seen: {record}")
        time.sleep(0.2)


def failed_alerts(stack: LocalStack, queue_url: str, *, wait: float = 3.0) -> list[dict[str, Any]]:
    """Every event=FAILED alert in the queue now (read for ``wait`` seconds), parsed. The
    queue sees every alert of the topic: filter by key, other tests share the stack."""
    sqs = stack.client("sqs")
    alerts: list[dict[str, Any]] = []
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
        ).get("Messages", [])
        for message in messages:
            envelope = json.loads(message["Body"])
            if envelope["MessageAttributes"]["event"]["Value"] == "FAILED":
                alerts.append(json.loads(envelope["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts
