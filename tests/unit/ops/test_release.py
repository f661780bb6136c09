"""Releasing quarantined files and settling them (``pipeline.reprocess_quarantined``) on moto.

The promise under test: a quarantined file goes back through the pipeline without its
quarantine copy or report being lost until the new outcome is recorded, and a user's newer
upload is never overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from handler_support import TEMPLATE, create_buckets, create_metadata_table
from moto import mock_aws
from silent_scalper.engine import Limits, SchemaRegistry
from silent_scalper.pipeline.reprocess_quarantined import (
    PENDING_PREFIX,
    QuarantinedFile,
    ReleaseOutcome,
    ReprocessSettings,
    SettleOutcome,
    count_stuck,
    find_quarantined,
    pending_marker_key,
    read_marker,
    release,
    revalidate,
    settle,
)
from silent_scalper.records import MetadataRecord, Status, item_key

from scalper.local.template import load_template

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "unit" / "functions" / "data"
INPUT, QUARANTINE, TABLE = "in-bucket", "q-bucket", "records"
KEY = "uploads/2026-11-25/u1/jobs.csv"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class World:
    s3: Any
    dynamodb: Any
    version: str
    file: QuarantinedFile


def _record(status: Status, sequencer: str, version: str | None, **extra: Any) -> MetadataRecord:
    values: dict[str, Any] = {
        "pk": item_key(INPUT, KEY),
        "bucket": INPUT,
        "key": KEY,
        "event_key": KEY,
        "version_id": version,
        "sequencer": sequencer,
        "size": 10,
        "status": status,
        "execution_arn": f"arn:aws:states:us-east-1:123456789012:execution:p:{sequencer}",
        "processed_at": "2026-11-25T11:00:00.000Z",
        "updated_at": "2026-11-25T11:00:00.000Z",
        "format": "csv",
        "schema_name": "job.v1",
    }
    values.update(extra)
    return MetadataRecord.model_validate(values)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """Given a QUARANTINED file: its input version, quarantine copy, report and record."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    template = load_template(TEMPLATE)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        create_buckets(s3, template, {"InputBucket": INPUT, "QuarantineBucket": QUARANTINE})
        body = (DATA / "jobs-invalid.csv").read_bytes()
        version = s3.put_object(
            Bucket=INPUT,
            Key=KEY,
            Body=body,
            ContentType="text/csv",
            Tagging="scalper-status=QUARANTINED",
        )["VersionId"]
        s3.put_object(Bucket=QUARANTINE, Key=f"{INPUT}/{KEY}", Body=body)
        s3.put_object(Bucket=QUARANTINE, Key=f"{INPUT}/{KEY}.report.json", Body=b"{}")
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_metadata_table(dynamodb, template, TABLE)
        record = _record(
            Status.QUARANTINED,
            "0001",
            version,
            reason="SCHEMA_VIOLATION",
            quarantine_location=f"s3://{QUARANTINE}/{INPUT}/{KEY}",
            report_location=f"s3://{QUARANTINE}/{INPUT}/{KEY}.report.json",
        )
        dynamodb.put_item(TableName=TABLE, Item=record.to_item())
        yield World(s3, dynamodb, version, QuarantinedFile.from_record(record))


def _exists(s3: Any, bucket: str, key: str) -> bool:
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    return any(o["Key"] == key for o in listed)


def test_quarantined_files_are_found_by_status_prefix_and_reason(world: World) -> None:
    found = find_quarantined(
        world.dynamodb, TABLE, prefix="uploads/", reasons=("SCHEMA_VIOLATION",)
    )
    assert [f.key for f in found] == [KEY]
    assert find_quarantined(world.dynamodb, TABLE, prefix="other/") == []
    assert find_quarantined(world.dynamodb, TABLE, reasons=("EMPTY_FILE",)) == []
    assert find_quarantined(world.dynamodb, TABLE, since="2026-11-26T00:00:00Z") == []


def test_given_a_keys_only_status_index_then_found_files_are_whole_records(
    world: World,
) -> None:
    index = world.dynamodb.describe_table(TableName=TABLE)["Table"]["GlobalSecondaryIndexes"][0]
    entry = world.dynamodb.query(
        TableName=TABLE,
        IndexName="by-status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "QUARANTINED"}},
    )["Items"][0]

    (found,) = find_quarantined(world.dynamodb, TABLE)

    assert index["Projection"]["ProjectionType"] == "KEYS_ONLY"
    assert set(entry) == {"pk", "status", "updated_at"}, "the index holds keys only"
    assert found == world.file, "the rest of the record came from the table"


