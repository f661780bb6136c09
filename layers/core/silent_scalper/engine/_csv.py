"""CSV: RFC 4180 rows through the csv module, validated in batches."""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from silent_scalper.engine._collect import Collector, column_of, record_error_at
from silent_scalper.engine._source import CHUNK, FatalError, Prefixed
from silent_scalper.engine.schemas import (
    RECORD_EXCEPTIONS,
    to_record_error,
)
from silent_scalper.engine.types import (
    FileFormat,
    LocatedError,
    Reason,
    clip,
)
from silent_scalper.engine.unique import unpack

_FORMULA_CELL = re.compile(r"\x00(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?(?:\x00|\Z))[=+\-@]")
_SECOND = operator.itemgetter(1)

_CSV_BATCH = 2000


class _CsvBatch:
    """Rows waiting to be validated together: one msgspec call per batch, not per row."""

    def __init__(self, header: list[str], col: Collector, *, check: bool) -> None:
        self.header = header
        self.col = col
        self.check = check
        self.rows: list[list[str]] = []
        self.wheres: list[int] = []
        # Only free-text columns can hold a formula that reaches a spreadsheet: numbers,
        # enums and date-times either parse as such or the row is invalid anyway.
        text = col.schema.text_columns
        idx = [i for i, name in enumerate(header) if text is None or name in text]
        self._text: Callable[[list[str]], Iterable[str]] | None = None
        if len(idx) == 1:
            one = idx[0]
            self._text = lambda row: (row[one],)
        elif idx:
            self._text = operator.itemgetter(*idx)

    def flush(self) -> None:
        rows, wheres = self.rows, self.wheres
        if not rows:
            return
        self.rows, self.wheres = [], []
        col = self.col
        if self._text is not None:
            col.formula_cells += _csv_formulas(itertools.chain.from_iterable(map(self._text, rows)))
        if not self.check:
            return
        header = self.header
        # An empty cell is an absent value: keep the (name, cell) pairs with a cell. All
        # C-level iteration (map/filter/zip), as this runs for every row.
        pairs = map(zip, itertools.repeat(header), rows)
        present = map(filter, itertools.repeat(_SECOND), pairs)  # type: ignore[arg-type]
        cells: list[dict[str, str]] = list(map(dict, present))
        if col.schema.fast:
            try:
                objs = col.schema.cells_batch(cells)
            except RECORD_EXCEPTIONS:
                pass
            else:
                col.valid_batch(objs, wheres)
                return
        for row_cells, where in zip(cells, wheres, strict=True):
            try:
                obj = col.schema.from_cells(row_cells)
            except RECORD_EXCEPTIONS as exc:
                err = to_record_error(exc)
                column = column_of(err.path)
                message = err.message
                if column is not None and column in row_cells and "got `str`" in message:
                    message = message.replace("got `str`", f"got {clip(row_cells[column], 60)!r}")
                col.invalid += 1
                record, line = unpack(where)
                located = record_error_at(record, line, column, message, FileFormat.CSV)
                col.error(err.reason, located)
                continue
            col.valid_batch([obj], (where,))


def _csv_formulas(cells: Iterable[str]) -> int:
    """Cells starting like a formula (substring checks first: most files have none)."""
    joined = "\x00" + "\x00".join(cells)
    if "\x00=" in joined or "\x00+" in joined or "\x00-" in joined or "\x00@" in joined:
        return len(_FORMULA_CELL.findall(joined))
    return 0


def validate_csv(body: Prefixed, col: Collector) -> tuple[list[str] | None, bool]:
    """RFC 4180 via the csv module. Returns (header, whether the file held no data)."""
    schema = col.schema
    raw = _RawBody(body, col)
    text = io.TextIOWrapper(io.BufferedReader(raw, CHUNK), encoding="utf-8-sig", newline="")
    reader = csv.reader(text, strict=True)
    records = 0
    try:
        header = next(reader, None)
        while header is not None and not header:  # leading blank lines
            header = next(reader, None)
        if header is None:
            return None, True
        header_ok = _check_header(header, col)
        width = len(header)
        check = header_ok and schema.name != "any"
        batch = _CsvBatch(header, col, check=check)
        rows = batch.rows
        prev_line = reader.line_num
        for row in reader:
            line = prev_line + 1
            prev_line = reader.line_num
            if not row:
                continue  # a blank line between records carries nothing
            records += 1
            if len(row) != width:
                col.invalid += 1
                message = f"{len(row)} fields, but the header has {width}"
                col.error(
                    Reason.MALFORMED,
                    record_error_at(records, line, None, message, FileFormat.CSV),
                )
                col.formula_cells += _csv_formulas(row)
                continue
            if not header_ok:
                col.invalid += 1
                col.formula_cells += _csv_formulas(row)
                continue
            rows.append(row)
            batch.wheres.append((records << 32) | line)
            if len(rows) >= _CSV_BATCH:
                col.records = records
                batch.flush()
                rows = batch.rows
        col.records = records
        batch.flush()
    except csv.Error as exc:
        col.records = records + 1
        col.invalid += 1
        message = f"cannot parse CSV: {exc}"
        reason = Reason.MALFORMED
        if "field larger than field limit" in str(exc):
            # Well-formed as far as we know, just a cell we will not hold in memory.
            reason = Reason.SCHEMA_VIOLATION
            message = f"a cell longer than the {csv.field_size_limit()}-character limit"
        col.error(
            reason,
            record_error_at(records + 1, reader.line_num, None, message, FileFormat.CSV),
        )
        raise FatalError from None
    except _LineTooLongError as exc:
        col.records = records
        limit = col.limits.max_record_bytes
        message = f"line longer than the {limit}-byte limit"
        col.error(Reason.SCHEMA_VIOLATION, LocatedError(message, f"line {exc.line}", line=exc.line))
        raise FatalError from None
    return header, False


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
    gigabyte without a newline would otherwise be held in memory at once.
    """

    def __init__(self, body: Prefixed, col: Collector) -> None:
        super().__init__()
        self._body = body
        self._rest = b""
        self._limit = col.limits.max_record_bytes
        self._run = 0  # bytes since the last newline
        self._lines = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._rest or self._body.read(min(len(buffer), self._limit))
        n = min(len(buffer), len(data), self._limit)
        buffer[:n] = data[:n]
        self._rest = data[n:]
        chunk = data[:n]
        first = chunk.find(b"\n")
        # A chunk is never longer than the limit, so only a line spanning chunks can be.
        if first < 0:
            self._run += n
        else:
            if self._run + first > self._limit:
                raise _LineTooLongError(self._lines + 1)
            self._lines += chunk.count(b"\n")
            self._run = n - chunk.rfind(b"\n") - 1
        if self._run > self._limit:
            raise _LineTooLongError(self._lines + 1)
        return n
