"""The compiled CSV split (``_native.split_csv``) reads a block as pyarrow's parser and the
csv module read it, or declines it; the compiled cell grammars accept the cells RE2 matches
with the patterns they stand for; the engine's summaries are the same with them or without.

The split only takes blocks in one plain form (rows ending in LF, CRLF or a bare CR, no blank line,
the header's width, quotes only around whole fields, no CR in a field); every other
block goes to pyarrow's parser as before. So it must never read a block differently from
the two readers, and must not decline the plain blocks it exists for.
"""

from __future__ import annotations

import csv
import io
from types import SimpleNamespace
from typing import Any

import pytest
from engine_support import DATE_TIME_TEXTS, Validate, corpus
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _csv_columnar
from silent_scalper.engine._classes import class_shape

native = pytest.importorskip(
    "silent_scalper.engine._native",
    reason="the compiled module is not built (a C compiler at install: docs/performance.md)",
)
pytest.importorskip("pyarrow", reason="the columnar path needs pyarrow")

LIMIT = csv.field_size_limit()
# Characters that change how a CSV block reads: separators, quotes, line ends, a space,
# a multi-byte character and plain letters.
_TRICKY = ',"\r\n é\u00a0ab'


def _reader(width: int) -> _csv_columnar.ColumnarCsv:
    """The engine's columnar reader for a header of ``width`` text columns."""
    header = tuple(f"c{i}" for i in range(width))
    plan = _csv_columnar.Plan(header=header, checks=(), required=(), text=(), key=None, time=None)
    col: Any = SimpleNamespace(limits=SimpleNamespace(max_record_bytes=1 << 30))
    return _csv_columnar.ColumnarCsv(plan, col, lambda *a: None, lambda texts: [])


def _module_rows(block: bytes) -> tuple[list[list[str]], list[int]]:
    """The rows the csv module reads in ``block``, and the physical lines each takes."""
    reader = csv.reader(io.StringIO(block.decode("utf-8"), newline=""))
    rows, lines, seen = [], [], 0
    for row in reader:
        rows.append(row)
        lines.append(reader.line_num - seen)
        seen = reader.line_num
    return rows, lines


def _as_rows(columns: list[Any]) -> list[list[str]]:
    return [list(r) for r in zip(*(c.to_pylist() for c in columns), strict=True)]


def _assert_read_alike(block: bytes, width: int) -> bool:
    """Whether the split took ``block``; when it did, that it reads as both readers."""
    reader = _reader(width)
    split = reader._split(block)
    if split is None:
        return False
    columns, n, lines, steps = split
    arrow = reader._read_arrow(block, block.count(b"\n"))
    assert arrow is not None, "the split took a block pyarrow's path declines"
    a_columns, a_n, a_lines, a_steps = arrow
    rows, row_lines = _module_rows(block)
    assert (n, lines) == (a_n, a_lines) == (len(rows), sum(row_lines))
    assert _as_rows(columns) == _as_rows(a_columns) == rows
    assert all(c.validate(full=True) is None for c in columns)
    per_row = [1] * n if steps is None else steps.to_pylist()
    assert per_row == row_lines
    assert a_steps is None or a_steps.to_pylist() == per_row
    return True


_cells = st.text(alphabet=_TRICKY, max_size=6)


