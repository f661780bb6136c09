"""CSV: RFC 4180 rows through the csv module, validated in batches."""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from collections.abc import Iterable, Iterator
from typing import Any

from silent_scalper.engine import _csv_columnar
from silent_scalper.engine._collect import Collector, column_of, consecutive, record_error_at
from silent_scalper.engine._csv_columnar import Resume
from silent_scalper.engine._source import CHUNK, EncodingError, FatalError, Prefixed
from silent_scalper.engine.rules import to_datetimes
from silent_scalper.engine.schemas import CompiledSchema
from silent_scalper.engine.types import (
    FileFormat,
    LocatedError,
    Reason,
    clip,
)
from silent_scalper.engine.unique import LINE_MASK as _LINE_MASK
from silent_scalper.engine.unique import pack, unpack

_FORMULA_CELL = re.compile(r"\x00(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?(?:\x00|\Z))[=+\-@]")
_SECOND = operator.itemgetter(1)

_CSV_BATCH = 2000
_CSV_WINDOW = 32
_CSV_SMALL = 4


class _CsvBatch:
    """Rows waiting to be validated together: one msgspec call per batch, not per row."""

    def __init__(self, header: list[str], col: Collector, *, check: bool) -> None:
        self.header = header
        self.col = col
        self.check = check
        self._index = {name: i for i, name in enumerate(header)}
        self.rows: list[list[str]] = []
        self.wheres: list[int] = []
        # Only free-text columns can hold a formula that reaches a spreadsheet: numbers,
        # enums and date-times either parse as such or the row is invalid anyway.
        text = col.schema.text_columns
        self._text = [i for i, name in enumerate(header) if text is None or name in text]
        self._columns = col.schema.csv_columns(header) if check else None
        self._cols: list[tuple[str, ...]] | None = None  # zip(*self.rows), if known

    def add(
        self,
        rows: list[list[str]],
        wheres: Iterable[int],
        columns: list[tuple[str, ...]] | None = None,
    ) -> None:
        """Queue rows of the header's width, with pack(record, line) of each, and their
        columns if the caller has them (used when these are all the batch holds)."""
        self._cols = columns if not self.rows else None
        self.rows += rows
        self.wheres += wheres

    def flush(self) -> None:
        rows, wheres = self.rows, self.wheres
        if not rows:
            return
        self.rows, self.wheres = [], []
        col = self.col
        # One tuple per column: the formula scan and the column checks work on those.
        columns = self._cols if self._cols is not None else list(zip(*rows, strict=True))
        self._cols = None
        col.formula_cells += sum(_column_formulas(columns[i]) for i in self._text)
        if not self.check:
            return
        if self._columns is not None:
            got = self._columns.check(columns)
            if got is not None:
                col.valid_values(*got, wheres)
                return
            # Some row is invalid (or spelled in a way the column checks do not know):
            # windows of _CSV_WINDOW rows, a failing one halved, so only the few rows
            # around each error take the exact path. In file order, so a duplicate is
            # still reported against its first occurrence.
            for i in range(0, len(rows), _CSV_WINDOW):
                self._narrow_columns(rows[i : i + _CSV_WINDOW], wheres[i : i + _CSV_WINDOW])
            return
        self._exact(rows, wheres)

    def _narrow_columns(self, rows: list[list[str]], wheres: list[int]) -> None:
        """Rows the column checks take are done; a failing group is halved until small,
        then checked by the exact path, which locates and words the errors."""
        assert self._columns is not None
        got = self._columns.check(list(zip(*rows, strict=True)))
        if got is not None:
            self.col.valid_values(*got, wheres)
        elif len(rows) <= _CSV_SMALL:
            self._exact(rows, wheres)
        else:
            half = len(rows) // 2
            self._narrow_columns(rows[:half], wheres[:half])
            self._narrow_columns(rows[half:], wheres[half:])

    def _exact(self, rows: list[list[str]], wheres: list[int]) -> None:
        """Rows checked as the schema's Struct via one dict per row; errors located."""
        col = self.col
        header = self.header
        # An empty cell is an absent value: keep the (name, cell) pairs with a cell. All
        # C-level iteration (map/filter/zip), as this runs for every row.
        pairs = map(zip, itertools.repeat(header), rows)
        present = map(filter, itertools.repeat(_SECOND), pairs)  # type: ignore[arg-type]
        cells: list[dict[str, str]] = list(map(dict, present))
        if not col.schema.fast:
            self._one_by_one(cells, wheres)
            return
        objs = col.schema.accept_cells(cells)
        if objs is not None:
            col.valid_batch(objs, wheres)
            return
        # Something in the batch is invalid: retry it in windows of _CSV_WINDOW rows,
        # halving a failing window until it is small, so only a few rows around each
        # error are checked one by one (with 1 % invalid rows nearly every batch holds
        # one, but most windows do not). In file order, so a duplicate is still reported
        # against its first occurrence.
        wheres = list(wheres)
        for i in range(0, len(cells), _CSV_WINDOW):
            self._narrow(cells[i : i + _CSV_WINDOW], wheres[i : i + _CSV_WINDOW])

    def exact_rows(
        self, rows: list[list[str]], wheres: list[int], only: list[frozenset[str]]
    ) -> None:
        """Rows another check refused, each checked alone: errors located and worded.
        ``only[i]``: the columns whose cells that check refused in row i (its others
        cannot hold a problem)."""
        header = self.header
        col = self.col
        index = self._index
        for row, where, names in zip(rows, wheres, only, strict=True):
            problems = col.schema.suspect_problems(names, row, index)
            if not problems:  # no flat rules, or a cell refused in haste: the whole row
                cells = {k: v for k, v in zip(header, row, strict=True) if v}
                self._one_by_one([cells], [where], [names])
                continue
            _invalid_row(col, where, [(Reason.SCHEMA_VIOLATION, m, p) for p, m in problems])

    def _narrow(self, cells: list[dict[str, str]], wheres: list[int]) -> None:
        """Validate rows as one batch if they pass, else halve (row by row when small)."""
        col = self.col
        objs = col.schema.accept_cells(cells)
        if objs is not None:
            col.valid_batch(objs, wheres)
        elif len(cells) <= _CSV_SMALL:
            self._one_by_one(cells, wheres)
        else:
            half = len(cells) // 2
            self._narrow(cells[:half], wheres[:half])
            self._narrow(cells[half:], wheres[half:])

    def _one_by_one(
        self,
        cells: list[dict[str, str]],
        wheres: Iterable[int],
        only: list[frozenset[str]] | None = None,
    ) -> None:
        """Each row checked alone, every problem of a row located."""
        col = self.col
        suspects: Iterable[frozenset[str] | None] = only or itertools.repeat(None)
        for row_cells, where, names in zip(cells, wheres, suspects, strict=False):
            result = col.schema.check_cells(row_cells, names)
            if not result.errors:
                col.valid_checked(result, where)
                continue
            _invalid_row(col, where, [(e.reason, e.message, e.path) for e in result.errors])


