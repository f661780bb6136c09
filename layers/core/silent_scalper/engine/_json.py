"""JSON: one record object, or an array of records streamed in batches."""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import msgspec

from silent_scalper.engine._collect import (
    JSON_WS,
    WINDOW,
    Collector,
    column_of,
    consecutive,
    kept_positions,
    merged,
    runs_between,
)
from silent_scalper.engine._scan import decode_windows, formula_count, newline_count
from silent_scalper.engine._source import CHUNK, FatalError, Prefixed
from silent_scalper.engine.schemas import (
    RECORD_EXCEPTIONS,
    CompiledSchema,
    RecordError,
    _without,
    array_refusal,
    refusal_property,
)
from silent_scalper.engine.sniff import UTF8_BOM
from silent_scalper.engine.types import (
    LocatedError,
    Reason,
)
from silent_scalper.engine.unique import pack

_buffer_offsets: Callable[[bytes, list[Any]], list[int] | None] | None
try:
    from silent_scalper.engine._native import buffer_offsets as _buffer_offsets
except ImportError:  # not built: offsets are found from the records' texts
    _buffer_offsets = None

# A "flat" JSON object: no nested object/array outside strings. Job records are flat,
# and a regex (possessive, so no backtracking) finds a whole run of them in C; nested
# records take the exact scanner below instead.
_STR = rb'"(?:[^"\\]++|\\.)*+"'
_FLAT = rb"\{(?:[^\"{}\[\]]++|" + _STR + rb")*+\}"
_WS = rb"[ \t\r\n]*+"
# At most _RUN records a batch, so that a run is long only when its records are.
_RUN = 1000
_FLAT_RUN = re.compile(rb"(?:" + _WS + _FLAT + _WS + rb",){0,%d}+" % _RUN, re.S)
_FLAT_ITEM = re.compile(_WS + rb"(" + _FLAT + rb")" + _WS + rb",", re.S)
_RAW_LIST: msgspec.json.Decoder[list[msgspec.Raw]] = msgspec.json.Decoder(list[msgspec.Raw])
_STRUCT = re.compile(rb'["\[\]{},]')
_STRING_BODY = re.compile(rb'(?:[^"\\]++|\\.)*+', re.S)


class _Buffer:
    """A sliding window over the body, with line counting for error locations."""

    def __init__(self, body: Prefixed) -> None:
        self.body = body
        self.buf = body.read(CHUNK).removeprefix(UTF8_BOM)
        self.eof = not self.buf
        self.pos = 0
        self.base_line = 1  # line number at buf[0]
        # line_at's last answer: the buffer it was for, a position in it and its line.
        self._memo_buf: bytes | None = None
        self._memo_pos = 0
        self._memo_line = 1

    def more(self) -> bool:
        """Drop consumed bytes and append the next chunk; False at the end."""
        if self.eof:
            return False
        chunk = self.body.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.base_line += newline_count(memoryview(self.buf)[: self.pos])
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def skip_ws(self) -> bool:
        """Advance past JSON whitespace; False if the data ended."""
        while True:
            buf = self.buf
            n = len(buf)
            pos = self.pos
            while pos < n and buf[pos] in JSON_WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return True
            if not self.more():
                return False

    def line_at(self, pos: int) -> int:
        """The line of ``buf[pos]``. Counted on from the position asked last, not from the
        buffer start: errors are located in order, and counting a 1 MiB buffer from its
        start for each of many invalid records took a third of the time."""
        buf = self.buf
        view = memoryview(buf)  # the compiled count: ten times bytes.count's speed
        if pos < 0:
            return self.base_line + newline_count(view[:pos])
        if buf is not self._memo_buf:
            self._memo_buf, self._memo_pos, self._memo_line = buf, 0, self.base_line
        if pos >= self._memo_pos:
            line = self._memo_line + newline_count(view[self._memo_pos : pos])
        else:
            line = self._memo_line - newline_count(view[pos : self._memo_pos])
        self._memo_pos, self._memo_line = pos, line
        return line


def validate_json(body: Prefixed, col: Collector) -> bool:
    """A single record object, or an array of records. True when no data at all."""
    b = _Buffer(body)
    if not b.skip_ws():
        return True
    if b.buf[b.pos] != ord("["):
        _json_single(b, col)
        return False
    b.pos += 1
    _json_array(b, col)
    return False


