"""One streaming pass over a file: parse, validate every record, count, hash.

The stream is read front to back exactly once, in chunks. Every byte goes through
:class:`_Source`, which hashes it (sha256), counts it (``TOO_LARGE`` past the limit) and
checks it is UTF-8 without NULs (cheaply: ``bytes.isascii()`` skips the decoder for
ASCII chunks). Parsers hold at most a chunk plus one record, so memory does not grow
with the file. After a fatal problem (an encoding error, a JSON array that breaks) the
rest of the stream is still read, unparsed, so that size and sha256 are always complete
(except ``TOO_LARGE``, where reading stops at the limit and ``sha256`` is empty).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import operator
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, BinaryIO, NoReturn

import msgspec

from silent_scalper.engine.schemas import (
    RECORD_EXCEPTIONS,
    CompiledSchema,
    RecordError,
    to_record_error,
)
from silent_scalper.engine.sniff import UTF8_BOM, check_content, format_for_key
from silent_scalper.engine.types import (
    REASON_PRECEDENCE,
    FileFormat,
    Limits,
    LocatedError,
    Reason,
    ValidationSummary,
    clip,
)
from silent_scalper.engine.unique import UniqueTracker, pack, unpack

CHUNK = 1 << 20
_JSON_WS = b" \t\n\r"
# A string cell starting with one of these is a formula to a spreadsheet. A cell that is
# just a signed number (-5, +3.2e1) is not counted; "-2+3+cmd|..." is.
_FORMULA_JSON = re.compile(rb'[:\[,][ \t\r\n]*+"(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?")[=+\-@]')
_FORMULA_HINT = re.compile(rb'"[=+\-@]')
_FORMULA_CELL = re.compile(r"\x00(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?(?:\x00|\Z))[=+\-@]")
_SECOND = operator.itemgetter(1)

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


class _TooLargeError(Exception):
    pass


class _EncodingError(Exception):
    def __init__(self, message: str, offset: int, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.line = line


class _FatalError(Exception):
    """Parsing cannot go on (the error is already recorded); drain the rest."""


class _Source:
    """The one reader of the input: hashes, counts, checks UTF-8 and NULs, enforces size."""

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self._max = max_bytes
        self.sha = hashlib.sha256()
        self.size = 0
        self._lines = 0  # newlines before the current chunk, for locating encoding errors
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._checking = True
        self._deferred: Exception | None = None
        self._eof = False

    def prime(self, head: bytes) -> None:
        """Account for a head read with ``check=False`` and already found to be clean."""
        try:
            self._utf8.decode(head)
        except UnicodeDecodeError:  # pragma: no cover - check_content accepted it
            self._checking = False

    def read_chunk(self, n: int = CHUNK, *, check: bool = True) -> bytes:
        """Up to ``n`` checked bytes; b"" at the end. Raises _TooLargeError / _EncodingError."""
        if self._deferred is not None:
            exc, self._deferred = self._deferred, None
            raise exc
        if self._eof:
            return b""
        data = self._stream.read(n)
        if not data:
            self._eof = True
            if self._checking:
                try:
                    self._utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    raise self._encoding_problem(
                        b"", 0, "the file ends inside a UTF-8 sequence"
                    ) from None
            return b""
        self.sha.update(data)
        start = self.size
        self.size += len(data)
        if self.size > self._max:
            raise _TooLargeError
        if self._checking and check:
            bad = self._check(data, start)
            if bad is not None:
                cut, problem = bad
                self._deferred = problem
                self._checking = False
                data = data[:cut]
        self._lines += data.count(b"\n")
        return data

    def _check(self, data: bytes, start: int) -> tuple[int, _EncodingError] | None:
        nul = data.find(b"\x00")
        if data.isascii() and not self._utf8.getstate()[0]:
            if nul < 0:
                return None
        else:
            try:
                self._utf8.decode(data if nul < 0 else data[:nul])
            except UnicodeDecodeError as exc:
                cut = exc.start
                return cut, self._encoding_problem(
                    data, cut, f"not valid UTF-8: byte 0x{data[cut]:02x} at offset {start + cut}"
                )
        if nul >= 0:
            return nul, self._encoding_problem(
                data, nul, f"NUL byte at offset {start + nul} (binary data or UTF-16/32 text)"
            )
        return None

    def _encoding_problem(self, data: bytes, cut: int, message: str) -> _EncodingError:
        line = self._lines + data.count(b"\n", 0, cut) + 1
        return _EncodingError(message, self.size - len(data) + cut, line)

    def drain(self) -> None:
        """Read (hash, count) the rest without parsing or checking it."""
        self._checking = False
        self._deferred = None
        while self.read_chunk(CHUNK):
            pass


class _Collector:
    """Accumulates what the summary reports, with bounded memory."""

    def __init__(self, schema: CompiledSchema, limits: Limits, fmt: FileFormat) -> None:
        self.schema = schema
        self.limits = limits
        self.fmt = fmt
        self.reasons: set[Reason] = set()
        self.errors: list[LocatedError] = []
        self.error_count = 0
        self.records = 0
        self.invalid = 0
        self.formula_cells = 0
        self.first_time: datetime | None = None
        self.last_time: datetime | None = None
        self.duplicates = 0
        self.unique = UniqueTracker(limits.unique_memory_entries) if schema.tracks_keys else None

    def error(self, reason: Reason, error: LocatedError) -> None:
        self.reasons.add(reason)
        self.error_count += 1
        if len(self.errors) < self.limits.max_errors:
            self.errors.append(error)

    def valid_batch(self, objs: list[Any], wheres: Sequence[int]) -> None:
        """Bookkeeping for valid records (keys, times); ``wheres[i]`` is pack(record, line)."""
        schema = self.schema
        if schema.tracks_time and objs:
            times = schema.times_of(objs)
            if times:
                lo, hi = min(times), max(times)
                if self.first_time is None or lo < self.first_time:
                    self.first_time = lo
                if self.last_time is None or hi > self.last_time:
                    self.last_time = hi
        if self.unique is not None and objs:
            keys = schema.keys_of(objs)
            if not self.unique.add_batch(keys, wheres):
                for key, where in zip(keys, wheres, strict=True):
                    self._add_key(key, where)

    def _add_key(self, key: Any, where: int) -> None:
        assert self.unique is not None
        seen = self.unique.add(key, where)
        if seen is not None:
            self._duplicate(str(key), where, seen)

    def _duplicate(self, key: str, where: int, seen: int) -> None:
        record, line = unpack(where)
        first_record, first_line = unpack(seen)
        prop = self.schema.unique[0]
        self.duplicates += 1
        self.invalid += 1
        self.error(
            Reason.SCHEMA_VIOLATION,
            _record_error_at(
                record,
                line,
                prop,
                f"{prop} {clip(key, 80)!r} is not unique: already used by "
                f"{_place(first_record, first_line, self.fmt)}",
                self.fmt,
            ),
        )

    def finish_unique(self) -> None:
        if self.unique is None:
            return
        for key, where, seen in self.unique.finish():
            self._duplicate(key, where, seen)
        self.unique.close()


def _wheres(first_record: int, first_line: int, line_step: int, count: int) -> range:
    """pack(record, line) of ``count`` consecutive records, as a lazy range."""
    step = pack(1, line_step)
    start = pack(first_record, first_line)
    return range(start, start + step * count, step)


def _json_formulas(data: bytes) -> int:
    """String values starting like a formula (a quick scan first: most files have none)."""
    return len(_FORMULA_JSON.findall(data)) if _FORMULA_HINT.search(data) else 0


def _place(record: int, line: int, fmt: FileFormat) -> str:
    if fmt is FileFormat.JSON:
        return f"$[{record - 1}]"
    if fmt is FileFormat.NDJSON:
        return f"line {line}"
    return f"record {record} (line {line})"


def _record_error_at(
    record: int, line: int, column: str | None, message: str, fmt: FileFormat
) -> LocatedError:
    """A LocatedError for record ``record`` (1-based) in the format's own terms."""
    if fmt is FileFormat.CSV:
        loc = f"record {record} (line {line})" + (f", column {column}" if column else "")
        return LocatedError(clip(message), loc, record, line, column, None)
    if fmt is FileFormat.NDJSON:
        path = f"$.{column}" if column else None
        loc = f"line {line}" + (f", {path}" if path else "")
        return LocatedError(clip(message), loc, record, line, column, path)
    path = f"$[{record - 1}]" + (f".{column}" if column else "")
    return LocatedError(clip(message), path, record, line or None, column, path)


