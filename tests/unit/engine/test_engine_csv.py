"""CSV: RFC 4180 rows, the header as schema properties, cells coerced by the schema."""

from __future__ import annotations

from typing import cast

import pytest
from engine_support import Validate
from silent_scalper.engine import CompiledSchema, FileFormat, Limits, LocatedError, Reason
from silent_scalper.engine._collect import Collector
from silent_scalper.engine._csv import _LineTooLongError, _RawBody
from silent_scalper.engine._source import Prefixed, Source

HEADER = "job_id,submitted_at,customer_id,status,priority,amount,notes\n"


def test_given_valid_rows_then_valid_with_counts_columns_and_time_range(validate: Validate) -> None:
    data = (
        HEADER
        + "J-001,2026-01-05T09:30:00Z,7,queued,2,12.5,\n"
        + 'J-002,2026-01-05T08:00:00-05:00,8,running,,,"two, lines\nof ""notes"""\r\n'
        + "J-003,2026-01-05T10:00:00+01:00,9,failed,5,0,plain\n"
    )
    s = validate(data, "jobs.csv")
    assert s.valid, s.errors
    assert (s.format, s.records, s.invalid_records, s.reason) == (FileFormat.CSV, 3, 0, None)
    assert s.columns == [
        "job_id",
        "submitted_at",
        "customer_id",
        "status",
        "priority",
        "amount",
        "notes",
    ]
    assert s.job_ids == 3
    # Compared as instants, not as strings: 08:00-05:00 is 13:00Z, the latest.
    assert s.first_submitted_at == "2026-01-05T10:00:00+01:00"
    assert s.last_submitted_at == "2026-01-05T08:00:00-05:00"


def test_given_an_empty_cell_for_a_required_column_then_it_is_absent(validate: Validate) -> None:
    s = validate(HEADER + "J-001,2026-01-05T09:30:00Z,,queued,,,\n", "jobs.csv")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors == [
        LocatedError(
            "Object missing required field `customer_id`",
            "record 1 (line 2)",
            record=1,
            line=2,
            column=None,
        )
    ]


def test_given_a_cell_of_the_wrong_type_then_located_by_record_line_and_column(
    validate: Validate,
) -> None:
    data = (
        HEADER
        + "J-001,2026-01-05T09:30:00Z,7,queued,2,,\n"
        + '"J-002",2026-01-05T09:30:00Z,"7\n",queued,high,,\n'
    )
    s = validate(data, "jobs.csv")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert (s.records, s.invalid_records) == (2, 1)
    # Every problem of the record, in the schema's property order.
    assert [(e.record, e.line, e.column, e.location) for e in s.errors] == [
        (2, 3, column, f"record 2 (line 3), column {column}")
        for column in ("customer_id", "priority")
    ]


def test_given_a_value_out_of_range_then_the_message_shows_the_cell(validate: Validate) -> None:
    s = validate(HEADER + "J-001,2026-01-05T09:30:00Z,7,queued,nine,,\n", "jobs.csv")
    assert s.errors[0].message == "Expected `int`, got 'nine'"
    assert s.errors[0].column == "priority"


def test_given_unknown_and_missing_columns_then_schema_violation_at_the_header(
    validate: Validate,
) -> None:
    s = validate(
        "job_id,submitted_at,customer_id,state\nJ-001,2026-01-05T09:30:00Z,7,queued\n", "a.csv"
    )
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert [(e.location, e.line, e.column) for e in s.errors] == [
        ("header (line 1), column state", 1, "state"),
        ("header (line 1), column status", 1, "status"),
    ]
    assert "unknown column 'state'" in s.errors[0].message
    assert s.errors[1].message == "missing required column 'status'"
    # No record can conform to a wrong header.
    assert (s.records, s.invalid_records) == (1, 1)


def test_given_a_duplicate_header_name_then_schema_violation(validate: Validate) -> None:
    s = validate("job_id,job_id,submitted_at,customer_id,status\n", "a.csv")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors[0].message == "column 'job_id' appears twice"


def test_given_a_ragged_row_then_malformed_and_the_rest_still_checked(validate: Validate) -> None:
    data = (
        HEADER
        + "J-001,2026-01-05T09:30:00Z,7,queued\n"
        + "J-002,2026-01-05T09:30:00Z,7,queued,9,,\n"
    )
    s = validate(data, "a.csv")
    assert s.reason is Reason.MALFORMED  # the stronger reason wins
    assert [(e.location, e.message) for e in s.errors] == [
        ("record 1 (line 2)", "4 fields, but the header has 7"),
        ("record 2 (line 3), column priority", "Expected `int` <= 5"),
    ]
    assert (s.records, s.invalid_records) == (2, 2)


