"""The benchmark's generated job files: deterministic, valid per the engine, 1 % invalid exactly."""

import hashlib
from datetime import datetime
from pathlib import Path

import pytest
from silent_scalper.engine import (
    FileFormat,
    Limits,
    Reason,
    SchemaRegistry,
    ValidationSummary,
    validate_stream,
)

from benchmarks.generate import (
    BLOCK_RECORDS,
    Format,
    format_size,
    generate,
    parse_size,
)

SIZE = 120_000  # a few blocks of every format: fast, and crosses block boundaries


def _validate(path: Path, fmt: Format) -> ValidationSummary:
    schema = SchemaRegistry.load().get("job.v1")
    with path.open("rb") as stream:
        return validate_stream(
            stream,
            key=path.name,
            schema=schema,
            limits=Limits(max_bytes=10 * SIZE),
            fmt=FileFormat(fmt.value),
        )


def _instant(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text)


@pytest.mark.parametrize("fmt", list(Format))
def test_given_the_same_arguments_when_generated_twice_then_the_bytes_are_identical(
    tmp_path: Path, fmt: Format
) -> None:
    first = generate(tmp_path, fmt, SIZE, invalid=True, name="a")
    second = generate(tmp_path, fmt, SIZE, invalid=True, name="b")

    assert first.size == second.size >= SIZE
    assert (
        hashlib.sha256(first.path.read_bytes()).digest()
        == hashlib.sha256(second.path.read_bytes()).digest()
    )


@pytest.mark.parametrize("fmt", list(Format))
def test_given_a_valid_file_when_the_engine_reads_it_then_every_record_conforms(
    tmp_path: Path, fmt: Format
) -> None:
    made = generate(tmp_path, fmt, SIZE, invalid=False)

    summary = _validate(made.path, fmt)

    assert summary.valid, summary.errors[:3]
    assert summary.records == made.records == made.blocks * BLOCK_RECORDS
    assert summary.job_ids == made.records
    assert summary.size == made.size == made.path.stat().st_size
    # Compared as instants: the engine normalises the offset notation.
    assert _instant(summary.first_submitted_at) == _instant(made.first_submitted_at)
    assert _instant(summary.last_submitted_at) == _instant(made.last_submitted_at)


@pytest.mark.parametrize("fmt", list(Format))
def test_given_the_invalid_variant_then_exactly_one_record_in_a_hundred_violates_the_schema(
    tmp_path: Path, fmt: Format
) -> None:
    made = generate(tmp_path, fmt, SIZE, invalid=True)

    summary = _validate(made.path, fmt)

    assert made.invalid_records * 100 == made.records
    assert summary.reason == Reason.SCHEMA_VIOLATION
    assert summary.invalid_records == made.invalid_records
    assert summary.records == made.records


def test_sizes_parse_and_print_in_decimal_units() -> None:
    assert parse_size("10MB") == 10_000_000
    assert parse_size("1GB") == 1_000_000_000
    assert parse_size("500kb") == 500_000
    assert format_size(100_000_000) == "100MB"
    assert format_size(1_000_000_000) == "1GB"
    with pytest.raises(ValueError, match="not a size"):
        parse_size("ten megs")
