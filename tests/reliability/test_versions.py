"""New versions of a key, late events and sequencer order, through the real Claim on moto.

S3 (event notification docs): events for one key may arrive out of order; the ``sequencer``
of the newer event is greater, and sequencers of different lengths are compared after
right-padding the shorter with zeros. Claim (statemachine/pipeline.asl.json) compares the
raw strings with DynamoDB's ``<``; for two different events that is the same order (the
raw and padded comparisons only differ when the strings are equal after padding, which S3
never issues for two events), and these tests check it on the running state machine.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from silent_scalper.records import compare_sequencers

from scalper.local import LocalStack

from .reliability_support import HEADER, held_events, record, version_counts, wait_until_quiet

pytestmark = pytest.mark.e2e

PREFIX = "uploads/versions/"
VALID = (HEADER + "J-00001,2026-01-05T09:00:00Z,7,queued,,,\n").encode()
INVALID = (HEADER + "J-00001,2026-01-05T09:00:00Z,seven,queued,,,\n").encode()


def put(stack: LocalStack, key: str, body: bytes) -> str:
    """Upload one version; its version id."""
    response = stack.client("s3").put_object(Bucket=stack.input_bucket, Key=key, Body=body)
    return str(response["VersionId"])


def deliver(stack: LocalStack, *events: dict[str, Any]) -> list[str]:
    """Deliver events one after the other, each to its end; the last state of each."""
    bridge = stack.bridge
    assert bridge is not None
    last_states: list[str] = []
    for event in events:
        before = len(bridge.deliveries)
        bridge.publish(event)
        wait_until_quiet(stack, 60)
        arn = bridge.deliveries[before].execution_arn
        assert arn is not None
        last_states.append(stack.report(arn).states[-1])
    return last_states


def with_sequencer(event: dict[str, Any], sequencer: str) -> dict[str, Any]:
    """The same event with another sequencer (S3's values vary in length)."""
    changed = copy.deepcopy(event)
    changed["detail"]["object"]["sequencer"] = sequencer
    return changed


def test_given_a_key_uploaded_again_then_the_new_version_supersedes_the_old_record(
    stack: LocalStack,
) -> None:
    key = PREFIX + "reuploaded.csv"
    first = put(stack, key, VALID)
    wait_until_quiet(stack, 60)
    assert (record(stack, key)["status"], record(stack, key)["version_id"]) == ("VALID", first)

    second = put(stack, key, INVALID)
    wait_until_quiet(stack, 60)

    now = record(stack, key)
    assert (now["status"], now["reason"], now["version_id"]) == (
        "QUARANTINED",
        "SCHEMA_VIOLATION",
        second,
    )
    assert compare_sequencers(now["sequencer"], "0") == 1
    quarantine = stack.resource_name("QuarantineBucket")
    copy_key = f"{stack.input_bucket}/{key}"
    assert version_counts(stack.client("s3"), quarantine, copy_key) == {
        copy_key: 1,
        copy_key + ".report.json": 1,
    }


def test_given_an_old_event_arriving_late_then_the_newer_record_stays(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = PREFIX + "late.csv"
    with held_events(stack, monkeypatch) as events:
        old_version = put(stack, key, INVALID)
        new_version = put(stack, key, VALID)
    old, new = events
    assert (
        compare_sequencers(
            old["detail"]["object"]["sequencer"], new["detail"]["object"]["sequencer"]
        )
        == -1
    )

    assert deliver(stack, new, old) == ["Done", "AlreadyProcessed"]

    now = record(stack, key)
    assert (now["status"], now["version_id"]) == ("VALID", new_version)
    assert now["version_id"] != old_version
    quarantine = stack.resource_name("QuarantineBucket")
    assert version_counts(stack.client("s3"), quarantine, f"{stack.input_bucket}/{key}") == {}


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        # The newer sequencer is shorter: right-padded, "0A06" is "0A0600" > "0A0500".
        ("0000000000000A0500", "0000000000000A06"),
        # The newer one is longer and starts with the older one: "0A05" < "0A0501".
        ("0000000000000A05", "0000000000000A0501"),
        # Same length, differing late.
        ("0062E99A88DC407460", "0062E99A88DC407461"),
    ],
)
def test_given_sequencers_of_different_lengths_then_claim_orders_them_as_s3_documents(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, older: str, newer: str
) -> None:
    assert compare_sequencers(older, newer) == -1  # S3's rule, in Python
    key = f"{PREFIX}lengths-{len(older)}-{len(newer)}-{newer[-2:]}.csv"
    with held_events(stack, monkeypatch) as events:
        put(stack, key, INVALID)
        new_version = put(stack, key, VALID)
    old_event, new_event = with_sequencer(events[0], older), with_sequencer(events[1], newer)

    # The newer event first, the older one late: the late one must not take the record.
    assert deliver(stack, new_event, old_event) == ["Done", "AlreadyProcessed"]

    now = record(stack, key)
    assert (now["status"], now["version_id"], now["sequencer"]) == ("VALID", new_version, newer)


def test_given_both_versions_delivered_at_once_then_the_newer_one_always_wins(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    bridge = stack.bridge
    assert bridge is not None
    keys = [f"{PREFIX}race-{i}.csv" for i in range(6)]
    newest: dict[str, str] = {}
    with held_events(stack, monkeypatch) as events:
        for key in keys:
            put(stack, key, VALID)
            newest[key] = put(stack, key, INVALID)
    # Old and new of every key at the same moment, half of them old first.
    for i, key in enumerate(keys):
        old, new = [e for e in events if e["detail"]["object"]["key"] == key]
        for event in (old, new) if i % 2 else (new, old):
            bridge.publish(event)
    wait_until_quiet(stack, 120)

    for key in keys:
        now = record(stack, key)
        assert (now["status"], now["version_id"]) == ("QUARANTINED", newest[key]), key
