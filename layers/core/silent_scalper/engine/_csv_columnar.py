"""CSV through a columnar parser: whole records a block at a time, checked a column at a time.

The row path (``_csv``) reads a file with the ``csv`` module, transposes batches of rows
and converts each column with msgspec: about 30 MB/s, most of it spent building one
Python string per cell. This path splits blocks of whole records (about 1 MiB) into
Arrow string columns and checks each column with Arrow compute kernels, so a valid row
never becomes Python objects except its unique key. A block in the plain form every
reader agrees on is split by the compiled module (``_native.split_csv``, held by the
tests to pyarrow's and the csv module's readings); any other block, and every block
when the module is not built, is read by pyarrow's CSV parser (one thread). It is a
*filter*:

- a column check only ever accepts cells the exact check accepts (integers by their
  grammar and exact int64 bounds, numbers by a short grammar and *strict* float
  comparisons, which cannot accept a value outside a bound; RE2 patterns only when the
  pattern's syntax means the same in RE2 as in Python, else the schema takes the row
  path); a row any check refuses goes, alone, through the exact check, which words and
  locates its problems;
- a block is only read by pyarrow when pyarrow's reading of it is the ``csv`` module's: every
  ``"`` opens a field at a field start and closes it before a delimiter or line end
  (``_ALL_QUOTED``), every row has the header's width (pyarrow refuses
  others), no cell is over the ``csv`` module's field limit, and the block's physical
  lines are its rows plus the line breaks inside cells (so no blank line was skipped).
  The first block where any of that fails, and everything after it, takes the row path,
  which then reports exactly what it always did, from the same record and line on.

Blocks end at a line break outside quotes (an even number of ``"`` before it), so a block
holds whole records: at a line feed, or in a file whose header ends in a bare CR (classic
Mac line ends, which the ``csv`` module ends lines at too) at a CR that no line feed
follows; a record longer than the block limit sends the rest of the file to
the row path, which bounds it by ``max_record_bytes``. Memory is a block and its columns.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from silent_scalper.engine._classes import ClassShape, class_chars, class_shape, class_tables
from silent_scalper.engine._collect import Collector, consecutive
from silent_scalper.engine._constraints import INT64_MAX, INT64_MIN
from silent_scalper.engine._scan import newline_count, quote_count
from silent_scalper.engine._source import CHUNK, EncodingError, Prefixed
from silent_scalper.engine._struct import ANNOTATIONS, clamp_int64, integer_range
from silent_scalper.engine.types import Reason
from silent_scalper.engine.unique import LINE_MASK, unpack

#: One quoted field as the csv module reads it: opened at a field start, closed before a
#: delimiter, a line end or the end of the block. Possessive, so it never backtracks.
_QUOTED = rb'"(?<![^,\r\n]")(?:[^"]++|"")*+"(?=[,\r\n]|\Z)'
#: A block whose every quote is in such a field: one match over the block (a
#: substitution of the fields, then counting the quotes left, took twice as long).
_ALL_QUOTED = re.compile(rb'(?:[^"]++|' + _QUOTED + rb")*+\Z")
#: A CR not followed by an LF (one pass; counting CRs and CRLFs took two).
_BARE_CR = re.compile(rb"\r(?!\n)")
#: A record longer than this (pending without a safe cut) sends the rest to the row path.
_MAX_PENDING = 4 * CHUNK
#: Integers the int64 kernels hold exactly: up to 18 digits, JSON's integer grammar.
_INT64 = r"^-?(?:0|[1-9][0-9]{0,17})$"
#: Numbers whose float64 comparison with a bound can be trusted when it is strict.
_SHORT_NUMBER = r"^-?(?:0|[1-9][0-9]{0,15})(?:\.[0-9]{1,16})?$"
#: RFC 3339 date-time (section 5.6) with the day checked against its month and year;
#: year 0000 is refused separately (RE2 has no look-ahead).
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    r"(?:[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
)
_DATE_TIME = (
    rf"^{_DATE}[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])$"
)
#: Longest date-time text whose instant fits microseconds exactly (6 fraction digits).
_DATE_TIME_US = len("2026-01-01T00:00:00.000000+00:00")
#: A plain ASCII e-mail address: dot-atom local part, two or more host-name labels. Every
#: address it takes, the exact e-mail rule takes (the length limits are checked beside it).
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = rf"^{_ATEXT}+(?:\.{_ATEXT}+)*@{_LABEL}(?:\.{_LABEL})+$"
#: A cell a spreadsheet reads as a formula, and the signed numbers that are not counted.
_FORMULA_START = r"^[=+\-@]"
_SIGNED_NUMBER = r"^[-+][0-9.]+(?:[eE][-+]?[0-9]+)?$"
#: The patterns the compiled module matches without a regex (its grammar numbers).
_GRAMMARS = {_DATE_TIME: 0, _EMAIL: 1, _SHORT_NUMBER: 2, _INT64: 3}
#: Pattern syntax that means the same to RE2 as to Python's re (a pattern with anything
#: else, such as \w, \s, \b or a look-around, keeps the schema on the row path).
_RE2_SAFE = re.compile(r"(?:[^\\(]|\\[-.^$*+?()\[\]{}|/\\d]|\((?!\?)|\(\?:)*\Z", re.DOTALL)

type Mask = Any  # a pyarrow BooleanArray: True where a cell is certainly acceptable
type Check = Callable[[Any], Mask]
type ExactRows = Callable[[list[list[str]], list[int], list[frozenset[str]]], None]
type ToTimes = Callable[[list[str]], list[datetime]]
#: A parsed block: its columns (Arrow strings), rows, physical lines, and each row's
#: physical lines when some cell holds a line break (else None).
type _Parsed = tuple[list[Any], int, int, Any]

#: The compiled split (``_native.split_csv``): the rows, each column's Arrow offsets and
#: text, the line breaks in cells and each row's physical lines (int64), or None.
type _Split = tuple[int, list[tuple[bytes, bytes]], int, bytes | None]

_split_csv: Callable[[bytes, int, int], _Split | None] | None
#: The compiled cell grammars (``_native.match_format`` and ``match_class``): the cells of
#: a string array's buffers they accept, as an Arrow bitmap.
_match_format: Callable[[Any, Any, int, int, int], bytes] | None
_match_class: Callable[[Any, Any, int, int, bytes, bytes, int, int], bytes] | None
#: An integer column's check in one pass (``_native.match_integer``: the ``_INT64``
#: grammar and inclusive int64 bounds), and a text column's formula count
#: (``_native.formula_cells``: :func:`_formulas` over a string array's buffers).
_match_integer: Callable[[Any, Any, int, int, int, int], bytes] | None
_formula_cells: Callable[[Any, Any, int, int], int] | None
#: A number column's check in one pass (``_native.match_number``: :func:`_numbers`).
_match_number: Callable[[Any, Any, int, int, float, float], bytes] | None
try:
    from silent_scalper.engine import _native
except ImportError:  # not built: pyarrow's parser and RE2 for every block
    _split_csv = _match_format = _match_class = _match_integer = _formula_cells = None
    _match_number = None
else:
    _split_csv, _match_format = _native.split_csv, _native.match_format
    _match_class = _native.match_class
    _match_integer, _formula_cells = _native.match_integer, _native.formula_cells
    _match_number = _native.match_number


def available() -> bool:
    """Whether pyarrow can be imported (the layer ships it; a bare install may not)."""
    try:
        import pyarrow.compute  # noqa: PLC0415
        import pyarrow.csv  # noqa: F401, PLC0415
    except ImportError:  # pragma: no cover - pyarrow is a runtime dependency
        return False
    return True


def load() -> bool:
    """:func:`available`, with pyarrow's own imports on first use done as well (its first
    conversion of a Python value imports ``dateutil``): after it, reading a file imports
    nothing."""
    if not available():  # pragma: no cover - pyarrow is a runtime dependency
        return False
    import pyarrow as pa  # noqa: PLC0415
    import pyarrow.compute as pc  # noqa: PLC0415

    pc.not_equal(pa.array([""], pa.string()), "")
    return True


@dataclass(frozen=True, slots=True)
class Plan:
    """How one header of one schema is checked in columns (see :func:`plan`)."""

    header: tuple[str, ...]
    checks: tuple[tuple[int, Check], ...]
    required: tuple[int, ...]
    text: tuple[int, ...]  # columns whose cells count as formulas
    key: int | None  # the unique key's column (a string property)
    time: int | None  # the x-timestamp column (a date-time string property)
    #: Text columns whose check accepts no cell starting like a formula: only the cells
    #: it refuses are looked at for formulas.
    formula_free: frozenset[int] = frozenset()


def plan(
    document: Mapping[str, Any],
    header: list[str],
    *,
    unique: tuple[str, ...],
    timestamp: str | None,
    text_columns: frozenset[str] | None,
) -> Plan | None:
    """Column checks for ``header`` under the schema ``document``, or None when some
    property uses a keyword these checks do not cover exactly (the row path then reads
    the file). The header is already known to be valid for the schema."""
    import pyarrow as pa  # noqa: PLC0415

    props = document.get("properties", {})
    if not isinstance(props, dict) or len(set(header)) != len(header):
        return None
    required = document.get("required", [])
    checks: list[tuple[int, Check]] = []
    formula_free: set[int] = set()
    for i, name in enumerate(header):
        sub = props.get(name, {})
        if not isinstance(sub, dict):
            return None
        check = _property_check(sub, pa)
        if check is False:
            return None
        if check is not True:
            checks.append((i, check))
            if _never_a_formula(sub):
                formula_free.add(i)
    at = {name: i for i, name in enumerate(header)}
    key = at.get(unique[0]) if unique else None
    if key is not None and props.get(unique[0], {}).get("type") != "string":
        return None  # a key of another type is compared as JSON text: the row path has it
    time = at.get(timestamp) if timestamp else None
    if timestamp and (
        time is None
        or props.get(timestamp, {}).get("type") != "string"
        or props.get(timestamp, {}).get("format") != "date-time"
    ):
        return None
    return Plan(
        header=tuple(header),
        checks=tuple(checks),
        required=tuple(at[p] for p in required if p in at),
        text=tuple(
            i for i, name in enumerate(header) if text_columns is None or name in text_columns
        ),
        key=key,
        time=time,
        formula_free=frozenset(formula_free),
    )


#: The characters a spreadsheet formula starts with.
_FORMULA_CHARS = "=+-@"


def _never_a_formula(sub: dict[str, Any]) -> bool:
    """Whether every cell the property's check accepts starts with none of "=+-@": a
    date-time (a digit), an enum of such words, or a pattern that is ``^`` then a plain
    character class (ranges and characters, no negation, escape or alternation)."""
    if sub.get("format") == "date-time":
        return True
    values = sub.get("enum")
    if isinstance(values, list) and all(isinstance(v, str) and v for v in values):
        return not any(v[0] in _FORMULA_CHARS for v in values)
    pattern = sub.get("pattern")
    if not isinstance(pattern, str) or "|" in pattern or not pattern.startswith("^["):
        return False
    end = pattern.find("]", 2)
    body = pattern[2:end]
    if end < 0 or not body or body[0] == "^" or "\\" in body or "[" in body:
        return False
    chars = class_chars(body)
    return chars is not None and not set(chars) & set(_FORMULA_CHARS.encode())


def _property_check(sub: dict[str, Any], pa: Any) -> Check | bool:
    """The column check of one property: True (any cell), False (not covered), or a
    function of a string column giving the cells certainly acceptable (empty = absent)."""
    import pyarrow.compute as pc  # noqa: PLC0415

    keys = set(sub) - ANNOTATIONS
    kind = sub.get("type")
    if not keys:
        return True
    if not isinstance(kind, str):
        return False
    conds: list[Check] = []
    if kind == "string":
        if keys - {"type", "enum", "pattern", "minLength", "maxLength", "format"}:
            return False
        if "enum" in sub:
            values = sub["enum"]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                return False
            allowed = pa.array(values, pa.string())
            conds.append(lambda col: pc.is_in(col, value_set=allowed))
        fmt = sub.get("format")
        if fmt == "date-time":
            conds.append(lambda col: _date_time_cells(col, pa, pc))
        elif fmt == "email":
            conds.append(lambda col: _email_cells(col, pa, pc))
        elif fmt is not None:
            return False
        pattern = sub.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not _re2_means_the_same(pattern, pc):
                return False
            shape = class_shape(pattern)
            if shape is None:
                conds.append(lambda col: pc.match_substring_regex(col, pattern))
            else:
                conds.append(_class_check(shape, pattern, pa, pc))
        lo, hi = sub.get("minLength"), sub.get("maxLength")
        if lo is not None or hi is not None:
            conds.append(lambda col: _between(pc.utf8_length(col), lo, hi, pc))
    elif kind in ("integer", "number", "boolean"):
        bounds = keys - {"type"}
        if kind == "boolean":
            if bounds:
                return False
            allowed = pa.array(["true", "false"], pa.string())
            conds.append(lambda col: pc.is_in(col, value_set=allowed))
        elif bounds - {"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"}:
            return False
        elif kind == "integer":
            limits = {k: sub[k] for k in bounds}
            if not all(type(v) is int for v in limits.values()):
                return False
            conds.append(lambda col: _integers(col, limits, pa, pc))
        else:
            limits = {k: sub[k] for k in bounds}
            if not all(type(v) in (int, float) for v in limits.values()):
                return False
            conds.append(lambda col: _numbers(col, limits, pa, pc))
    else:
        return False
    if not conds:
        return True

    def check(col: Any) -> Mask:
        ok = conds[0](col)
        for cond in conds[1:]:
            ok = pc.and_(ok, cond(col))
        return ok

    return check


def _class_check(shape: ClassShape, pattern: str, pa: Any, pc: Any) -> Check:
    """A column check for a :class:`ClassShape` pattern without a regex per cell.

    With the compiled module, one pass over the column's cells (``match_class``).
    Without it: when every cell's length is within the pattern's, every byte of the
    column's text is in the class and every first character in the first class, every
    cell matches: two kernels and a ``bytes.translate`` over the column's text.
    Otherwise the column takes the regex kernel, which says which cells do not.
    """
    tables = class_tables(shape)

    def check(col: Any) -> Mask:
        if _match_class is not None:
            match = _match_class
            mask = _bitmaps(col, pa, lambda o, d, at, n: match(o, d, at, n, *tables))
            if mask is not None:
                return mask
        sizes = pc.binary_length(col)
        span = pc.min_max(sizes)
        shortest, longest = span["min"].as_py(), span["max"].as_py()
        if (
            shortest is not None
            and shortest >= shape.shortest
            and (shape.longest is None or longest <= shape.longest)
            and _only(col, shape.rest, pa)
            and (shape.first is None or _only(pc.utf8_slice_codeunits(col, 0, 1), shape.first, pa))
        ):
            return pc.equal(sizes, sizes)  # all true, shaped like the column
        return pc.match_substring_regex(col, pattern)

    return check


def _matching(col: Any, pattern: str, pa: Any, pc: Any) -> Mask:
    """The cells RE2 matches with ``pattern``: by the compiled grammar when the pattern
    is one of ``_GRAMMARS`` and the module is built, else by the regex kernel."""
    kind = _GRAMMARS.get(pattern)
    mask = None if kind is None else _format_cells(col, kind, pa)
    return pc.match_substring_regex(col, pattern) if mask is None else mask


#: The compiled grammars of :func:`_email_cells` and :func:`_date_time_cells`.
_EMAIL_BOUNDED = 4
_RULE_DATE_TIME = 5


def _date_time_cells(col: Any, pa: Any, pc: Any) -> Mask:
    """Date-time cells as the exact rule reads them: ``_DATE_TIME`` and no year 0000
    (the rule's look-ahead, which RE2 cannot say). One compiled pass when the module is
    built, else the grammar and two kernels."""
    mask = _format_cells(col, _RULE_DATE_TIME, pa)
    if mask is not None:
        return mask
    return pc.and_(_matching(col, _DATE_TIME, pa, pc), pc.invert(pc.starts_with(col, "0000")))


def _email_cells(col: Any, pa: Any, pc: Any) -> Mask:
    """E-mail cells: ``_EMAIL``, at most 254 bytes, a local part of at most 64 (RFC
    5321's limits). One compiled pass when the module is built, else four kernels."""
    mask = _format_cells(col, _EMAIL_BOUNDED, pa)
    if mask is not None:
        return mask
    return pc.and_(
        pc.match_substring_regex(col, _EMAIL),
        pc.and_(
            pc.less_equal(pc.binary_length(col), 254),
            pc.less_equal(pc.find_substring(col, "@"), 64),
        ),
    )


def _format_cells(col: Any, kind: int, pa: Any) -> Mask | None:
    """The cells compiled grammar ``kind`` accepts, or None without the module (or for a
    column it cannot read: see :func:`_bitmaps`)."""
    if _match_format is None:
        return None
    match = _match_format
    return _bitmaps(col, pa, lambda o, d, at, n: match(o, d, at, n, kind))


def _per_chunk[T](
    col: Any, pa: Any, fn: Callable[[Any, Any, int, int], T]
) -> list[tuple[Any, T | None]] | None:
    """Each chunk of a string column with ``fn`` over its buffers (offsets, data, first
    cell, cells; None for an empty chunk without buffers); None for a column with nulls
    or of another type (the kernels then decide)."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    found: list[tuple[Any, T | None]] = []
    for chunk in chunks:
        if chunk.null_count or chunk.type != pa.string():
            return None
        _, offsets, data = chunk.buffers()
        if offsets is None:
            if len(chunk):
                return None
            found.append((chunk, None))
        else:
            data = b"" if data is None else data
            found.append((chunk, fn(offsets, data, chunk.offset, len(chunk))))
    return found


def _bitmaps(col: Any, pa: Any, match: Callable[[Any, Any, int, int], bytes]) -> Mask | None:
    """``match`` over each chunk's buffers, as a Boolean array chunked as the column is;
    None for a column with nulls or of another type (the regex kernel then decides)."""
    found = _per_chunk(col, pa, match)
    if found is None:
        return None
    masks = [
        pa.Array.from_buffers(pa.bool_(), len(chunk), [None, pa.py_buffer(bits or b"")])
        for chunk, bits in found
    ]
    if isinstance(col, pa.ChunkedArray):
        return pa.chunked_array(masks, pa.bool_())
    return masks[0]


def _only(col: Any, allowed: bytes, pa: Any) -> bool:
    """Whether the text of every cell of a string column is made of ``allowed`` bytes."""
    chunks = col.chunks if isinstance(col, pa.ChunkedArray) else [col]
    for chunk in chunks:
        if chunk.type != pa.string():
            return False
        _, offsets, data = chunk.buffers()
        if data is None or len(chunk) == 0:
            continue
        ends = memoryview(offsets).cast("i")
        start, end = ends[chunk.offset], ends[chunk.offset + len(chunk)]
        if bytes(memoryview(data)[start:end]).translate(None, allowed):
            return False
    return True


def _re2_means_the_same(pattern: str, pc: Any) -> bool:
    """Whether RE2 (Arrow's regex engine) reads ``pattern`` as Python's re does, as far
    as matching goes: only the syntax ``_RE2_SAFE`` lists, no ``{,n}`` (a quantifier
    to Python, literal text to RE2), and RE2 must compile it."""
    import pyarrow as pa  # noqa: PLC0415

    if _RE2_SAFE.match(pattern) is None or "{," in pattern:
        return False
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def _between(values: Any, lo: int | None, hi: int | None, pc: Any) -> Mask:
    ok = None
    if lo is not None:
        ok = pc.greater_equal(values, lo)
    if hi is not None:
        upper = pc.less_equal(values, hi)
        ok = upper if ok is None else pc.and_(ok, upper)
    return ok


#: An integer property whose bounds allow at most this many values is checked as the set
#: of their decimal texts (without the compiled module).
_SMALL_RANGE = 64


def _integers(col: Any, limits: dict[str, int], pa: Any, pc: Any) -> Mask:
    """Integer cells: the grammar (up to 18 digits), then exact int64 bounds.

    Without negative values allowed the grammar is checked with string kernels (ASCII
    digits, no leading zero, at most 18 of them; four times faster than the regex), and
    a small range as the set of its values' texts (one kernel)."""
    low, high = integer_range(limits)
    if _match_integer is not None:
        # Bounds past int64 clamp to it: no 18-digit text lies beyond either end.
        lo = INT64_MIN if low is None else clamp_int64(low)
        hi = INT64_MAX if high is None else clamp_int64(high)
        match = _match_integer
        mask = _bitmaps(col, pa, lambda o, d, at, n: match(o, d, at, n, lo, hi))
        if mask is not None:
            return mask
    if low is not None and low >= 0 and high is not None and high - low < _SMALL_RANGE:
        texts = pa.array([str(v) for v in range(low, high + 1)], pa.string())
        return pc.is_in(col, value_set=texts)
    if low is not None and low >= 0:
        size = pc.binary_length(col)
        ok = pc.and_(
            pc.and_(pc.ascii_is_decimal(col), pc.less_equal(size, 18)),
            pc.invert(pc.and_(pc.starts_with(col, "0"), pc.greater(size, 1))),
        )
    else:
        ok = _matching(col, _INT64, pa, pc)
    if not limits:
        return ok
    values = pc.cast(_accepted_or_zero(col, ok, pc), pa.int64())
    for name, bound in limits.items():
        # Clamped to int64 (an Arrow scalar): exact for values of at most 18 digits.
        ok = pc.and_(ok, _compare(values, name, clamp_int64(bound), pc, strict=False))
    return ok


def _numbers(col: Any, limits: dict[str, float], pa: Any, pc: Any) -> Mask:
    """Number cells: a short grammar, then bounds compared strictly as floats.

    Rounding to a double is monotone, so ``float(x) > float(b)`` implies ``x > b``; a
    value equal to a bound as a float (or written longer) is left to the exact check.
    With the compiled module, one pass (``_native.match_number``) that also leaves texts
    of more than 15 significant digits to the exact check.
    """
    if _match_number is not None:
        # Every bound is strict here, so only the tightest of each side counts.
        lows = [_double(v) for k, v in limits.items() if k in ("minimum", "exclusiveMinimum")]
        highs = [_double(v) for k, v in limits.items() if k in ("maximum", "exclusiveMaximum")]
        lo, hi = max(lows, default=math.nan), min(highs, default=math.nan)
        match = _match_number
        mask = _bitmaps(col, pa, lambda o, d, at, n: match(o, d, at, n, lo, hi))
        if mask is not None:
            return mask
    ok = _matching(col, _SHORT_NUMBER, pa, pc)
    if not limits:
        return ok
    values = pc.cast(_accepted_or_zero(col, ok, pc), pa.float64())
    for name, bound in limits.items():
        ok = pc.and_(ok, _compare(values, name, _double(bound), pc, strict=True))
    return ok


def _double(bound: float) -> float:
    """A bound as a double; one past a double's range is infinite, which compares
    strictly with every finite number as the bound itself does."""
    try:
        return float(bound)
    except OverflowError:
        return math.inf if bound > 0 else -math.inf


def _accepted_or_zero(col: Any, ok: Mask, pc: Any) -> Any:
    """The column with "0" for each cell the grammar refused (castable throughout); the
    column itself when it refused none (no copy)."""
    return col if pc.all(ok).as_py() else pc.if_else(ok, col, "0")


def _compare(values: Any, name: str, bound: float, pc: Any, *, strict: bool) -> Mask:
    if name in ("minimum", "exclusiveMinimum"):
        loose = name == "minimum" and not strict
        return pc.greater_equal(values, bound) if loose else pc.greater(values, bound)
    loose = name == "maximum" and not strict
    return pc.less_equal(values, bound) if loose else pc.less(values, bound)


def simple_header(head: bytes) -> tuple[list[str], int] | None:
    """The header and where the records start, when the first line is the whole header:
    no blank line before it, ending in LF, CRLF or a bare CR (``head[start - 1]`` tells
    which: a CR for the last), no other CR in it, and any quoted name closed on it (else
    the row path reads the file). Quoted names (``"job_id",...``, as exporters that quote
    every field write them) are read by the ``csv`` module, as the row path reads them."""
    start = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    end = head.find(b"\n", start)
    cr = head.find(b"\r", start, None if end < 0 else end)
    if 0 <= cr < len(head) - 1 and head[cr + 1] != 0x0A:
        end = cr  # a bare CR: the header's own, or one in a quoted name (refused below)
    if end < 0:
        return None
    line = head[start:end].removesuffix(b"\r")
    if not line.strip() or b"\r" in line:
        return None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if text.startswith("\ufeff"):
        return None  # a second byte-order mark is a cell character to the csv module
    if '"' not in text:
        return text.split(","), end + 1
    try:
        (names,) = csv.reader([text], strict=True)  # a name left open runs on: an error
    except csv.Error:
        return None
    return names, end + 1


class Resume:
    """What the row path reads after the columnar path stopped: the bytes it had not
    parsed, then the rest of the body (or the encoding error the body raised)."""

    def __init__(self, data: bytes, body: Prefixed, problem: EncodingError | None) -> None:
        self._data = data
        self._body = body
        self._problem = problem
        self.newlines = 0

    def read(self, n: int = CHUNK) -> bytes:
        if self._data:
            out, self._data = self._data, b""
            return out
        if self._problem is not None:
            problem, self._problem = self._problem, None
            raise problem
        return self._body.read(n)


@dataclass(slots=True)
class Position:
    """Where the columnar path stopped: lines as the csv module counts them."""

    lines: int


class ColumnarCsv:
    """Reads the records after a plain header; see the module docstring."""

    def __init__(
        self,
        plan: Plan,
        col: Collector,
        exact: ExactRows,
        to_times: ToTimes,
        *,
        bare_cr: bool = False,
    ) -> None:
        """``bare_cr``: the header ended in a bare CR, so blocks are cut at bare CRs."""
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.compute as pc  # noqa: PLC0415
        import pyarrow.csv as pa_csv  # noqa: PLC0415

        self._pa, self._pc, self._pa_csv = pa, pc, pa_csv
        self.plan = plan
        self.col = col
        self._exact = exact
        self._to_times = to_times
        self._read = pa_csv.ReadOptions(
            use_threads=False, column_names=list(plan.header), block_size=1 << 30
        )
        self._parse = pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=True)
        self._convert = pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in plan.header},
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
            check_utf8=False,  # the source checked every byte already
        )
        self._field_limit = csv.field_size_limit()
        # Where line breaks in cells are looked for first: free text, then the rest.
        text = set(plan.text)
        self._break_order = [*plan.text, *(i for i in range(len(plan.header)) if i not in text)]
        self._line_limit = col.limits.max_record_bytes
        self._bare_cr = bare_cr
        self._iota = pa.array([], pa.int64())  # 0, 1, 2, ... (grown as blocks need)

    def run(self, body: Prefixed, data: bytes, pos: Position) -> Resume | None:
        """Validate records from ``data`` (the bytes after the header) and the rest of
        ``body``. None when the file is done; else what the row path must read on from
        ``pos`` (updated to the lines consumed)."""
        pending = data
        pending_lfs = newline_count(data)
        while True:
            try:
                chunk = body.read(CHUNK)
            except EncodingError as problem:
                return Resume(pending, body, problem)
            buf = pending + chunk if pending else chunk
            if not buf:
                return None
            # The body counted the chunk's line feeds: the block's are known without
            # counting them again.
            buf_lfs = pending_lfs + (body.newlines if chunk else 0)
            cut = _safe_cut(buf, bare_cr=self._bare_cr) if chunk else len(buf)
            if cut == 0:
                if len(buf) > _MAX_PENDING:
                    return Resume(buf, body, None)
                pending, pending_lfs = buf, buf_lfs
                continue
            block, pending = buf[:cut], buf[cut:]
            pending_lfs = newline_count(pending)
            if not self._block(block, pos, buf_lfs - pending_lfs):
                return Resume(buf, body, None)
            if not chunk:
                return None

    # -- one block -------------------------------------------------------------------
    def _block(self, block: bytes, pos: Position, lfs: int) -> bool:
        """Validate the block's records (``lfs``: its line feeds); False (nothing
        recorded) if the row path must."""
        pc = self._pc
        if len(block) > self._line_limit and _longest_line_over(
            block, self._line_limit, bare_cr=self._bare_cr
        ):
            return False
        parsed = self._split(block) or self._read_arrow(block, lfs)
        if parsed is None:
            return False
        columns, n, lines, steps = parsed
        plan, col = self.plan, self.col
        ok = None
        masks: list[tuple[int, Mask]] = []  # (column, cells its checks accept)
        for i in plan.required:
            present = pc.not_equal(columns[i], "")
            masks.append((i, present))
            ok = present if ok is None else pc.and_(ok, present)
        refused: dict[int, Any] = {}  # formula-free columns: the cells their check refused
        required = set(plan.required)
        for i, check in plan.checks:
            column = columns[i]
            good = check(column)
            if i not in required:  # an empty cell is an absent value (refused if required)
                good = pc.or_(good, pc.equal(column, ""))
            masks.append((i, good))
            ok = good if ok is None else pc.and_(ok, good)
            if i in plan.formula_free:
                refused[i] = None if pc.all(good).as_py() else pc.filter(column, pc.invert(good))
        for i in plan.text:
            cells = refused.get(i, columns[i]) if i in plan.formula_free else columns[i]
            if cells is not None:
                col.formula_cells += _formulas(cells, pc)
        first_record = col.records + 1
        first_line = pos.lines + 1
        col.records += n
        pos.lines += lines
        far = first_line + lines > LINE_MASK  # a line past what a place holds: clamped
        wheres: Any
        if steps is None and not far:
            wheres = consecutive(first_record, first_line, 1, n)
        else:
            if steps is None:
                starts = pc.add(self._iota_to(n), first_line)
            else:
                starts = pc.subtract(pc.add(pc.cumulative_sum(steps), first_line), steps)
            if far:  # as pack() clamps them
                starts = pc.min_element_wise(starts, LINE_MASK)
            records = pc.add(self._iota_to(n), first_record)
            wheres = pc.bit_wise_or(pc.shift_left(records, 32), starts)
        bad: list[int] = []
        refusals: dict[int, list[int]] = {}
        if ok is not None and not pc.all(ok).as_py():
            at = pc.indices_nonzero(pc.invert(ok))
            bad = at.to_pylist()
            refusals = self._refusals(masks, at)
        self._record(columns, n, ok, bad, refusals, wheres)
        return True

    def _split(self, block: bytes) -> _Parsed | None:
        """The block split into columns in C (``_native.split_csv``), when the module
        is built and the block is in the plain form it reads; else None."""
        if _split_csv is None:
            return None
        split = _split_csv(block, len(self.plan.header), self._field_limit)
        if split is None:
            return None
        n, cells, breaks, lines_per_row = split
        pa = self._pa
        text = pa.string()
        columns = [
            pa.Array.from_buffers(text, n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
            for offsets, data in cells
        ]
        steps = None
        if lines_per_row is not None:
            steps = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(lines_per_row)])
        return columns, n, n + breaks, steps

    def _read_arrow(self, block: bytes, lfs: int) -> _Parsed | None:
        """The block read by pyarrow's CSV parser, when that reading is the csv
        module's (see the module docstring); else None."""
        pa, pc = self._pa, self._pc
        if b'"' in block and _ALL_QUOTED.match(block) is None:
            return None
        # A CR ends a line unless an LF follows (then the LF is counted).
        bare_crs = len(_BARE_CR.findall(block)) if b"\r" in block else 0
        terminators = lfs + bare_crs
        lines = terminators + (0 if block[-1] in b"\r\n" else 1)
        try:
            table = self._pa_csv.read_csv(
                pa.py_buffer(block),
                read_options=self._read,
                parse_options=self._parse,
                convert_options=self._convert,
            )
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return None
        n = table.num_rows
        if n == 0:
            return None
        columns = table.columns
        if len(block) > self._field_limit and any(
            (pc.max(pc.binary_length(c)).as_py() or 0) > self._field_limit for c in columns
        ):
            return None
        steps = None  # physical lines per row, when some cell holds a line break
        if lines != n:
            steps = self._row_lines(columns, n, lines - n, bare_crs > 0)
            if steps is None:
                return None
        return columns, n, lines, steps

    def _refusals(self, masks: list[tuple[int, Mask]], at: Any) -> dict[int, list[int]]:
        """For each column whose checks refused some of the refused rows (block indices
        ``at``), those rows, as places in ``at`` in order."""
        pa, pc = self._pa, self._pc
        found: dict[int, set[int]] = {}
        for i, mask in masks:
            if isinstance(mask, pa.BooleanArray) and mask.false_count == 0:
                continue  # accepted every row (counted without a kernel call)
            taken = pc.take(mask, at)
            if pc.all(taken).as_py():
                continue
            refused = pc.indices_nonzero(pc.invert(pc.fill_null(taken, False)))
            found.setdefault(i, set()).update(refused.to_pylist())
        return {i: sorted(rows) for i, rows in found.items()}

    def _suspects(self, refusals: dict[int, list[int]], wanted: list[int]) -> list[frozenset[str]]:
        """For each refused row at the places ``wanted`` (in the block's refused rows), the
        columns whose checks refused it. Past the kept errors only the few rows the
        column count could not settle are wanted: no set is made for the others."""
        header = self.plan.header
        slot = {row: k for k, row in enumerate(wanted)}
        names: list[set[str]] = [set() for _ in wanted]
        for i, rows in refusals.items():
            for row in rows:
                k = slot.get(row)
                if k is not None:
                    names[k].add(header[i])
        return [frozenset(n) for n in names]

    def _count_refused(
        self, columns: list[Any], bad: list[int], refusals: dict[int, list[int]]
    ) -> list[int] | None:
        """Refused rows (block indices ``bad``) none of whose errors a summary keeps,
        counted a column at a time: a row's problems are those of its refused cells,
        each judged alone as the exact check judges it (distinct cells once), or one for
        a cell the column's pattern or format refuses (one proven is all a count past
        the kept errors needs; a column of dates all written one wrong way is then a
        regex a cell, not a check worded). Returns the places in ``bad`` of the rows
        whose cells show no problem alone, which the exact check takes whole; None, with
        nothing counted, for a schema without flat rules."""
        pa, pc, col = self._pa, self._pc, self.col
        problems = col.schema.cell_problem_count
        counts = [0] * len(bad)  # nothing reaches the collector before the end
        for i, rows in refusals.items():
            name = self.plan.header[i]
            at = pa.array([bad[r] for r in rows], pa.int64())
            cells: list[str] = pc.take(columns[i], at).to_pylist()
            refuses = col.schema.pattern_refuses(name)
            each: dict[str, int] = {}
            for cell in set(cells):
                if cell and refuses is not None and refuses(cell):
                    each[cell] = 1
                    continue
                count = problems(name, cell)
                if count is None:
                    return None
                each[cell] = count
            for row, cell in zip(rows, cells, strict=True):
                counts[row] += each[cell]
        counted = [c for c in counts if c]
        col.invalid += len(counted)
        col.count_errors([Reason.SCHEMA_VIOLATION] * sum(counted))
        return [row for row, c in enumerate(counts) if not c]

    def _row_lines(self, columns: list[Any], n: int, breaks: int, bare_cr: bool) -> Any:
        """Physical lines of each row (1 plus the line breaks in its cells, counted as
        the csv module counts lines), or None if they do not add up to the block's.

        Text columns are counted first and counting stops once the cells' breaks make up
        the block's extra lines: the columns left cannot hold more (the block's lines
        are its rows, all the breaks in cells, and blank lines). Without a bare CR in the
        block every CR in a cell is part of a CRLF, so counting LFs is enough.
        """
        pc = self._pc
        steps = pc.add(pc.multiply(self._iota_to(n), 0), 1)
        found = 0
        holding: list[int] = []
        for i in self._break_order:
            column = columns[i]
            count = pc.count_substring(column, "\n")
            if bare_cr:
                count = pc.subtract(
                    pc.add(count, pc.count_substring(column, "\r")),
                    pc.count_substring(column, "\r\n"),
                )
            total = pc.sum(count).as_py() or 0
            if total:
                steps = pc.add(steps, count)
                found += total
                holding.append(i)
                if found >= breaks:
                    break
        # The next block looks first where this one's breaks were (its rows are alike).
        self._break_order = [*holding, *(i for i in self._break_order if i not in holding)]
        return steps if found == breaks else None

    def _record(
        self,
        columns: list[Any],
        n: int,
        ok: Any,
        bad: list[int],
        refusals: dict[int, list[int]],
        wheres: Any,
    ) -> None:
        """Keys and times of the valid rows, and the exact check of the others.

        Keys go to the collector's sorted runs as Arrow arrays (duplicates are found
        when they are sorted, so the order keys arrive in does not matter); times are
        taken in file order, so that equal instants resolve as they always do (the
        first one seen stays)."""
        pc, plan, col = self._pc, self.plan, self.col
        if plan.key is not None:
            keys = columns[plan.key]
            places = self._places(wheres, n)
            keep = ok
            if pc.any(pc.equal(keys, "")).as_py():
                present = pc.not_equal(keys, "")
                keep = present if keep is None else pc.and_(keep, present)
            if keep is not None:
                keys, places = pc.filter(keys, keep), pc.filter(places, keep)
            col.add_arrow_keys(keys, places)
        if not bad:
            col.valid_values(None, self._times(columns, None), ())
            return
        before = col.invalid

        def place(i: int) -> int:
            return wheres[i] if isinstance(wheres, range) else int(wheres[i].as_py())

        exact: list[int] | None = None  # places in ``bad`` of the rows checked one by one
        if not col.would_keep(*unpack(place(bad[0]))):
            # No error of this block would be kept: the first row's would not, and
            # counting changes nothing a later row's place is compared with.
            exact = self._count_refused(columns, bad, refusals)
        if exact is None:
            exact = list(range(len(bad)))
        if exact:
            self._exact(
                self._rows(columns, [bad[k] for k in exact]),
                [place(bad[k]) for k in exact],
                self._suspects(refusals, exact),
            )
        if col.invalid - before == len(bad):
            col.valid_values(None, self._times(columns, ok), ())
            return
        # Some refused row was valid after all: its time was taken by the exact check;
        # the others' are taken a run at a time in file order.
        if plan.time is None:
            return
        texts = columns[plan.time].to_pylist()
        start = 0
        for i in [*bad, n]:
            run = [t for t in texts[start:i] if t]
            if run:
                col.valid_values(None, self._to_times(run), ())
            start = i + 1

    def _places(self, wheres: Any, n: int) -> Any:
        """pack(record, line) of the block's rows as an int64 array."""
        if not isinstance(wheres, range):
            return wheres
        pc = self._pc
        return pc.add(pc.multiply(self._iota_to(n), wheres.step), wheres.start)

    def _iota_to(self, n: int) -> Any:
        """0, 1, ..., n - 1 as an int64 array (one array, grown as blocks need)."""
        if len(self._iota) < n:
            self._iota = self._pa.array(range(max(n, 2 * len(self._iota))), self._pa.int64())
        return self._iota.slice(0, n)

    def _arrow_span(self, column: Any, ok: Any = None) -> list[datetime] | None:
        """The first and last instants of the column's cells, found by Arrow as instants
        and read exactly as the exact path reads them; None when Arrow's reading cannot
        tell (a cell too long, one it does not cast: lower-case t or z, a leap second, an
        empty or refused cell; instants near datetime's limits). With ``ok``, only the
        rows it accepts count, and the span is given only when the first row holding
        the earliest instant and the first holding the latest are accepted (then no
        refused row holds an earlier or a later one, nor an equal one before them, so
        they are the rows the column without the refused ones would name)."""
        pa, pc = self._pa, self._pc
        if (pc.max(pc.binary_length(column)).as_py() or 0) > _DATE_TIME_US:
            return None
        try:
            instants = pc.cast(column, pa.timestamp("us", tz="UTC"))
        except pa.ArrowInvalid:
            return None
        low_high = pc.min_max(instants)
        if not _comparable_span(low_high, pa, pc):
            return None
        low = _first_of(instants, low_high["min"], ok, pc)
        high = _first_of(instants, low_high["max"], ok, pc)
        if low is None or high is None:
            return None
        return self._to_times([column[low].as_py(), column[high].as_py()])

    def _rows(self, columns: list[Any], index: list[int]) -> list[list[str]]:
        """The cells of the rows at ``index``, as the csv module gives them."""
        pc = self._pc
        at = self._pa.array(index, self._pa.int64())  # converted once, not per column
        taken = [pc.take(c, at).to_pylist() for c in columns]
        return [list(r) for r in zip(*taken, strict=True)]

    def _times(self, columns: list[Any], ok: Any) -> list[datetime] | None:
        """The first and last instants of the (valid) rows' timestamps: found by Arrow
        as instants, then read exactly as the exact path reads them."""
        pc, plan = self._pc, self.plan
        if plan.time is None:
            return None
        column = columns[plan.time]
        if ok is not None:
            span = self._arrow_span(column, ok)  # without copying the accepted rows out
            if span is not None:
                return span
            column = pc.filter(column, ok)
        if plan.time not in plan.required:  # a valid row's required cell is not empty
            column = pc.filter(column, pc.not_equal(column, ""))
        if len(column) == 0:
            return []
        span = self._arrow_span(column)
        return self._to_times(column.to_pylist()) if span is None else span


