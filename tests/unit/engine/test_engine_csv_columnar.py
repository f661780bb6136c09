"""The columnar CSV path (blocks split in C or read by pyarrow, checked with Arrow
kernels and compiled cell grammars) and the row path (csv module) give the same summary.

Files here are a few MiB, so they span several of the columnar path's blocks, and each
carries one thing the columnar path must hand to the row path (from that block on) or
check exactly: a quote closed in mid-cell, a blank line, a row of the wrong width, bare
CR line ends, a cell over the csv module's field limit, an encoding error, rows the
column checks refuse next to duplicates. The row path is what the engine did before the
columnar path existed; the summaries (verdict, counts, every located error, first and
last times, formula cells, sha256) must be equal, and equal again without the compiled
module (every block read by pyarrow's parser, every cell matched by RE2).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from engine_support import Validate
from hypothesis import given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _csv, _csv_columnar, _scan
from silent_scalper.engine._classes import class_shape
from silent_scalper.engine.schemas import CompiledSchema, compile_schema

HEADER = "job_id,submitted_at,customer_id,status,priority,amount,currency,email,quantity,notes"
NOTES = ["plain", '"with, comma"', '"two\nlines"', '"say ""hi"""', "=1+1", "-5", "Zürich"]


def _row(n: int, **cells: str) -> str:
    row = {
        "job_id": f"J-{n:07d}",
        "submitted_at": f"2026-01-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
        "customer_id": str(1 + n % 9),
        "status": "queued",
        "priority": str(1 + n % 5),
        "amount": f"{n % 1000}.5",
        "currency": "EUR",
        "email": f"u{n}@example.com",
        "quantity": str(n % 7),
        "notes": NOTES[n % len(NOTES)],
    }
    row.update(cells)
    return ",".join(row.values())


def _file(
    rows: int = 30_000, *, at: int = 20_000, insert: str | None = None, end: str = "\n"
) -> str:
    """``rows`` rows (about 3 MiB), with the line ``insert`` placed before row ``at``."""
    lines = [_row(n) for n in range(rows)]
    if insert is not None:
        lines.insert(at, insert)
    return HEADER + end + end.join(lines) + end


def _both(validate: Validate, data: str | bytes, **kw: Any) -> tuple[Any, Any]:
    """The summaries of the columnar path and of the row path. The columnar path's
    summary is also the same without the compiled module, blocks then read by pyarrow's
    parser and cells matched by RE2 (asserted here, so that every test holds all three)."""
    columnar = validate(data, "jobs.csv", max_errors=1000, **kw).to_dict()
    with pytest.MonkeyPatch.context() as mp:
        for compiled in ("_split_csv", "_match_format", "_match_class"):
            mp.setattr(_csv_columnar, compiled, None)
        mp.setattr(_csv_columnar, "quote_count", _scan.quote_count_python)
        mp.setattr(_csv_columnar, "newline_count", _scan.newline_count_python)
        assert validate(data, "jobs.csv", max_errors=1000, **kw).to_dict() == columnar
        mp.setattr(_csv, "_columnar", lambda head, body, col: None)
        rows = validate(data, "jobs.csv", max_errors=1000, **kw).to_dict()
    return columnar, rows


def _invalid(n: int) -> str:
    """A row the column checks refuse, cycling through the kinds of problem."""
    kinds = [
        {"priority": "9"},
        {"status": "paused"},
        {"amount": "-12.5"},
        {"currency": "usd"},
        {"customer_id": "0"},
        {"submitted_at": "2026-02-30T00:00:00Z"},
        {"email": "no-at"},
        {"customer_id": "007"},
        {"notes": "x" * 2001},
        {"job_id": ""},
    ]
    return _row(n, **kinds[n % len(kinds)])


def test_given_a_valid_multi_block_file_then_the_summaries_are_equal(validate: Validate) -> None:
    columnar, rows = _both(validate, _file())
    assert columnar == rows
    assert columnar["valid"]
    assert columnar["formula_cells"] > 0