def _invalid_row(col: Collector, where: int, errors: list[tuple[Reason, str, str | None]]) -> None:
    """An invalid row at ``where`` (pack(record, line)) with its errors as (reason,
    message, path): located and worded, or only counted past those a summary keeps."""
    col.invalid += 1
    record, line = unpack(where)
    if not col.would_keep(record, line):
        col.count_errors([reason for reason, _, _ in errors])
        return
    for reason, message, path in errors:
        col.error(reason, record_error_at(record, line, column_of(path), message, FileFormat.CSV))


_FORMULA_STARTS = frozenset("=+-@")
_FIRST_CHAR = operator.itemgetter(slice(None, 1))


def _column_formulas(cells: tuple[str, ...]) -> int:
    """Formula cells of a column: the regex only if some cell starts like one.

    The four formula characters sort at or before "@"; if the smallest non-empty cell
    starts after it, no cell can start with one (one C-level min, the usual case for
    text). Otherwise the set of first characters (built in C) decides.
    """
    lowest = min(filter(None, cells), default="\uffff")
    if lowest[0] > "@" or _FORMULA_STARTS.isdisjoint(map(_FIRST_CHAR, cells)):
        return 0
    return _csv_formulas(cells)


def _csv_formulas(cells: Iterable[str]) -> int:
    """Cells starting like a formula (substring checks first: most files have none)."""
    joined = "\x00" + "\x00".join(cells)
    if "\x00=" in joined or "\x00+" in joined or "\x00-" in joined or "\x00@" in joined:
        return len(_FORMULA_CELL.findall(joined))
    return 0


