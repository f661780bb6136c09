"""Object keys with spaces, ``+``, ``%``, unicode and naughty strings, end to end.

How keys arrive is not settled by AWS's documentation: classic S3 notifications form-encode
them ("red flower.jpg" becomes ``red+flower.jpg``), the EventBridge event-structure page does
not say, and captured EventBridge events show ``:`` raw (docs/aws-behaviour.md, "Object
keys"). The pipeline resolves the delivered key against the object's version instead of
trusting one decoding, so these tests deliver every key BOTH ways: each upload's event is
held back, its key spelled raw or form-encoded (``/`` kept), then delivered. Every file must
be processed as itself: its record names the real key and the delivered one, and its outcome
tag lands on the real object version.
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import pytest
from failure_support import wait_for_record
from silent_scalper.records import item_key

from scalper.local import Fault, LocalStack
from scalper.ops.executions import replay

from .reliability_support import (
    HEADER,
    held_events,
    record,
    table_items,
    target_of,
    wait_until_quiet,
)

pytestmark = pytest.mark.e2e

PREFIX = "uploads/keys/"
CORPORA = Path(__file__).resolve().parents[3] / "shared" / "corpora"
NAUGHTY_SAMPLE = 12
VALID = (HEADER + "J-00001,2026-01-05T09:00:00Z,7,queued,,,\n").encode()
INVALID = (HEADER + "J-00001,2026-01-05T09:00:00Z,seven,queued,,,\n").encode()
HAND_PICKED = [
    "with space.csv",
    "two  spaces .csv",
    "plus+sign.csv",
    "percent%41literal.csv",
    "encoded-looking %2B and + and %20.csv",
    "unicode Zürich 東京 🚀.csv",
    "amp&eq=semi;comma,at@dollar$.csv",
    "tilde~paren(1) copy [2].csv",
    "nested/dir name/file+1.csv",
]


#: How a key may be spelled in an EventBridge event: as captured events show it, and as
#: classic notifications do (form-encoded, ``/`` kept).
SPELLINGS = {"raw": lambda key: key, "form-encoded": lambda key: quote_plus(key, safe="/")}


def naughty_names() -> list[str]:
    """A seeded sample of the Big List of Naughty Strings usable as S3 keys (none without the
    corpus: the hand-picked keys still run)."""
    path = CORPORA / "naughty-strings" / "blns.json"
    if not path.is_file():
        return []
    strings = json.loads(path.read_text(encoding="utf-8"))
    usable = [
        s
        for s in strings
        if s.strip()
        # XML 1.0 (S3's listing format) cannot carry C0 controls or non-characters.
        and not any(unicodedata.category(c) in {"Cc", "Cs"} for c in s)
        and "\ufffe" not in s
        and "\uffff" not in s
        and len(s.encode()) <= 200
    ]
    return random.Random(7).sample(usable, NAUGHTY_SAMPLE)


def deliver_spelled(
    stack: LocalStack, events: list[dict[str, Any]], spelling: str
) -> dict[str, str]:
    """Publish each held event with its key spelled ``spelling``; real key -> event key."""
    bridge = stack.bridge
    assert bridge is not None
    keys: dict[str, str] = {}
    for event in events:
        real = str(event["detail"]["object"]["key"])
        event_key = SPELLINGS[spelling](real)
        event["detail"]["object"]["key"] = event_key
        keys[real] = event_key
        bridge.publish(event)
    wait_until_quiet(stack, 120)
    return keys


def outcome_tags(stack: LocalStack, key: str, version_id: str) -> dict[str, str]:
    """The tags the pipeline put on the real object version."""
    tagging = stack.client("s3").get_object_tagging(
        Bucket=stack.input_bucket, Key=key, VersionId=version_id
    )
    return {t["Key"]: t["Value"] for t in tagging["TagSet"]}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_given_keys_with_spaces_plus_percent_and_unicode_then_each_file_is_itself(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    s3 = stack.client("s3")
    names = HAND_PICKED + [f"naughty-{i:02d} {name}.csv" for i, name in enumerate(naughty_names())]
    prefix = f"{PREFIX}{spelling}/"
    invalid = {prefix + "bad file+1%.csv"}
    keys = [prefix + name for name in names] + sorted(invalid)
    versions: dict[str, str] = {}
    with held_events(stack, monkeypatch) as events:
        for key in keys:
            body = INVALID if key in invalid else VALID
            versions[key] = s3.put_object(Bucket=stack.input_bucket, Key=key, Body=body)[
                "VersionId"
            ]
    assert len(events) == len(keys)

    event_keys = deliver_spelled(stack, events, spelling)

    quarantine = stack.resource_name("QuarantineBucket")
    for key in keys:
        now = record(stack, event_keys[key])
        expected = "QUARANTINED" if key in invalid else "VALID"
        assert (now["status"], now["key"], now["event_key"]) == (
            expected,
            key,
            event_keys[key],
        ), key
        assert outcome_tags(stack, key, versions[key])["scalper-status"] == expected, key
        if key in invalid:
            copied = s3.get_object(Bucket=quarantine, Key=f"{stack.input_bucket}/{key}")
            assert copied["Body"].read() == INVALID


def test_given_a_key_uploaded_straight_to_the_local_bucket_then_the_bridge_sends_it_raw(
    stack: LocalStack,
) -> None:
    """The key-encoding canary of docs/aws-behaviour.md: ``+``, ``%41``, space, ``=``, ``:``."""
    key = PREFIX + "canary a+b %41 c=d e:f.csv"
    stack.client("s3").put_object(Bucket=stack.input_bucket, Key=key, Body=VALID)
    wait_until_quiet(stack, 60)

    delivered = [d.key for d in list(stack.bridge.deliveries) if d.key == key]  # type: ignore[union-attr]
    assert delivered == [key], "the bridge must send the key as captured events show it: raw"
    now = record(stack, key)
    assert (now["status"], now["key"], now["event_key"]) == ("VALID", key, key)


def test_given_a_1024_byte_key_of_accented_letters_then_one_record_and_replay_works(
    stack: LocalStack,
) -> None:
    """S3's longest key, two bytes a character: percent-encoded it would be 3,000+ bytes, past
    DynamoDB's 2,048-byte partition-key limit; hashed, it fits, under either spelling."""
    key = PREFIX + "x" + "é" * 503 + ".csv"
    assert len(key.encode()) == 1024
    s3, lambdas = stack.client("s3"), stack.lambdas
    assert lambdas is not None
    lambdas.faults.inject(
        "TypeCheckFunction", Fault.FUNCTION_ERROR, times=None, error_type="BrokenDependency"
    )
    try:
        s3.put_object(Bucket=stack.input_bucket, Key=key, Body=VALID)
        failed = stack.wait_for_keys([key], timeout=60)[key]
    finally:
        lambdas.faults.clear("TypeCheckFunction")
    assert failed.status == "FAILED"
    # The failure recorder writes FAILED once the execution's end reaches it, a moment later.
    wait_for_record(stack, key, lambda item: item.get("status") == "FAILED")

    (result,) = replay(stack.client("stepfunctions"), target_of(stack), [failed.arn])
    assert result.status == "replayed"
    assert result.new_arn is not None
    assert stack.wait_for_execution(result.new_arn, timeout=60).status == "SUCCEEDED"

    items = table_items(stack.client("dynamodb"), stack.resource_name("MetadataTable"),
                        stack.input_bucket, key)  # fmt: skip
    assert list(items) == [item_key(stack.input_bucket, key)], "exactly one record"
    now = record(stack, key)
    assert (now["status"], now["key"], now["event_key"]) == ("VALID", key, key)