def _json_single(b: _Buffer, col: Collector) -> None:
    """The whole document is one record (or an error): decode it at once, bounded."""
    limit = col.limits.max_record_bytes
    parts = [b.buf[b.pos :]]
    size = len(parts[0])
    while size <= limit:
        chunk = b.body.read(CHUNK)
        if not chunk:
            break
        parts.append(chunk)
        size += len(chunk)
    col.records = 1
    col.invalid = 1
    if size > limit:
        col.error(
            Reason.SCHEMA_VIOLATION,
            LocatedError(f"a single JSON record larger than the {limit}-byte limit", "$", 1),
        )
        raise FatalError
    data = b"".join(parts)
    col.formula_cells += formula_count(data)
    result = col.schema.check_record(data)
    if result.errors:
        first_line = b.line_at(b.pos)
        for err in result.errors:
            path = err.path or "$"
            line = err.line_in(data, first_line)
            location = path if err.reason is Reason.SCHEMA_VIOLATION else f"{path} (line {line})"
            col.error(
                err.reason, LocatedError(err.message, location, 1, line, column_of(path), path)
            )
        return
    col.invalid = 0
    col.valid_checked(result, pack(1, 0))


def _json_array(b: _Buffer, col: Collector) -> None:
    """Records of a top-level array, streamed: runs of flat records in C, others scanned."""
    schema = col.schema
    index = 0  # records seen
    if not b.skip_ws():
        _malformed(col, b, "unexpected end of data: the array is not closed", index)
    if b.buf[b.pos] == ord("]"):
        b.pos += 1
        _json_trailer(b, col)
        return
    limit = col.limits.max_record_bytes
    # After a failed fast attempt (nested records can fool the cut), the exact path takes
    # the next `backoff` records before the fast path is tried again.
    backoff = _BACKOFF
    fast_after = 0
    while True:
        if len(b.buf) - b.pos < CHUNK // 2:
            b.more()
        # Fast path: cut at the last "}," within reach and decode everything before it as
        # one array. If it decodes, the cut was a real record boundary (a cut inside a
        # string or a nested value cannot leave well-formed JSON), so no scanning at all.
        cut = _last_boundary(b.buf, b.pos, min(len(b.buf), b.pos + limit))
        if index >= fast_after and cut > b.pos:
            run = b.buf[b.pos : cut + 1]
            done = _json_run_fast(b, run, index, col)
            if done is not None:
                index = done
                b.pos = cut + 2
                backoff = _BACKOFF
                continue
            fast_after = index + backoff
            backoff = min(backoff * 2, 1 << 16)
        run_end = _match_end(_FLAT_RUN.match(b.buf, b.pos))
        if run_end > b.pos:
            run = b.buf[b.pos : run_end - 1]
            col.formula_cells += formula_count(run)
            limit = col.limits.max_record_bytes
            too_large = len(run) > limit and max(map(len, _FLAT_ITEM.findall(run + b","))) > limit
            objs = None if too_large else schema.accept_array(b"[" + run + b"]")[0]
            if objs is None:
                index = _json_run_slowly(b, run, index, col)
            else:
                col.valid_batch(objs, consecutive(index + 1, 0, 0, len(objs)))
                index += len(objs)
                col.records = index
            b.pos = run_end
            continue
        # One element the regex did not take: nested, the last one, or broken.
        start, end = _scan_element(b, col, index)
        if end is None:
            index += 1
            col.records = index
        else:
            value = b.buf[start:end].strip(JSON_WS)
            if not value:
                what = "]" if b.buf[end] == ord("]") else ","
                _malformed(col, b, f"expected a value before {what!r}", index, end)
            index += 1
            col.records = index
            col.formula_cells += formula_count(value)
            if len(value) > col.limits.max_record_bytes:
                _too_large_element(col, index - 1, b.line_at(start))
            else:
                result = schema.check_record(value)
                if result.errors:
                    lead = len(b.buf[start:end]) - len(b.buf[start:end].lstrip(JSON_WS))
                    line = b.line_at(start + lead)
                    _element_errors(col, result.errors, index, value, line)
                else:
                    col.valid_checked(result, pack(index, 0))
        term_pos = b.pos
        terminator = b.buf[term_pos]
        b.pos = term_pos + 1
        if terminator == ord("]"):
            _json_trailer(b, col)
            return
        if terminator != ord(","):
            _malformed(col, b, f"unexpected {chr(terminator)!r} in the array", index, term_pos)
        if not b.skip_ws():
            _malformed(col, b, "unexpected end of data after ','", index)


_BACKOFF = 64