def validate_csv(body: Prefixed, col: Collector) -> tuple[list[str] | None, bool]:
    """RFC 4180 CSV. Returns (header, whether the file held no data).

    A file with a plain header line under a schema the columnar checks cover is read by
    ``_csv_columnar`` (pyarrow, a block of records at a time); the rest of it, from the
    first block that path cannot read exactly as the ``csv`` module does, and any other
    file are read here row by row.
    """
    head = body.read(CHUNK)
    done = _columnar(head, body, col)
    if done is not None:
        return done
    schema = col.schema
    raw = _RawBody(Prefixed(body.source, head), col)
    text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=True)
    header = next(_skip_blank(reader), None)
    if header is None:
        return None, True
    header_ok = _check_header(header, col)
    batch = _CsvBatch(header, col, check=header_ok and schema.name != "any")
    _read_rows(reader, batch, header_ok=header_ok, base=0)
    return header, False


def _columnar(head: bytes, body: Prefixed, col: Collector) -> tuple[list[str], bool] | None:
    """Validate the file through ``_csv_columnar`` if its header and schema allow (then
    the header and False), else None with nothing read past ``head`` or recorded."""
    schema = col.schema
    simple = _csv_columnar.simple_header(head)
    if simple is None or schema.name == "any":
        return None
    header, start = simple
    if not _header_fits(header, col) or schema.csv_columns(header) is None:
        return None
    plan = _columnar_plan(schema, header)
    if plan is None:
        return None
    _check_header(header, col)  # records nothing: the header fits
    if plan.key is not None:
        col.use_sorted_runs()
    batch = _CsvBatch(header, col, check=True)
    reader = _csv_columnar.ColumnarCsv(
        plan, col, batch.exact_rows, to_datetimes, bare_cr=head[start - 1 : start] == b"\r"
    )
    pos = _csv_columnar.Position(lines=1)
    resume = reader.run(body, head[start:], pos)
    if resume is not None:
        # The rest, from the first block the columnar path could not read as the csv
        # module does: row by row, numbering records and lines on from where it stopped.
        raw = _RawBody(resume, col, lines=pos.lines)
        text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding="utf-8", newline="")
        _read_rows(csv.reader(text, strict=True), batch, header_ok=True, base=pos.lines)
    return header, False


_PLANS: dict[tuple[int, tuple[str, ...]], tuple[CompiledSchema, _csv_columnar.Plan | None]] = {}


def _columnar_plan(schema: CompiledSchema, header: list[str]) -> _csv_columnar.Plan | None:
    """The columnar checks of a schema and header, built once (None: not covered)."""
    key = (id(schema), tuple(header))
    cached = _PLANS.get(key)
    if cached is not None and cached[0] is schema:
        return cached[1]
    found = None
    if _csv_columnar.available():
        found = _csv_columnar.plan(
            schema.document,
            header,
            unique=schema.unique,
            timestamp=schema.timestamp,
            text_columns=schema.text_columns,
        )
    if len(_PLANS) >= 64:
        _PLANS.clear()
    _PLANS[key] = (schema, found)
    return found


