"""NDJSON / JSON Lines: one record a line, every error located by its line."""

from __future__ import annotations

import json

import pytest
from engine_support import Validate, job
from silent_scalper.engine import CompiledSchema, FileFormat, LocatedError, Reason, _ndjson


def lines(*records: str) -> str:
    return "".join(r + "\n" for r in records)


def test_given_valid_lines_then_valid_with_counts_and_time_range(validate: Validate) -> None:
    s = validate(lines(job(1), job(2, priority=5, notes="ok"), job(3)), "a.ndjson")
    assert s.valid, s.errors
    assert (s.format, s.records, s.invalid_records, s.job_ids) == (FileFormat.NDJSON, 3, 0, 3)
    assert (s.first_submitted_at, s.last_submitted_at) == (
        "2026-01-05T09:01:00+00:00",
        "2026-01-05T09:03:00+00:00",
    )
    assert s.columns is None


def test_jsonl_is_the_same_format(validate: Validate) -> None:
    assert validate(lines(job(1)), "a.jsonl").format is FileFormat.NDJSON


def test_given_bad_values_then_each_error_names_line_and_path(validate: Validate) -> None:
    data = lines(
        job(1),
        job(2, priority=9),
        job(3, status="paused"),
        job(4, submitted_at="2026-01-05T09:30:00"),
        job(5, email="not-an-email"),
        job(6, customer_id=None),
        job(7, colour="red"),
        job(8, job_id="x"),
    )
    s = validate(data, "a.ndjson")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert (s.records, s.invalid_records) == (8, 7)
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 2, $.priority", "Expected `int` <= 5"),
        ("line 3, $.status", "Invalid enum value 'paused'"),
        (
            "line 4, $.submitted_at",
            "Expected an RFC 3339 date-time (format date-time), got '2026-01-05T09:30:00'",
        ),
        (
            "line 5, $.email",
            "Expected an e-mail address (format email)",
        ),
        ("line 6", "Object missing required field `customer_id`"),
        ("line 7, $.colour", "Object contains unknown field `colour`"),
        ("line 8, $.job_id", "Expected `str` matching regex '^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$'"),
    ]
    assert s.errors[0] == LocatedError(
        "Expected `int` <= 5",
        "line 2, $.priority",
        record=2,
        line=2,
        column="priority",
        path="$.priority",
    )


def test_given_a_broken_line_then_malformed_and_later_lines_still_checked(
    validate: Validate,
) -> None:
    s = validate(lines(job(1), '{"job_id": "J-0002",', job(3, priority=0)), "a.ndjson")
    assert s.reason is Reason.MALFORMED
    assert s.errors[0].location == "line 2"
    assert s.errors[0].message.startswith("not well-formed JSON")
    assert s.errors[1].location == "line 3, $.priority"
    assert (s.records, s.invalid_records) == (3, 2)


def test_given_a_type_error_in_a_broken_line_then_malformed_wins(validate: Validate) -> None:
    # msgspec stops at the first wrong type; the engine re-checks well-formedness.
    s = validate('{"job_id": 5, oops}\n', "a.ndjson")
    assert s.reason is Reason.MALFORMED


def test_given_blank_lines_then_skipped_and_lines_still_right(validate: Validate) -> None:
    s = validate("\n" + job(1) + "\n  \n\r\n" + job(2, priority=7) + "\n\n", "a.ndjson")
    assert s.records == 2
    assert s.errors[0].location == "line 5, $.priority"


def test_given_no_trailing_newline_then_the_last_line_counts(validate: Validate) -> None:
    s = validate(job(1) + "\n" + job(2, priority=7), "a.ndjson")
    assert (s.records, s.errors[0].line) == (2, 2)


def test_given_a_non_object_line_then_schema_violation(validate: Validate) -> None:
    s = validate(lines(job(1), "[1, 2]", '"text"'), "a.ndjson")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert [e.message for e in s.errors] == [
        "Expected `object`, got `array`",
        "Expected `object`, got `str`",
    ]


def test_given_duplicate_job_ids_then_the_later_is_located_with_the_first(
    validate: Validate,
) -> None:
    s = validate(lines(job(1), job(2), job(1, status="running")), "a.ndjson")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors == [
        LocatedError(
            "job_id 'J-0001' is not unique: already used by line 1",
            "line 3, $.job_id",
            record=3,
            line=3,
            column="job_id",
            path="$.job_id",
        )
    ]
    assert (s.invalid_records, s.job_ids) == (1, 2)


def test_given_a_line_over_the_record_limit_then_reported_and_skipped(validate: Validate) -> None:
    big = job(2, notes="x" * 3000)
    s = validate(lines(job(1), big, job(3)), "a.ndjson", max_record_bytes=1024)
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors[0].location == "line 2"
    assert s.errors[0].message == "record longer than the 1024-byte limit"
    assert (s.records, s.invalid_records) == (3, 1)


def test_given_nul_bytes_inside_then_bad_encoding(validate: Validate) -> None:
    data = lines(*(job(i) for i in range(300))).encode() + b'{"job_id": "\x00"}\n'
    s = validate(data, "a.ndjson")
    assert s.reason is Reason.BAD_ENCODING
    assert s.errors[-1].line == 301
    assert s.records == 300


def test_given_only_whitespace_then_empty_file(validate: Validate) -> None:
    assert validate("\n\n  \n", "a.ndjson").reason is Reason.EMPTY_FILE