def _last_boundary(buf: bytes, start: int, end: int) -> int:
    """Position of the last "}" in buf[start:end] followed by "," and then "{" (whitespace
    allowed): likely the end of a record. -1 if none among the last few "},"."""
    pos = end
    for _ in range(64):
        pos = buf.rfind(b"},", start, pos)
        if pos < 0:
            return -1
        after = pos + 2
        while after < len(buf) and buf[after] in JSON_WS:
            after += 1
        if after >= len(buf) or buf[after] == 0x7B:  # "{" (or the data ends: more to come)
            return pos
        pos += 1  # the next search finds a "}," that starts before this one
    return -1


def _json_run_fast(b: _Buffer, run: bytes, index: int, col: Collector) -> int | None:
    """Validate ``run`` (elements separated by commas) as a batch; None if it is not
    a sequence of complete elements (then the exact path takes over). Returns the index."""
    data = b"[" + run + b"]"
    schema = col.schema
    # What accept_array does, in its steps: a run refused only by a batch check (a
    # pattern, a date-time) is sifted from its records and the checks' verdicts.
    objs = schema.decode_whole_array(data, twin_first=col.twin_first) if schema.batches else None
    flagged, proven, col.twin_first = (
        (None, False, False) if objs is None else schema.whole_refused(objs)
    )
    if objs is not None and flagged == [] and schema.no_repeated_key(data, objs):
        col.formula_cells += formula_count(run)
        col.valid_batch(objs, consecutive(index + 1, 0, 0, len(objs)))
        col.records = index + len(objs)
        return index + len(objs)
    if (
        objs is not None
        and flagged
        and col.record_counted_refusals(data, objs, (flagged, proven), (index + 1, 0, 0))
    ):
        col.formula_cells += formula_count(run)
        return index + len(objs)
    # Sifting accepts the records it decoded, which only a schema with batch checks
    # decodes into checked records (others decode to plain dicts: each takes the exact
    # check below).
    if objs is None and schema.batches:
        # Most of the last run was refused and none of this one's errors will be kept.
        dense = col.dense and not col.would_keep(index + 1, 0) and _middle_refused(run, schema)
        done = _json_dense(b, run, index, col) if dense else None
        if done is None:
            done = _json_windows(b, run, index, col)
        if done is not None:
            return done
    try:
        raws = _RAW_LIST.decode(data)
    except RECORD_EXCEPTIONS:
        return None  # a false cut or broken JSON: the exact path decides which
    # Some record is invalid: sifted, or else windows of WINDOW records, a refused one
    # halved, so only the few records around each error take the exact check.
    if schema.batches:
        done = _json_sifted(b, (run, data, raws), index, col, (objs, flagged))
        if done is not None:
            return done
    col.formula_cells += formula_count(run)
    items: list[tuple[bytes, int]] = []
    cursor = 0
    for raw in raws:
        record = bytes(raw)
        found = run.find(record, cursor)
        items.append((record, found))
        if found >= 0:
            cursor = found + len(record)
    for w in range(0, len(items), WINDOW):
        index = _json_narrow(b, items[w : w + WINDOW], index, col)
    return index


#: Records decoded at once while sifting a refused run (see _ndjson._SIFT).
_SIFT = 32


def _json_sifted(
    b: _Buffer,
    elements: tuple[bytes, bytes, list[msgspec.Raw]],
    index: int,
    col: Collector,
    decoded_whole: tuple[list[Any] | None, list[int] | None] = (None, None),
) -> int | None:
    """A refused run of well-formed records in one pass, as NDJSON blocks are sifted
    (see ``_ndjson._ndjson_sifted``): the new index, or None (nothing recorded) when
    the run needs the narrowing (a refusal naming no record, repeated keys to find).
    ``elements``: the run, the run framed as an array (what msgspec read) and its
    records as ``Raw`` values read from that. ``decoded_whole``: the run's records when
    msgspec decoded it whole, and the batch checks' verdict on them
    (:meth:`CompiledSchema.refused`): no window is decoded and no check run again then.
    Only the refused records are placed in the run (:func:`_offsets_at`)."""
    run, framed, raws = elements
    schema = col.schema
    count = len(raws)
    decoded: list[Any] = []
    refused: list[int] = []
    i = 0
    whole, flagged = decoded_whole
    if whole is not None:
        if flagged is None or len(whole) != count:
            return None
        decoded, i = whole, count
    while i < count:
        j = min(i + _SIFT, count)
        objs, bad = schema.decode_array(_framed(raws[i:j]))
        if objs is None:
            if bad is None or bad >= j - i:
                return None
            k = i + bad
            objs = schema.decode_array(_framed(raws[i:k]))[0] if k > i else []
            if objs is None:
                return None
            decoded += objs
            refused.append(k)
            i = k + 1
            continue
        decoded += objs
        i = j
    kept_at = _kept(count, refused)
    if whole is None:
        flagged = schema.refused(decoded)
    if flagged is None:
        return None
    if flagged:
        refused = sorted([*refused, *(kept_at[k] for k in flagged)])
        decoded = _without(decoded, flagged)
        kept_at = _kept(count, refused)
    left_out = [bytes(raws[k]) for k in refused]
    found = _offsets_at(run, framed, raws, refused)
    return _record_json_sifted(
        b,
        run,
        index,
        count,
        (decoded, refused, left_out, found, None, [None] * len(refused)),
        lambda: b",".join([raws[k] for k in kept_at]),
        col,
    )