def test_given_an_unterminated_quote_then_malformed_located(validate: Validate) -> None:
    s = validate(HEADER + 'J-001,2026-01-05T09:30:00Z,7,queued,2,1,"never closed\nmore\n', "a.csv")
    assert s.reason is Reason.MALFORMED
    assert s.errors[-1].message == "cannot parse CSV: unexpected end of data"
    assert s.errors[-1].record == 1


def test_given_text_after_a_closing_quote_then_malformed(validate: Validate) -> None:
    s = validate(HEADER + '"J-001"x,2026-01-05T09:30:00Z,7,queued,2,1,\n', "a.csv")
    assert s.reason is Reason.MALFORMED
    assert s.errors[0].location == "record 1 (line 2)"


def test_given_only_a_header_then_schema_violation_no_records(validate: Validate) -> None:
    s = validate(HEADER, "a.csv")
    assert (s.reason, s.records) == (Reason.SCHEMA_VIOLATION, 0)
    assert s.errors[0].message == "the file has no records"


def test_given_blank_lines_between_records_then_they_are_skipped(validate: Validate) -> None:
    data = (
        "\n"
        + HEADER
        + "J-001,2026-01-05T09:30:00Z,7,queued,,,\n\n\nJ-002,2026-01-05T09:30:00Z,7,queued,,,\n\n"
    )
    s = validate(data, "a.csv")
    assert s.valid, s.errors
    assert s.records == 2


def test_given_a_bom_and_crlf_then_valid(validate: Validate) -> None:
    data = ("\ufeff" + HEADER + "J-001,2026-01-05T09:30:00Z,7,queued,,,\n").replace("\n", "\r\n")
    s = validate(data.encode(), "a.csv")
    assert s.valid, s.errors
    assert s.encoding == "utf-8-sig"
    assert s.columns is not None
    assert s.columns[0] == "job_id"


def test_given_formula_like_cells_then_counted_but_still_valid(validate: Validate) -> None:
    data = (
        HEADER
        + 'J-001,2026-01-05T09:30:00Z,7,queued,,,=HYPERLINK("x")\n'
        + "J-002,2026-01-05T09:30:00Z,7,queued,,,@SUM(A1)\n"
    )
    s = validate(data, "a.csv")
    assert s.valid
    assert s.formula_cells == 2


def test_given_a_negative_number_cell_then_it_is_not_a_formula(validate: Validate) -> None:
    s = validate(HEADER + "J-001,2026-01-05T09:30:00Z,7,queued,,-5,\n", "a.csv")
    assert s.formula_cells == 0
    assert s.errors[0].message == "Expected `float` >= 0.0"


def test_given_a_line_longer_than_the_record_limit_then_reported_not_buffered(
    validate: Validate,
) -> None:
    data = HEADER + "J-001,2026-01-05T09:30:00Z,7,queued,,," + "x" * 5000 + "\n"
    s = validate(data, "a.csv", max_record_bytes=1024)
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors[0].message == "line longer than the 1024-byte limit"
    assert s.errors[0].line == 2


def _rows(count: int, pad: str = "") -> list[str]:
    """The header and ``count`` valid job rows, one of them with a quoted note over two
    lines, as lines without their line ends (``pad`` lengthens the first row's note)."""
    rows = [HEADER.rstrip("\n")]
    for n in range(1, count + 1):
        note = f"note {n}{pad if n == 1 else ''}"
        if n == 5:
            note = '"two\nlines"'
        rows.append(f"J-{n:03d},2026-01-05T09:{n % 60:02d}:00Z,{n},queued,,,{note}")
    return rows


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_given_line_ends_of_any_kind_then_a_file_past_the_line_limit_is_read_whole(
    validate: Validate, end: str
) -> None:
    """Given a valid CSV file much longer than the line limit whose lines end in LF,
    CRLF or a bare CR (classic Mac and Excel's "CSV (Macintosh)"), when it is validated
    with a 1 KiB line limit, then every record is read and the file is valid: a bare CR
    ends a line for the limit as it does for the csv module."""
    data = end.join(_rows(120)) + end
    assert len(data) > 4 * 1024

    s = validate(data, "jobs.csv", max_record_bytes=1024)

    assert (s.valid, s.records, s.errors) == (True, 120, [])


