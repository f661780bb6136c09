"""NDJSON / JSON Lines: one record a line, decoded many lines per msgspec call."""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from typing import Any

from silent_scalper.engine._collect import (
    JSON_WS,
    WINDOW,
    Collector,
    column_of,
    consecutive,
    kept_positions,
    merged,
)
from silent_scalper.engine._scan import blank_lines, decode_windows, formula_count, line_texts
from silent_scalper.engine._source import CHUNK, Prefixed
from silent_scalper.engine.schemas import (
    RECORD_EXCEPTIONS,
    Checked,
    CompiledSchema,
    RecordError,
    _without,
    lines_refusal,
    refusal_property,
)
from silent_scalper.engine.sniff import UTF8_BOM
from silent_scalper.engine.types import (
    LocatedError,
    Reason,
)
from silent_scalper.engine.unique import LINE_MASK, pack


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
                    _too_long(limit, pending),
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
#: Lines a failing group is narrowed to before each is checked alone.
_SMALL = 4


def _ndjson_block(
    block: bytes, first_line: int, col: Collector, newlines: int, *, long_line: bool = True
) -> bool:
    """Validate whole lines; returns whether any non-blank line was seen.

    The block is accepted in one msgspec call when every line is valid. Otherwise it is
    taken in windows of ``WINDOW`` lines, a refused window halved until small, so only
    the few lines around each error take the exact check (which words and locates every
    problem of the line). ``newlines`` is the block's count of b"\n" (the caller has it);
    ``long_line`` False means the caller knows no line is over ``max_record_bytes``,
    which spares splitting the block to look.
    """
    col.formula_cells += formula_count(block)
    limit = col.limits.max_record_bytes
    if long_line and len(block) > limit and max(map(len, block.split(b"\n"))) > limit:
        return _ndjson_lines(_split_lines(block), first_line, col)
    lines = newlines + (0 if block[-1:] == b"\n" else 1)
    return _ndjson_checked(block, first_line, col, lines)


def _ndjson_checked(block: bytes, first_line: int, col: Collector, lines: int) -> bool:
    """:func:`_ndjson_block` once its formulas are counted and no line is too long:
    ``block`` holds ``lines`` lines."""
    schema = col.schema
    # What accept_lines does, in its steps: a block refused only by a batch check (a
    # pattern, a date-time) is sifted from its records and the checks' verdicts.
    objs = schema.decode_whole_lines(block, twin_first=col.twin_first) if schema.batches else None
    # A refused block is sifted as if it held no blank line, as nearly every one does:
    # the sifting proves it, and declines (nothing recorded) otherwise.
    if objs is None and schema.batches and _ndjson_sifted(block, first_line, col, lines):
        return True
    # msgspec skips blank lines (JSON whitespace only): with some, record k is not line k.
    blanks = blank_lines(block) if objs is None or len(objs) != lines else []
    if objs is not None and len(objs) + len(blanks) != lines:
        objs = None  # pragma: no cover - msgspec skips exactly the lines found blank
    flagged, proven, col.twin_first = (
        (None, False, False) if objs is None else schema.whole_refused(objs)
    )
    if objs is not None and flagged == [] and schema.no_repeated_key(block, objs):
        first_record = col.records + 1
        col.records += len(objs)
        col.valid_batch(objs, _places(first_record, first_line, lines, blanks))
        return bool(objs)
    if (
        objs is not None
        and flagged
        and not blanks
        and col.record_counted_refusals(
            block, objs, (flagged, proven), (col.records + 1, first_line, 1)
        )
    ):
        return True
    if blanks:
        # The sifting and the narrowing take record k for line k. The sifting reads the
        # block without its blank lines (whose records, when msgspec decoded the block
        # whole, are those records), each line then placed at its own; when it
        # declines, each run of lines between blank ones is a block of its own.
        if schema.batches:
            compact, line_of = _without_blanks(block, lines, blanks)
            whole = (objs, flagged)
            if _ndjson_sifted(compact, first_line, col, len(line_of), whole, line_of=line_of):
                return True
        return _ndjson_runs(block, first_line, col, lines, blanks)
    # A refused block (objs None) was sifted above already.
    if (
        schema.batches
        and objs is not None
        and _ndjson_sifted(block, first_line, col, lines, (objs, flagged))
    ):
        return True
    starts = [0, *(m.end() for m in _NEWLINE.finditer(block))]
    if starts[-1] != len(block):
        starts.append(len(block))
    count = len(starts) - 1
    saw = False
    for i in range(0, count, WINDOW):
        saw = (
            _ndjson_narrow(block, starts, i, min(i + WINDOW, count), first_line=first_line, col=col)
            or saw
        )
    return saw


