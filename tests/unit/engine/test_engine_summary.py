"""The summary: small whatever the file, typed, and round-trippable through JSON."""

from __future__ import annotations

import json

import pytest
from engine_support import Validate, job
from pydantic import TypeAdapter
from silent_scalper.engine import Reason, ValidationSummary
from silent_scalper.engine.types import SUMMARY_BUDGET_BYTES


def encoded(summary: ValidationSummary) -> int:
    return len(json.dumps(summary.to_dict()).encode())


def test_given_many_invalid_records_then_the_first_max_errors_are_kept_and_all_counted(
    validate: Validate,
) -> None:
    data = "\n".join(job(i, priority=9) for i in range(1, 501))
    s = validate(data, "a.ndjson", max_errors=7)
    assert (s.records, s.invalid_records) == (500, 500)
    assert [e.line for e in s.errors] == [1, 2, 3, 4, 5, 6, 7]
    assert s.errors_truncated


def test_given_huge_messages_and_thousands_of_columns_then_under_16_kib(
    validate: Validate, any_schema: object
) -> None:
    names = [f"column_{'x' * 200}_{i}" for i in range(3000)]
    s = validate(
        ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n", "a.csv", schema=any_schema
    )
    assert s.valid
    assert s.columns_truncated
    assert encoded(s) < 16 * 1024

    long_values = "\n".join(job(i, currency="€" * 500, status="x" * 3000) for i in range(1, 300))
    s = validate(long_values, "a.ndjson", max_errors=1000)
    assert s.invalid_records == 299
    assert s.errors_truncated
    assert 0 < len(s.errors) < 299
    assert encoded(s) <= SUMMARY_BUDGET_BYTES


def test_given_the_default_max_errors_then_still_under_16_kib(validate: Validate) -> None:
    bad = "\n".join(job(i, job_id=f"bad id {'y' * 60} {i}") for i in range(1, 400))
    s = validate(bad, "a.ndjson")
    assert encoded(s) < 16 * 1024


def test_summary_round_trips_through_json(validate: Validate) -> None:
    s = validate("job_id,submitted_at,customer_id,status\nJ-1,x,1,queued\n", "a.csv")
    again = TypeAdapter(ValidationSummary).validate_python(json.loads(json.dumps(s.to_dict())))
    assert again == s
    assert again.reason is Reason.SCHEMA_VIOLATION


def test_given_a_summary_written_before_its_later_fields_when_read_then_they_take_defaults(
    validate: Validate,
) -> None:
    """A redriven execution can carry a summary from a version without some of these fields
    (errors and their cut, the unique id count, the formula-cell count, the column cut): it
    still reads, with empty or zero values."""
    # given
    wire = validate("job_id,submitted_at,customer_id,status\nJ-1,x,1,queued\n", "a.csv").to_dict()
    for later in ("errors", "errors_truncated", "job_ids", "formula_cells", "columns_truncated"):
        del wire[later]

    # when
    summary = TypeAdapter(ValidationSummary).validate_python(wire)

    # then
    assert (summary.errors, summary.errors_truncated) == ([], False)
    assert (summary.job_ids, summary.formula_cells, summary.columns_truncated) == (0, 0, False)


def test_sha256_and_size_cover_every_byte_even_when_parsing_stops(validate: Validate) -> None:
    import hashlib

    data = ("[" + job(1) + ",, " + "x" * 5_000_000 + "]").encode()
    s = validate(data, "a.json")
    assert s.reason is Reason.MALFORMED
    assert s.size == len(data)
    assert s.sha256 == hashlib.sha256(data).hexdigest()


def test_given_a_stream_longer_than_max_bytes_then_too_large_and_reading_stops(
    validate: Validate,
) -> None:
    s = validate("\n".join(job(i) for i in range(1, 2000)), "a.ndjson", max_bytes=10_000)
    assert s.reason is Reason.TOO_LARGE
    assert s.sha256 == ""
    assert s.size == 10_001  # one byte past the limit, whatever the parser asked for
    assert (s.records, s.invalid_records, s.job_ids) == (0, 0, 0)
    assert [e.message for e in s.errors] == ["more than 10000 bytes; reading stopped there"]


def test_given_an_unknown_extension_then_unsupported_type(validate: Validate) -> None:
    s = validate("a,b\n", "data.txt")
    assert (s.reason, s.format) == (Reason.UNSUPPORTED_TYPE, None)


def test_every_reason_has_its_own_rank_and_the_most_fundamental_is_named() -> None:
    ranks = [reason.rank for reason in Reason]
    assert sorted(ranks) == list(range(len(Reason)))
    assert Reason.most_fundamental([Reason.SCHEMA_VIOLATION, Reason.TOO_LARGE]) is (
        Reason.TOO_LARGE
    )
    assert Reason.most_fundamental([Reason.SCHEMA_VIOLATION, Reason.MALFORMED]) is (
        Reason.MALFORMED
    )
    assert Reason.most_fundamental([]) is None


def test_given_a_problem_whose_reason_no_ranking_names_then_the_file_is_still_invalid(
    validate: Validate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validity is "no problem recorded", not "some ranked reason recorded"."""
    monkeypatch.setattr(Reason, "most_fundamental", classmethod(lambda cls, reasons: None))
    s = validate(job(1, priority=9), "a.ndjson")
    assert not s.valid
    assert s.errors
