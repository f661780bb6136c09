"""The metadata record's DynamoDB mapping, S3 sequencer ordering and the typed settings."""

from __future__ import annotations

import hashlib

import pytest
from silent_scalper.engine import LocatedError
from silent_scalper.records import MetadataRecord, Status, compare_sequencers, item_key
from silent_scalper.settings import Settings, SettingsError


@pytest.mark.parametrize(
    ("left", "right", "expected"),
    [
        pytest.param("0055AED6DCD90281E5", "0055AED6DCD90281E5", 0, id="same"),
        pytest.param("0055AED6DCD90281E5", "0055AED6DCD90281E6", -1, id="later-same-length"),
        pytest.param("0055AED6DCD90281E5", "0055AED6DCD90281E500", 0, id="equal-after-padding"),
        pytest.param("0055AED6DCD90281E5", "0055AED6DCD90281E501", -1, id="longer-is-later"),
        pytest.param("0055AED6DCD90281F", "0055AED6DCD90281E501", 1, id="shorter-is-later"),
        pytest.param("0055aed6dcd90281e6", "0055AED6DCD90281E5", 1, id="hex-case-ignored"),
    ],
)
def test_sequencers_are_right_padded_with_zeros_then_compared(left, right, expected):
    assert compare_sequencers(left, right) == expected
    assert compare_sequencers(right, left) == -expected


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("0055AED6DCD90281E5", "0055AED6DCD90281E6"),
        ("0055AED6DCD90281E5", "0055AED6DCD90281E501"),
        ("0055AED6DCD90281E501", "0055AED6DCD90281F"),
    ],
)
def test_plain_string_order_agrees_with_padded_order_for_distinct_events(older, newer):
    """What Claim's DynamoDB condition (``sequencer < :seq``) relies on."""
    assert compare_sequencers(older, newer) == -1
    assert older < newer


def test_the_partition_key_is_the_bucket_and_the_sha256_of_the_key_as_states_hash_makes_it():
    """Claim builds it in ASL with States.Hash(key, 'SHA-256'): lower-case hex of the UTF-8."""
    key = "uploads/" + "é" * 508  # 1,024 bytes of UTF-8: S3's longest key
    pk = item_key("bucket-a", key)
    assert pk == "bucket-a/" + hashlib.sha256(key.encode()).hexdigest()
    assert len(pk.encode()) == len("bucket-a/") + 64
    assert item_key("bucket-a", "a b.csv") != item_key("bucket-a", "a+b.csv")


def test_a_record_survives_the_round_trip_through_a_dynamodb_item():
    record = MetadataRecord(
        pk=item_key("bucket-a", "uploads/a+b.csv"),
        bucket="bucket-a",
        key="uploads/a b.csv",
        event_key="uploads/a+b.csv",
        size=12,
        status=Status.QUARANTINED,
        reason="SCHEMA_VIOLATION",
        errors=[{"message": "bad", "location": "line 2", "line": 2}],
        records=3,
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:p:e",
        processed_at="2026-01-05T12:00:05.123Z",
        updated_at="2026-01-05T12:00:05.123Z",
    )
    item = record.to_item()
    assert item["pk"] == {"S": item_key("bucket-a", "uploads/a+b.csv")}
    assert item["size"] == {"N": "12"}
    assert "sha256" not in item, "unknown fields are left out, not stored as NULL"
    # A located error is stored as the summary writes it: its unknown place fields left out.
    assert item["errors"] == {
        "L": [{"M": {"message": {"S": "bad"}, "location": {"S": "line 2"}, "line": {"N": "2"}}}]
    }
    assert MetadataRecord.from_item(item) == record
    assert record.errors == [LocatedError(message="bad", location="line 2", line=2)]


ENV = {
    "INPUT_BUCKET": "in-bucket",
    "QUARANTINE_BUCKET": "q-bucket",
    "METADATA_TABLE": "meta",
    "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "ACCEPTED_SUFFIXES": ".CSV, .json",
    "MAX_UPLOAD_BYTES": "1024",
    "AWS_REGION": "eu-west-1",
}


def test_settings_are_built_from_the_environment_mapping():
    settings = Settings.from_env(ENV)
    assert settings.accepted_suffixes == (".csv", ".json")
    assert settings.max_upload_bytes == 1024
    assert settings.region == "eu-west-1"
    assert Settings.from_env(settings.to_env()) == settings


@pytest.mark.parametrize(
    ("change", "variable"),
    [
        pytest.param({"METADATA_TABLE": None}, "METADATA_TABLE", id="missing"),
        pytest.param({"MAX_UPLOAD_BYTES": "lots"}, "MAX_UPLOAD_BYTES", id="not-a-number"),
        pytest.param(
            {"UPLOAD_URL_TTL_SECONDS": "3600"}, "UPLOAD_URL_TTL_SECONDS", id="ttl-over-15-min"
        ),
        pytest.param({"ACCEPTED_SUFFIXES": "csv"}, "ACCEPTED_SUFFIXES", id="suffix-without-dot"),
        pytest.param({"WORKFLOW_TYPE": "BATCH"}, "WORKFLOW_TYPE", id="unknown-workflow"),
    ],
)
def test_a_bad_environment_is_reported_by_variable_name(change, variable):
    env = {**ENV, **{k: v for k, v in change.items() if v is not None}}
    for key, value in change.items():
        if value is None:
            env.pop(key)
    with pytest.raises(SettingsError, match=f"environment variable {variable} "):
        Settings.from_env(env)