def test_given_a_record_that_left_the_status_then_it_is_not_returned(world: World) -> None:
    # The index lags the table (eventually consistent); the table's status decides.
    record = MetadataRecord.from_item(
        world.dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": world.file.pk}})["Item"]
    )
    valid = record.model_copy(update={"status": Status.VALID, "reason": None})
    stale = world.dynamodb.query
    entries = stale(
        TableName=TABLE,
        IndexName="by-status",
        KeyConditionExpression="#s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": "QUARANTINED"}},
    )
    world.dynamodb.put_item(TableName=TABLE, Item=valid.to_item())

    class LaggingIndex:
        """The table as it is now, and an index that has not seen the last write yet."""

        def query(self, **_: Any) -> Any:
            return entries

        def batch_get_item(self, **kwargs: Any) -> Any:
            return world.dynamodb.batch_get_item(**kwargs)

    assert find_quarantined(LaggingIndex(), TABLE) == []  # type: ignore[arg-type]


def test_release_copies_the_quarantined_version_onto_its_key_after_writing_a_marker(
    world: World,
) -> None:
    result = release(world.s3, world.file, now=NOW)

    assert result.outcome is ReleaseOutcome.RELEASED
    head = world.s3.head_object(Bucket=INPUT, Key=KEY)
    assert head["VersionId"] == result.new_version_id != world.version
    assert head["ContentType"] == "text/csv"
    assert head["Metadata"]["scalper-released-from"] == world.version
    new_body = world.s3.get_object(Bucket=INPUT, Key=KEY)["Body"].read()
    assert new_body == (DATA / "jobs-invalid.csv").read_bytes()
    # The old outcome tag does not ride along onto the new version.
    assert world.s3.get_object_tagging(Bucket=INPUT, Key=KEY)["TagSet"] == []
    marker = read_marker(world.s3, QUARANTINE, world.file)
    assert marker.sequencer == "0001"
    assert marker.released_version_id == result.new_version_id
    # Nothing in quarantine is touched by a release.
    assert _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}")
    assert _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}.report.json")


def test_a_second_release_before_settling_does_nothing(world: World) -> None:
    release(world.s3, world.file, now=NOW)
    again = release(world.s3, world.file, now=NOW)
    assert again.outcome is ReleaseOutcome.PENDING


def test_a_dry_run_writes_nothing(world: World) -> None:
    result = release(world.s3, world.file, now=NOW, dry_run=True)
    assert result.outcome is ReleaseOutcome.WOULD_RELEASE
    assert world.s3.head_object(Bucket=INPUT, Key=KEY)["VersionId"] == world.version
    assert not _exists(world.s3, QUARANTINE, PENDING_PREFIX)


def test_a_newer_upload_of_the_key_is_never_overwritten(world: World) -> None:
    newer = world.s3.put_object(Bucket=INPUT, Key=KEY, Body=b"job_id\nJOB-9\n")["VersionId"]

    result = release(world.s3, world.file, now=NOW)

    assert result.outcome is ReleaseOutcome.NEWER_VERSION
    assert world.s3.head_object(Bucket=INPUT, Key=KEY)["VersionId"] == newer
    assert not _exists(world.s3, QUARANTINE, world.file.marker_key)


def test_a_deleted_input_object_is_reported_gone(world: World) -> None:
    world.s3.delete_object(Bucket=INPUT, Key=KEY)
    assert release(world.s3, world.file, now=NOW).outcome is ReleaseOutcome.GONE


def _record_outcome(world: World, status: Status, sequencer: str) -> None:
    world.dynamodb.put_item(
        TableName=TABLE, Item=_record(status, sequencer, "v-new", reason=None).to_item()
    )


def test_settle_waits_while_the_old_outcome_is_still_the_record(world: World) -> None:
    release(world.s3, world.file, now=NOW)
    marker = read_marker(world.s3, QUARANTINE, world.file)

    result = settle(world.s3, world.dynamodb, TABLE, QUARANTINE, marker)

    assert result.outcome is SettleOutcome.WAITING
    assert _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}")


@pytest.mark.parametrize(
    ("status", "outcome", "copy_kept", "marker_kept"),
    [
        (Status.PROCESSING, SettleOutcome.WAITING, True, True),
        (Status.VALID, SettleOutcome.CLEARED_VALID, False, False),
        (Status.QUARANTINED, SettleOutcome.CLEARED_QUARANTINED, True, False),
        (Status.FAILED, SettleOutcome.FAILED, True, True),
    ],
)
def test_the_quarantine_copy_goes_only_when_the_new_record_is_valid(
    world: World, status: Status, outcome: SettleOutcome, copy_kept: bool, marker_kept: bool
) -> None:
    release(world.s3, world.file, now=NOW)
    marker = read_marker(world.s3, QUARANTINE, world.file)
    _record_outcome(world, status, "0002")

    result = settle(world.s3, world.dynamodb, TABLE, QUARANTINE, marker)

    assert result.outcome is outcome
    assert _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}") is copy_kept
    assert _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}.report.json") is copy_kept
    assert _exists(world.s3, QUARANTINE, world.file.marker_key) is marker_kept