Blank = tuple[int, int, int]  # a blank line: its index, where it starts, where the next does


def _runs(block: bytes, lines: int, blanks: list[Blank]) -> Iterator[tuple[int, int, int, int]]:
    """The runs of lines between the blank ones (``blanks``, from
    :func:`~silent_scalper.engine._scan.blank_lines`) of a block of ``lines`` lines: the
    first line and the line after the last, then where the run's text starts and ends."""
    line, pos = 0, 0  # the run's first line and where it starts
    for k, start, after in [*blanks, (lines, len(block), len(block))]:
        if k > line:
            yield line, k, pos, start
        line, pos = k + 1, after


def _places(first_record: int, first_line: int, lines: int, blanks: list[Blank]) -> Sequence[int]:
    """pack(record, line) of the records of a block of ``lines`` lines, the first record
    ``first_record`` on line ``first_line``, ``blanks`` holding none."""
    if not blanks:
        return consecutive(first_record, first_line, 1, lines)
    # pack(record, line) is pack(record, 0) + line (as ``consecutive`` takes it): the
    # records' part is one range and the lines' the non-blank ones, added at C speed. A
    # range a run of lines cost as much again with an empty line after every record.
    kept = bytearray(b"\x01") * lines
    for k, _, _ in blanks:
        kept[k] = 0
    records = consecutive(first_record, 0, 0, lines - len(blanks))
    numbers: Iterator[int] = itertools.compress(range(first_line, first_line + lines), kept)
    if first_line + lines > LINE_MASK:  # clamped as pack() clamps them
        numbers = map(min, numbers, itertools.repeat(LINE_MASK))
    return list(map(operator.add, records, numbers))


def _without_blanks(block: bytes, lines: int, blanks: list[Blank]) -> tuple[bytes, list[int]]:
    """The block's text without its blank lines, and the index in ``block`` of each of
    its lines."""
    parts: list[bytes] = []
    line_of: list[int] = []
    for a, z, start, end in _runs(block, lines, blanks):
        parts.append(block[start:end])
        line_of += range(a, z)
    return b"".join(parts), line_of


def _ndjson_runs(
    block: bytes, first_line: int, col: Collector, lines: int, blanks: list[Blank]
) -> bool:
    """Each run of lines between the blank ones of a block of ``lines`` lines validated
    as a block of its own; whether any line was seen."""
    saw = False
    for a, z, start, end in _runs(block, lines, blanks):
        saw = _ndjson_checked(block[start:end], first_line + a, col, z - a) or saw
    return saw


#: Bytes of lines decoded at once while sifting (a window ends at the first line break
#: past them): a refusal wastes at most the decoding of the lines before it in its
#: window, a window costs one call.
_SIFT_BYTES = 3072