def test_given_a_value_containing_a_newline_then_patterns_are_still_exact(
    validate: Validate,
) -> None:
    # Anchored patterns are checked per batch over newline-joined values; a value holding
    # a newline must not slip through ("$" in Python also matches before a final "\n").
    s = validate(lines(job(1), job(2, currency="EUR\n"), job(3, job_id="J-0003\nX")), "a.ndjson")
    assert [e.location for e in s.errors] == ["line 2, $.currency", "line 3, $.job_id"]


def test_given_a_line_just_over_the_default_limit_across_chunks_then_reported_at_its_line(
    validate: Validate, any_schema: CompiledSchema
) -> None:
    """Given the default 1 MiB record limit (as large as a read chunk) and a well-formed
    line of 1 MiB + 100 bytes that starts in one chunk and ends in the next, when
    validated with schema "any" (which would accept the record itself), then that line
    alone is reported at its line number, and the lines around it are checked."""
    before = [job(i) for i in range(1, 2001)]
    big = json.dumps({"notes": "x" * ((1 << 20) + 100)})
    data = lines(*before, big, job(2002), "[]")
    s = validate(data, "a.ndjson", schema=any_schema)
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 2001", "record longer than the 1048576-byte limit"),
        ("line 2003", "Expected `object`, got `array`"),
    ]
    assert (s.records, s.invalid_records) == (2003, 2)


def test_given_records_separated_by_bare_carriage_returns_then_the_error_says_so(
    validate: Validate,
) -> None:
    # Given job records saved with classic Mac line ends: a bare CR after each, no LF
    data = "".join(job(i) + "\r" for i in range(1, 6))
    # When validated as NDJSON
    s = validate(data, "a.ndjson")
    # Then the one line they make is refused as broken JSON, and the message says why
    assert (s.reason, s.records, s.invalid_records) == (Reason.MALFORMED, 1, 1)
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 1", "not well-formed JSON: trailing characters" + _ndjson.BARE_CR)
    ]


@pytest.mark.parametrize(
    ("data", "limit", "records"),
    [
        # within a read chunk: bare-CR-separated records, then a line feed and one more
        ("".join(job(i) + "\r" for i in range(1, 40)) + "\n" + job(40) + "\n", 1024, 2),
        # over a read chunk: 1.5 MB with no line feed at all, under the default limit
        ("".join(job(i) + "\r" for i in range(1, 15000)), 1 << 20, 1),
    ],
    ids=["within a read chunk", "over a read chunk"],
)
def test_given_bare_carriage_returns_past_the_record_limit_then_the_error_says_so(
    validate: Validate, data: str, limit: int, records: int
) -> None:
    # Given bare-CR-separated records longer than the record limit, in one read chunk or
    # across several
    assert limit < (1 << 20) or len(data) > 1 << 20
    # When validated as NDJSON with that record limit
    s = validate(data, "a.ndjson", max_record_bytes=limit)
    # Then the long line is refused for its length, the message saying why, and a line
    # after it is read
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 1", f"record longer than the {limit}-byte limit" + _ndjson.BARE_CR)
    ]
    assert (s.records, s.invalid_records) == (records, 1)


def test_given_a_carriage_return_that_separates_no_records_then_no_such_hint(
    validate: Validate,
) -> None:
    # Given a CR as whitespace inside a record, trailing characters after a plain space,
    # trailing text after a CR that is no JSON value, and a value broken before a CR
    inside = job(1).replace('"status":', '"status":\r')
    broken = '{"job_id": 1,}\r' + job(5)
    data = lines(inside, job(2) + " x", job(3) + "\r x", "x" * 1100, broken)
    # When validated as NDJSON with a 1 KiB record limit
    s = validate(data, "a.ndjson", max_record_bytes=1024)
    # Then the first record is valid and no message speaks of carriage returns
    assert [e.location for e in s.errors] == ["line 2", "line 3", "line 4", "line 5"]
    assert not any("carriage return" in e.message for e in s.errors)


def test_given_bare_cr_lines_among_valid_ones_then_each_kept_error_says_so(
    validate: Validate,
) -> None:
    # Given valid lines with three lines of bare-CR-separated records among them
    joined = [job(1000 + 10 * k) + "\r" + job(1001 + 10 * k) for k in range(3)]
    records = [job(i) for i in range(1, 301)]
    for k, line in enumerate(joined):
        records.insert(100 * (k + 1), line)
    # When validated as NDJSON keeping two errors
    s = validate(lines(*records), "a.ndjson", max_errors=2)
    # Then the two kept errors say why their lines were refused, and the third is counted
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 101", "not well-formed JSON: trailing characters" + _ndjson.BARE_CR),
        ("line 201", "not well-formed JSON: trailing characters" + _ndjson.BARE_CR),
    ]
    assert (s.records, s.invalid_records, s.errors_truncated) == (303, 3, True)


def test_given_bare_cr_lines_cut_short_among_valid_ones_then_the_error_says_so(
    validate: Validate,
) -> None:
    # Given valid lines and two lines of records a bare CR separates, the last record of
    # each cut short (msgspec then refuses the line itself, not its count of records)
    cut = [job(1000 + k) + "\r" + job(2000 + k)[:-1] for k in range(2)]
    records = [job(i) for i in range(1, 201)]
    records.insert(100, cut[0])
    records.insert(150, cut[1])
    # When validated as NDJSON
    s = validate(lines(*records), "a.ndjson")
    # Then each is refused for the characters after its first record, the message saying why
    assert [(e.location, e.message) for e in s.errors] == [
        ("line 101", "not well-formed JSON: trailing characters" + _ndjson.BARE_CR),
        ("line 151", "not well-formed JSON: trailing characters" + _ndjson.BARE_CR),
    ]
    assert (s.records, s.invalid_records) == (202, 2)