def test_revalidate_runs_the_engine_on_the_quarantined_version(world: World) -> None:
    registry = SchemaRegistry.load()
    limits = Limits(max_bytes=1024 * 1024)
    strict = revalidate(world.s3, world.file, schema=registry.get("job.v1"), limits=limits)
    loose = revalidate(world.s3, world.file, schema=registry.get("any"), limits=limits)
    assert not strict.valid
    assert str(strict.reason) == "SCHEMA_VIOLATION"
    assert loose.valid


def test_count_stuck_counts_only_old_processing_claims(world: World) -> None:
    for pk, at in (
        ("in-bucket/a.csv", "2026-11-25T10:00:00.000Z"),
        ("in-bucket/b.csv", NOW.isoformat()),
    ):
        world.dynamodb.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": pk},
                "status": {"S": "PROCESSING"},
                "updated_at": {"S": at},
                "execution_arn": {"S": "arn"},
            },
        )
    assert count_stuck(world.dynamodb, TABLE, claimed_before="2026-11-25T11:30:00.000Z") == 1


def test_reprocess_settings_come_from_their_own_variables() -> None:
    settings = ReprocessSettings.from_env(
        {"REPROCESS_REASONS": "schema_violation, malformed", "REPROCESS_MAX_FILES": "5"}
    )
    assert settings.reasons == ("SCHEMA_VIOLATION", "MALFORMED")
    assert settings.max_files == 5
    with pytest.raises(ValueError, match="REPROCESS_LOOKBACK_DAYS"):
        ReprocessSettings.from_env({"REPROCESS_LOOKBACK_DAYS": "0"})


def _run(world: World, schema_name: str, **settings: Any) -> Any:
    from silent_scalper.pipeline.reprocess_quarantined import (
        QuarantineStore,
        Revalidation,
        scheduled_run,
    )

    return scheduled_run(
        world.s3,
        world.dynamodb,
        store=QuarantineStore(TABLE, QUARANTINE),
        revalidation=Revalidation(
            lambda _file: SchemaRegistry.load().get(schema_name), Limits(max_bytes=1024 * 1024)
        ),
        settings=ReprocessSettings(lookback_days=3650, **settings),
        now=NOW,
        time_left=lambda: 600.0,
    )


def test_a_scheduled_run_before_the_schema_fix_changes_nothing(world: World) -> None:
    summary = _run(world, "job.v1")

    assert (summary.checked, summary.still_invalid, summary.released) == (1, 1, 0)
    assert world.s3.head_object(Bucket=INPUT, Key=KEY)["VersionId"] == world.version
    assert not _exists(world.s3, QUARANTINE, world.file.marker_key)


def test_a_scheduled_run_after_the_fix_releases_then_the_next_run_settles(world: World) -> None:
    first = _run(world, "any")
    assert (first.checked, first.released) == (1, 1)
    assert _exists(world.s3, QUARANTINE, world.file.marker_key)

    _record_outcome(world, Status.VALID, "0002")  # what the pipeline records for the release
    second = _run(world, "any")

    assert second.settled == {str(SettleOutcome.CLEARED_VALID): 1}
    assert second.checked == 0  # nothing is QUARANTINED any more
    assert not _exists(world.s3, QUARANTINE, f"{INPUT}/{KEY}")


def test_a_scheduled_run_stops_before_its_time_runs_out(world: World) -> None:
    from silent_scalper.pipeline.reprocess_quarantined import (
        QuarantineStore,
        Revalidation,
        scheduled_run,
    )

    summary = scheduled_run(
        world.s3,
        world.dynamodb,
        store=QuarantineStore(TABLE, QUARANTINE),
        revalidation=Revalidation(
            lambda _file: SchemaRegistry.load().get("any"), Limits(max_bytes=1024 * 1024)
        ),
        settings=ReprocessSettings(lookback_days=3650),
        now=NOW,
        time_left=lambda: 5.0,
    )
    assert summary.stopped_early
    assert summary.released == 0


def test_given_a_key_near_s3s_limit_then_its_pending_marker_still_fits() -> None:
    key = "uploads/x" + "é" * 505 + ".csv"
    marker = pending_marker_key("silent-scalper-dev-input", key)
    assert len(marker.encode()) <= 1024
    assert marker.startswith("_reprocess/pending/silent-scalper-dev-input/")
    assert marker != pending_marker_key("silent-scalper-dev-input", key + "x")
    short = pending_marker_key("b", "uploads/a.csv")
    assert short == "_reprocess/pending/b/uploads/a.csv.json"