def _read_rows(reader: Any, batch: _CsvBatch, *, header_ok: bool, base: int) -> None:
    """The records after the header, ``_CSV_BATCH`` at a time; ``base`` is the physical
    lines before the reader's first (it numbers lines from there).

    Rows are taken with ``list.extend(islice(reader, n))`` (the iteration stays in C, and
    rows read before a parse error are kept). A batch whose rows each took one physical
    line and have the header's width needs no per-row work; any other batch is walked
    row by row, line numbers counted from the line breaks inside its cells.
    """
    col = batch.col
    width = len(batch.header)
    line = base + reader.line_num  # physical lines consumed so far
    problem: Exception | None = None
    while problem is None:
        rows: list[list[str]] = []
        try:
            rows.extend(itertools.islice(reader, _CSV_BATCH))
        except (csv.Error, _LineTooLongError, EncodingError) as exc:
            problem = exc
        lines = base + reader.line_num
        if problem is None and lines - line == len(rows) and _widths(rows) == {width}:
            first = col.records + 1
            col.records += len(rows)
            if header_ok:
                batch.add(rows, consecutive(first, line + 1, 1, len(rows)))
            else:
                col.invalid += len(rows)
            line = lines
        elif (
            problem is None
            and lines < _LINE_MASK
            and _widths(rows) == {width}
            and (columns := list(zip(*rows, strict=True)))
            and (starts := _row_starts(columns, len(rows), line + 1))[-1] == lines + 1
        ):
            # Full-width rows, some with line breaks inside quoted cells: each row's first
            # line comes from its cells' break counts, in bulk (no per-row Python).
            del starts[-1]
            first = col.records + 1
            col.records += len(rows)
            if header_ok:
                # pack(record, start) for every row: record << 32 | start, added in C.
                batch.add(
                    rows, map(operator.add, consecutive(first, 0, 0, len(rows)), starts), columns
                )
            else:
                col.invalid += len(rows)
            line = lines
        else:
            line = _rows_one_by_one(
                rows, line, width=width, header_ok=header_ok, batch=batch, col=col
            )
            if problem is None:
                line = lines
        batch.flush()
        if problem is None and len(rows) < _CSV_BATCH:
            return
    if isinstance(problem, EncodingError):
        raise problem
    if isinstance(problem, _LineTooLongError):
        limit = col.limits.max_record_bytes
        message = f"line longer than the {limit}-byte limit"
        col.error(
            Reason.SCHEMA_VIOLATION,
            LocatedError(message, f"line {problem.line}", line=problem.line),
        )
        raise FatalError
    col.records += 1
    col.invalid += 1
    message = f"cannot parse CSV: {problem}"
    reason = Reason.MALFORMED
    if "field larger than field limit" in str(problem):
        # Well-formed as far as we know, just a cell we will not hold in memory.
        reason = Reason.SCHEMA_VIOLATION
        message = f"a cell longer than the {csv.field_size_limit()}-character limit"
    line = base + reader.line_num
    col.error(reason, record_error_at(col.records, line, None, message, FileFormat.CSV))
    raise FatalError


