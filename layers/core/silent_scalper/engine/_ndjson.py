"""NDJSON / JSON Lines: one record a line, decoded many lines per msgspec call."""

from __future__ import annotations

import re

import msgspec

from silent_scalper.engine._collect import (
    FIRST_INDEX,
    JSON_WS,
    WINDOW,
    Collector,
    column_of,
    consecutive,
    json_formulas,
)
from silent_scalper.engine._source import CHUNK, Prefixed
from silent_scalper.engine.schemas import (
    RECORD_EXCEPTIONS,
    RecordError,
    to_record_error,
)
from silent_scalper.engine.sniff import UTF8_BOM
from silent_scalper.engine.types import (
    LocatedError,
    Reason,
)
from silent_scalper.engine.unique import pack


def validate_ndjson(body: Prefixed, col: Collector) -> bool:
    """Validate one record a line. Returns True when the file held no data at all."""
    limit = col.limits.max_record_bytes
    pending = b""
    line_no = 0  # lines fully processed
    first = True
    oversized = False
    saw_data = False
    while True:
        chunk = body.read(CHUNK)
        # The reader counted the chunk's newlines already; pending holds none, so they
        # are the newlines of data[:cut] below.
        newlines = body.newlines
        if first and chunk:
            chunk = chunk.removeprefix(UTF8_BOM)
            first = False
        if not chunk:
            break
        if oversized:
            nl = chunk.find(b"\n")
            if nl < 0:
                continue
            line_no += 1
            oversized = False
            chunk = chunk[nl + 1 :]
            newlines -= 1
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            pending = data
        else:
            # pending is never over the limit, so a line over it either starts in pending
            # (then it is the first line) or lies in the chunk (only if the chunk is).
            long_line = data.find(b"\n") > limit or len(chunk) > limit
            saw_data = (
                _ndjson_block(data[:cut], line_no + 1, col, newlines, long_line=long_line)
                or saw_data
            )
            line_no += newlines
            pending = data[cut:]
        if len(pending) > limit:
            line_no += 1
            col.records += 1
            col.invalid += 1
            saw_data = True
            col.error(
                Reason.SCHEMA_VIOLATION,
                LocatedError(
                    f"record longer than the {limit}-byte limit",
                    f"line {line_no}",
                    col.records,
                    line_no,
                ),
            )
            pending = b""
            oversized = True
    if pending.strip(JSON_WS):
        saw_data = _ndjson_block(pending, line_no + 1, col, pending.count(b"\n")) or saw_data
    return not saw_data


_NEWLINE = re.compile(rb"\n")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")


def _ndjson_block(
    block: bytes, first_line: int, col: Collector, newlines: int, *, long_line: bool = True
) -> bool:
    """Validate whole lines; returns whether any non-blank line was seen.

    The block is decoded in one msgspec call. When a line fails, the block is taken in
    windows of ``WINDOW`` lines: msgspec's error names the first failing line (``$[k]``
    or a byte offset), the lines before it are decoded as one batch again, that line is
    checked alone (and located), and decoding resumes after it. So a file with scattered
    errors costs a few batch passes, not a per-line pass. ``newlines`` is the block's
    count of b"\n" (the caller has it); ``long_line`` False means the caller knows no
    line is over ``max_record_bytes``, which spares splitting the block to look.
    """
    col.formula_cells += json_formulas(block)
    limit = col.limits.max_record_bytes
    if long_line and len(block) > limit and max(map(len, block.split(b"\n"))) > limit:
        return _ndjson_lines(_split_lines(block), first_line, col)
    if _ndjson_fast(block, 0, len(block), first_line, col, check=True, newlines=newlines):
        return True
    # Something failed: go through windows of WINDOW lines, so that each error costs
    # a window's decode rather than the rest of the block's.
    starts = [0, *(m.end() for m in _NEWLINE.finditer(block))]
    if starts[-1] != len(block):
        starts.append(len(block))
    count = len(starts) - 1
    saw = False
    i = 0
    while i < count:
        j = min(i + WINDOW, count)
        k = _ndjson_failing_line(block, starts[i], starts[j], col)
        if k is None:
            saw = _ndjson_fast(block, starts[i], starts[j], first_line + i, col) or saw
            i = j
            continue
        k = min(k, j - i - 1)
        if k > 0:
            saw = _ndjson_fast(block, starts[i], starts[i + k], first_line + i, col) or saw
        bad = block[starts[i + k] : starts[i + k + 1]].rstrip(b"\n")
        saw = _ndjson_lines([bad], first_line + i + k, col) or saw
        i += k + 1
    return saw