def _column_of(path: str | None) -> str | None:
    """ "$.priority" -> "priority"; deeper or absent paths -> None."""
    if path and path.startswith("$.") and "." not in path[2:] and "[" not in path[2:]:
        return path[2:]
    return None


def validate_stream(
    stream: BinaryIO,
    *,
    key: str,
    schema: CompiledSchema,
    limits: Limits,
    fmt: FileFormat | None = None,
) -> ValidationSummary:
    """Validate every record of ``stream`` against ``schema`` in one pass, in constant memory.

    ``key`` is the object key or file name (its extension names the format unless
    ``fmt`` is given). Never raises for any content; only errors reading ``stream``
    itself (network, disk) propagate.
    """
    fmt = fmt if fmt is not None else format_for_key(key)
    source = _Source(stream, limits.max_bytes)
    col = _Collector(schema, limits, fmt or FileFormat.JSON)
    columns: list[str] | None = None
    encoding: str | None = None
    empty = False
    try:
        head = _read_head(source, limits.sniff_bytes)
        complete = len(head) < limits.sniff_bytes
        if fmt is None:
            col.error(
                Reason.UNSUPPORTED_TYPE,
                LocatedError("not a .csv, .json, .ndjson or .jsonl file", "file"),
            )
            source.drain()
        else:
            reason, detail = (
                check_content(head, fmt, complete=complete) if head else (Reason.EMPTY_FILE, "")
            )
            if reason is not None:
                message = detail or "the file is empty (0 bytes)"
                col.error(reason, LocatedError(message, "file"))
                empty = reason is Reason.EMPTY_FILE
                source.drain()
            else:
                encoding = detail
                source.prime(head)
                body = _Prefixed(source, head)
                try:
                    if fmt is FileFormat.CSV:
                        columns, empty = _validate_csv(body, col)
                    elif fmt is FileFormat.NDJSON:
                        empty = _validate_ndjson(body, col)
                    else:
                        empty = _validate_json(body, col)
                except _EncodingError as exc:
                    col.error(
                        Reason.BAD_ENCODING,
                        LocatedError(exc.message, f"line {exc.line}", line=exc.line),
                    )
                    source.drain()
                except _FatalError:
                    source.drain()
                col.finish_unique()
        sha256 = source.sha.hexdigest()
    except _TooLargeError:
        col.error(
            Reason.TOO_LARGE,
            LocatedError(f"more than {limits.max_bytes} bytes; reading stopped there", "file"),
        )
        sha256 = ""
    finally:
        if col.unique is not None:
            col.unique.close()
    if empty and not col.reasons:
        col.error(
            Reason.EMPTY_FILE,
            LocatedError("the file holds no data (only whitespace or a byte-order mark)", "file"),
        )
    elif col.records == 0 and not col.reasons:
        col.error(Reason.SCHEMA_VIOLATION, LocatedError("the file has no records", "file"))
    reason = next((r for r in REASON_PRECEDENCE if r in col.reasons), None)
    errors = sorted(col.errors, key=lambda e: (e.record or 0, e.line or 0))[: limits.max_errors]
    summary = ValidationSummary(
        valid=reason is None,
        reason=reason,
        format=fmt,
        encoding=encoding,
        size=source.size,
        sha256=sha256,
        records=col.records,
        invalid_records=min(col.invalid, col.records),
        errors=errors,
        errors_truncated=col.error_count > len(errors),
        columns=columns,
        schema=schema.name,
        job_ids=(col.unique.count - col.duplicates) if col.unique is not None else 0,
        first_submitted_at=None if col.first_time is None else col.first_time.isoformat(),
        last_submitted_at=None if col.last_time is None else col.last_time.isoformat(),
        formula_cells=col.formula_cells,
    )
    summary.fit_budget()
    return summary