def test_given_invalid_rows_and_duplicates_then_errors_and_places_are_equal(
    validate: Validate,
) -> None:
    lines = [_row(n) if n % 997 else _invalid(n) for n in range(30_000)]
    lines[25_000] = lines[3]  # a duplicate of an early valid row
    lines[25_001] = _row(25_001, job_id=lines[2_000].split(",")[0])  # of a refused-row neighbour
    lines[12_345] = _row(12_345, amount="0", quantity="0")  # at a bound: refused, then valid
    # Several problems in one row (a missing required cell among them), and a row where
    # one refused cell is valid after all beside one that is not: all worded, in order.
    lines[7_777] = _row(7_777, priority="9", status="paused", customer_id="", email="x")
    lines[7_778] = _row(7_778, amount="0", currency="usd")
    columnar, rows = _both(validate, HEADER + "\n" + "\n".join(lines) + "\n")
    assert columnar == rows
    assert columnar["invalid_records"] > 30
    assert any("is not unique" in e["message"] for e in columnar["errors"])


@pytest.mark.parametrize("max_errors", [1000, 25, 1])
def test_given_more_refused_rows_than_errors_kept_then_the_counts_are_equal(
    validate: Validate, max_errors: int
) -> None:
    """Given refused rows in every block, past the errors a summary keeps (counted a
    column at a time there): rows with problems in several columns, a cell with more
    than one problem, cells refused by a column check that the exact check accepts
    (alone, and beside a real problem), and a later duplicate of such a row's id, when
    the file is read, then the verdict, invalid count, kept errors, ids and times are
    the row path's. Dates written with a space, every one different, are among them."""
    lines = [_row(n) if n % 211 else _invalid(n) for n in range(30_000)]
    for n in range(500, 30_000, 1_009):
        lines[n] = _row(n, priority="9", status="paused", customer_id="", email="x")
    for n in range(700, 30_000, 1_013):
        lines[n] = _row(n, job_id="!" * 70, currency="usd")  # job_id: pattern and length
    for n in range(900, 30_000, 2_003):
        lines[n] = _row(n, amount="0", quantity="0")  # refused by the columns, then valid
        lines[n + 1] = _row(n + 1, amount="0", currency="usd")
    for n in range(300, 30_000, 97):  # dates written with a space, each its own
        lines[n] = _row(n, submitted_at=f"2026-01-05 09:{n % 60:02d}:{n % 59:02d}Z")
    lines[29_500] = _row(29_500, job_id=lines[28_942].split(",")[0])  # valid after all
    data = HEADER + "\n" + "\n".join(lines) + "\n"
    columnar = validate(data, "jobs.csv", max_errors=max_errors)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv, "_columnar", lambda head, body, col: None)
        rows = validate(data, "jobs.csv", max_errors=max_errors)
    assert columnar.to_dict() == rows.to_dict()
    assert columnar.invalid_records > 500
    assert columnar.errors_truncated


@pytest.mark.parametrize("max_errors", [1000, 20])
def test_given_duplicates_across_spilled_runs_then_errors_and_places_are_equal(
    validate: Validate, max_errors: int
) -> None:
    """The columnar path finds duplicates when its key runs are sorted, the row path as
    keys arrive: with more errors than are kept, both keep the first ones of the file."""
    lines = [_row(n) if n % 1_499 else _invalid(n) for n in range(30_000)]
    for n in range(20_000, 30_000, 333):
        lines[n] = _row(n, job_id=lines[n - 19_000].split(",")[0])  # across runs
    for n in range(5_000, 6_000, 97):
        lines[n] = _row(n, job_id=lines[n - 40].split(",")[0])  # within one store
    data = HEADER + "\n" + "\n".join(lines) + "\n"
    columnar = validate(data, "jobs.csv", max_errors=max_errors, unique_memory_entries=500)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv, "_columnar", lambda head, body, col: None)
        rows = validate(data, "jobs.csv", max_errors=max_errors, unique_memory_entries=500)
    assert columnar.to_dict() == rows.to_dict()
    assert sum("is not unique" in e.message for e in columnar.errors) > 5
    assert columnar.errors_truncated is (max_errors == 20)


@pytest.mark.parametrize(
    ("second", "third"),
    [
        pytest.param(10_000, 10_010, id="repeats-in-one-store"),
        pytest.param(10_000, 20_000, id="repeats-in-two-stores"),
        pytest.param(400, 10_000, id="first-two-in-one-store"),
    ],
)
def test_given_an_id_used_three_times_then_both_paths_name_its_first_place(
    validate: Validate, second: int, third: int
) -> None:
    """Each store reports a repeat against the first place it holds; when the id's first
    place is in an earlier run, the kept error is worded against that place instead."""
    lines = [_row(n) for n in range(30_000)]
    for n in (second, third):
        lines[n] = _row(n, job_id=lines[100].split(",")[0])
    data = HEADER + "\n" + "\n".join(lines) + "\n"
    columnar = validate(data, "jobs.csv", max_errors=100, unique_memory_entries=500)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv, "_columnar", lambda head, body, col: None)
        rows = validate(data, "jobs.csv", max_errors=100, unique_memory_entries=500)
    assert columnar.to_dict() == rows.to_dict()
    assert [e.message for e in columnar.errors] == [
        "job_id 'J-0000100' is not unique: already used by record 101 (line 116)"
    ] * 2