def _ndjson_sifted(
    block: bytes,
    first_line: int,
    col: Collector,
    count: int,
    decoded_whole: tuple[list[Any] | None, list[int] | None] = (None, None),
    *,
    line_of: list[int] | None = None,
) -> bool:
    """A refused block of ``count`` lines in one pass: decode it a window at a time,
    skipping each line msgspec refuses, then run the batch checks once over everything
    decoded; only the lines refused take the exact check. True when done; False
    (nothing recorded) when the block needs the narrowing below: blank lines (records
    would not be lines), a refusal that names no record, or repeated keys to find.
    ``decoded_whole``: the block's records, one a line, when msgspec decoded it whole,
    and the batch checks' verdict on them (:meth:`CompiledSchema.refused`): no window
    is decoded and no check run again then. ``line_of``: for a block made of a longer
    one's lines (its blank lines left out), the index of each line in the longer block,
    whose first line is ``first_line``; None: line k is line ``first_line + k``.

    No list of the block's lines is built: windows end at a line break found past
    ``_SIFT_BYTES``, a line msgspec refuses is found by stepping from line break to line
    break from the start of its window, and the lines a batch check refuses are taken in
    one compiled pass over the block's line breaks (``line_texts``). Every window is taken to
    hold no blank line (msgspec skips them, so a record index would not be a line
    index); the totals prove it at the end, before anything is recorded.
    """
    schema = col.schema
    view = memoryview(block)
    find = block.find
    size = len(block)
    decoded: list[Any] = []
    refused: list[int] = []  # line indices, in order
    left_out: list[bytes] = []  # those lines
    named: list[str | None] = []  # the property msgspec refused each at, if it said
    line = 0  # the line at ``pos``
    pos = 0
    whole, flagged = decoded_whole
    if whole is not None:
        if flagged is None:
            return False
        decoded, line, pos = whole, count, size
    elif (
        col.dense
        and not col.would_keep(col.records + 1, first_line + (line_of or [0])[0])
        and _middle_refused(block, schema)
    ):
        # Most of the last block was refused, none of this one's errors will be kept (so
        # counting every line is not wasted on lines that would be worded anyway), and
        # its middle holds a refused line too.
        done = _ndjson_dense(block, first_line, col, count, line_of)
        if done is not None:
            return done
    decode = schema.lines_decoder
    while pos < size:
        # The windows msgspec accepts, decoded in one compiled loop (most of a refused
        # block's windows); then the refused one, read here.
        pos, line, end, exc = decode_windows(
            decode, view, pos, line, _SIFT_BYTES, RECORD_EXCEPTIONS, decoded, None, None
        )
        if exc is None:
            break
        bad, byte = lines_refusal(exc)
        if byte is not None:
            bad = _broken_line(block, pos, pos + byte)
        if bad is None:
            return False
        start = _line_start(find, pos, bad, end)
        if start < 0:
            return False
        if bad:
            objs = schema.decode_lines(view[pos:start])[0]
            if objs is None or len(objs) != bad:
                return False
            decoded += objs
        stop = find(b"\n", start, end)
        stop = end if stop < 0 else stop
        refused.append(line + bad)
        left_out.append(block[start:stop])
        named.append(refusal_property(exc))
        line += bad + 1
        pos = stop + 1
    if line != count:
        return False  # blank lines: record k was not line k somewhere
    if whole is None:
        flagged = schema.refused(decoded)
    if flagged is None:
        return False
    if flagged:
        more = kept_positions(flagged, refused)
        more_lines = line_texts(block, more)
        refused, left_out, named = merged(
            (refused, left_out, named), (more, more_lines, [None] * len(more))
        )
        decoded = _without(decoded, flagged)
    if not all(line.strip(JSON_WS) for line in left_out):
        return False
    if not schema.keys_unrepeated(
        block,
        decoded,
        left_out,
        lambda: b"\n".join(_without(_split_lines(block), refused)),
        lines=True,
    ):
        return False
    col.dense = len(refused) * 2 > count
    # Lines past the errors a summary keeps have their problems counted, not worded.
    counts = col.problem_counts(left_out, named, lines=True)
    _record_sifted(left_out, count, decoded, refused, (first_line, line_of), col, counts)
    return True


