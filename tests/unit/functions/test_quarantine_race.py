"""Quarantine never lets an older event's copy replace a newer one's, even mid-race.

Ownership is checked when Quarantine starts, but an older execution can stall after that
check while a newer event of the same key claims the record and quarantines its own version.
The copy and the report are therefore conditional writes: each carries its source's event
sequencer, a newer one in place means Superseded, and the write itself is a compare-and-swap
(``IfNoneMatch: *`` / ``IfMatch: <ETag seen>``) so a writer that slips in between the look
and the write makes S3 refuse the older one.

moto 5.2.5 honours those conditions on PutObject (the report) but ignores them on
CopyObject, so the test client below applies S3's documented rule to copies itself: 412
``PreconditionFailed`` when ``IfNoneMatch: *`` meets an object, or ``IfMatch`` another ETag.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from silent_scalper.pipeline import QuarantineRequest, quarantine
from silent_scalper.pipeline.quarantine import (
    REPORT_SUFFIX,
    SOURCE_ETAG_META,
    SOURCE_SEQUENCER_META,
    SOURCE_VERSION_META,
    quarantine_key,
)
from silent_scalper.records import SupersededError


class Interleaved:
    """An S3 client that lets another writer act just before this one's first copy, and
    applies S3's conditions to CopyObject (which moto ignores)."""

    def __init__(self, s3: Any, before_write: Any) -> None:
        self._s3 = s3
        self._before_write = before_write
        self.lost_races = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._s3, name)

    def copy_object(self, **kwargs: Any) -> Any:
        if self._before_write is not None:
            self._before_write()
            self._before_write = None
        if not self._condition_holds(kwargs):
            self.lost_races += 1
            raise ClientError(
                {"Error": {"Code": "PreconditionFailed", "Message": "At least one of the "
                           "pre-conditions you specified did not hold"}},
                "CopyObject",
            )  # fmt: skip
        return self._s3.copy_object(**kwargs)

    def _condition_holds(self, kwargs: dict[str, Any]) -> bool:
        try:
            etag = self._s3.head_object(Bucket=kwargs["Bucket"], Key=kwargs["Key"])["ETag"]
        except ClientError:
            etag = None
        if kwargs.get("IfNoneMatch") == "*":
            return etag is None
        if "IfMatch" in kwargs:
            return etag is not None and etag.strip('"') == kwargs["IfMatch"].strip('"')
        return True


def run(stack: Any, payload: dict[str, Any], s3: Any = None) -> Any:
    return quarantine(
        s3 or stack.s3,
        stack.dynamodb,
        stack.sns,
        QuarantineRequest.model_validate(payload),
        settings=stack.settings,
        now=datetime.now(UTC),
    )


def newer_copy(stack: Any, payload: dict[str, Any]) -> dict[str, str]:
    """Put the quarantine copy a newer event of the same key would have made."""
    origin = {
        SOURCE_VERSION_META: "a-newer-version",
        SOURCE_ETAG_META: "0123456789abcdef0123456789abcdef",
        SOURCE_SEQUENCER_META: payload["object"]["sequencer"] + "1",
    }
    stack.s3.put_object(
        Bucket=stack.settings.quarantine_bucket,
        Key=quarantine_key(payload["bucket"], payload["object"]["key"]),
        Body=b"the newer version's bytes\n",
        Metadata=origin,
    )
    return origin


def copy_on_file(stack: Any, payload: dict[str, Any]) -> tuple[bytes, dict[str, str], int]:
    """The current quarantine copy's bytes and metadata, and how many versions it has."""
    key = quarantine_key(payload["bucket"], payload["object"]["key"])
    bucket = stack.settings.quarantine_bucket
    current = stack.s3.get_object(Bucket=bucket, Key=key)
    versions = stack.s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
    count = sum(1 for v in versions if v["Key"] == key)
    return current["Body"].read(), current["Metadata"], count


def test_given_a_newer_events_copy_in_place_when_an_older_execution_quarantines_then_superseded(
    object_event, claim, stack
):
    """Given the older execution passed its ownership check, then stalled while a newer
    event's copy landed, when it goes on, then it ends Superseded and copies nothing."""
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    origin = newer_copy(stack, payload)

    with pytest.raises(SupersededError):
        run(stack, payload)

    body, metadata, versions = copy_on_file(stack, payload)
    assert body == b"the newer version's bytes\n"
    assert metadata[SOURCE_SEQUENCER_META] == origin[SOURCE_SEQUENCER_META]
    assert versions == 1
    assert stack.alerts() == []


def test_given_a_newer_copy_lands_between_the_look_and_the_copy_then_s3_refuses_the_older(
    object_event, claim, stack
):
    """The look finds nothing, the newer copy lands before the write: IfNoneMatch makes S3
    refuse the older copy, the decision is taken again, and it ends Superseded."""
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    s3 = Interleaved(stack.s3, lambda: newer_copy(stack, payload))

    with pytest.raises(SupersededError):
        run(stack, payload, s3=s3)

    assert s3.lost_races == 1
    body, _, versions = copy_on_file(stack, payload)
    assert body == b"the newer version's bytes\n"
    assert versions == 1


def test_given_the_same_copy_lands_between_the_look_and_the_copy_then_it_is_not_made_twice(
    object_event, claim, stack
):
    """A duplicate execution of the same event copies first: this one loses the race, finds
    the copy is its own source's, and goes on to record the outcome without a second copy."""
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    s3 = Interleaved(stack.s3, lambda: run(stack, payload))

    outcome = run(stack, payload, s3=s3)

    assert outcome.status == "QUARANTINED"
    assert s3.lost_races == 1
    _, metadata, versions = copy_on_file(stack, payload)
    assert metadata[SOURCE_VERSION_META] == payload["object"]["version-id"]
    assert metadata[SOURCE_SEQUENCER_META] == payload["object"]["sequencer"]
    assert versions == 1


def test_given_an_older_events_copy_in_place_then_the_newer_replaces_it(object_event, claim, stack):
    """The copy of an older event (or one made before sequencers were recorded) is replaced,
    conditionally on its ETag, and kept as an older version of the copy."""
    payload = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(payload)
    stack.s3.put_object(
        Bucket=stack.settings.quarantine_bucket,
        Key=quarantine_key(payload["bucket"], payload["object"]["key"]),
        Body=b"an older version's bytes\n",
        Metadata={SOURCE_VERSION_META: "an-older-version", SOURCE_ETAG_META: "0" * 32},
    )

    run(stack, payload)

    body, metadata, versions = copy_on_file(stack, payload)
    assert body != b"an older version's bytes\n"
    assert metadata[SOURCE_VERSION_META] == payload["object"]["version-id"]
    assert versions == 2


def test_given_a_key_near_s3s_limit_then_its_quarantine_copy_and_report_still_fit() -> None:
    """A 1,024-byte key cannot take the bucket in front of it: the copy keeps the folders
    (and so the upload prefix) and is named by the key's SHA-256, one name per key."""
    bucket, key = "silent-scalper-dev-input", "uploads/keys/x" + "é" * 503 + ".csv"
    other = key.replace("x", "y", 1)
    copy = quarantine_key(bucket, key)
    assert len((copy + REPORT_SUFFIX).encode()) <= 1024
    assert copy.startswith(f"{bucket}/uploads/keys/")
    assert copy.endswith(".csv")
    assert copy != quarantine_key(bucket, other)
    assert quarantine_key(bucket, "uploads/a.csv") == f"{bucket}/uploads/a.csv"
