"""The NDJSON and JSON batch checks of a class pattern (``^[A-Z]{3}$``) and of date-times
in C give the exact rule's verdict on every batch of values, however the batches before
them went."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import msgspec
import pytest
from engine_support import DATE_TIME_TEXTS
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _patterns
from silent_scalper.engine._classes import class_shape
from silent_scalper.engine._patterns import DateTimeCheck, PatternCheck, time_span
from silent_scalper.engine.rules import DATE_TIME_PATTERN, ecma_end, is_date_time, to_datetimes

native = pytest.importorskip(
    "silent_scalper.engine._native",
    reason="the compiled module is not built (a C compiler at install: docs/performance.md)",
)

PATTERNS = ["^[A-Z]{3}$", "^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$", "^[a-c_-]+$", "^[0-9]*$"]
# Characters around the patterns' classes and their edges, a multi-byte one and a newline.
_values = st.text(alphabet="AZaz09_-.[é\n ", max_size=8) | st.sampled_from(["x" * 64, "x" * 65])


def _regex_says(pattern: str, values: set[str]) -> bool:
    one = re.compile(ecma_end(pattern))
    return all(one.search(v) for v in values)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERNS), st.sets(_values, min_size=32, max_size=60))
@example("^[A-Z]{3}$", {f"{a}{b}C" for a in "ABCDEFGH" for b in "ABCD"} | {"ABC\n"})
@example("^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$", {f"j-{i:02d}" for i in range(40)} | {"_ab"})
def test_given_a_batch_of_values_when_a_class_pattern_checks_it_then_the_regex_agrees(
    pattern: str, values: set[str]
) -> None:
    # Given a class pattern's batch check (the compiled one, as the engine builds it)
    check = PatternCheck("p", "f0", pattern)
    assert check.classes is not None
    # When a batch of 32 or more distinct values is checked (the bulk path)
    said = check.values_match(set(values))
    # Then the verdict is the regex's on each value, and the regex path's on the batch
    assert said == _regex_says(pattern, values)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_patterns, "_class_lines", None)
        assert PatternCheck("p", "f0", pattern).values_match(set(values)) == said


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PATTERNS), st.lists(_values.filter(lambda v: "\n" not in v), max_size=12))
def test_given_lines_when_classes_check_them_then_each_line_is_read_as_the_regex_reads_it(
    pattern: str, lines: list[str]
) -> None:
    check = PatternCheck("p", "f0", pattern)
    assert class_shape(pattern) is not None
    assert check.classes is not None
    text = "\n".join(lines).encode()
    assert native.class_lines(text, *check.classes) == _regex_says(pattern, set(lines) or {""})


def test_given_an_email_or_other_pattern_then_the_regex_keeps_it() -> None:
    assert PatternCheck("p", "f0", "^[a-z]+@[a-z]+$").classes is None
    assert PatternCheck("p", "f0", "^[\\w]{3}$").classes is None
    assert PatternCheck("p", "f0", "^[A-Z]{3}$", fmt="email").classes is None


# -- date-times -----------------------------------------------------------------------------


@settings(max_examples=400, deadline=None)
@given(st.lists(DATE_TIME_TEXTS, min_size=1, max_size=12))
@example(["0000-01-01T00:00:00Z", "2024-02-29T23:59:60.5+23:59"])
@example(["2000-02-29T00:00:00Z", "2100-02-29T00:00:00Z"])
@example(["2024-01-01T00:00:00Z\n2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z"])
@example(["\u0662\u0660\u0662\u0664-01-01T00:00:00Z"])
def test_given_date_time_lines_when_the_module_checks_them_then_it_says_what_the_exact_rule_says(
    values: list[str],
) -> None:
    # Given values around every rule of RFC 3339 (years 0000 and leap years, month
    # lengths, hours, leap seconds, fractions, zones), one a line
    text = "\n".join(values)
    lines = text.split("\n")
    # When the compiled module checks the lines, then it takes them all exactly when the
    # exact rule takes each line
    if text.isascii():
        every = all(is_date_time(line) for line in lines)
        assert native.date_time_lines(text.encode()) == (len(lines) if every else 0)
    # And the batch check of a date-time property says the same of the values
    check = DateTimeCheck("t", "f0", DATE_TIME_PATTERN)
    assert check.values_match(set(values)) == all(is_date_time(v) for v in values)


@settings(max_examples=200, deadline=None)
@given(st.lists(DATE_TIME_TEXTS, min_size=1, max_size=12))
def test_given_date_times_when_checked_without_the_module_then_no_value_is_taken_the_rule_refuses(
    values: list[str],
) -> None:
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_patterns, "_date_time_lines", None)
        said = DateTimeCheck("t", "f0", DATE_TIME_PATTERN).values_match(set(values))
    # msgspec's parser refuses leap seconds the rule takes: never the other way round
    assert not said or all(is_date_time(v) for v in values)


_instants = st.builds(
    "{:04d}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}{}".format,
    st.sampled_from([1, 2, 1969, 1970, 2000, 2024, 2026, 9998, 9999]),
    st.integers(1, 12),
    st.integers(1, 28),
    st.sampled_from(["T", "t"]),
    st.integers(0, 23),
    st.sampled_from([0, 1, 59]),
    st.sampled_from([0, 1, 59, 60]),
    st.sampled_from(["", ".5", ".500000", ".000001", ".9999995", ".1234567"]),
    st.sampled_from(["Z", "z", "+00:00", "-00:00", "+01:00", "-01:00", "+23:59", "-23:59"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_instants, min_size=1, max_size=12))
@example(["2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00z"])
@example(["2026-01-01T00:00:00.000001Z", "2026-01-01T00:00:00Z", "2025-12-31T23:59:59.999999Z"])
# the first of the latest instants, another offset after it
@example(["2026-01-01T01:00:00+01:00", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"])
# msgspec rounds a seventh fraction digit: these two are one instant
@example(["2026-01-01T01:00:01+01:00", "2026-01-01T00:00:00.9999996Z", "2026-01-02T00:00:00Z"])
# an offset that moves an instant before year 1 (left to datetime)
@example(["0001-01-01T00:00:00+01:00", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"])
def test_given_date_times_when_their_span_is_taken_then_min_and_max_pick_the_same_datetimes(
    values: list[str],
) -> None:
    # Given valid date-times, equal instants written with other offsets among them
    every = to_datetimes(values)
    # When only their span is taken (the earliest and latest texts, found in C)
    span = time_span(values)
    # Then min() and max() pick the same instants, written the same way: the first of
    # each in order, as over every datetime
    # (aware datetimes compare without overflow, even when an offset moves one past
    # year 1 or 9999)
    expected = (min(every), max(every))
    got = (min(span), max(span))
    assert [(t, t.utcoffset()) for t in got] == [(t, t.utcoffset()) for t in expected]


# -- batches checked as lists ---------------------------------------------------------------
_ids = st.integers(0, 99).map(lambda i: f"J-{i:02d}")
_cells = st.one_of(
    _ids, _ids, st.sampled_from(["bad id!", "J-01\nJ-02"]), st.none(), st.just(msgspec.UNSET)
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.lists(_cells, min_size=0, max_size=70), min_size=1, max_size=6),
    st.sampled_from(["^[A-Z]-[0-9]{2}$", "^J-[0-9]+$"]),
)
@example(
    [[f"J-{i:02d}" for i in range(60)], [f"J-{i:02d}" for i in range(40)] + [None]], "^J-[0-9]+$"
)
@example(
    [[f"J-{i:02d}" for i in range(60)], ["bad id!"] + [f"J-{i:02d}" for i in range(50)]],
    "^J-[0-9]+$",
)
def test_given_batch_after_batch_when_one_check_judges_them_then_each_verdict_is_a_new_checks(
    batches: list[list[Any]], pattern: str
) -> None:
    # Given one check that sees batch after batch (values nearly all distinct make it
    # read the next batch as a list first), and a new check for each batch
    check = PatternCheck("p", "f0", pattern)
    for cells in batches:
        objs = [SimpleNamespace(f0=cell) for cell in cells]
        # When both judge the batch, then they agree, and with the regex on each value
        alone = PatternCheck("p", "f0", pattern)
        assert check.failures(objs) == alone.failures(objs)
        assert check.all_match(objs) == alone.all_match(objs)
        regex = re.compile(ecma_end(pattern))
        assert check.all_match(objs) == all(regex.search(c) for c in cells if isinstance(c, str))