def _read_head(source: _Source, size: int) -> bytes:
    """The first ``size`` bytes (or the whole file), unchecked: the content check words
    problems in the head better (a gzip file is UNSUPPORTED_TYPE, not bad UTF-8)."""
    parts: list[bytes] = []
    have = 0
    while have < size:
        data = source.read_chunk(size - have, check=False)
        if not data:
            break
        parts.append(data)
        have += len(data)
    return b"".join(parts)


class _Prefixed:
    """The source with the already-read head put back in front."""

    def __init__(self, source: _Source, head: bytes) -> None:
        self.source = source
        self._head = head

    def read(self, n: int = CHUNK) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            return out
        return self.source.read_chunk(n)


# ---------------------------------------------------------------------------- NDJSON
def _validate_ndjson(body: _Prefixed, col: _Collector) -> bool:
    """Validate one record a line. Returns True when the file held no data at all."""
    limit = col.limits.max_record_bytes
    pending = b""
    line_no = 0  # lines fully processed
    first = True
    oversized = False
    saw_data = False
    while True:
        chunk = body.read(CHUNK)
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
        data = pending + chunk if pending else chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            pending = data
        else:
            saw_data = _ndjson_block(data[:cut], line_no + 1, col) or saw_data
            line_no += data.count(b"\n", 0, cut)
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
    if pending.strip(_JSON_WS):
        saw_data = _ndjson_block(pending, line_no + 1, col) or saw_data
    return not saw_data


