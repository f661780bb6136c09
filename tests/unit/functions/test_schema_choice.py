"""The one rule that picks a file's schema from its key, and the upload id in a presigned key."""

from __future__ import annotations

import pytest
from silent_scalper.engine import SchemaRegistry
from silent_scalper.pipeline.reprocess_quarantined import QuarantinedFile, schema_picker
from silent_scalper.schema_choice import schema_for_key
from silent_scalper.uploads import upload_id_of

KNOWN = frozenset({"any", "job.v1", "invoice.v1"})
ID = "0f8fad5bd9cb469fa16570867728950e"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param(f"uploads/invoice.v1/2026-01-05/{ID}/a.csv", "invoice.v1", id="presigned"),
        pytest.param(f"uploads/job.v1/2026-01-05/{ID}/a.csv", "job.v1", id="presigned-default"),
        pytest.param("uploads/invoice.v1/feed/a.csv", "invoice.v1", id="direct-under-schema"),
        pytest.param("uploads/invoice.v1/a.csv", "invoice.v1", id="direct-flat"),
        pytest.param(f"uploads/2026-01-05/{ID}/a.csv", "job.v1", id="before-schema-segments"),
        pytest.param("uploads/invoice.v9/a.csv", "job.v1", id="unknown-schema-segment"),
        pytest.param("uploads/a.csv", "job.v1", id="no-segment"),
        pytest.param("uploads/invoice.v1", "job.v1", id="schema-name-as-file"),
        pytest.param("other/invoice.v1/a.csv", "job.v1", id="outside-prefix"),
        pytest.param("uploads/Invoice.V1/a.csv", "job.v1", id="case-matters"),
        pytest.param("uploads/any/a.csv", "any", id="registry-any"),
    ],
)
def test_the_key_names_the_schema_only_as_a_known_first_segment(key: str, expected: str) -> None:
    assert schema_for_key(key, prefix="uploads/", default="job.v1", known=KNOWN) == expected


def test_another_prefix_and_default_are_honoured() -> None:
    key = "in/x/invoice.v1/a.csv"
    assert schema_for_key(key, prefix="in/x/", default="any", known=KNOWN) == "invoice.v1"
    assert schema_for_key("in/x/a.csv", prefix="in/x/", default="any", known=KNOWN) == "any"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        (f"uploads/invoice.v1/2026-01-05/{ID}/a.csv", ID),
        (f"uploads/2026-01-05/{ID}/a.csv", ID),
        ("uploads/invoice.v1/feed/a.csv", None),
        (f"uploads/invoice.v1/2026-01-05/{ID}/sub/a.csv", None),
        (f"elsewhere/2026-01-05/{ID}/a.csv", None),
        ("uploads/invoice.v1/2026-01-05/NOT-AN-ID/a.csv", None),
    ],
)
def test_the_upload_id_is_read_only_from_presign_s_layout(key: str, expected: str | None) -> None:
    assert upload_id_of(key, prefix="uploads/") == expected


def quarantined(key: str, schema_name: str | None) -> QuarantinedFile:
    return QuarantinedFile(
        pk=f"in/{key}", bucket="in", key=key, version_id=None, sequencer=None,
        reason="SCHEMA_VIOLATION", format="csv", schema_name=schema_name,
        updated_at="2026-01-05T12:00:00Z", quarantine_location=None, report_location=None,
    )  # fmt: skip


def test_reprocessing_revalidates_each_file_against_its_own_schema() -> None:
    """Given quarantined files of two feeds, then each is revalidated against its own
    schema, as the registry has it now: the record's, else (an older record) the key's."""
    registry = SchemaRegistry.load()
    pick = schema_picker(registry, prefix="uploads/", default="job.v1")
    assert pick(quarantined("uploads/x/a.csv", "invoice.v1")).name == "invoice.v1"
    assert pick(quarantined("uploads/invoice.v1/x/a.csv", None)).name == "invoice.v1"
    assert pick(quarantined("uploads/x/a.csv", None)).name == "job.v1"
    assert pick(quarantined("uploads/x/a.csv", "invoice.v1")) is registry.get("invoice.v1")