def _ndjson_failing_line(block: bytes, start: int, end: int, col: Collector) -> int | None:
    """None if every line of ``data`` decodes, else the index of the first that fails.

    With blank lines the index can be early (msgspec counts records, not lines); the
    caller then re-checks correct lines, which is slower but still exact.
    """
    try:
        col.schema.decode_lines(memoryview(block)[start:end])
    except RecordError as exc:
        m = FIRST_INDEX.search(f"`{exc.path}")
        return int(m.group(1)) if m else 0
    except msgspec.ValidationError as exc:
        m = FIRST_INDEX.search(str(exc))
        return int(m.group(1)) if m else 0
    except msgspec.DecodeError as exc:
        m = _AT_BYTE.search(str(exc))
        return block.count(b"\n", start, start + int(m.group(1))) if m else 0
    except RECORD_EXCEPTIONS:
        return 0
    return None


def _split_lines(block: bytes) -> list[bytes]:
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _ndjson_fast(
    block: bytes,
    start: int,
    end: int,
    first_line: int,
    col: Collector,
    *,
    check: bool = False,
    newlines: int | None = None,
) -> bool:
    """Lines expected to decode: one batch when there are no blank lines, else line by line.

    With ``check`` a failure returns False with nothing recorded (the caller locates it).
    """
    try:
        objs = col.schema.decode_lines(memoryview(block)[start:end])
    except RECORD_EXCEPTIONS:
        if check:
            return False
        # Only possible when blank lines shifted msgspec's record index: go line by line.
        return _ndjson_lines(_split_lines(block[start:end]), first_line, col)
    if newlines is None:
        newlines = block.count(b"\n", start, end)
    line_count = newlines + (0 if block[end - 1] == 0x0A else 1)
    if len(objs) != line_count:
        # Blank lines: decode_lines skipped them, so record i is not line i.
        return _ndjson_lines(_split_lines(block[start:end]), first_line, col)
    first_record = col.records + 1
    col.records += len(objs)
    col.valid_batch(objs, consecutive(first_record, first_line, 1, len(objs)))
    return bool(objs)


def _ndjson_lines(lines: list[bytes], first_line: int, col: Collector) -> bool:
    """One line at a time, each error located; returns whether any line had data."""
    schema = col.schema
    limit = col.limits.max_record_bytes
    saw = False
    for i, line in enumerate(lines):
        if not line.strip(JSON_WS):
            continue
        saw = True
        line_no = first_line + i
        col.records += 1
        if len(line) > limit:
            col.invalid += 1
            message = f"record longer than the {limit}-byte limit"
            col.error(
                Reason.SCHEMA_VIOLATION,
                LocatedError(message, f"line {line_no}", col.records, line_no),
            )
            continue
        try:
            obj = schema.decode_record(line)
        except RECORD_EXCEPTIONS as exc:
            err = to_record_error(exc)
            col.invalid += 1
            column = column_of(err.path)
            loc = f"line {line_no}" + (f", {err.path}" if err.path and err.path != "$" else "")
            located = LocatedError(err.message, loc, col.records, line_no, column, err.path)
            col.error(err.reason, located)
            continue
        col.valid_batch([obj], (pack(col.records, line_no),))
    return saw
