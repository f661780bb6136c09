"""String rules checked for a whole batch at once: a property's pattern (or the pattern of
its format) as one regex, or byte tables in C, over the batch's values; date-times by the
exact rule's grammar in C (msgspec's parser where the module is not built), and the
batch's first and last instants found among them."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Annotated, Any

import msgspec

from silent_scalper.engine._classes import class_shape, class_tables
from silent_scalper.engine._errors import failing_index
from silent_scalper.engine._fields import FieldReader
from silent_scalper.engine.rules import (
    DATE_TIME_PATTERN,
    EMAIL_PATTERN,
    ecma_end,
    email_extra,
    to_datetimes,
)

#: The compiled checks of a batch's values against a class pattern and as date-times
#: (``_native.c``).
_class_lines: Callable[[bytes, bytes, bytes, int, int], bool] | None
_date_time_lines: Callable[[bytes], int] | None
_date_time_span: Callable[[bytes], tuple[int, int] | None] | None
try:
    from silent_scalper.engine import _native
except ImportError:  # not built: the regex checks every batch, msgspec the date-times
    _class_lines = _date_time_lines = _date_time_span = None
else:
    _class_lines = _native.class_lines
    _date_time_lines = _native.date_time_lines
    _date_time_span = _native.date_time_span

_FORMAT_PATTERNS = {"date-time": DATE_TIME_PATTERN, "email": EMAIL_PATTERN}


def _string_pattern(sub: Any) -> str | None:
    """The regex a string property must match (its pattern, or email's), if any."""
    if not isinstance(sub, dict) or "enum" in sub:
        return None
    kind = sub.get("type")
    if kind != "string" and not (isinstance(kind, list) and "string" in kind):
        return None
    if sub.get("format") in _FORMAT_PATTERNS:
        return None if "pattern" in sub else _FORMAT_PATTERNS[sub["format"]]
    pattern = sub.get("pattern")
    return pattern if isinstance(pattern, str) else None


def _bulk_pattern(sub: Any) -> str | None:
    """The property's pattern if it can be checked in bulk (see PatternCheck), else None.

    Bulk needs ``^X$`` with no top-level ``|``: then, in MULTILINE mode over values
    joined by newlines, a match per line means every value matches.
    """
    pattern = _string_pattern(sub)
    if pattern is None or len(pattern) < 2 or pattern[0] != "^" or pattern[-1] != "$":
        return None
    inner = pattern[1:-1]
    depth = 0
    in_class = False
    escaped = False
    for ch in inner:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif (ch == "|" and depth == 0) or ch in "^$":
            return None
    if escaped or in_class or depth != 0:
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern


class PatternCheck:
    """One string property's regex, checked per value or, fast, for a whole batch.

    The batch check joins the values with newlines and counts MULTILINE matches of the
    anchored pattern: matches cannot overlap and each starts at a line start, so as many
    matches as values (and no newline inside a value) means every value matched whole.
    One regex pass in C instead of one Python call per value.
    """

    __slots__ = (
        "attr",
        "classes",
        "extra",
        "good",
        "many",
        "one",
        "pattern",
        "prop",
        "read",
        "spread",
    )

    #: Whether each value :meth:`failures` names failed :meth:`matches`, the rule's own
    #: test (so a record it names breaks its property's rule).
    refusal_proves = True

    def __init__(self, prop: str, attr: str, pattern: str, *, fmt: str | None = None) -> None:
        self.prop = prop
        self.attr = attr
        self.pattern = pattern
        # What a pattern cannot say about an e-mail address (its IDNA domain), if any.
        self.extra = email_extra if fmt == "email" else None
        self.read = FieldReader(attr)
        self.one = re.compile(ecma_end(pattern))
        self.many = re.compile(pattern, re.MULTILINE)
        # A pattern of plain character classes: the batch's values are checked against
        # byte tables in C (``class_lines``), not by the regex.
        shape = class_shape(pattern) if self.extra is None else None
        self.classes = None if shape is None else class_tables(shape)
        # Values already known to match: codes, statuses and domains repeat, so most
        # batches need no regex at all. Bounded; a pattern never changes, so it stays true.
        self.good: set[str] = set()
        # Whether the last batch's values were nearly all distinct (ids, times): a set
        # of them then saves no check and costs a hash a value, so the next batch is
        # first checked as the list of its values.
        self.spread = False

    def all_match(self, objs: list[Any]) -> bool:
        """Whether the property's value in each record (where present) matches."""
        if self.spread and self._each_matches(objs):
            return True
        return self.values_match(self._distinct(objs))

    def _distinct(self, objs: list[Any]) -> set[Any]:
        """The batch's distinct values, absent (UNSET) and null ones left out."""
        # Dropped from the set afterwards, as filtering each value through a predicate
        # cost more than the rest of the check.
        fresh = self.read.distinct(objs)
        fresh.discard(None)
        fresh.discard(msgspec.UNSET)
        self.spread = len(fresh) * 8 >= len(objs) * 7
        return fresh

    def _each_matches(self, objs: list[Any]) -> bool:
        """Whether every record's value is a string that matches, read as a list. False
        when one is absent, null or not a string: the distinct values then decide."""
        values = self.read.values(objs)
        try:
            joined = "\n".join(values)
        except TypeError:
            return False
        return self._joined_match(values, joined)

    def first_failure(self, objs: list[Any]) -> int:
        """The index of the first record whose value does not match (one is known to)."""
        for i, value in enumerate(self.read.values(objs)):
            if isinstance(value, str) and not self.matches(value):
                return i
        return 0  # pragma: no cover - all_match said one fails

    def failures(self, objs: list[Any]) -> list[int] | None:
        """None when :meth:`all_match` would accept the records; else the index of every
        record whose value does not match, in order, or [] when the values refused one
        by one do not explain the refusal (the distinct values left must then pass the
        batch check: they are a superset of those of the records left, so the records
        left pass). The distinct values are gathered once, for the batch check and the
        explanation alike, and judged once each; their records are then found in one
        pass (:meth:`FieldReader.members`)."""
        if self.spread and self._each_matches(objs):
            return None
        fresh = self._distinct(objs)
        if self.values_match(fresh):
            return None
        # A refused batch check leaves ``fresh`` as the distinct values less those
        # known to match (it takes them out first, and learns nothing when it refuses).
        bad = self._refused([v for v in fresh if isinstance(v, str)])
        if not bad or not self.values_match(fresh - set(bad)):
            return []
        return self.read.members(objs, set(bad))

    def strings_match(self, values: list[str]) -> bool:
        """Whether every one of ``values`` (strings) matches, judged as a batch is."""
        return self._joined_match(values, "\n".join(values))

    def _refused(self, values: list[str]) -> list[str]:
        """The values the check refuses."""
        return [v for v in values if not self.matches(v)]

    def matches(self, value: str) -> bool:
        """Whether one value matches."""
        extra = self.extra
        return self.one.search(value) is not None and (extra is None or extra(value))

    def values_match(self, fresh: set[Any]) -> bool:
        """Whether every string of ``fresh`` matches (a record's values or a CSV column's)."""
        fresh -= self.good
        if not fresh:
            return True
        ok = self._joined_match(fresh, "\n".join(fresh))
        if ok and len(self.good) + len(fresh) <= _GOOD_VALUES:
            self.good |= fresh
        return ok

    def _joined_match(self, values: Collection[str], joined: str) -> bool:
        """Whether every one of ``values`` (strings; ``joined``: them joined by newlines)
        matches."""
        if len(values) < 32:
            ok = all(map(self.one.search, values))
        elif joined.count("\n") != len(values) - 1:
            ok = False  # a value holding a newline: the per-value check decides
        elif self.classes is not None and _class_lines is not None:
            ok = _class_lines(joined.encode(), *self.classes)
        else:
            ok = len(self.many.findall(joined)) == len(values)
        if ok and self.extra is not None and not joined.isascii():
            ok = all(map(self.extra, values))
        return ok


class DateTimeCheck(PatternCheck):
    """RFC 3339 date-times of a batch, checked in C without a regex.

    With the compiled module, one pass over the values joined by newlines checks each
    line against the exact rule's grammar (``date_time_lines``; the values are ASCII, as
    every date-time is, and as many lines as values, so no value held a newline).

    Without it, msgspec's datetime parser (one C call for all values) takes RFC 3339
    except leap seconds, plus two spellings RFC 3339 does not: a space for the ``T``
    and an offset without its colon (``+0530``). Both are ruled out with counts over the
    values joined by newlines: no space at all, and one colon per value beyond the two of
    its time for each value not ending in ``Z``. A batch refused here (a leap second
    included) goes to the exact check, the full RFC 3339 pattern.
    """

    __slots__ = ()

    #: Its refused values are found with msgspec's parser, which refuses a leap second
    #: the rule accepts.
    refusal_proves = False

    def values_match(self, fresh: set[Any]) -> bool:
        """Whether every value of ``fresh`` (strings) is an RFC 3339 date-time."""
        return not fresh or self._joined_match(fresh, "\n".join(fresh))

    def _joined_match(self, values: Collection[str], joined: str) -> bool:
        if _date_time_lines is not None:
            return joined.isascii() and _date_time_lines(joined.encode()) == len(values)
        joined += "\n"
        if " " in joined:
            return False
        utc = joined.count("Z\n") + joined.count("z\n")
        if joined.count(":") != 3 * len(values) - utc:
            return False
        try:
            _AWARE_LIST(list(values), list[_AWARE_TYPE])
        except (msgspec.ValidationError, TypeError):
            return False
        return True

    def _refused(self, values: list[str]) -> list[str]:
        """The values :meth:`values_match` refuses, each for itself: a space, a colon
        count off, or msgspec's parser refusing it (found by the index it names)."""
        bad = [v for v in values if " " in v or v.count(":") != (2 if v[-1:] in "Zz" else 3)]
        rest = list(set(values) - set(bad))
        while rest:
            try:
                _AWARE_LIST(rest, list[_AWARE_TYPE])
            except (msgspec.ValidationError, TypeError) as exc:
                k = failing_index(exc) or 0
                bad.append(rest[k])
                rest = rest[k + 1 :]
                continue
            break
        return bad


_AWARE_TYPE = Annotated[datetime, msgspec.Meta(tz=True)]
_AWARE_LIST: Callable[..., Any] = msgspec.convert
_GOOD_VALUES = 4096


def time_span(values: list[str]) -> list[datetime]:
    """Datetimes of valid date-time texts whose ``min()`` and ``max()`` are those of
    ``to_datetimes(values)`` (the summary's first and last times), the same objects
    picked: with the compiled module only the earliest and the latest text (the first
    of each) are read, found by comparing the instants in C; else every one. Texts the
    module leaves to datetime (leap seconds, more than six fraction digits, years 0001
    and 9999) mean every one too."""
    if _date_time_span is not None and len(values) > 2:
        joined = "\n".join(values)
        found = _date_time_span(joined.encode()) if joined.isascii() else None
        if found is not None:
            return to_datetimes([values[found[0]], values[found[1]]])
    return to_datetimes(values)