def test_given_upper_case_and_unaccepted_extensions_then_each_upload_gets_an_outcome(
    stack: LocalStack,
) -> None:
    """DATA.CSV is a CSV file; notes.txt under the prefix is quarantined, not ignored."""
    s3 = stack.client("s3")
    upper, other = PREFIX + "case/DATA.CSV", PREFIX + "case/notes.txt"
    s3.put_object(Bucket=stack.input_bucket, Key=upper, Body=VALID)
    s3.put_object(Bucket=stack.input_bucket, Key=other, Body=VALID)
    wait_until_quiet(stack, 60)

    assert record(stack, upper)["status"] == "VALID"
    quarantined = record(stack, other)
    assert (quarantined["status"], quarantined["reason"]) == ("QUARANTINED", "UNSUPPORTED_TYPE")


def test_given_an_invalid_file_under_a_1024_byte_key_then_its_copy_and_report_fit_s3s_limit(
    stack: LocalStack,
) -> None:
    key = PREFIX + "q" + "é" * 503 + ".csv"
    stack.client("s3").put_object(Bucket=stack.input_bucket, Key=key, Body=INVALID)
    wait_until_quiet(stack, 60)

    now = record(stack, key)
    assert (now["status"], now["key"]) == ("QUARANTINED", key)
    for location in (now["quarantine_location"], now["report_location"]):
        copy_key = location.split("/", 3)[3]
        assert len(copy_key.encode()) <= 1024, location