_WINDOW = 64
_NEWLINE = re.compile(rb"\n")
_FIRST_INDEX = re.compile(r"`\$\[(\d+)\]")
_AT_BYTE = re.compile(r"\(byte (\d+)\)")


def _ndjson_block(block: bytes, first_line: int, col: _Collector) -> bool:
    """Validate whole lines; returns whether any non-blank line was seen.

    The block is decoded in one msgspec call. When a line fails, the block is taken in
    windows of ``_WINDOW`` lines: msgspec's error names the first failing line (``$[k]``
    or a byte offset), the lines before it are decoded as one batch again, that line is
    checked alone (and located), and decoding resumes after it. So a file with scattered
    errors costs a few batch passes, not a per-line pass.
    """
    col.formula_cells += _json_formulas(block)
    limit = col.limits.max_record_bytes
    if len(block) > limit and max(map(len, block.split(b"\n"))) > limit:
        return _ndjson_lines(_split_lines(block), first_line, col)
    if _ndjson_fast(block, 0, len(block), first_line, col, check=True):
        return True
    # Something failed: go through windows of _WINDOW lines, so that each error costs
    # a window's decode rather than the rest of the block's.
    starts = [0, *(m.end() for m in _NEWLINE.finditer(block))]
    if starts[-1] != len(block):
        starts.append(len(block))
    count = len(starts) - 1
    saw = False
    i = 0
    while i < count:
        j = min(i + _WINDOW, count)
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