def _skip_blank(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    """Rows after any leading blank lines (the first is the header)."""
    return (row for row in reader if row)


def _widths(rows: list[list[str]]) -> set[int]:
    return set(map(len, rows))


def _rows_one_by_one(
    rows: list[list[str]],
    line: int,
    *,
    width: int,
    header_ok: bool,
    batch: _CsvBatch,
    col: Collector,
) -> int:
    """Rows of a batch that needs per-row care; returns the physical lines consumed."""
    for row in rows:
        start = line + 1
        line += 1 + _breaks(row)
        if not row:
            continue  # a blank line between records carries nothing
        col.records += 1
        if len(row) != width:
            col.invalid += 1
            message = f"{len(row)} fields, but the header has {width}"
            col.error(
                Reason.MALFORMED,
                record_error_at(col.records, start, None, message, FileFormat.CSV),
            )
            col.formula_cells += _csv_formulas(row)
        elif not header_ok:
            col.invalid += 1
            col.formula_cells += _csv_formulas(row)
        else:
            batch.add([row], (pack(col.records, start),))
    return line


def _row_starts(columns: list[tuple[str, ...]], count: int, first_line: int) -> list[int]:
    """The physical line each of ``count`` rows starts on, given the first row's, then the
    line after the last row; breaks counted as :func:`_breaks` does, a column at a time:
    one join shows whether a column has any, and only those columns are counted per cell
    (with C-level maps, not a call per row)."""
    steps: Iterable[int] = itertools.repeat(1, count)  # each row is one line plus its breaks
    for column in columns:
        joined = "".join(column)
        cr = "\r" in joined
        if not cr and "\n" not in joined:
            continue
        breaks: Iterable[int] = map(str.count, column, itertools.repeat("\n"))
        if cr:
            crs = map(str.count, column, itertools.repeat("\r"))
            crlfs = map(str.count, column, itertools.repeat("\r\n"))
            breaks = map(operator.sub, map(operator.add, breaks, crs), crlfs)
        steps = list(map(operator.add, steps, breaks))
    return list(itertools.accumulate(steps, initial=first_line))


def _breaks(row: list[str]) -> int:
    """Line breaks inside a row's cells (\r\n, \r or \n), as the reader counts lines."""
    return line_breaks("\x00".join(row))


def line_breaks[T: (str, bytes)](text: T) -> int:
    """Line breaks in ``text`` as the csv module counts lines: LF, CRLF and a bare CR
    each end one."""
    if isinstance(text, bytes):
        return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")
    return text.count("\n") + text.count("\r") - text.count("\r\n")


def _check_header(header: list[str], col: Collector) -> bool:
    """Header names against the schema's properties; errors are located at line 1."""
    schema = col.schema
    if schema.name == "any":
        return True
    ok = True
    props = set(schema.properties)
    seen: set[str] = set()
    for name in header:
        if name in seen:
            ok = False
            col.error(
                Reason.SCHEMA_VIOLATION,
                _header_error(name, f"column {clip(name, 80)!r} appears twice"),
            )
        seen.add(name)
        if schema.closed and name not in props:
            ok = False
            col.error(
                Reason.SCHEMA_VIOLATION,
                _header_error(
                    name,
                    f"unknown column {clip(name, 80)!r} "
                    f"(schema {schema.name} allows: {', '.join(schema.properties)})",
                ),
            )
    for name in schema.properties:
        if name in schema.required and name not in seen:
            ok = False
            col.error(
                Reason.SCHEMA_VIOLATION, _header_error(name, f"missing required column {name!r}")
            )
    return ok


def _header_fits(header: list[str], col: Collector) -> bool:
    """Whether :func:`_check_header` would take the header without recording anything."""
    schema = col.schema
    names = set(header)
    return (
        len(names) == len(header)
        and (not schema.closed or names <= set(schema.properties))
        and schema.required <= names
    )


def _header_error(column: str, message: str) -> LocatedError:
    return LocatedError(
        clip(message),
        f"header (line 1), column {clip(column, 80)}",
        None,
        1,
        clip(column, 120),
        None,
    )


class _LineTooLongError(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


class _RawBody(io.RawIOBase):
    """Raw-IO view of the prefixed body, for TextIOWrapper.

    It also bounds line length: the csv module reads whole physical lines, so one
    gigabyte without a line break would otherwise be held in memory at once. A line ends
    where the csv module's does: at LF, CRLF or a bare CR (files saved with classic Mac
    line ends have no LF at all).
    """

    def __init__(self, body: Prefixed | Resume, col: Collector, *, lines: int = 0) -> None:
        super().__init__()
        self._body = body
        self._rest = b""
        self._limit = col.limits.max_record_bytes
        self._run = 0  # bytes since the last line break
        self._lines = lines  # lines before the body's first byte, as the csv module counts
        self._after_cr = False  # the last chunk ended with a CR (an LF next ends no line)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._rest or self._body.read(min(len(buffer), self._limit))
        n = min(len(buffer), len(data), self._limit)
        buffer[:n] = data[:n]
        self._rest = data[n:]
        chunk = data[:n]
        ends = [at for at in (chunk.find(b"\n"), chunk.find(b"\r")) if at >= 0]
        # A chunk is never longer than the limit, so only a line spanning chunks can be.
        if not ends:
            self._run += n
        else:
            if self._run + min(ends) > self._limit:
                raise _LineTooLongError(self._lines + 1)
            self._lines += line_breaks(chunk) - (self._after_cr and chunk[:1] == b"\n")
            self._run = n - max(chunk.rfind(b"\n"), chunk.rfind(b"\r")) - 1
        if n:
            self._after_cr = chunk[-1:] == b"\r"
        if self._run > self._limit:
            raise _LineTooLongError(self._lines + 1)
        return n