@pytest.mark.parametrize("end", ["\r\n", "\r"], ids=["CRLF", "CR"])
def test_given_a_line_over_the_limit_then_its_line_is_the_one_lf_line_ends_give(
    validate: Validate, end: str
) -> None:
    """Given rows with CRLF or bare CR line ends, then a line over the limit, when the
    file is validated, then the line reported is the one the same file with LF line ends
    gets."""
    rows = [*_rows(40), "J-999,2026-01-05T09:30:00Z,7,queued,,," + "y" * 3000]
    expected = validate("\n".join(rows) + "\n", "jobs.csv", max_record_bytes=1024)
    assert expected.errors[0].message == "line longer than the 1024-byte limit"

    s = validate(end.join(rows) + end, "jobs.csv", max_record_bytes=1024)

    assert (s.errors[0].line, s.errors[0].message) == (
        expected.errors[0].line,
        expected.errors[0].message,
    )
    assert s.records == expected.records


def test_given_a_crlf_split_between_the_readers_chunks_then_it_ends_one_line(
    job_schema: CompiledSchema,
) -> None:
    """Given a CRLF whose CR ends one chunk of the row path's reader and whose LF starts
    the next, when a later line is over the limit, then that line is numbered as the csv
    module numbers it: the split CRLF ended one line, not two."""
    limits = Limits(max_bytes=1 << 20, max_record_bytes=16)  # 16-byte chunks
    col = Collector(job_schema, limits, FileFormat.CSV)
    data = b"a" * 15 + b"\r\n" + b"b" * 5 + b"\r\n" + b"c" * 40  # CR at byte 15, LF at 16
    raw = _RawBody(Prefixed(cast(Source, None), data), col)  # all of it in the head
    with pytest.raises(_LineTooLongError) as info:
        _read_all(raw)
    assert info.value.line == 3


def _read_all(raw: _RawBody) -> None:
    while raw.readinto(bytearray(64)):
        pass


def test_given_invalid_utf8_after_the_head_then_bad_encoding_at_its_line(
    validate: Validate,
) -> None:
    rows = "".join(f"J-{i:04d},2026-01-05T09:30:00Z,7,queued,,,note\n" for i in range(400))
    data = (HEADER + rows).encode() + b"J-9999,2026-01-05T09:30:00Z,7,queued,,,caf\xe9\n"
    s = validate(data, "a.csv")
    assert s.reason is Reason.BAD_ENCODING
    assert s.errors[-1].location == "line 402"
    assert len(s.sha256) == 64
    assert s.size == len(data)


def test_given_schema_any_then_any_header_and_rows_are_fine(
    validate: Validate, any_schema: object
) -> None:
    s = validate("a,b,c\n1,,3\nx,y,z\n", "a.csv", schema=any_schema)
    assert s.valid
    assert (s.records, s.columns, s.job_ids) == (2, ["a", "b", "c"], 0)


def test_given_a_cell_over_the_csv_field_limit_then_schema_violation_not_malformed(
    validate: Validate, any_schema: object
) -> None:
    import csv

    data = "a,b\n1," + "x" * (csv.field_size_limit() + 10) + "\n"
    s = validate(data, "a.csv", schema=any_schema)
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors[0].message == f"a cell longer than the {csv.field_size_limit()}-character limit"


def test_cells_are_coerced_like_json_values_not_more_loosely(validate: Validate) -> None:
    """msgspec's lax string conversion would take a Unix time as a date-time and inf/nan
    as numbers; CSV cells must hold what the JSON type could."""
    rows = [
        "J-001,1700000000,7,queued,,",  # a number is not an RFC 3339 date-time
        "J-002,2026-01-05T09:30:00Z,7,queued,,inf",
        "J-003,2026-01-05T09:30:00Z,7,queued,,NaN",
        "J-004,2026-01-05T09:30:00Z,7,queued,3,1e3",  # exponent: a fine number
    ]
    s = validate(HEADER + "".join(r + ",\n" for r in rows), "a.csv")
    assert [(e.record, e.column, e.message) for e in s.errors] == [
        (1, "submitted_at", "Expected an RFC 3339 date-time (format date-time), got '1700000000'"),
        (2, "amount", "Expected a finite `number`, got 'inf'"),
        (3, "amount", "Expected a finite `number`, got 'NaN'"),
    ]
    assert (s.records, s.invalid_records) == (4, 3)


