"""Chaos on the local stack: duplicates, reordering, Lambda faults and DynamoDB throttles.

Given 500+ generated files of every kind, uploaded to the input bucket, with each S3 event
delivered one to three times in a seeded random order, 20 % of Lambda invocations failing
transiently (through the local Lambda endpoint), 10 % of the state machine's own DynamoDB
calls throttled and a few non-retryable Lambda errors on top (and one last file failed for
certain afterwards, so the replay path always runs); then every object has exactly one
terminal record with the right outcome, every quarantined file exactly one copy and one
report (object versions counted), every FAILED execution that owned its file's record had
it recorded FAILED and raised an SNS alert (through the failure recorder), and every record
left FAILED is VALID or QUARANTINED after a replay.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from silent_scalper.records import item_key

from scalper.local import Fault, LocalStack
from scalper.local.faults import DynamoDBThrottles, LambdaChaos
from scalper.ops.executions import replay
from scalper.ops.target import Target

from .reliability_support import (
    JobFile,
    held_events,
    job_files,
    table_items,
    target_of,
    version_counts,
    wait_until_quiet,
)

pytestmark = pytest.mark.e2e

SEED = 20261125
#: At least 500, the storm the pipeline is specified for; SCALPER_CHAOS_FILES lets a
#: developer run a bigger storm.
FILES = max(500, int(os.environ.get("SCALPER_CHAOS_FILES", "500")))
LAMBDA_FAULT_RATE = 0.2
DYNAMODB_THROTTLE_RATE = 0.1
#: Non-retryable errors injected on top (the FAILED path must be exercised every run).
PERMANENT_FAULTS = 3
PREFIX = "uploads/chaos/"
DEADLINE_SECONDS = 600.0
#: What the checks read of each record (moto serialises a Scan attribute by attribute).
RECORD_FIELDS = ("status", "reason", "execution_arn", "formula_cells")


def upload(stack: LocalStack, files: list[JobFile]) -> None:
    """Put every file into the input bucket, in parallel (as many clients would)."""
    s3, bucket = stack.client("s3"), stack.input_bucket

    def put(file: JobFile) -> None:
        s3.put_object(Bucket=bucket, Key=PREFIX + file.name, Body=file.body)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(put, files))


def executions(stack: LocalStack, status: str) -> list[str]:
    """ARNs of this test's executions with ``status``."""
    sfn = stack.client("stepfunctions")
    arns: list[str] = []
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=stack.state_machine_arn, statusFilter=status
    ):
        arns += [e["executionArn"] for e in page["executions"]]
    assert stack.bridge is not None
    ours = {d.execution_arn for d in stack.bridge.deliveries if d.key.startswith(PREFIX)}
    return [arn for arn in arns if arn in ours]


def failure_alerts(stack: LocalStack, queue_url: str) -> dict[str, dict[str, Any]]:
    """Drain the alerts queue: execution ARN -> the FAILED alert's message."""
    sqs = stack.client("sqs")
    alerts: dict[str, dict[str, Any]] = {}
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            return alerts
        for message in messages:
            body = json.loads(json.loads(message["Body"])["Message"])
            if body.get("event") == "FAILED":
                alerts[str(body["execution_arn"])] = body
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def deliver_to_certain_failure(stack: LocalStack, event: dict[str, Any]) -> None:
    """Deliver ``event`` with ExtractMetadata failing on every attempt, and wait it out."""
    lambdas, bridge = stack.lambdas, stack.bridge
    assert lambdas is not None
    assert bridge is not None
    lambdas.faults.clear()
    lambdas.faults.inject(
        "ExtractMetadataFunction",
        Fault.FUNCTION_ERROR,
        error_type="RuntimeError",
        message="permanent fault (chaos test)",
    )
    bridge.publish(event)
    wait_until_quiet(stack, 60)


def replay_all(stack: LocalStack, target: Target, arns: list[str]) -> int:
    """Replay every execution of ``arns`` and wait for each new one to end; returns how
    many were replayed."""
    replays = replay(stack.client("stepfunctions"), target, arns)
    assert [r.status for r in replays] == ["replayed"] * len(arns)
    for result in replays:
        assert result.new_arn is not None
        stack.wait_for_execution(result.new_arn, timeout=120)
    return len(replays)


