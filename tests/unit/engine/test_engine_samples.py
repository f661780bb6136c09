"""The bundled samples/ have exactly the outcomes samples/README.md lists."""

from __future__ import annotations

import pytest
from engine_support import SAMPLES
from silent_scalper.engine import (
    CompiledSchema,
    Limits,
    Reason,
    SchemaRegistry,
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


#: Samples of the second schema, under samples/<schema>/ (validated against that schema).
INVOICE_EXPECTED: dict[str, tuple[Reason | None, int, str | None]] = {
    "invoice.v1/valid/invoices.csv": (None, 4, None),
    "invoice.v1/valid/invoices.ndjson": (None, 2, None),
    "invoice.v1/invalid/invoice-violations.csv": (
        Reason.SCHEMA_VIOLATION,
        4,
        "record 2 (line 3), column issue_date",
    ),
    "invoice.v1/invalid/float-amount.json": (Reason.SCHEMA_VIOLATION, 1, "$[0].unit_price"),
}


def test_every_sample_file_is_listed() -> None:
    on_disk = {p.relative_to(SAMPLES).as_posix() for p in SAMPLES.rglob("*") if p.is_file()} - {
        "README.md"
    }
    assert on_disk == set(EXPECTED) | set(INVOICE_EXPECTED)


@pytest.mark.parametrize("name", sorted(INVOICE_EXPECTED))
def test_invoice_sample_outcome(name: str, registry: SchemaRegistry) -> None:
    """Given a sample under samples/invoice.v1/, when validated against invoice.v1, then it
    has the listed outcome, and a valid one is not a valid job file (the schemas differ)."""
    reason, records, first_location = INVOICE_EXPECTED[name]
    path = SAMPLES / name
    limits = Limits(max_bytes=10_000_000)
    with path.open("rb") as fh:
        summary = validate_stream(
            fh, key=path.name, schema=registry.get("invoice.v1"), limits=limits
        )
    assert (summary.reason, summary.records) == (reason, records)
    if first_location is None:
        assert summary.valid
        assert summary.schema == "invoice.v1"
        with path.open("rb") as fh:
            as_job = validate_stream(
                fh, key=path.name, schema=registry.get("job.v1"), limits=limits
            )
        assert as_job.reason is Reason.SCHEMA_VIOLATION
    else:
        assert summary.errors[0].location == first_location
        assert (SAMPLES / "README.md").read_text().count(f"`{name.split('/', 1)[1]}`") >= 1


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
