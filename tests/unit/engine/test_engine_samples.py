"""The bundled samples/ have exactly the outcomes samples/README.md lists."""

from __future__ import annotations

import pytest
from engine_support import SAMPLES
from silent_scalper.engine import (
    CompiledSchema,
    Limits,
    Reason,
    sniff,
    validate_stream,
)

EXPECTED: dict[str, tuple[Reason | None, int, str | None]] = {
    "valid/jobs.csv": (None, 7, None),
    "valid/jobs.ndjson": (None, 5, None),
    "valid/jobs.json": (None, 3, None),
    "valid/job.json": (None, 1, None),
    "invalid/empty.csv": (Reason.EMPTY_FILE, 0, "file"),
    "invalid/unsupported-gzip.csv": (Reason.UNSUPPORTED_TYPE, 0, "file"),
    "invalid/bad-encoding-utf16.ndjson": (Reason.BAD_ENCODING, 0, "file"),
    "invalid/malformed.json": (Reason.MALFORMED, 2, "$[1] (line 3)"),
    "invalid/malformed.csv": (Reason.MALFORMED, 3, "record 2 (line 3)"),
    "invalid/schema-violation.ndjson": (Reason.SCHEMA_VIOLATION, 6, "line 2, $.priority"),
    "invalid/schema-violation.csv": (Reason.SCHEMA_VIOLATION, 1, "header (line 1), column state"),
}


def test_every_sample_file_is_listed() -> None:
    on_disk = {p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file()} - {
        "README.md"
    }
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_outcome(name: str, job_schema: CompiledSchema) -> None:
    reason, records, first_location = EXPECTED[name]
    path = SAMPLES / name
    limits = Limits(max_bytes=10_000_000)
    data = path.read_bytes()
    checked = sniff(data[: limits.sniff_bytes], key=path.name, size=len(data), limits=limits)
    with path.open("rb") as fh:
        summary = validate_stream(fh, key=path.name, schema=job_schema, limits=limits)
    assert summary.reason is reason
    assert summary.records == records
    # TypeCheck and the streaming pass agree on the reasons a head can show.
    assert checked.reason == (reason if reason in _HEAD_REASONS else None)
    if first_location is None:
        assert summary.valid
        assert summary.errors == []
    else:
        assert summary.errors[0].location == first_location
        assert (SAMPLES / "README.md").read_text().count(f"`{name.split('/')[1]}`") >= 1


_HEAD_REASONS = {Reason.EMPTY_FILE, Reason.UNSUPPORTED_TYPE, Reason.BAD_ENCODING}


def test_too_large_is_shown_with_a_low_limit(job_schema: CompiledSchema) -> None:
    path = SAMPLES / "valid/jobs.csv"
    limits = Limits(max_bytes=100)
    checked = sniff(
        path.read_bytes()[:8192], key=path.name, size=path.stat().st_size, limits=limits
    )
    assert checked.reason is Reason.TOO_LARGE