@pytest.mark.parametrize(
    "insert",
    [
        pytest.param('J-x,"2026-01-01T00:00:00Z"x,1,queued,,,,,,', id="quote-closed-mid-cell"),
        pytest.param("", id="blank-line"),
        pytest.param("J-y,2026-01-01T00:00:00Z,1,queued", id="short-row"),
        pytest.param('J-z,2026-01-01T00:00:00Z,1,queued,,,,,,a"b', id="quote-inside-a-cell"),
        pytest.param('J-q,2026-01-01T00:00:00Z,1,queued,,,,,,"open', id="unclosed-quote"),
    ],
)
def test_given_an_irregular_record_late_in_the_file_then_the_row_path_takes_over(
    validate: Validate, insert: str
) -> None:
    columnar, rows = _both(validate, _file(insert=insert))
    assert columnar == rows


def _quoted(line: str) -> str:
    """A CSV line (read by the csv module) written again with every field quoted, as
    exporters that quote every field write it."""
    (cells,) = csv.reader([line])
    return ",".join('"' + cell.replace('"', '""') + '"' for cell in cells)


def test_given_every_field_quoted_then_the_columnar_path_reads_it_as_the_row_path(
    validate: Validate,
) -> None:
    """Given a file whose header and cells are all quoted (CRLF rows, a byte-order mark),
    with refused rows and a duplicate, when validated, then the columnar path reads it
    (a quoted header does not send the file to the row path) and its summary is the row
    path's."""
    lines = [_row(n) if n % 997 else _invalid(n) for n in range(30_000)]
    lines[25_000] = lines[3]
    data = "\ufeff" + "\r\n".join(_quoted(line) for line in [HEADER, *lines]) + "\r\n"
    runs: list[int] = []
    with pytest.MonkeyPatch.context() as mp:
        real = _csv_columnar.ColumnarCsv.run
        mp.setattr(_csv_columnar.ColumnarCsv, "run", lambda *a: runs.append(1) or real(*a))
        columnar, rows = _both(validate, data)
    assert runs
    assert columnar == rows
    assert columnar["invalid_records"] > 30


@pytest.mark.parametrize(
    "header",
    [
        HEADER,
        _quoted(HEADER),
        '"job_id",submitted_at,"customer_id",status,priority,amount,currency,email,quantity,notes',
        '"job""id",x,"a,b",""',
        '"job_id","open',
        '"job_id"x,submitted_at',
        '"job_id" ,submitted_at',
        ' "job_id",submitted_at',
        'job"id,submitted_at',
        '"job\rid",submitted_at',
        "",
        "  ",
    ],
)
@pytest.mark.parametrize("bom", ["", "\ufeff"])
@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_given_a_header_line_then_its_names_are_the_csv_modules_or_the_row_path_reads_it(
    header: str, bom: str, end: str
) -> None:
    """Given a first line of any quoting, when the columnar path reads the header, then
    it reads the names the csv module reads from the file (the row path's header) and
    the records start on the next line, or it leaves the file to the row path."""
    head = (bom + header + end + "J-1,x" + end).encode()
    found = _csv_columnar.simple_header(head)
    if found is None:
        assert '"' in header or not header.strip() or "\r" in header
        return
    names, start = found
    assert names == next(csv.reader(io.StringIO(head.decode("utf-8-sig"), newline=""), strict=True))
    assert head[start:] == ("J-1,x" + end).encode()


def test_given_crlf_and_bare_cr_line_ends_then_the_summaries_are_equal(validate: Validate) -> None:
    for end in ("\r\n", "\r"):
        columnar, rows = _both(validate, _file(rows=12_000, end=end))
        assert columnar == rows


def _mac_file() -> bytes:
    """A file of several blocks whose lines end in a bare CR (Excel's "CSV (Macintosh)"),
    with refused rows, a duplicate, and line feeds and a CR inside quoted cells."""
    lines = [_row(n) if n % 997 else _invalid(n) for n in range(30_000)]
    lines[25_000] = lines[3]
    lines[12_000] = _row(12_000, notes='"a CR\rinside, then a quote "" too"')
    return (HEADER + "\r" + "\r".join(lines) + "\r").encode()