#: A sifted run: its records decoded, the indices of those refused, their texts, their
#: offsets in the run, their problem counts if already made, and the property msgspec
#: refused each at, if it said.
_Sifted = tuple[list[Any], list[int], list[bytes], list[int], list[int] | None, list[str | None]]


def _record_json_sifted(
    b: _Buffer,
    run: bytes,
    index: int,
    count: int,
    sifted: _Sifted,
    kept: Callable[[], bytes],
    col: Collector,
) -> int | None:
    """Record a sifted run of ``count`` records after record ``index``, as the narrowing
    would have: ``sifted`` holds the records decoded, the indices of those refused
    (sorted), their texts, their offsets in ``run`` (-1 if unknown), their problem
    counts when already made (else None; see below) and the properties msgspec refused
    them at, where it said; ``kept()`` is
    the text of the others joined by commas (asked for only when the repeated-key
    count needs it). The run's formula cells are counted when it is recorded, and whether
    most of its records were refused is kept for the next run (``Collector.dense``). A
    refused record none of whose errors would be kept has its
    problems counted with the run's others (:meth:`Collector.problem_counts`), not
    checked alone. The new index, or None
    (nothing recorded) when a key may repeat."""
    schema = col.schema
    decoded, refused, left_out, offsets, found, named = sifted
    if not schema.keys_unrepeated(run, decoded, left_out, kept):
        return None
    col.formula_cells += formula_count(run)
    col.dense = len(refused) * 2 > count  # the next run may be counted whole
    # Records past the errors a summary keeps have their problems counted, not worded.
    counts = col.problem_counts(left_out, named, lines=False) if found is None else found
    checked = [
        None if n else schema.check_record(record)
        for n, record in zip(counts, left_out, strict=True)
    ]
    if all(
        n
        or (
            r is not None
            and r.errors
            and all(e.reason is Reason.SCHEMA_VIOLATION for e in r.errors)
        )
        for n, r in zip(counts, checked, strict=True)
    ):
        # One list, as for NDJSON (``_ndjson._record_sifted``).
        wheres = _without(consecutive(index + 1, 0, 0, count), refused)
        if col.valid_batch_unless_repeated(decoded, wheres):
            counted: list[int] = []  # once one is not kept, no later one is
            for i, k in enumerate(refused):
                col.records = index + k + 1
                result = checked[i]
                if result is None:  # counted: worded only if kept
                    if counted or not col.would_keep(col.records, 0):
                        counted.append(counts[i])
                        continue
                    result = schema.check_record(left_out[i])
                _located_errors(b, col, result.errors, index + k + 1, left_out[i], offsets[i])
            col.count_refused(counted)
            col.records = index + count
            return index + count
    at = 0
    used = 0
    for i, k in enumerate([*refused, count]):
        if k > at:
            objs = decoded[used : used + k - at]
            used += k - at
            col.valid_batch(objs, consecutive(index + at + 1, 0, 0, k - at))
            col.records = index + k
        if k < count:
            if counts[i] and not col.would_keep(index + k + 1, 0):
                col.records = index + k + 1
                col.count_refused(counts[i : i + 1])
            else:
                _json_exact(b, [(left_out[i], offsets[i])], index + k, col)
        at = k + 1
    return index + count


#: Bytes of records decoded at once while sifting a refused run (a window ends at the
#: first "}," past them; see ``_ndjson._SIFT_BYTES``).
_SIFT_BYTES = 3072


