"""The NDJSON and JSON batch check of a class pattern (``^[A-Z]{3}$``) in C gives the
regex's verdict on every batch of values."""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _patterns
from silent_scalper.engine._classes import class_shape
from silent_scalper.engine._patterns import PatternCheck
from silent_scalper.engine.rules import ecma_end

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