@pytest.fixture
def one_block_pending(monkeypatch: pytest.MonkeyPatch) -> None:
    """The columnar path gives up on a file after a read's worth of bytes without a cut
    (4 reads in the engine): a file of a few MiB with no cut at all is then not read
    whole as one last block."""
    monkeypatch.setattr(_csv_columnar, "_MAX_PENDING", _csv_columnar.CHUNK)


def _left_to_rows(validate: Validate, data: bytes) -> bool:
    """Whether validating ``data`` leaves any row to the row path."""
    calls: list[int] = []
    with pytest.MonkeyPatch.context() as mp:
        real = _csv._read_rows
        mp.setattr(_csv, "_read_rows", lambda *a, **k: calls.append(1) or real(*a, **k))
        validate(data, "jobs.csv", max_errors=1000)
    return bool(calls)


@pytest.mark.usefixtures("one_block_pending")
def test_given_classic_mac_line_ends_then_the_columnar_path_reads_every_block(
    validate: Validate,
) -> None:
    """Given a file whose lines end in a bare CR, when validated, then no row is left to
    the row path, and the summary is the row path's."""
    data = _mac_file()
    assert not _left_to_rows(validate, data)
    columnar, rows = _both(validate, data)
    assert columnar == rows
    assert columnar["invalid_records"] > 30
    assert any("is not unique" in e["message"] for e in columnar["errors"])


@pytest.mark.usefixtures("one_block_pending")
def test_given_classic_mac_line_ends_and_some_crlf_then_the_lines_are_the_row_paths(
    validate: Validate,
) -> None:
    """Given a bare-CR file where every 37th row ends in CRLF instead, when validated,
    then no row is left to the row path, and lines and errors are the row path's: a CRLF
    is one line end. (A CRLF split between two reads is never cut between its CR and its
    LF: the cut's own test below.)"""
    data = _mac_file()
    ends = [at for at in range(len(data)) if data[at] == 0x0D][::37]
    for at in reversed(ends):
        data = data[: at + 1] + b"\n" + data[at + 1 :]
    assert not _left_to_rows(validate, data)
    columnar, rows = _both(validate, data)
    assert columnar == rows
    assert columnar["invalid_records"] > 30


_LINE_BYTES = st.lists(st.sampled_from([b"a", b",", b'"', b"\r", b"\n"]), max_size=60).map(b"".join)


@settings(max_examples=500, deadline=None)
@given(_LINE_BYTES, st.booleans())
def test_given_any_text_then_the_cut_is_the_last_line_break_outside_quotes(
    buf: bytes, bare_cr: bool
) -> None:
    """Given any bytes, when a block is cut from them, then it ends just after the last
    line break with an even number of quotes before it (0: none): a line feed, or with
    bare-CR line ends a CR that a byte other than a line feed follows (a CR that ends
    the bytes may be half of a CRLF)."""

    def is_break(at: int) -> bool:
        if bare_cr:
            return buf[at] == 0x0D and at + 1 < len(buf) and buf[at + 1] != 0x0A
        return buf[at] == 0x0A

    cuts = [at + 1 for at in range(len(buf)) if is_break(at) and buf.count(b'"', 0, at) % 2 == 0]
    assert _csv_columnar._safe_cut(buf, bare_cr=bare_cr) == max(cuts, default=0)


@settings(max_examples=500, deadline=None)
@given(_LINE_BYTES, st.integers(1, 8), st.booleans())
def test_given_any_text_then_a_line_over_the_limit_is_found(
    block: bytes, limit: int, bare_cr: bool
) -> None:
    """Given any bytes, when the longest line is checked against a limit, then it is
    over it exactly when a run of bytes without a line end is: line ends are line feeds,
    and with bare-CR line ends CRs as well."""
    runs = (block.replace(b"\r", b"\n") if bare_cr else block).split(b"\n")
    assert _csv_columnar._longest_line_over(block, limit, bare_cr=bare_cr) == any(
        len(run) > limit for run in runs
    )


def test_given_a_cell_over_the_field_limit_then_the_row_path_reports_it(
    validate: Validate,
) -> None:
    big = '"' + "x" * (csv.field_size_limit() + 10) + '"'
    columnar, rows = _both(validate, _file(insert=_row(99_999, notes=big)))
    assert columnar == rows
    assert not columnar["valid"]