# The chaos run is one scenario read top to bottom (given, when, then); splitting it would
# scatter the story across helpers.
def test_given_duplicates_reordering_and_faults_then_every_object_ends_exactly_once(  # noqa: PLR0915
    stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    summary: list[str],
    record_property: Any,
) -> None:
    rng = random.Random(SEED)  # a reproducible storm
    files = job_files(FILES, seed=SEED)
    target = target_of(stack)
    bucket, quarantine_bucket = stack.input_bucket, target.quarantine_bucket
    assert quarantine_bucket is not None
    assert target.topic_arn is not None
    # Failure alerts only: the quarantine alerts (one per quarantined file) are not checked
    # here, and moto's ReceiveMessage costs more the more messages a queue holds.
    alerts_url = stack.subscribe_queue(
        target.topic_arn, name="chaos-alerts", filter_policy={"event": ["FAILED"]}
    )
    bridge, lambdas = stack.bridge, stack.lambdas
    assert bridge is not None
    assert lambdas is not None

    # Given: every file uploaded, its S3 event held back...
    with held_events(stack, monkeypatch) as held:
        upload(stack, files)
    assert len(held) == len(files)
    events = sorted(held, key=lambda e: str(e["detail"]["object"]["key"]))
    # ...one valid file kept for the end (it fails for certain, so a replay always runs)...
    doomed = next(e for e in events if e["detail"]["object"]["key"] == PREFIX + files[0].name)
    events.remove(doomed)
    # ...and the rest delivered one to three times, shuffled, while the pipeline is under fire.
    deliveries = [event for event in events for _ in range(rng.randint(1, 3))]
    rng.shuffle(deliveries)
    with (
        LambdaChaos(lambdas, LAMBDA_FAULT_RATE, seed=SEED) as chaos,
        DynamoDBThrottles(DYNAMODB_THROTTLE_RATE, seed=SEED) as throttles,
    ):
        lambdas.faults.inject(
            "ExtractMetadataFunction",
            Fault.FUNCTION_ERROR,
            times=PERMANENT_FAULTS,
            error_type="RuntimeError",
            message="permanent fault (chaos test)",
        )
        for event in deliveries:
            bridge.publish(event)
        wait_until_quiet(stack, DEADLINE_SECONDS)
    deliver_to_certain_failure(stack, doomed)
    deliveries.append(doomed)

    # Every FAILED execution that owned its file's record got it recorded FAILED by the
    # failure recorder and published an alert (counted before the replays below); one that
    # failed while another delivery of the same event owned the file (a throttled Claim of a
    # duplicate) leaves that file to its owner.
    failed = executions(stack, "FAILED")
    alerts = failure_alerts(stack, alerts_url)
    assert failed, "the injected permanent faults should have failed executions"
    dynamodb, s3 = stack.client("dynamodb"), stack.client("s3")
    items = table_items(dynamodb, target.table, bucket, PREFIX, RECORD_FIELDS)
    owners = {str(item.get("execution_arn")) for item in items.values()}
    unalerted = [arn for arn in failed if arn not in alerts]
    assert not [arn for arn in unalerted if arn in owners], "a FAILED owner raised no SNS alert"
    for arn in failed:
        if arn in alerts:
            assert alerts[arn]["key"].startswith(PREFIX)

    # Anything still FAILED succeeds on replay (a new execution with the same event).
    still_failed = [item for item in items.values() if item["status"] == "FAILED"]
    assert item_key(bucket, doomed["detail"]["object"]["key"]) in {i["pk"] for i in still_failed}
    replayed = replay_all(stack, target, [str(item["execution_arn"]) for item in still_failed])

    # Then: exactly one terminal record per object, with the outcome its content calls for.
    items = table_items(dynamodb, target.table, bucket, PREFIX, RECORD_FIELDS)
    assert sorted(items) == sorted(item_key(bucket, PREFIX + f.name) for f in files)
    record_of = {f.name: items[item_key(bucket, PREFIX + f.name)] for f in files}
    wrong = {
        f.name: (record_of[f.name]["status"], record_of[f.name].get("reason"))
        for f in files
        if (record_of[f.name]["status"], record_of[f.name].get("reason"))
        != (f.expected_status, None if f.reason is None else str(f.reason))
    }
    assert not wrong, f"{len(wrong)} files ended wrong, e.g. {dict(list(wrong.items())[:10])}"
    # Formula-like cells reach the metadata record, so spreadsheet users can be warned.
    for f in files:
        if f.kind == "valid-formula":
            assert int(record_of[f.name]["formula_cells"]) >= 1

    # Exactly one quarantine copy and one report per quarantined file, none for valid ones.
    versions = version_counts(s3, quarantine_bucket, f"{bucket}/{PREFIX}")
    expected_versions = {
        f"{bucket}/{PREFIX}{f.name}{suffix}": 1
        for f in files
        if f.reason is not None
        for suffix in ("", ".report.json")
    }
    assert versions == expected_versions

    outcomes = Counter(item["status"] for item in items.values())
    counts = {
        "files": len(files),
        "deliveries": len(deliveries),
        "executions": len(
            [d for d in bridge.deliveries if d.execution_arn and d.key.startswith(PREFIX)]
        ),
        "lambda_faults_injected": sum(chaos.injected.values()) + PERMANENT_FAULTS + 1,
        "dynamodb_throttles": sum(throttles.throttled.values()),
        # Files read by TypeCheck: above the file count, duplicates ran the pipeline again.
        "type_checks_run": len(
            [c for c in lambdas.invocations("TypeCheckFunction") if c.outcome == "ok"]
        ),
        "failed_executions": len(failed),
        "failure_alerts": len(alerts),
        "replayed": replayed,
        "valid": outcomes["VALID"],
        "quarantined": outcomes["QUARANTINED"],
        "quarantine_objects": sum(versions.values()),
    }
    for name, value in counts.items():
        record_property(f"chaos_{name}", value)
    summary.append("chaos: " + ", ".join(f"{name}={value}" for name, value in counts.items()))