def _first_of(instants: Any, value: Any, ok: Any, pc: Any) -> int | None:
    """Where ``value`` first occurs in ``instants``, if that row is one ``ok`` accepts
    (None: every row)."""
    at = pc.index(instants, value).as_py()
    return at if at >= 0 and (ok is None or ok[at].as_py()) else None


def _comparable_span(low_high: Any, pa: Any, pc: Any) -> bool:
    """Whether both instants are well inside datetime's range (years 1 to 9999 in UTC):
    an offset can move a date-time outside it, and the summary skips such a time, which
    the exact reading (``to_times`` then the collector) does."""
    low, high = low_high["min"], low_high["max"]
    kind = pa.timestamp("us", tz="UTC")
    return bool(
        pc.greater(low, pa.scalar(_EARLIEST, kind)).as_py()
        and pc.less(high, pa.scalar(_LATEST, kind)).as_py()
    )


_EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
_LATEST = datetime(9999, 12, 30, tzinfo=UTC)


def _safe_cut(buf: bytes, *, bare_cr: bool = False) -> int:
    """Just after the last line break outside quotes (0 if none): the ``"`` before it are
    even. Only a cut the whole-record check (``_ALL_QUOTED``) then confirms is kept. The
    breaks are line feeds, or with ``bare_cr`` CRs that no line feed follows (a CR that
    ends ``buf`` may be half of a CRLF whose LF is still to come: not a break yet)."""
    cut = _break_before(buf, len(buf), bare_cr=bare_cr)
    if cut == 0 or b'"' not in buf:
        return cut
    quotes = quote_count(memoryview(buf)[:cut])
    while quotes % 2 and cut:
        prev = _break_before(buf, cut - 1, bare_cr=bare_cr)
        quotes -= buf.count(b'"', prev, cut)
        cut = prev
    return cut