def _middle_refused(block: bytes, schema: CompiledSchema) -> bool:
    """Whether msgspec refuses a line of the window of about ``_SIFT_BYTES`` that starts
    at the middle of ``block``. A block after a mostly refused one is counted whole only
    then: one whose middle is accepted is mostly valid (a file whose refused and valid
    parts alternate by block), and reading each of its lines exactly would be wasted
    before the windows sift it anyway."""
    start = block.find(b"\n", len(block) // 2) + 1
    if not start:
        return True
    end = block.find(b"\n", start + _SIFT_BYTES) + 1 or len(block)
    return schema.decode_lines(memoryview(block)[start:end])[0] is None


def _ndjson_dense(
    block: bytes, first_line: int, col: Collector, count: int, line_of: list[int] | None
) -> bool | None:
    """:func:`_ndjson_sifted` of a block most of whose lines are refused, none of whose
    errors would be kept: every line is read exactly and its problems counted at once
    (:meth:`CompiledSchema.settled_counts`) instead of msgspec refusing the lines in the
    windows one call each. The lines found valid are decoded as one batch (when msgspec
    or a batch check refuses one, each is checked alone instead). None, with nothing
    recorded, when under half the lines are refused after all: the windows sift it."""
    schema = col.schema
    lines = _split_lines(block)
    if len(lines) != count:
        return None  # pragma: no cover - the block's lines were counted by the caller
    counts, settled = schema.settled_counts(lines, lines=True)
    valid = [k for k in range(count) if settled[k] and counts[k] == 0]
    if len(valid) * 2 >= count:
        col.dense = False
        return None
    objs = schema.decode_lines(b"\n".join([lines[k] for k in valid]))[0] if valid else []
    if objs is None or len(objs) != len(valid) or (objs and schema.refused(objs) != []):
        objs, valid = [], []
    accepted = set(valid)
    refused = [k for k in range(count) if k not in accepted]
    if not all(lines[k].strip(JSON_WS) for k in refused if not settled[k]):
        return None  # a blank line (not a record): the windows decline it too
    left_out = [lines[k] for k in refused]
    if not schema.keys_unrepeated(
        block, objs, left_out, lambda: b"\n".join([lines[k] for k in valid]), lines=True
    ):
        return False
    found = [counts[k] if settled[k] else 0 for k in refused]
    _record_sifted(left_out, count, objs, refused, (first_line, line_of), col, found)
    return True


def _line_start(find: Any, pos: int, lines: int, end: int) -> int:
    """Where the line ``lines`` line breaks after ``pos`` starts (-1 if not before ``end``)."""
    for _ in range(lines):
        pos = find(b"\n", pos, end) + 1
        if not pos:
            return -1
    return pos if pos < end or lines == 0 else -1


def _broken_line(block: bytes, first: int, at: int) -> int:
    """The line (counted from the one starting at byte ``first``) msgspec stopped on at
    byte ``at`` of broken JSON. Stopping at the very start of a line's value (nothing
    but whitespace before it on its line) means the line before ended too soon: that
    one is named."""
    line = block.count(b"\n", first, at)
    start = block.rfind(b"\n", first, at) + 1 or first
    if line > 0 and not block[start:at].strip(JSON_WS):
        return line - 1
    return line


def _record_sifted(
    left_out: list[bytes],
    count: int,
    decoded: list[Any],
    refused: list[int],
    lines_at: tuple[int, list[int] | None],
    col: Collector,
    counts: list[int],
) -> None:
    """Record a sifted block of ``count`` lines as the narrowing would have: runs of
    accepted records (``decoded``) as batches and each refused line (``left_out[i]`` is
    line ``refused[i]``) checked exactly, in line order. When every refused line is
    invalid and no accepted key repeats, the order of reports cannot matter, so the
    accepted records go in one batch. A refused line none of whose errors would be kept
    has its problems counted with the block's others (``counts``:
    :meth:`Collector.problem_counts`), not checked alone. ``lines_at``: the block's
    first line and ``line_of``, as :func:`_ndjson_sifted` takes them."""
    base = col.records  # no blank lines: line k of the block is record base + k + 1
    first_line, line_of = lines_at

    def line(k: int) -> int:
        return first_line + (k if line_of is None else line_of[k])

    def places(a: int, b: int) -> Sequence[int]:
        """pack(record, line) of the block's lines a..b-1."""
        if line_of is None:
            return consecutive(base + a + 1, first_line + a, 1, b - a)
        return [pack(base + k + 1, first_line + line_of[k]) for k in range(a, b)]

    limit = col.limits.max_record_bytes
    schema = col.schema
    # Lines past the errors a summary keeps are counted, not worded; one over the length
    # limit is refused for its length alone.
    counts = [n if len(text) <= limit else 0 for n, text in zip(counts, left_out, strict=True)]
    checked = [
        _checked_line(schema, text) if n == 0 and len(text) <= limit else None
        for n, text in zip(counts, left_out, strict=True)
    ]
    # The places as one list: a chain of the runs' ranges costs two steps a record in
    # the key store.
    if all(
        n or (result is not None and result.errors)
        for n, result in zip(counts, checked, strict=True)
    ) and col.valid_batch_unless_repeated(decoded, _without(places(0, count), refused)):
        counted: list[int] = []  # once one is not kept, no later one is
        for i, k in enumerate(refused):
            col.records = base + k + 1
            result = checked[i]
            if result is None:  # counted: worded only if kept
                if counted or not col.would_keep(col.records, line(k)):
                    counted.append(counts[i])
                    continue
                result = schema.check_record(left_out[i])
            _record_errors(col, result, line(k))
        col.count_refused(counted)
        col.records = base + count
        return
    at = 0  # next line
    used = 0  # records of ``decoded`` recorded
    for i, k in enumerate([*refused, count]):
        run = k - at
        if run:
            objs = decoded[used : used + run]
            used += run
            col.records = base + k
            col.valid_batch(objs, places(at, k))
        if k < count:
            col.records = base + k
            if counts[i] and not col.would_keep(base + k + 1, line(k)):
                col.records += 1
                col.count_refused(counts[i : i + 1])
            else:
                _ndjson_lines([left_out[i]], line(k), col)
        at = k + 1


def _ndjson_narrow(
    block: bytes, starts: list[int], i: int, j: int, *, first_line: int, col: Collector
) -> bool:
    """Lines i..j-1 of the block, in order: a batch is accepted, or split at the record
    the refusal names (that line checked exactly), or halved; when few are left each is
    checked exactly. A batch with blank lines is not accepted whole, as msgspec skips
    them and record k would not be line k (a hint may then be early: still correct)."""
    saw = False
    while i < j:
        objs, bad = col.schema.accept_lines(memoryview(block)[starts[i] : starts[j]])
        if objs is not None and len(objs) == j - i:
            first_record = col.records + 1
            col.records += len(objs)
            col.valid_batch(objs, consecutive(first_record, first_line + i, 1, len(objs)))
            return bool(objs) or saw
        if bad is not None and bad < j - i:
            k = i + bad
            saw = _ndjson_narrow(block, starts, i, k, first_line=first_line, col=col) or saw
            saw = _ndjson_exact(block, starts, k, k + 1, first_line=first_line, col=col) or saw
            i = k + 1
        elif j - i > _SMALL:
            mid = (i + j) // 2
            saw = _ndjson_narrow(block, starts, i, mid, first_line=first_line, col=col) or saw
            i = mid
        else:
            return _ndjson_exact(block, starts, i, j, first_line=first_line, col=col) or saw
    return saw


def _ndjson_exact(
    block: bytes, starts: list[int], i: int, j: int, *, first_line: int, col: Collector
) -> bool:
    lines = [block[starts[k] : starts[k + 1]].rstrip(b"\n") for k in range(i, j)]
    return _ndjson_lines(lines, first_line + i, col)


def _split_lines(block: bytes) -> list[bytes]:
    lines = block.split(b"\n")
    if lines and not lines[-1]:
        lines.pop()
    return lines


def _ndjson_lines(lines: list[bytes], first_line: int, col: Collector) -> bool:
    """One line at a time, every problem of each located; returns whether any had data."""
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
            col.error(
                Reason.SCHEMA_VIOLATION,
                LocatedError(_too_long(limit, line), f"line {line_no}", col.records, line_no),
            )
            continue
        result = _checked_line(schema, line)
        if not result.errors:
            col.valid_checked(result, pack(col.records, line_no))
            continue
        _record_errors(col, result, line_no)
    return saw


#: Said of a line whose JSON values a bare carriage return separates: a file saved with
#: classic Mac line ends reads as one line, refused as broken or too long.
BARE_CR = "; a bare carriage return (CR) does not end an NDJSON line: lines end in LF or CRLF"
# A value's end, a bare CR, and the next value's start (spaces and tabs around the CR).
_VALUES_AROUND_CR = re.compile(rb'[}\]"0-9el][ \t]*\r[ \t]*[{\["0-9tfn-]')
# How far into a line too long to read the CR is looked for.
_CR_LOOK = 65536


def _bare_cr_hint(text: bytes) -> str:
    """:data:`BARE_CR` when JSON values in ``text`` (the first ``_CR_LOOK`` bytes of a
    line) are separated by a bare CR, else ""."""
    return BARE_CR if b"\r" in text and _VALUES_AROUND_CR.search(text, 0, _CR_LOOK) else ""


def _too_long(limit: int, line: bytes) -> str:
    """The message of a line (``line``: its text, or its first part) over ``limit``."""
    return f"record longer than the {limit}-byte limit" + _bare_cr_hint(line)


def _checked_line(schema: CompiledSchema, line: bytes) -> Checked:
    """:meth:`CompiledSchema.check_record` of one NDJSON line, a refusal for trailing
    characters told (:data:`BARE_CR`) when a bare CR separates the line's values."""
    result = schema.check_record(line)
    hint = _bare_cr_hint(line) if result.errors else ""
    if not hint:
        return result
    errors = [
        RecordError(err.reason, err.message + hint, err.path, err.offset)
        if err.reason is Reason.MALFORMED and err.message.endswith("trailing characters")
        else err
        for err in result.errors
    ]
    return result._replace(errors=errors)


def _record_errors(col: Collector, result: Checked, line_no: int) -> None:
    """Every problem of the invalid record ``col.records``, on line ``line_no``."""
    col.invalid += 1
    if not col.would_keep(col.records, line_no):
        col.count_errors([err.reason for err in result.errors])  # past those kept
        return
    for err in result.errors:
        column = column_of(err.path)
        loc = f"line {line_no}" + (f", {err.path}" if err.path and err.path != "$" else "")
        located = LocatedError(err.message, loc, col.records, line_no, column, err.path)
        col.error(err.reason, located)