def _ndjson_failing_line(block: bytes, start: int, end: int, col: _Collector) -> int | None:
    """None if every line of ``data`` decodes, else the index of the first that fails.

    With blank lines the index can be early (msgspec counts records, not lines); the
    caller then re-checks correct lines, which is slower but still exact.
    """
    try:
        col.schema.decode_lines(memoryview(block)[start:end])
    except RecordError as exc:
        m = _FIRST_INDEX.search(f"`{exc.path}")
        return int(m.group(1)) if m else 0
    except msgspec.ValidationError as exc:
        m = _FIRST_INDEX.search(str(exc))
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
    block: bytes, start: int, end: int, first_line: int, col: _Collector, *, check: bool = False
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
    line_count = block.count(b"\n", start, end) + (0 if block[end - 1] == 0x0A else 1)
    if len(objs) != line_count:
        # Blank lines: decode_lines skipped them, so record i is not line i.
        return _ndjson_lines(_split_lines(block[start:end]), first_line, col)
    first_record = col.records + 1
    col.records += len(objs)
    col.valid_batch(objs, _wheres(first_record, first_line, 1, len(objs)))
    return bool(objs)


def _ndjson_lines(lines: list[bytes], first_line: int, col: _Collector) -> bool:
    """One line at a time, each error located; returns whether any line had data."""
    schema = col.schema
    limit = col.limits.max_record_bytes
    saw = False
    for i, line in enumerate(lines):
        if not line.strip(_JSON_WS):
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
            column = _column_of(err.path)
            loc = f"line {line_no}" + (f", {err.path}" if err.path and err.path != "$" else "")
            located = LocatedError(err.message, loc, col.records, line_no, column, err.path)
            col.error(err.reason, located)
            continue
        col.valid_batch([obj], (pack(col.records, line_no),))
    return saw