def test_given_bad_utf8_late_in_the_file_then_the_error_and_counts_are_equal(
    validate: Validate,
) -> None:
    data = _file().encode()
    at = data.index(b"\n", len(data) // 2 + 123) + 7
    broken = data[:at] + b"\xff" + data[at:]
    columnar, rows = _both(validate, broken)
    assert columnar == rows
    assert columnar["reason"] == "BAD_ENCODING"


def test_given_a_line_over_the_record_limit_then_the_error_is_equal(validate: Validate) -> None:
    long_notes = '"' + "y" * 70_000 + '"'
    data = _file(insert=_row(99_998, notes=long_notes))
    columnar, rows = _both(validate, data, max_record_bytes=65_536)
    assert columnar == rows
    assert not columnar["valid"]


def test_given_times_with_offsets_leap_seconds_and_ties_then_first_and_last_are_equal(
    validate: Validate,
) -> None:
    lines = [_row(n) for n in range(15_000)]
    lines[100] = _row(100, submitted_at="2025-12-31T23:00:00-01:00")  # the first instant ...
    lines[200] = _row(200, submitted_at="2026-01-01T00:00:00Z")  # ... spelled another way
    lines[300] = _row(300, submitted_at="2026-06-30T23:59:60Z")
    lines[400] = _row(400, submitted_at="2026-12-31T23:59:59.123456789+00:00")
    lines[600] = _row(600, submitted_at="0001-01-01T00:30:00+01:00")
    lines[500] = _row(500, submitted_at="2026-12-31t23:59:59.5z")
    columnar, rows = _both(validate, HEADER + "\n" + "\n".join(lines))
    assert columnar == rows


@pytest.mark.parametrize(
    "refused",
    [
        pytest.param({10: "2025-01-01T00:00:00Z"}, id="earliest instant in a refused row"),
        pytest.param({20: "2027-01-01T00:00:00Z"}, id="latest instant in a refused row"),
        pytest.param(
            {0: "2026-01-01T01:00:00+01:00", 11_990: "2026-02-01T01:00:00+01:00"},
            id="first and last instants spelled otherwise in earlier refused rows",
        ),
        pytest.param({40: "2026-02-30T00:00:00Z"}, id="a refused row's cell is no instant"),
        pytest.param({50: "2026-01-15T00:00:00Z"}, id="a refused row within the span"),
    ],
)
def test_given_refused_rows_at_the_edges_of_the_time_span_then_first_and_last_are_equal(
    validate: Validate, refused: dict[int, str]
) -> None:
    """Given rows the column checks refuse (priority 9) holding the earliest or latest
    instant, or an instant equal to the first or last valid one spelled otherwise and
    placed before it, when the file is read, then first and last are the valid rows'
    as the row path finds them."""
    lines = [_row(n) for n in range(12_000)]
    lines[1] = _row(1, submitted_at="2026-01-01T00:00:00Z")
    lines[-1] = _row(11_999, submitted_at="2026-02-01T00:00:00Z")
    for n, at in refused.items():
        lines[n] = _row(n, submitted_at=at, priority="9")
    columnar, rows = _both(validate, HEADER + "\n" + "\n".join(lines))
    assert columnar == rows
    assert columnar["invalid_records"] == len(refused)


@pytest.mark.parametrize(
    "properties",
    [
        {"n": {"type": "integer", "minimum": -3, "exclusiveMaximum": 10}},
        {"n": {"type": "integer", "exclusiveMinimum": 0, "maximum": 9}},  # as a set of texts
        {"n": {"type": "integer", "minimum": 0}},  # digits checked with string kernels
        {"n": {"type": "integer", "minimum": 1, "maximum": 10**15}},
        {"n": {"type": "integer"}},
        {"n": {"type": "string", "enum": ["a", "abc", "-0"]}},  # may start like a formula
        {"n": {"type": "string", "enum": ["a", "abc"]}},  # never does: refused cells counted
        {"n": {"type": "string", "pattern": "^[a-c]+$"}},
        {"n": {"type": "string", "pattern": "^[a-c-]+$"}},
        {"n": {"type": "string", "format": "date-time"}},
        {"n": {"type": "number", "exclusiveMinimum": 0.1, "maximum": 1e3}},
        {"n": {"type": "boolean"}},
        {"n": {"type": "string", "pattern": "^[a-c]{1,2}$", "minLength": 2}},
        {"n": {"type": "string", "pattern": "^\\w+$"}},  # the row path (\w differs in RE2)
        {"n": {"type": "string", "pattern": "^a{,2}$"}},  # the row path ({,n} differs in RE2)
        {"n": {"type": ["integer", "null"]}},  # the row path (not covered)
    ],
)
def test_given_other_column_types_then_the_columnar_checks_agree(
    validate: Validate, properties: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given every kind of cell in a column of each type, read in blocks of 16 KiB (so
    the 110 KB file spans several, as a large file spans blocks of a MiB), then the
    columnar checks, with and without the compiled module, agree with the row path."""
    monkeypatch.setattr(_csv_columnar, "CHUNK", 1 << 14)
    schema = compile_schema(
        "t",
        {
            "type": "object",
            "properties": {**properties, "k": {"type": "string"}},
            "required": ["k"],
            "x-unique": ["k"],
        },
        None,
    )
    cells = ["", "0", "1", "-1", "-3", "-4", "9", "10", "0.1", "0.10", "1e3", "1000", "1000.0"]
    cells += ["true", "false", "null", "a", "ab", "abc", "cc", "é", "007", "-0", "1.5e-3"]
    cells += ["=1+1", "+5", "-a", "@a", "2026-01-05T09:30:00Z", "\u0661", "99999999999999999999"]
    rows = [f"{c},k{i}" for i, c in enumerate(cells * 400)]
    columnar, rows_path = _both(validate, "n,k\n" + "\n".join(rows) + "\n", schema=schema)
    assert columnar == rows_path


def test_given_pyarrow_cannot_be_imported_then_the_row_path_reads_the_file(
    validate: Validate, job_schema: CompiledSchema, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_csv_columnar, "available", lambda: False)
    monkeypatch.setattr(_csv, "_PLANS", {})
    assert _csv._columnar_plan(job_schema, HEADER.split(",")) is None
    columnar, rows = _both(validate, _file(rows=2_000))
    assert columnar == rows


@pytest.mark.parametrize(
    ("pattern", "shape"),
    [
        ("^[A-Z]{3}$", (None, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", 3, 3)),
        ("^[a-c_-]+$", (None, b"-_abc", 1, None)),
        ("^[0-9]*$", (None, b"0123456789", 0, None)),
        ("^[0-9]$", (None, b"0123456789", 1, 1)),
        ("^[ab][abc]{2,4}$", (b"ab", b"abc", 3, 5)),
    ],
)
def test_given_a_plain_class_pattern_then_its_shape_is_read(
    pattern: str, shape: tuple[bytes | None, bytes, int, int | None]
) -> None:
    found = class_shape(pattern)

    assert found is not None
    assert (found.first, found.rest, found.shortest, found.longest) == shape


@pytest.mark.parametrize(
    "pattern",
    [
        "^[A-Z][a-z]{2}$",  # a first class outside the rest
        "^[a]{2,}$",  # an open count
        "^[a-z](x)$",
        "^[\\w]{3}$",  # an escape
        "^[^a]{3}$",  # a negation
        "^[a--z]{3}$",  # a set operation to Python's re
        "^[é]{3}$",  # not ASCII
        "^[a-z]{3}",  # no end anchor
    ],
)
def test_given_any_other_pattern_then_it_keeps_the_regex(pattern: str) -> None:
    assert class_shape(pattern) is None


def test_given_edge_cells_then_the_class_check_agrees_with_the_regex_kernel() -> None:
    """The class check only says "all match" when the regex says so of every cell, in
    any chunking and slicing of the column; otherwise it is the regex's answer."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    pattern = "^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$"
    shape = class_shape(pattern)
    assert shape is not None
    check = _csv_columnar._class_check(shape, pattern, pa, pc)
    good = ["abc", "A-1", "x" * 64, "a_b-c"]
    edges = ["-ab", "_ab", "ab", "x" * 65, "abé", "éab", "ab\n", "", "a b"]
    columns = [
        pa.chunked_array([pa.array(good)]),
        pa.chunked_array([pa.array(good[:2]), pa.array(good[2:])]),
        pa.chunked_array([pa.array(["-x", *good, "_y"]).slice(1, len(good))]),
        *(pa.chunked_array([pa.array(good), pa.array([edge])]) for edge in edges),
    ]
    for column in columns:
        assert check(column).to_pylist() == pc.match_substring_regex(column, pattern).to_pylist()
