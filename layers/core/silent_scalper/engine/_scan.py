"""Counts over the text of every chunk and batch: its line feeds, how much of it is
complete UTF-8, for CSV its quotes, and for JSON its keys and its formula-like string
values. Each has one
definition, in Python here; the compiled module ``_native`` (``_native.c``) computes the
same numbers in one C pass each and is used when it is there. The tests hold the two to
equal answers on every corpus and on generated text, so the module is never a second
definition of any count. The module also checks directly what the key count proves (no
object repeats a key), saying when the text's bytes cannot tell; the tests hold that to
what a JSON parser reads. One loop is here for the same reason: decoding a refused
block's windows until one is refused (``decode_windows_python``), whose compiled twin
saves the interpreter's work between two msgspec calls.

The module is built by the project's install (``setup.py``; a C compiler, optional) and,
for Lambda, cross-compiled for arm64 by ``sam build`` (``layers/core/Makefile``). Without
it the engine gives the same verdicts, more slowly (docs/performance.md).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "NATIVE",
    "blank_lines",
    "blank_lines_python",
    "decode_windows",
    "decode_windows_python",
    "formula_count",
    "formula_count_python",
    "key_count",
    "key_count_python",
    "line_repeats_key",
    "line_texts",
    "line_texts_python",
    "newline_count",
    "newline_count_python",
    "quote_count",
    "quote_count_python",
    "repeats_key",
    "repeats_key_python",
    "utf8_prefix",
    "utf8_prefix_python",
]

# Every string token of JSON text, with the colon that makes it a key (b"" if none).
_STRING_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"([ \t\r\n]*+:)?', re.S)
# A string cell starting with one of these is a formula to a spreadsheet. A cell that is
# just a signed number (-5, +3.2e1) is not counted; "-2+3+cmd|..." is.
_FORMULA_JSON = re.compile(rb'[:\[,][ \t\r\n]*+"(?![-+][0-9.]+(?:[eE][-+]?[0-9]+)?")[=+\-@]')
_FORMULA_HINT = re.compile(rb'"[=+\-@]')

Text = bytes | bytearray | memoryview


def key_count_python(text: Text) -> int:
    """String tokens of ``text`` followed by JSON whitespace and a colon, tokenized from
    the start: the keys of well-formed JSON text, nested objects' included."""
    found = _STRING_TOKEN.findall(text)
    return len(found) - found.count(b"")


def formula_count_python(text: Text) -> int:
    """String values that start like a spreadsheet formula (``=``, ``+``, ``-``, ``@``)
    and are not a signed number, read from the text as the regex reads it (so broken
    JSON counts alike)."""
    return len(_FORMULA_JSON.findall(text)) if _FORMULA_HINT.search(text) else 0


def newline_count_python(text: Text) -> int:
    """Line feeds in ``text``: how the readers count lines."""
    return bytes(text).count(b"\n")


def quote_count_python(text: Text) -> int:
    """Double quotes in ``text``: how a CSV block's quoting is known to be even."""
    return bytes(text).count(b'"')


def utf8_prefix_python(text: Text) -> int:
    """Bytes of complete, valid UTF-8 that ``text`` starts with: where Python's strict
    decoder reports its first error (a sequence ill-formed or cut off by the end), or
    the whole length."""
    try:
        bytes(text).decode("utf-8")
    except UnicodeDecodeError as error:
        return error.start
    return len(text)


def repeats_key_python(text: Text) -> int:
    """-1, "cannot tell": the Python path has no direct repeated-key check; the key count
    decides (the compiled check answers 0 or 1 for most text)."""
    return -1


