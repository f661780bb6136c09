"""The compiled CSV split (``_native.split_csv``) reads a block as pyarrow's parser and the
csv module read it, or declines it, and the engine's summaries are the same either way.

The split only takes blocks in one plain form (rows ending in LF or CRLF, no blank line,
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
from engine_support import Validate, corpus
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _csv_columnar

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
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
@example([['a"b', "x\ny"], ["", ""]], "\n", True)
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
        pytest.param(b"a,b\rc,d\n", 2, id="bare-cr"),
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


def test_given_quoted_fields_with_line_breaks_then_rows_know_their_lines() -> None:
    block = b'a,"one\ntwo\nthree"\r\n"x""y",""\nlast,row'
    rows, _, breaks, lines = native.split_csv(block, 2, LIMIT)
    assert (rows, breaks) == (3, 2)
    assert lines is not None
    assert [int.from_bytes(lines[i : i + 8], "little") for i in range(0, 24, 8)] == [3, 1, 1]
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

    monkeypatch.setattr(_csv_columnar, "_split_csv", None)
    monkeypatch.setattr(_csv_columnar.ColumnarCsv, "_read_arrow", counted)
    without = validate(data, "jobs.csv", max_errors=1000).to_dict()
    # Then pyarrow's parser read every block, and the summary is the same
    assert len(read) > 1
    assert sum(read) == len(data) - len("job_id,submitted_at,customer_id,status,notes\n")
    assert without == with_module
    assert with_module["invalid_records"] == len([n for n in range(40_000) if n % 97 == 5])