# ------------------------------------------------------------------------------ JSON
class _Buffer:
    """A sliding window over the body, with line counting for error locations."""

    def __init__(self, body: _Prefixed) -> None:
        self.body = body
        self.buf = body.read(CHUNK).removeprefix(UTF8_BOM)
        self.eof = not self.buf
        self.pos = 0
        self.base_line = 1  # line number at buf[0]

    def more(self) -> bool:
        """Drop consumed bytes and append the next chunk; False at the end."""
        if self.eof:
            return False
        chunk = self.body.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.base_line += self.buf.count(b"\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def skip_ws(self) -> bool:
        """Advance past JSON whitespace; False if the data ended."""
        while True:
            buf = self.buf
            n = len(buf)
            pos = self.pos
            while pos < n and buf[pos] in _JSON_WS:
                pos += 1
            self.pos = pos
            if pos < n:
                return True
            if not self.more():
                return False

    def line_at(self, pos: int) -> int:
        return self.base_line + self.buf.count(b"\n", 0, pos)


def _validate_json(body: _Prefixed, col: _Collector) -> bool:
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


def _json_single(b: _Buffer, col: _Collector) -> None:
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
        raise _FatalError
    data = b"".join(parts)
    col.formula_cells += _json_formulas(data)
    try:
        obj = col.schema.decode_record(data)
    except RECORD_EXCEPTIONS as exc:
        err = to_record_error(exc)
        path = err.path or "$"
        line = err.line_in(data, b.line_at(b.pos))
        location = path if err.reason is Reason.SCHEMA_VIOLATION else f"{path} (line {line})"
        col.error(err.reason, LocatedError(err.message, location, 1, line, _column_of(path), path))
        return
    col.invalid = 0
    col.valid_batch([obj], (pack(1, 0),))


def _json_array(b: _Buffer, col: _Collector) -> None:
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
            col.formula_cells += _json_formulas(run)
            limit = col.limits.max_record_bytes
            try:
                if len(run) > limit and max(map(len, _FLAT_ITEM.findall(run + b","))) > limit:
                    raise RecordError(Reason.SCHEMA_VIOLATION, "a record is too large")
                objs = schema.decode_array(b"[" + run + b"]")
            except RECORD_EXCEPTIONS:
                index = _json_run_slowly(b, run, index, col)
            else:
                col.valid_batch(objs, _wheres(index + 1, 0, 0, len(objs)))
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
            value = b.buf[start:end].strip(_JSON_WS)
            if not value:
                what = "]" if b.buf[end] == ord("]") else ","
                _malformed(col, b, f"expected a value before {what!r}", index, end)
            index += 1
            col.records = index
            col.formula_cells += _json_formulas(value)
            if len(value) > col.limits.max_record_bytes:
                _too_large_element(col, index - 1, b.line_at(start))
            else:
                try:
                    obj = schema.decode_record(value)
                except RECORD_EXCEPTIONS as exc:
                    lead = len(b.buf[start:end]) - len(b.buf[start:end].lstrip(_JSON_WS))
                    line = b.line_at(start + lead)
                    _element_error(col, to_record_error(exc), index, value, line)
                else:
                    col.valid_batch([obj], (pack(index, 0),))
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
        while after < len(buf) and buf[after] in _JSON_WS:
            after += 1
        if after >= len(buf) or buf[after] == 0x7B:  # "{" (or the data ends: more to come)
            return pos
        pos += 1  # the next search finds a "}," that starts before this one
    return -1


def _json_run_fast(b: _Buffer, run: bytes, index: int, col: _Collector) -> int | None:
    """Validate ``run`` (elements separated by commas) as a batch; None if it is not
    a sequence of complete elements (then the exact path takes over). Returns the index."""
    data = b"[" + run + b"]"
    try:
        objs = col.schema.decode_array(data)
    except RECORD_EXCEPTIONS:
        pass
    else:
        col.formula_cells += _json_formulas(run)
        col.valid_batch(objs, _wheres(index + 1, 0, 0, len(objs)))
        col.records = index + len(objs)
        return index + len(objs)
    try:
        raws = _RAW_LIST.decode(data)
    except RECORD_EXCEPTIONS:
        return None  # a false cut or broken JSON: the exact path decides which
    col.formula_cells += _json_formulas(run)
    # Some records fail the schema: windows of _WINDOW records, so each error costs a
    # window's decode; msgspec names the first failing record of a window.
    cursor = 0
    for w in range(0, len(raws), _WINDOW):
        window = raws[w : w + _WINDOW]
        i = 0
        while i < len(window):
            rest = window[i:]
            k = _json_failing_record(rest, col)
            if k is None:
                _json_raws_valid(rest, index, col)
                index += len(rest)
                break
            if k:
                _json_raws_valid(rest[:k], index, col)
                index += k
            bad = bytes(rest[k])
            index += 1
            col.records = index
            found = run.find(bad, cursor)
            cursor = max(cursor, found)
            line = b.line_at(b.pos + found) if found >= 0 else 0
            try:
                obj = col.schema.decode_record(bad)
            except RECORD_EXCEPTIONS as exc:
                _element_error(col, to_record_error(exc), index, bad, line)
            else:  # the batch blamed it for a later record's error: it is fine
                col.valid_batch([obj], (pack(index, 0),))
            i += k + 1
    return index


def _json_failing_record(raws: list[msgspec.Raw], col: _Collector) -> int | None:
    """None if every record decodes, else the index of the first that does not."""
    try:
        col.schema.decode_array(b"[" + b",".join(raws) + b"]")
    except RecordError as exc:
        m = _FIRST_INDEX.search(f"`{exc.path}")
        return min(int(m.group(1)), len(raws) - 1) if m else 0
    except msgspec.ValidationError as exc:
        m = _FIRST_INDEX.search(str(exc))
        return min(int(m.group(1)), len(raws) - 1) if m else 0
    except RECORD_EXCEPTIONS:
        return 0
    return None


def _json_raws_valid(raws: list[msgspec.Raw], index: int, col: _Collector) -> None:
    objs = col.schema.decode_array(b"[" + b",".join(raws) + b"]")
    col.valid_batch(objs, _wheres(index + 1, 0, 0, len(objs)))
    col.records = index + len(objs)


def _json_run_slowly(b: _Buffer, run: bytes, index: int, col: _Collector) -> int:
    """One record at a time through a run that failed as a whole, to locate each error."""
    schema = col.schema
    for m in _FLAT_ITEM.finditer(run + b","):
        index += 1
        col.records = index
        if len(m.group(1)) > col.limits.max_record_bytes:
            _too_large_element(col, index - 1, b.line_at(b.pos + m.start(1)))
            continue
        try:
            obj = schema.decode_record(m.group(1))
        except RECORD_EXCEPTIONS as exc:
            _element_error(
                col, to_record_error(exc), index, m.group(1), b.line_at(b.pos + m.start(1))
            )
            continue
        col.valid_batch([obj], (pack(index, 0),))
    return index


def _element_error(
    col: _Collector, err: RecordError, index: int, data: bytes, first_line: int
) -> None:
    """Record the error of array element ``index`` (1-based); stop if it is not a schema one."""
    path = f"$[{index - 1}]" + (err.path or "$")[1:]
    line = err.line_in(data, first_line)
    location = path if err.reason is Reason.SCHEMA_VIOLATION else f"{path} (line {line})"
    col.invalid += 1
    col.error(
        err.reason, LocatedError(err.message, location, index, line, _column_of(err.path), path)
    )
    if err.reason is not Reason.SCHEMA_VIOLATION:
        raise _FatalError


def _scan_element(b: _Buffer, col: _Collector, index: int) -> tuple[int, int | None]:
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


def _too_large_element(col: _Collector, index: int, line: int) -> None:
    limit = col.limits.max_record_bytes
    col.invalid += 1
    path = f"$[{index}]"
    col.error(
        Reason.SCHEMA_VIOLATION,
        LocatedError(
            f"record larger than the {limit}-byte limit", path, index + 1, line, None, path
        ),
    )


def _json_trailer(b: _Buffer, col: _Collector) -> None:
    """After the closing bracket only whitespace may follow."""
    if b.skip_ws():
        _malformed(col, b, "unexpected data after the end of the array", None, b.pos)


def _malformed(
    col: _Collector, b: _Buffer, message: str, index: int | None, pos: int | None = None
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
    raise _FatalError


# ------------------------------------------------------------------------------- CSV
_CSV_BATCH = 2000


class _CsvBatch:
    """Rows waiting to be validated together: one msgspec call per batch, not per row."""

    def __init__(self, header: list[str], col: _Collector, *, check: bool) -> None:
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
                column = _column_of(err.path)
                message = err.message
                if column is not None and column in row_cells and "got `str`" in message:
                    message = message.replace("got `str`", f"got {clip(row_cells[column], 60)!r}")
                col.invalid += 1
                record, line = unpack(where)
                located = _record_error_at(record, line, column, message, FileFormat.CSV)
                col.error(err.reason, located)
                continue
            col.valid_batch([obj], (where,))


def _csv_formulas(cells: Iterable[str]) -> int:
    """Cells starting like a formula (substring checks first: most files have none)."""
    joined = "\x00" + "\x00".join(cells)
    if "\x00=" in joined or "\x00+" in joined or "\x00-" in joined or "\x00@" in joined:
        return len(_FORMULA_CELL.findall(joined))
    return 0


def _validate_csv(body: _Prefixed, col: _Collector) -> tuple[list[str] | None, bool]:
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
                    _record_error_at(records, line, None, message, FileFormat.CSV),
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
            _record_error_at(records + 1, reader.line_num, None, message, FileFormat.CSV),
        )
        raise _FatalError from None
    except _LineTooLongError as exc:
        col.records = records
        limit = col.limits.max_record_bytes
        message = f"line longer than the {limit}-byte limit"
        col.error(Reason.SCHEMA_VIOLATION, LocatedError(message, f"line {exc.line}", line=exc.line))
        raise _FatalError from None
    return header, False


def _check_header(header: list[str], col: _Collector) -> bool:
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

    def __init__(self, body: _Prefixed, col: _Collector) -> None:
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


__all__ = ["RecordError", "validate_stream"]