def _write(rows: list[list[str]], end: str) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator=end).writerows(rows)
    return out.getvalue().encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda w: st.lists(st.lists(_cells, min_size=w, max_size=w), min_size=1, max_size=6)
    ),
    st.sampled_from(["\n", "\r\n", "\r"]),
    st.booleans(),
)
@example([['a"b', "x\ny"], ["", ""]], "\n", True)
@example([["a", "x\ny"], ["b", ""]], "\r", True)
@example([[""]], "\n", False)
def test_given_rows_a_csv_writer_wrote_when_split_then_they_read_as_both_readers(
    rows: list[list[str]], end: str, last_line_end: bool
) -> None:
    # Given a block written by the csv module (quotes where a field needs them)
    block = _write(rows, end)
    if not last_line_end:
        block = block[: -len(end)]
    width = len(rows[0])
    # When the split reads it
    took = _assert_read_alike(block, width)
    # Then it read it as pyarrow and the csv module do, and declined it only when some
    # field holds a CR (the form it leaves to pyarrow) or the block is blank lines
    plain = not any("\r" in cell for row in rows for cell in row)
    comma_ends = not last_line_end and width > 1 and rows[-1][-1] == ""
    assert took or not plain or comma_ends


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=_TRICKY, min_size=1, max_size=40), st.integers(1, 4))
@example('a,"b""c"\r\nd,e', 2)
@example('a,b"\n', 2)
@example('"a"b,c\n', 2)
@example("a,b\n\nc,d\n", 2)
@example("a,b\rc,d\n", 2)
@example('"a\rb",c\n', 2)
@example("a,b,\n", 2)
@example("a,b,", 2)
def test_given_any_text_when_split_then_it_reads_as_both_readers_or_is_declined(
    text: str, width: int
) -> None:
    # Given any text (most of it no CSV any reader agrees on), when the split reads it,
    # then what it takes reads as both readers
    _assert_read_alike(text.encode("utf-8"), width)


@pytest.mark.parametrize(
    ("block", "width"),
    [
        pytest.param(b"a,b\n\nc,d\n", 2, id="blank-line"),
        pytest.param(b"a,b\r\rc,d\r", 2, id="blank-line-by-bare-crs"),
        pytest.param(b'a,b"c\n', 2, id="quote-inside-a-field"),
        pytest.param(b'"a"b,c\n', 2, id="text-after-a-closing-quote"),
        pytest.param(b'"a\r\nb",c\n', 2, id="cr-in-a-quoted-field"),
        pytest.param(b'"ab,c\n', 2, id="unclosed-quote"),
        pytest.param(b"a,b,c\n", 2, id="wide-row"),
        pytest.param(b"a\n", 2, id="short-row"),
        pytest.param(b"a,", 2, id="comma-ending-the-block"),
        pytest.param(b"", 2, id="empty"),
    ],
)
def test_given_a_block_outside_the_plain_form_then_the_split_declines_it(
    block: bytes, width: int
) -> None:
    assert native.split_csv(block, width, LIMIT) is None


def test_given_a_field_over_the_limit_then_the_split_declines_it() -> None:
    assert native.split_csv(b'a,"' + b"x" * 11 + b'"\n', 2, 10) is None
    assert native.split_csv(b'a,"' + b'""' * 10 + b'"\n', 2, 10) is not None  # 10 once read


@pytest.mark.parametrize(
    ("block", "breaks", "lines"),
    [
        pytest.param(b'a,"one\ntwo\nthree"\r\n"x""y",""\nlast,row', 2, [3, 1, 1], id="lf-and-crlf"),
        # Rows ending in a bare CR (the last one too, as a block cut at a CR ends), one in
        # CRLF: each CR ends a row.
        pytest.param(b'a,"one\ntwo"\rb,c\r\nd,e\r', 1, [2, 1, 1], id="classic-mac-line-ends"),
    ],
)
def test_given_quoted_fields_with_line_breaks_then_rows_know_their_lines(
    block: bytes, breaks: int, lines: list[int]
) -> None:
    """Given three rows, a quoted field holding line feeds, when split, then the rows,
    the line breaks in cells and each row's physical lines are found, and the rows read
    as both readers do."""
    rows, _, found_breaks, per_row = native.split_csv(block, 2, LIMIT)
    assert (rows, found_breaks) == (3, breaks)
    assert per_row is not None
    assert [int.from_bytes(per_row[i : i + 8], "little") for i in range(0, 24, 8)] == lines
    assert _assert_read_alike(block, 2)


def test_given_csv_spectrum_files_then_the_split_reads_them_as_both_readers() -> None:
    folder = corpus("csv-spectrum") / "csvs"
    taken = 0
    for path in sorted(folder.glob("*.csv")):
        data = path.read_bytes()
        head, _, body = data.partition(b"\n")
        width = len(next(csv.reader([head.decode("utf-8")])))
        taken += _assert_read_alike(body, width) if body else 0
    assert taken >= 10  # of 12 (one, with a space after a closing quote, is declined)


