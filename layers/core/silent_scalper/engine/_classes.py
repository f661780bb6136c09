"""Patterns made of plain character classes (``^[A-Z]{3}$``,
``^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$``): read once into what each position may hold, so a
value is checked against byte tables instead of a regex, by the CSV column checks and the
NDJSON and JSON batch checks alike (the compiled ``match_class`` and ``class_lines``)."""

from __future__ import annotations

import re
from dataclasses import dataclass

#: ``^``, an optional one-character class, a class with a count, ``$``: the shape of
#: identifier and code patterns (``^[A-Z]{3}$``, ``^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$``).
_CLASS_PATTERN = re.compile(
    r"\^(?:\[([^\]\\\[^][^\]\\\[]*)\])?\[([^\]\\\[^][^\]\\\[]*)\]"
    r"(?:\{([0-9]+)(?:,([0-9]+))?\}|([*+]))?\$\Z"
)


@dataclass(frozen=True, slots=True)
class ClassShape:
    """A pattern that is plain character classes: what each position may hold, as bytes
    (``first`` the first character's, when the pattern names one apart; it is then within
    ``rest``), and the lengths it allows (``longest`` None: no limit)."""

    first: bytes | None
    rest: bytes
    shortest: int
    longest: int | None


def class_chars(body: str) -> bytes | None:
    """The ASCII characters a class body (``A-Za-z0-9_-``) names, or None when it uses
    anything but printable ASCII characters and ranges (a doubled ``-&~|`` is a set
    operation to come in Python's re, so it is left to the regex)."""
    if not body.isascii() or not body.isprintable() or any(d * 2 in body for d in "-&~|"):
        return None
    chars: set[int] = set()
    at = 0
    while at < len(body):
        if at + 2 < len(body) and body[at + 1] == "-":
            low, high = ord(body[at]), ord(body[at + 2])
            if low > high:
                return None
            chars.update(range(low, high + 1))
            at += 3
        else:
            chars.add(ord(body[at]))
            at += 1
    return bytes(sorted(chars))


def class_shape(pattern: str) -> ClassShape | None:
    """The pattern as :class:`ClassShape`, or None when it is anything else."""
    found = _CLASS_PATTERN.match(pattern)
    if found is None:
        return None
    head, body, low, high, star = found.groups()
    rest = class_chars(body)
    first = None if head is None else class_chars(head)
    if rest is None or (head is not None and (first is None or not set(first) <= set(rest))):
        return None  # a first class outside the rest would need its own pass
    if star is not None:
        shortest, longest = (0 if star == "*" else 1), None
    elif low is None:
        shortest = longest = 1
    else:
        shortest, longest = int(low), int(high if high is not None else low)
    extra = 0 if first is None else 1
    return ClassShape(first, rest, shortest + extra, None if longest is None else longest + extra)


def class_tables(shape: ClassShape) -> tuple[bytes, bytes, int, int]:
    """The shape as the compiled checks take it (``match_class``, ``class_lines``): the
    first character's and the rest's classes as 256-byte tables (1 where a byte is in
    the class), the shortest length and the longest (-1: no limit)."""
    rest = _table(shape.rest)
    first = rest if shape.first is None else _table(shape.first)
    return first, rest, shape.shortest, -1 if shape.longest is None else shape.longest


def _table(chars: bytes) -> bytes:
    table = bytearray(256)
    for c in chars:
        table[c] = 1
    return bytes(table)
