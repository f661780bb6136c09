"""Object keys with spaces, ``+``, ``%``, unicode and naughty strings, end to end.

How keys arrive: S3's event notification docs say the key "is URL encoded. For example,
'red flower.jpg' becomes 'red+flower.jpg'" (form encoding: space as ``+``, a real ``+`` as
``%2B``). The EventBridge event-structure page (ev-events) does not restate it; the
pipeline assumes the same encoding there (``EVENT_KEYS_URL_ENCODED=true``, README "Object
keys"). These tests give the deployed code keys in exactly that form: each upload's event
is held back and its key form-encoded as S3 does (``/`` kept), then delivered. Every file
must be processed as itself: its record names the real key, and its outcome tag lands on
the real object (the Lambdas decoded the key before calling S3).
"""

from __future__ import annotations

import json
import random
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, unquote_plus

import pytest

from scalper.local import LocalStack

from .reliability_support import HEADER, held_events, record, wait_until_quiet

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


def s3_event_key(key: str) -> str:
    """A key as S3 puts it in an event: form-encoded (space -> ``+``), ``/`` kept."""
    return quote_plus(key, safe="/")


def naughty_names() -> list[str]:
    """A seeded sample of the Big List of Naughty Strings usable as S3 keys, or a skip."""
    path = CORPORA / "naughty-strings" / "blns.json"
    if not path.is_file():
        pytest.skip(f"naughty-strings corpus not found at {path} (../shared/corpora)")
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


def deliver_encoded(stack: LocalStack, events: list[dict[str, Any]]) -> dict[str, str]:
    """Publish each held event (its key already encoded as S3 does); real key -> event key."""
    bridge = stack.bridge
    assert bridge is not None
    keys: dict[str, str] = {}
    for event in events:
        event_key = str(event["detail"]["object"]["key"])
        real = unquote_plus(event_key)
        assert event_key == s3_event_key(real), "the bridge must encode keys as S3 does"
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


def test_given_keys_with_spaces_plus_percent_and_unicode_then_each_file_is_itself(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = stack.client("s3")
    names = HAND_PICKED + [f"naughty-{i:02d} {name}.csv" for i, name in enumerate(naughty_names())]
    invalid = {PREFIX + "bad file+1%.csv"}
    keys = [PREFIX + name for name in names] + sorted(invalid)
    versions: dict[str, str] = {}
    with held_events(stack, monkeypatch) as events:
        for key in keys:
            body = INVALID if key in invalid else VALID
            versions[key] = s3.put_object(Bucket=stack.input_bucket, Key=key, Body=body)[
                "VersionId"
            ]
    assert len(events) == len(keys)

    event_keys = deliver_encoded(stack, events)

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


def test_given_a_key_uploaded_straight_to_the_local_bucket_then_the_bridge_encodes_it(
    stack: LocalStack,
) -> None:
    key = PREFIX + "straight in plus+sign %41.csv"
    stack.client("s3").put_object(Bucket=stack.input_bucket, Key=key, Body=VALID)
    wait_until_quiet(stack, 60)

    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": f"{stack.input_bucket}/{s3_event_key(key)}"}},
        ConsistentRead=True,
    )
    assert "Item" in item, "no record under the key as S3 would have encoded it"
    assert item["Item"]["status"]["S"] == "VALID"
