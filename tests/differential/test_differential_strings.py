"""The engine against JSON Schema on string rules of every shape a schema may give.

The differential suite draws one mutated record per example from a large pool, so an
edge of a user's pattern or length (an astral character, an escaped one, a digit of
another script, a final newline) is seldom drawn. Here each shape of string rule meets
every such value, deterministically: the schema compiles, and the record gets the
oracle's verdict in every format, alone and amid valid records whose values differ,
so the batch checks (msgspec's constraints, the pattern over joined values, the
compiled character classes, the CSV column kernels) and the exact check all judge it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from differential_support import (
    Case,
    assert_the_oracles_verdict,
    csv_row,
    explained,
    json_value,
    one_property_document,
    oracle,
)
from silent_scalper.engine.schemas import compile_schema

SHAPES: list[dict[str, Any]] = [
    # Lengths count code points: astral characters, escaped or not, count one each.
    {"type": "string", "minLength": 2, "maxLength": 4},
    {"type": ["string", "null"], "maxLength": 1},
    {"type": "string", "minLength": 5},
    # Character classes the compiled module checks without a regex.
    {"type": "string", "pattern": "^[A-Z]{3}$"},
    {"type": "string", "pattern": "^[a-z0-9_-]{1,8}$"},
    {"type": "string", "pattern": "^[A-Z]+$", "maxLength": 3},
    {"type": "string", "pattern": "^[0-9]{2}$", "minLength": 3},  # nothing is valid
    # Patterns the batch checks take over joined values, or leave to each value.
    {"type": "string", "pattern": "^[^ ]+$"},
    {"type": "string", "pattern": "[0-9]"},  # unanchored: a search
    {"type": "string", "pattern": "^ab|cd$"},  # top-level alternation
    {"type": "string", "pattern": "^(?:ab)+$"},
    {"type": "string", "pattern": "^.{2}$"},
    {"type": "string", "pattern": "^a$"},
    {"type": "string", "pattern": "é"},
    {"type": "string", "pattern": "^[à-ÿ]+$"},
    # Shorthand classes, which RE2 (the CSV kernels) and Python's re read differently
    # outside ASCII.
    {"type": "string", "pattern": "^\\d{4}$"},
    {"type": "string", "pattern": "^\\w+$"},
    {"type": "string", "pattern": "^\\s*$", "minLength": 1},
    {"type": "string", "enum": ["ab", "AB", "é", "😀"]},
]

#: Values as JSON text, so that escapes are tested as escapes.
VALUES = [
    *(json_value(v) for v in ["", "a", "ab", "abc", "abcd", "abcde", "ABC", "AB", "Ab1"]),
    *(json_value(v) for v in ["a_b", "a-b", "a b", " ab", "ab ", "cd", "abab", "xcd", "abx"]),
    *(json_value(v) for v in ["0", "12", "123", "1234", "12345", "a" * 100, "é", "ü", "ß"]),
    *(json_value(v) for v in ["e\u0301", "日本", "😀", "😀😀😀😀", "😀😀😀😀😀", "éàÿ"]),
    # Digits and letters of other scripts (Arabic-Indic, fullwidth), Kelvin sign, titlecase.
    *(json_value(v) for v in ["\u0661\u0662\u0663\u0664", "\uff11\uff12\uff13\uff14"]),
    *(json_value(v) for v in ["\uff21\uff22\uff23", "\u00a0ab", "\u212a", "\u01c5", " ", "\t"]),
    # Just past the ends of the classes' ranges: A-Z, a-z, 0-9.
    *(json_value(v) for v in ["AB[", "@AB", "ab{", "`ab", "12:", "/12"]),
    '"\\u00e9"',  # é escaped
    '"\\ud83d\\ude00"',  # 😀 as an escaped surrogate pair: one character
    '"\\ud83d\\ude00\\ud83d\\ude00"',
    '"a\\tb"',
    '"a\\nb"',
    '"a\\n"',
    '"ab\\n"',
    '"\\nab"',
    '"\\r\\n"',
    '"\\u2028"',
    '"a\\u0000"',
    '"\\/"',
    "null",
    "1",
]


def _case(value: str) -> Case:
    return Case((("k", '"a"'), ("s", value)), "set", "s", value)


def _fillers(document: dict[str, Any], verdict: Callable[[str], bool | None]) -> list[Case]:
    """Valid records around the one under test: a record without the property, and
    up to six whose values the oracle accepts, no deliberate difference applies to and
    a CSV row can spell, so the batch checks see several distinct values."""
    chosen = [Case((("k", '"a"'),), "none")]
    for value in VALUES:
        case = _case(value)
        spelled = csv_row(document, case) is not None
        if spelled and verdict(case.json_text()) and explained(case, document) is None:
            chosen.append(case)
    return chosen[:7]


@pytest.mark.parametrize("sub", SHAPES, ids=[str(sorted(s.items()))[:60] for s in SHAPES])
def test_given_a_string_rule_of_any_shape_then_each_value_gets_the_oracles_verdict(
    sub: dict[str, Any],
) -> None:
    """Given a string property ruled by one of the shapes above, when a record holding
    each value is validated in every format, then the schema compiled, the formats
    agree, and the verdict is JSON Schema's (or a documented difference)."""
    document = one_property_document("s", sub)
    schema = compile_schema("strings", document, None)
    verdict = oracle(document)
    fillers = _fillers(document, verdict)
    for value in VALUES:
        assert_the_oracles_verdict(schema, document, _case(value), verdict, fillers)