def _json_windows(b: _Buffer, run: bytes, index: int, col: Collector) -> int | None:
    """A refused run sifted straight from its text, as NDJSON blocks are: windows of
    about ``_SIFT_BYTES`` cut after a ``},`` and framed as arrays, decoded one msgspec
    call each; a refused record is found by parsing its window as ``Raw`` values, and
    decoding resumes after it. Then the batch checks run once over everything decoded,
    and only the records refused take the exact check. The new index, or None
    (nothing recorded) when a window does not parse (a cut inside a string or a nested
    value, or broken JSON), a refusal names no record, or a key may repeat: the run is
    then parsed as ``Raw`` values first (:func:`_json_sifted`)."""
    schema = col.schema
    size = len(run)
    decoded: list[Any] = []
    refused: list[int] = []  # record indices in the run, in order
    left_out: list[bytes] = []  # their texts
    offsets: list[int] = []  # where they start in the run
    named: list[str | None] = []  # the property msgspec refused each at, if it said
    marks: list[int] = []  # the record index at the start of each window ...
    starts: list[int] = []  # ... and where it starts (its end: _window_end)
    n = 0  # records so far
    pos = 0
    decode = schema.array_decoder
    view = memoryview(run)
    while pos < size:
        # The windows msgspec accepts, decoded in one compiled loop (most of a refused
        # run's windows); then the refused one, read here.
        pos, n, end, exc = decode_windows(
            decode, view, pos, n, _SIFT_BYTES, RECORD_EXCEPTIONS, decoded, marks, starts, True
        )
        if exc is None:
            break
        bad = array_refusal(exc)
        if bad is None:
            return None
        cut = _refused_record(run, pos, end, bad)
        if cut is not None:
            before, found, stop = cut
            objs = schema.decode_array(b"[" + run[pos:before] + b"]")[0] if bad else []
            if objs is not None and len(objs) == bad:
                decoded += objs
                refused.append(n + bad)
                left_out.append(run[found:stop])
                offsets.append(found)
                named.append(refusal_property(exc))
                n += bad + 1
                pos = stop + 1
                continue
        items = _window_items(run, pos, end)
        if items is None or bad >= len(items):
            return None
        if bad:
            objs = schema.decode_array(_framed([raw for raw, _ in items[:bad]]))[0]
            if objs is None or len(objs) != bad:
                return None
            decoded += objs
        raw, found = items[bad]
        if found < 0:
            return None
        refused.append(n + bad)
        left_out.append(bytes(raw))
        offsets.append(found)
        named.append(refusal_property(exc))
        n += bad + 1
        if bad + 1 < len(items):
            pos = items[bad + 1][1]
            if pos < 0:
                return None
        else:
            pos = end + 1
    count = n
    flagged = schema.refused(decoded)
    if flagged is None:
        return None
    if flagged:
        more = kept_positions(flagged, refused)
        texts: list[bytes] = []
        places: list[int] = []
        for k in more:
            w = bisect.bisect_right(marks, k) - 1
            items = _window_items(run, starts[w], _window_end(run, starts[w]))
            if items is None or k - marks[w] >= len(items):
                return None
            raw, found = items[k - marks[w]]
            texts.append(bytes(raw))
            places.append(found)
        refused, left_out, offsets, named = merged(
            (refused, left_out, offsets, named), (more, texts, places, [None] * len(more))
        )
        decoded = _without(decoded, flagged)
    return _record_json_sifted(
        b,
        run,
        index,
        count,
        (decoded, refused, left_out, offsets, None, named),
        lambda: _kept_text(run, refused),
        col,
    )


def _window_end(run: bytes, start: int) -> int:
    """Where the window of :func:`_json_windows` that starts at ``start`` ends: after
    the ``}`` of the first ``},`` ``_SIFT_BYTES`` or more past its start (as
    :func:`~silent_scalper.engine._scan.decode_windows_python` cuts), else at the end."""
    return run.find(b"},", start + _SIFT_BYTES) + 1 or len(run)