def test_given_the_built_module_then_the_columnar_path_splits_with_it(
    validate: Validate, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a CSV file in the plain form, when it is validated, then no block went to
    # pyarrow's parser
    def unused(*args: Any) -> None:
        raise AssertionError("pyarrow's parser read a plain block")

    monkeypatch.setattr(_csv_columnar.ColumnarCsv, "_read_arrow", unused)
    rows = "\n".join(f"J-{n:05d},2026-01-05T09:00:00Z,7,queued" for n in range(20_000))
    summary = validate(f"job_id,submitted_at,customer_id,status\n{rows}\n", "jobs.csv")
    assert summary.valid
    assert summary.records == 20_000


def test_given_no_module_then_pyarrow_reads_every_block_and_the_summary_is_the_same(
    validate: Validate, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a file of several blocks with cells over two lines and refused rows
    rows = [
        f'J-{n:05d},2026-01-05T09:00:00Z,{0 if n % 97 == 5 else 7},queued,"a\nb ""{n}"""'
        for n in range(40_000)
    ]
    data = "job_id,submitted_at,customer_id,status,notes\n" + "\n".join(rows) + "\n"
    with_module = validate(data, "jobs.csv", max_errors=1000).to_dict()
    # When the module is not there
    read: list[int] = []
    arrow_read = _csv_columnar.ColumnarCsv._read_arrow

    def counted(self: Any, block: bytes, lfs: int) -> Any:
        read.append(len(block))
        return arrow_read(self, block, lfs)

    for compiled in ("_split_csv", "_match_format", "_match_class"):
        monkeypatch.setattr(_csv_columnar, compiled, None)
    monkeypatch.setattr(_csv_columnar.ColumnarCsv, "_read_arrow", counted)
    without = validate(data, "jobs.csv", max_errors=1000).to_dict()
    # Then pyarrow's parser read every block, and the summary is the same
    assert len(read) > 1
    assert sum(read) == len(data) - len("job_id,submitted_at,customer_id,status,notes\n")
    assert without == with_module
    assert with_module["invalid_records"] == len([n for n in range(40_000) if n % 97 == 5])


# -- the cell grammars ---------------------------------------------------------------------
_ATOM = "aZ9!#$%&'*+/=?^_`{|}~-"
_emails = st.builds(
    "{}{}{}".format,
    st.lists(st.text(alphabet=_ATOM + 'é"(', max_size=4), min_size=1, max_size=3).map(".".join),
    st.sampled_from(["@", "", "@@", " @"]),
    st.lists(
        st.text(alphabet="ab9-", max_size=5) | st.just("a" * 63) | st.just("b" * 64),
        min_size=1,
        max_size=3,
    ).map(".".join),
)
_numbers = st.builds(
    "{}{}{}{}".format,
    st.sampled_from(["", "-", "+", "--"]),
    st.text(alphabet="0123456789", max_size=20),
    st.sampled_from(["", ".", "e5", ".", "\n"]),
    st.text(alphabet="0123456789", max_size=18),
)


def _regex_says(cells: list[str], pattern: str) -> list[bool]:
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    return pc.match_substring_regex(pa.array(cells, pa.string()), pattern).to_pylist()


def _grammar_says(cells: list[str], pattern: str) -> list[bool]:
    """What the compiled grammar says, over a chunked and sliced column of ``cells``."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    half = len(cells) // 2
    column = pa.chunked_array(
        [pa.array(["x", *cells[:half]], pa.string()).slice(1), pa.array(cells[half:], pa.string())],
        pa.string(),
    )
    calls: list[str] = []

    def no_regex(col: Any, pattern: str) -> Any:
        calls.append(pattern)
        return pc.match_substring_regex(col, pattern)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pc, "match_substring_regex", no_regex)
        said = _csv_columnar._matching(column, pattern, pa, pc).to_pylist()
    assert not calls, "the regex kernel ran where the compiled grammar should have"
    return said


@settings(max_examples=300, deadline=None)
@given(
    st.lists(DATE_TIME_TEXTS, min_size=1, max_size=20),
    st.lists(_emails, min_size=1, max_size=20),
    st.lists(_numbers, min_size=1, max_size=20),
)
@example(
    [
        "2024-02-29T23:59:60.5+23:59",
        "2100-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z",
        "0000-02-29T00:00:00Z",
        "0400-02-29T00:00:00Z",
    ],
    ["a.b@c.d", ".a@c.d", "a..b@c.d", "a@c", "a@-c.d", "a@c-.d", f"a@{'c' * 63}.d"],
    [
        *["0", "-0", "01", "1.", ".5", "1234567890123456", "12345678901234567"],
        *["-1.0000000000000000", "1.12345678901234567", "123456789012345678"],
        "1234567890123456789",
    ],
)
def test_given_cells_when_a_compiled_grammar_matches_them_then_it_says_what_re2_says(
    date_times: list[str], emails: list[str], numbers: list[str]
) -> None:
    for cells, pattern in [
        (date_times, _csv_columnar._DATE_TIME),
        (emails, _csv_columnar._EMAIL),
        (numbers, _csv_columnar._SHORT_NUMBER),
        (numbers, _csv_columnar._INT64),
    ]:
        assert _grammar_says(cells, pattern) == _regex_says(cells, pattern), pattern


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.builds(
            "{}@{}.{}".format,
            st.integers(55, 70).map(lambda n: "a" * n) | _emails,
            st.integers(150, 200).map(lambda n: "b" * (n % 63 + 1) + "." + "c" * (n - 60)),
            st.sampled_from(["de", "d" * 63, "d" * 64, "d-"]),
        )
        | _emails,
        min_size=1,
        max_size=20,
    )
)
@example(["a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 61])
@example(["a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + "." + "d" * 62])
@example(["a" * 65 + "@b.c"])
def test_given_addresses_when_checked_in_one_pass_then_lengths_count_as_the_kernels_do(
    cells: list[str],
) -> None:
    """The bounded e-mail grammar says what RE2 and the two length kernels say together."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    column = pa.chunked_array([pa.array(["x", *cells], pa.string()).slice(1)])
    compiled = _csv_columnar._email_cells(column, pa, pc).to_pylist()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_columnar, "_match_format", None)
        kernels = _csv_columnar._email_cells(column, pa, pc).to_pylist()
    assert compiled == kernels


@pytest.mark.parametrize(
    "pattern", ["^[A-Z]{3}$", "^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$", "^[a-c_-]+$", "^[0-9]*$"]
)
def test_given_naughty_strings_then_every_compiled_grammar_says_what_re2_says(pattern: str) -> None:
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    text = (corpus("naughty-strings") / "blns.txt").read_text(encoding="utf-8")
    cells = [line for line in text.splitlines() if not line.startswith("#")]
    cells += ["", "ABC", "ABCD", "AB", "abc", "A-1", "x" * 64, "x" * 65, "ab\n", "AB\u00c9"]
    for grammar in _csv_columnar._GRAMMARS:
        assert _grammar_says(cells, grammar) == _regex_says(cells, grammar), grammar
    shape = class_shape(pattern)
    assert shape is not None
    check = _csv_columnar._class_check(shape, pattern, pa, pc)
    column = pa.chunked_array([pa.array(cells[:50]), pa.array(cells[50:]).slice(1)])
    assert check(column).to_pylist() == pc.match_substring_regex(column, pattern).to_pylist()


def test_given_buffers_that_do_not_fit_then_the_grammar_refuses_them() -> None:
    offsets = (0).to_bytes(4, "little") + (9).to_bytes(4, "little")
    with pytest.raises(ValueError, match="do not fit"):
        native.match_format(offsets, b"short", 0, 1, 0)
    with pytest.raises(ValueError, match="do not fit"):
        native.match_format(offsets, b"123456789", 0, 2, 0)
    with pytest.raises(ValueError, match="grammar"):
        native.match_format(offsets, b"123456789", 0, 1, 9)
    assert native.match_format(offsets, b"123456789", 0, 1, 3) == b"\x01"


def _column(cells: list[str]) -> Any:
    """``cells`` as a chunked column whose first chunk is a slice (an offset to honour)."""
    pa = pytest.importorskip("pyarrow")
    half = len(cells) // 2
    return pa.chunked_array(
        [pa.array(["x", *cells[:half]], pa.string()).slice(1), pa.array(cells[half:], pa.string())],
        pa.string(),
    )


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_bounds = st.none() | st.integers(-(10**20), 10**20) | st.integers(-12, 12)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_numbers | st.sampled_from(["\u0661", "1\u0662", " 1", "1 ", ""]), max_size=20),
    _bounds,
    _bounds,
    st.booleans(),
)
@example(["-0", "0", "1", "-1", "999999999999999999", "-999999999999999999"], 0, None, False)
@example(["5", "9", "10", "-4", "-3"], -3, 10, True)
@example(["1000000000000000000", "99999999999999999999"], None, None, False)
@example(["1", "9223372036854775807"], 10**19, None, False)
def test_given_integer_cells_when_checked_in_one_pass_then_they_are_re2s_int64_within_bounds(
    cells: list[str], low: int | None, high: int | None, exclusive: bool
) -> None:
    """Given any cells and integer bounds (inclusive or exclusive, past int64 too), when
    the compiled check reads them, then it accepts exactly the cells RE2 matches with
    ``_INT64`` whose value is within the bounds, refusing a sign when no negative value
    is allowed (as the kernels without the module do); and the kernels agree with it
    wherever they accept."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    limits: dict[str, int] = {}
    if low is not None:
        limits["exclusiveMinimum" if exclusive else "minimum"] = low
    if high is not None:
        limits["exclusiveMaximum" if exclusive else "maximum"] = high
    lo = None if low is None else low + 1 if exclusive else low
    hi = None if high is None else high - 1 if exclusive else high
    grammar = _regex_says(cells, _csv_columnar._INT64) if cells else []
    expected = [
        ok
        and (lo is None or int(c) >= lo)
        and (hi is None or int(c) <= hi)
        and not (c.startswith("-") and lo is not None and lo >= 0)
        for c, ok in zip(cells, grammar, strict=True)
    ]
    column = _column(cells)
    compiled = _csv_columnar._integers(column, limits, pa, pc).to_pylist()
    assert compiled == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_columnar, "_match_integer", None)
        mp.setattr(_csv_columnar, "_match_format", None)
        kernels = _csv_columnar._integers(column, limits, pa, pc).to_pylist()
    # The kernels' check is the definition without the module: they may refuse more (a
    # bound past int64 leaves every cell to the exact check), never accept more.
    assert all(c or not k for c, k in zip(compiled, kernels, strict=True))
    if all(-(2**62) < b < 2**62 for b in (low or 0, high or 0)):
        assert compiled == kernels


_formula_texts = st.builds(
    "{}{}".format,
    st.sampled_from(["=", "+", "-", "@", "", "a", " ", "\n", "é"]),
    st.text(alphabet="0123456789.eE+-= \na", max_size=8),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_formula_texts, max_size=25))
@example(["+1", "-1e5", "+.", "-", "+1e", "-1.5.6", "-5\n", "=a", "@", "-abc", "", "+1E+", "-.e1"])
def test_given_text_cells_when_formulas_are_counted_in_one_pass_then_re2_counts_the_same(
    cells: list[str],
) -> None:
    """Given any text cells, when the compiled pass counts the cells starting like a
    formula that are not just a signed number, then it counts what RE2 counts with
    ``_FORMULA_START`` and ``_SIGNED_NUMBER``, and the row path's regex the same."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    column = _column(cells)
    starts = pc.match_substring_regex(pa.array(cells, pa.string()), _csv_columnar._FORMULA_START)
    numbers = pc.match_substring_regex(pa.array(cells, pa.string()), _csv_columnar._SIGNED_NUMBER)
    expected = sum(
        s and not n for s, n in zip(starts.to_pylist(), numbers.to_pylist(), strict=True)
    )
    assert _csv_columnar._formulas(column, pc) == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_columnar, "_formula_cells", None)
        assert _csv_columnar._formulas(column, pc) == expected