def _break_before(buf: bytes, end: int, *, bare_cr: bool) -> int:
    """Just after the last line break (see :func:`_safe_cut`) that ends before ``end``
    (0 if none)."""
    if not bare_cr:
        return buf.rfind(b"\n", 0, end) + 1
    at = buf.rfind(b"\r", 0, end)
    while at >= 0 and (at + 1 == len(buf) or buf[at + 1] == 0x0A):
        at = buf.rfind(b"\r", 0, at)
    return at + 1


def _longest_line_over(block: bytes, limit: int, *, bare_cr: bool = False) -> bool:
    """Whether some line is longer than ``limit``: by LF, or with ``bare_cr`` by CR and
    LF. The row path's lines also end at a bare CR, so a block with none over the limit
    by LF has none over it there either; one with such a line goes to the row path,
    which reports it (or finds CRs within it)."""
    at = 0
    while len(block) - at > limit:
        nl = block.rfind(b"\n", at, at + limit + 1)
        if bare_cr:
            nl = max(nl, block.rfind(b"\r", at, at + limit + 1))
        if nl < 0:
            return True
        at = nl + 1
    return False


def _formulas(column: Any, pc: Any) -> int:
    """Cells starting like a formula that are not just a signed number.

    One compiled pass over the buffers when the module is built. Else: the four formula
    characters sort at or before "@": if the smallest non-empty cell starts after it (one
    kernel, the usual case for text), no cell can start with one.
    """
    if _formula_cells is not None:
        found = _formula_count(column, _formula_cells)
        if found is not None:
            return found
    low = pc.min(column).as_py()
    if low == "":
        column = pc.filter(column, pc.not_equal(column, ""))
        low = pc.min(column).as_py()
    if not low or low[0] > "@":
        return 0
    starts = pc.match_substring_regex(column, _FORMULA_START)
    count = pc.sum(starts).as_py() or 0
    if count:
        numbers = pc.match_substring_regex(pc.filter(column, starts), _SIGNED_NUMBER)
        count -= pc.sum(numbers).as_py() or 0
    return int(count)


def _formula_count(column: Any, count: Callable[[Any, Any, int, int], int]) -> int | None:
    """``count`` over each chunk's buffers, summed; None for a column with nulls or of
    another type (the kernels then count)."""
    import pyarrow as pa  # noqa: PLC0415 - loaded already: the column is an Arrow array

    found = _per_chunk(column, pa, count)
    return None if found is None else sum(n or 0 for _, n in found)