def _middle_refused(run: bytes, schema: CompiledSchema) -> bool:
    """``_ndjson._middle_refused`` for a run of array elements: whether msgspec refuses
    (or cannot read) the records of the window of about ``_SIFT_BYTES`` cut after the
    first ``},`` past the middle of ``run``. A false cut (a ``},`` inside a string) reads
    as refused: the run is then counted whole, as it was without this look."""
    start = run.find(b"},", len(run) // 2) + 2
    if start < 2:
        return True
    end = _window_end(run, start)
    return schema.decode_array(b"[" + run[start:end].lstrip(JSON_WS) + b"]")[0] is None


def _json_dense(b: _Buffer, run: bytes, index: int, col: Collector) -> int | None:
    """:func:`_json_windows` of a run most of whose records are refused, none of whose
    errors would be kept (see ``_ndjson._ndjson_dense``): every record read exactly and
    its problems counted at once, the records found valid decoded as one batch (each
    checked alone instead when msgspec or a batch check refuses one). None, with nothing
    recorded, when under half are refused after all or the run is not a list of values."""
    schema = col.schema
    try:
        raws = _RAW_LIST.decode(b"[" + run + b"]")
    except RECORD_EXCEPTIONS:
        return None
    texts = [bytes(raw) for raw in raws]
    count = len(texts)
    counts, settled = schema.settled_counts(texts, lines=False)
    valid = [k for k in range(count) if settled[k] and counts[k] == 0]
    if len(valid) * 2 >= count:
        col.dense = False
        return None
    objs = schema.decode_array(b"[" + b",".join([texts[k] for k in valid]) + b"]")[0]
    if objs is None or len(objs) != len(valid) or (objs and schema.refused(objs) != []):
        objs, valid = [], []
    accepted = set(valid)
    refused = [k for k in range(count) if k not in accepted]
    offsets = _offsets(run, raws)
    return _record_json_sifted(
        b,
        run,
        index,
        count,
        (
            objs,
            refused,
            [texts[k] for k in refused],
            [offsets[k] for k in refused],
            [counts[k] if settled[k] else 0 for k in refused],
            [],  # the counts are made: no property needed
        ),
        lambda: b",".join([texts[k] for k in valid]),
        col,
    )


def _refused_record(run: bytes, pos: int, end: int, bad: int) -> tuple[int, int, int] | None:
    """Where record ``bad`` of the window ``run[pos:end]`` is, found from the text alone:
    (the end of the records before it, its start, its end), or None when the text does
    not show it plainly (then the window is parsed as ``Raw`` values).

    Records are taken to end at a ``},``: record ``bad`` follows the ``bad``-th one and
    ends at the next. That is proven, not assumed: the caller decodes the text before it
    as exactly ``bad`` records (a ``},`` inside a string or a nested value cannot end a
    well-formed list of them), and here its own text must be one well-formed JSON value
    (a cut inside it, or past its end, leaves broken JSON or a second value). This
    spares parsing the window as ``Raw`` values and joining the records before it again.
    """
    find = run.find
    before = pos
    start = pos
    for _ in range(bad):
        brace = find(b"},", start, end)
        if brace < 0:
            return None
        before = brace + 1
        start = brace + 2
    while start < end and run[start] in JSON_WS:
        start += 1
    brace = find(b"},", start, end)
    stop = end if brace < 0 else brace + 1
    try:
        _RAW_ONE.decode(run[start:stop])
    except RECORD_EXCEPTIONS:
        return None
    return before, start, stop


_RAW_ONE: msgspec.json.Decoder[msgspec.Raw] = msgspec.json.Decoder(msgspec.Raw)


def _window_items(run: bytes, start: int, end: int) -> list[tuple[msgspec.Raw, int]] | None:
    """The records of ``run[start:end]`` as ``Raw`` values with their offsets in ``run``
    (-1 if unknown), or None if that text is not a list of values."""
    text = run[start:end]
    try:
        raws = _RAW_LIST.decode(b"[" + text + b"]")
    except RECORD_EXCEPTIONS:
        return None
    return [
        (raw, at + start if at >= 0 else -1)
        for raw, at in zip(raws, _offsets(text, raws), strict=True)
    ]


def _kept_text(run: bytes, refused: list[int]) -> bytes:
    """The records of ``run`` less ``refused``, joined by commas."""
    raws = _RAW_LIST.decode(b"[" + run + b"]")
    return b",".join(_without(raws, refused))


def _offsets(run: bytes, raws: list[msgspec.Raw]) -> list[int]:
    """Where each record of ``run`` (``raws``, its elements in order) starts.

    When one separator (a comma and the same whitespace) joins them all, the offsets
    are sums of lengths, with one comparison of the text as proof (a separator holds
    only whitespace and a comma, so the next record's text cannot start inside it).
    Otherwise each record is found from the end of the one before."""
    lead = len(run) - len(run.lstrip(JSON_WS))
    if len(raws) > 1:
        end = lead + len(raws[0])
        second = run.find(bytes(raws[1]), end)
        sep = run[end:second]
        if second > 0 and run[lead:] == sep.join(raws):
            step = len(sep)
            return list(
                itertools.accumulate(
                    map(operator.add, map(len, raws[:-1]), itertools.repeat(step)),
                    initial=lead,
                )
            )
    out = []
    cursor = 0
    for raw in raws:
        found = run.find(bytes(raw), cursor)
        out.append(found)
        if found >= 0:
            cursor = found + len(raw)
    return out


def _offsets_at(run: bytes, framed: bytes, raws: list[msgspec.Raw], wanted: list[int]) -> list[int]:
    """Where records ``wanted`` (indices in ``raws``, the elements of ``run`` decoded
    from ``framed``, ``b"[" + run + b"]"``) start in ``run``. msgspec keeps each ``Raw``
    as a view of the text it read, so with the compiled module the offsets are read from
    the values themselves, only for the records wanted; otherwise (or if a value is not
    such a view) they are found from the texts (:func:`_offsets`)."""
    if _buffer_offsets is not None:
        found = _buffer_offsets(framed, [raws[k] for k in wanted])
        if found is not None:
            return [at - 1 for at in found]
    offsets = _offsets(run, raws)
    return [offsets[k] for k in wanted]


def _framed(raws: Sequence[msgspec.Raw]) -> bytes:
    """Array elements framed as the array msgspec decodes: ``[a,b,...]``."""
    return b"[" + b",".join(raws) + b"]"


def _kept(count: int, refused: list[int]) -> list[int]:
    """Indices 0..count-1 less ``refused`` (sorted)."""
    out: list[int] = []
    for a, z in runs_between(refused, count):
        out += range(a, z)
    return out


#: Records a failing group is narrowed to before each is checked alone.
_SMALL = 4


def _json_narrow(b: _Buffer, items: list[tuple[bytes, int]], index: int, col: Collector) -> int:
    """Records (bytes, offset in the buffer from ``b.pos``, -1 if unknown) after record
    ``index``, in order: a batch is accepted, or split at the record the refusal names
    (checked exactly), or halved; when few are left each is checked exactly."""
    while items:
        objs, bad = col.schema.accept_array(b"[" + b",".join(item for item, _ in items) + b"]")
        if objs is not None:
            col.valid_batch(objs, consecutive(index + 1, 0, 0, len(objs)))
            col.records = index + len(objs)
            return index + len(objs)
        if bad is not None and bad < len(items):
            index = _json_narrow(b, items[:bad], index, col)
            index = _json_exact(b, items[bad : bad + 1], index, col)
            items = items[bad + 1 :]
        elif len(items) > _SMALL:
            half = len(items) // 2
            index = _json_narrow(b, items[:half], index, col)
            items = items[half:]
        else:
            return _json_exact(b, items, index, col)
    return index


def _json_exact(b: _Buffer, items: list[tuple[bytes, int]], index: int, col: Collector) -> int:
    """Each record checked alone, every problem located."""
    for record, found in items:
        index += 1
        col.records = index
        result = col.schema.check_record(record)
        if result.errors:
            _located_errors(b, col, result.errors, index, record, found)
        else:
            col.valid_checked(result, pack(index, 0))
    return index


def _json_run_slowly(b: _Buffer, run: bytes, index: int, col: Collector) -> int:
    """The records of a run that failed as a whole, narrowed to locate each error."""
    items: list[tuple[bytes, int]] = []
    for m in _FLAT_ITEM.finditer(run + b","):
        if len(m.group(1)) > col.limits.max_record_bytes:
            for w in range(0, len(items), WINDOW):
                index = _json_narrow(b, items[w : w + WINDOW], index, col)
            items = []
            index += 1
            col.records = index
            _too_large_element(col, index - 1, b.line_at(b.pos + m.start(1)))
            continue
        items.append((m.group(1), m.start(1)))
    for w in range(0, len(items), WINDOW):
        index = _json_narrow(b, items[w : w + WINDOW], index, col)
    return index


def _located_errors(
    b: _Buffer, col: Collector, errors: list[RecordError], index: int, data: bytes, found: int
) -> None:
    """:func:`_element_errors` for element ``index`` found at ``b.pos + found`` (-1:
    unknown, line 0). Its line is counted only if one of its errors can be kept: the
    count runs over the text since the last line asked for, which past the kept errors
    would be a pass over the whole buffer for nothing (a record's place is its number
    first, so no line can make its errors kept when line 0 cannot)."""
    if found >= 0 and not col.would_keep(index, 0):
        _errors_counted(col, errors)
        return
    _element_errors(col, errors, index, data, b.line_at(b.pos + found) if found >= 0 else 0)


def _errors_counted(col: Collector, errors: list[RecordError]) -> None:
    """An invalid element none of whose errors is kept: counted, not worded, as CSV rows
    are; broken JSON still ends the array."""
    col.invalid += 1
    col.count_errors([err.reason for err in errors])
    if any(err.reason is not Reason.SCHEMA_VIOLATION for err in errors):
        raise FatalError


def _element_errors(
    col: Collector, errors: list[RecordError], index: int, data: bytes, first_line: int
) -> None:
    """Record every error of array element ``index`` (1-based); stop if one is not a
    schema one (broken JSON ends the array)."""
    if not col.would_keep(index, first_line):
        # No error of it would be kept (their lines are first_line or later).
        _errors_counted(col, errors)
        return
    col.invalid += 1
    fatal = False
    for err in errors:
        path = f"$[{index - 1}]" + (err.path or "$")[1:]
        line = err.line_in(data, first_line)
        location = path if err.reason is Reason.SCHEMA_VIOLATION else f"{path} (line {line})"
        col.error(
            err.reason, LocatedError(err.message, location, index, line, column_of(err.path), path)
        )
        fatal = fatal or err.reason is not Reason.SCHEMA_VIOLATION
    if fatal:
        raise FatalError


def _scan_element(b: _Buffer, col: Collector, index: int) -> tuple[int, int | None]:
    """Find the end of the array element at ``b.pos``; leaves ``b.pos`` on its terminator.

    Returns (start, end), with end None when the element was too large to keep (it was
    skipped and an error recorded). Tracks only strings and bracket depth, without
    recursion, so 100,000 nested brackets cost a counter, not a stack; msgspec then checks
    the element's bytes exactly. A string or element longer than the record limit is
    scanned without being kept.
    """
    limit = col.limits.max_record_bytes
    start = b.pos
    scan = b.pos
    depth = 0
    in_string = False
    skipped = False
    while True:
        buf = b.buf
        if in_string:
            scan = _match_end(_STRING_BODY.match(buf, scan))
            if scan < len(buf) and buf[scan] == 0x22:
                in_string = False
                scan += 1
                continue
        else:
            m = _STRUCT.search(buf, scan)
            if m is not None:
                at = m.start()
                c = buf[at]
                scan = at + 1
                if c == 0x22:  # '"'
                    in_string = True
                elif c in (0x5B, 0x7B):  # '[' '{'
                    depth += 1
                elif depth > 0 and c != 0x2C:  # a closer inside the element
                    depth -= 1
                elif depth == 0:  # ',' or a closer at depth 0: the element ends here
                    b.pos = at
                    if skipped:
                        _too_large_element(col, index, b.line_at(at))
                        return start, None
                    return start, at
                continue
            scan = len(buf)
        # The buffer ended inside the element: keep it (or, once too large, forget it).
        if skipped or scan - start > limit:
            skipped = True
            keep = scan
        else:
            keep = start
        b.pos = keep
        if not b.more():
            b.pos = len(b.buf)
            _malformed(col, b, "unexpected end of data: the array is not closed", index)
        start -= keep
        scan -= keep


def _match_end(m: re.Match[bytes] | None) -> int:
    assert m is not None  # the pattern matches the empty string
    return m.end()


def _too_large_element(col: Collector, index: int, line: int) -> None:
    limit = col.limits.max_record_bytes
    col.invalid += 1
    path = f"$[{index}]"
    col.error(
        Reason.SCHEMA_VIOLATION,
        LocatedError(
            f"record larger than the {limit}-byte limit", path, index + 1, line, None, path
        ),
    )


def _json_trailer(b: _Buffer, col: Collector) -> None:
    """After the closing bracket only whitespace may follow."""
    if b.skip_ws():
        _malformed(col, b, "unexpected data after the end of the array", None, b.pos)


def _malformed(
    col: Collector, b: _Buffer, message: str, index: int | None, pos: int | None = None
) -> NoReturn:
    at = len(b.buf) if pos is None else pos
    line = b.line_at(at)
    loc = f"line {line}" if index is None else f"$[{index}] (line {line})"
    col.error(
        Reason.MALFORMED,
        LocatedError(
            message,
            loc,
            None if index is None else index + 1,
            line,
            None,
            None if index is None else f"$[{index}]",
        ),
    )
    raise FatalError