def test_given_buffers_that_do_not_fit_then_the_integer_check_and_count_refuse_them() -> None:
    offsets = (0).to_bytes(4, "little") + (9).to_bytes(4, "little")
    with pytest.raises(ValueError, match="do not fit"):
        native.match_integer(offsets, b"short", 0, 1, 0, 10)
    with pytest.raises(ValueError, match="do not fit"):
        native.formula_cells(offsets, b"123456789", 0, 2)
    assert native.match_integer(offsets, b"123456789", 0, 1, 0, 10**9) == b"\x01"
    assert native.formula_cells(offsets, b"=23456789", 0, 1) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(DATE_TIME_TEXTS | st.sampled_from(["0000-01-01T00:00:00Z", ""]), max_size=20))
@example(["0000-02-29T00:00:00Z", "0001-01-01T00:00:00Z", "00000-01-01T00:00:00Z", "000"])
def test_given_date_time_cells_when_checked_in_one_pass_then_they_are_re2s_without_year_0000(
    cells: list[str],
) -> None:
    """Given date-time texts, when the compiled pass checks them as the exact rule reads
    a date-time, then it accepts what RE2 matches with ``_DATE_TIME`` except year 0000,
    and the kernels without the module accept the same."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    grammar = _regex_says(cells, _csv_columnar._DATE_TIME) if cells else []
    expected = [ok and not c.startswith("0000") for c, ok in zip(cells, grammar, strict=True)]
    column = _column(cells)
    assert _csv_columnar._date_time_cells(column, pa, pc).to_pylist() == expected
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_columnar, "_match_format", None)
        assert _csv_columnar._date_time_cells(column, pa, pc).to_pylist() == expected


_number_bounds = st.none() | st.sampled_from([0, 0.1, -1, 1e3, 2**60, 1.5]) | st.floats(-1e6, 1e6)
_number_texts = _numbers | st.sampled_from(
    [
        *["0.05", "1.50", "-0", "-0.0", "0.0000000000000001", "123456789012345"],
        *["1234567890123456", "0.1", "0.10000000000000001", "999.9999999999999", "1000"],
        *["1000.0000000000001", "-1"],
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_number_texts, max_size=20),
    _number_bounds,
    _number_bounds,
    st.sampled_from(["minimum", "exclusiveMinimum"]),
    st.sampled_from(["maximum", "exclusiveMaximum"]),
)
@example(["0", "-0", "0.0", "1", "0.05"], 0, None, "minimum", "maximum")
@example(["0.1", "0.10000000000000001", "0.2"], 0.1, 1e3, "minimum", "maximum")
@example(["1234567890123456", "123456789012345", "1.23456789012345"], None, 1, "minimum", "maximum")
def test_given_number_cells_when_checked_in_one_pass_then_they_are_what_the_kernels_accept(
    cells: list[str], low: float | None, high: float | None, low_name: str, high_name: str
) -> None:
    """Given any cells and number bounds, when the compiled pass checks them, then it
    accepts exactly what the kernels (the short-number grammar, Arrow's cast to double,
    strict comparisons) accept, except texts of more than 15 significant digits, which it
    leaves to the exact check."""
    pa = pytest.importorskip("pyarrow")
    pc = pytest.importorskip("pyarrow.compute")
    limits: dict[str, float] = {}
    if low is not None:
        limits[low_name] = low
    if high is not None:
        limits[high_name] = high
    column = _column(cells)
    compiled = _csv_columnar._numbers(column, limits, pa, pc).to_pylist()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_csv_columnar, "_match_number", None)
        kernels = _csv_columnar._numbers(column, limits, pa, pc).to_pylist()
    for cell, mine, theirs in zip(cells, compiled, kernels, strict=True):
        significant = len(cell.lstrip("-").replace(".", "").lstrip("0"))
        assert mine == (theirs and significant <= 15), cell