def test_given_many_rows_then_the_batch_checks_agree_with_the_row_checks(
    validate: Validate,
) -> None:
    good = "".join(
        f"J-{i:04d},2026-01-05T09:30:00Z,{i},queued,{1 + i % 5},{i}.5,\n" for i in range(1, 3000)
    )
    bad = "J-9999,2026-01-05T09:30:00Z,7,queued,2,Infinity,\n"
    s = validate(HEADER + good + bad, "a.csv")
    assert (s.records, s.invalid_records) == (3000, 1)
    assert s.errors[0].location == "record 3000 (line 3001), column amount"


def test_a_signed_number_is_not_a_formula_but_a_dde_payload_is(
    validate: Validate, any_schema: object
) -> None:
    data = "a,b\n-5,+3.2e1\n\"-2+3+cmd|' /C calc'!A0\",-1x\n"
    assert validate(data, "a.csv", schema=any_schema).formula_cells == 2


def test_rows_before_a_parse_error_are_still_validated(validate: Validate) -> None:
    data = (
        HEADER
        + "J-001,2026-01-05T09:30:00Z,7,queued,9,,\n"
        + 'J-002,2026-01-05T09:30:00Z,7,queued,1,,"multi\nline"\n'
        + "J-002,2026-01-05T09:30:00Z,7,queued,1,,\n"
        + 'J-004,2026-01-05T09:30:00Z,7,queued,1,,"never closed\n'
    )
    s = validate(data, "a.csv")
    assert s.reason is Reason.MALFORMED
    assert [(e.location, e.message) for e in s.errors] == [
        ("record 1 (line 2), column priority", "Expected `int` <= 5"),
        (
            "record 3 (line 5), column job_id",
            "job_id 'J-002' is not unique: already used by record 2 (line 3)",
        ),
        ("record 4 (line 6)", "cannot parse CSV: unexpected end of data"),
    ]


def test_given_breaks_inside_cells_across_batches_then_every_line_number_is_exact(
    validate: Validate,
) -> None:
    """Given 4,500 full-width rows where every 10th holds a \\n, \\r\\n or lone \\r inside a
    quoted cell (so whole batches take the bulk line count), when a late row is invalid
    and another repeats an early id, then both are located at their exact lines."""
    rows = []
    line = 2
    lines = {}
    for i in range(1, 4501):
        note = ("", '"a\nb"', '"c\r\nd"', '"e\rf"')[i % 4] if i % 10 == 0 else "x"
        job = "J-0010" if i == 4400 else f"J-{i:04d}"
        prio = 9 if i == 4321 else 1 + i % 5
        rows.append(f"{job},2026-01-05T09:30:00Z,{i},queued,{prio},1.5,{note}\r\n")
        lines[i] = line
        line += 1 + (i % 10 == 0 and i % 4 != 0)
    s = validate(HEADER + "".join(rows), "a.csv")
    assert (s.records, s.invalid_records) == (4500, 2)
    assert [(e.location, e.line) for e in s.errors] == [
        (f"record 4321 (line {lines[4321]}), column priority", lines[4321]),
        (f"record 4400 (line {lines[4400]}), column job_id", lines[4400]),
    ]
    assert s.errors[1].message.endswith(f"already used by record 10 (line {lines[10]})")


def test_given_scattered_errors_in_large_batches_then_each_is_located_and_counted_once(
    validate: Validate,
) -> None:
    """Given 2,500 rows with bad priorities at rows in the same, adjacent and distant
    windows of a batch, and two ids repeated (one first seen beside an error, one in a
    clean stretch), when validated, then every error is reported once, in file order, at
    its own record and line, and the duplicates name their first occurrence."""
    bad = {5, 37, 38, 1000, 1999, 2001}
    repeats = {1500: 40, 1600: 700}
    rows = [
        f"J-{repeats.get(i, i):04d},2026-01-05T09:30:00Z,{i},queued,"
        f"{9 if i in bad else 1 + i % 5},1.5,\n"
        for i in range(1, 2501)
    ]
    s = validate(HEADER + "".join(rows), "a.csv")
    assert (s.records, s.invalid_records) == (2500, 8)
    expected = sorted(
        [(i, "priority", "Expected `int` <= 5") for i in bad]
        + [
            (
                i,
                "job_id",
                f"job_id 'J-{j:04d}' is not unique: already used by record {j} (line {j + 1})",
            )
            for i, j in repeats.items()
        ]
    )
    assert [(e.record, e.line, e.column, e.message) for e in s.errors] == [
        (i, i + 1, column, message) for i, column, message in expected
    ]