def blank_lines_python(text: Text) -> list[tuple[int, int, int]]:
    """The lines of NDJSON ``text`` that hold JSON whitespace only (spaces, tabs, carriage
    returns: the lines msgspec's ``decode_lines`` skips), in order: (the line's index,
    where it starts, where the line after it starts). A final line feed ends the last
    line; it does not start a blank one, and empty text has no line."""
    data = bytes(text)
    out: list[tuple[int, int, int]] = []
    start = 0
    for index, line in enumerate(data.split(b"\n")):
        if start == len(data):
            break  # after a final line feed (or in empty text): no line
        after = min(start + len(line) + 1, len(data))
        if not line.strip(b" \t\r"):
            out.append((index, start, after))
        start = after
    return out


def decode_windows_python(  # noqa: PLR0913, PLR0917 - the compiled twin's signature
    decode: Callable[[Any], list[Any]],
    view: memoryview,
    pos: int,
    line: int,
    step: int,
    stop_on: tuple[type[BaseException], ...],
    decoded: list[Any],
    marks: list[int] | None,
    marks_at: list[int] | None,
    framed: bool = False,
) -> tuple[int, int, int, BaseException | None]:
    """The windows of a refused NDJSON block ``view``, from byte ``pos`` on, decoded
    while ``decode`` accepts them. A window ends after the first line feed at or past
    ``pos + step`` (or at the end); its records go to ``decoded``, the index of its first
    record (``line``, counted on by the records decoded) to ``marks`` and its start to
    ``marks_at`` (both None: not wanted). ``framed``: ``view`` holds the elements of a
    JSON array instead, a window ends after the ``}`` of the first ``},`` at or past
    ``pos + step``, is decoded as ``[`` + its text + ``]``, and the next starts past the
    comma. Returns (pos, line, end, None) when the text is done (``end`` its length), or
    (pos, line, end, exc) for the window ``view[pos:end]`` whose decode raised ``exc``,
    an exception of the types ``stop_on`` (any other propagates)."""
    if pos < 0 or step < 0:
        raise ValueError("pos and step must not be negative")
    if (marks is None) != (marks_at is None):
        raise TypeError("marks and marks_at must be lists, or both None")
    size = len(view)
    # A view of a whole bytes object (the engine's) is searched in place, not copied.
    data = view.obj if isinstance(view.obj, bytes) and len(view.obj) == size else view.tobytes()
    cut = b"}," if framed else b"\n"
    while pos < size:
        end = data.find(cut, pos + step) + 1 or size
        if marks is not None and marks_at is not None:
            marks.append(line)
            marks_at.append(pos)
        try:
            objs = decode(b"[" + data[pos:end] + b"]" if framed else view[pos:end])
        except stop_on as exc:
            return pos, line, end, exc
        decoded += objs
        line += len(objs)
        pos = end + 1 if framed and end < size else end
    return pos, line, size, None


def line_texts_python(text: Text, wanted: list[int]) -> list[bytes]:
    """Lines ``wanted`` (line indices, in order; one may repeat) of NDJSON ``text``, each
    without its line feed: line k is the k-th part ``split(b"\\n")`` gives."""
    if any(k < 0 for k in wanted[:1]) or any(a > b for a, b in itertools.pairwise(wanted)):
        raise ValueError("wanted must be line indices, in order")
    lines = bytes(text).split(b"\n")
    return [lines[k] for k in wanted]


try:
    from silent_scalper.engine._native import (
        blank_lines,
        decode_windows,
        formula_count,
        key_count,
        line_repeats_key,
        line_texts,
        newline_count,
        quote_count,
        repeats_key,
        utf8_prefix,
    )
except ImportError:  # not built (no C compiler at install): the same counts in Python
    key_count, formula_count = key_count_python, formula_count_python
    newline_count, utf8_prefix = newline_count_python, utf8_prefix_python
    quote_count = quote_count_python
    repeats_key = line_repeats_key = repeats_key_python
    blank_lines = blank_lines_python
    decode_windows = decode_windows_python
    line_texts = line_texts_python

#: Whether the compiled module counts (its exact key count is then cheaper than the
#: whitespace-stripping proof the Python path tries first).
NATIVE = key_count is not key_count_python
