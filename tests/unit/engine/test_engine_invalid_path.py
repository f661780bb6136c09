"""The invalid-record path does less work and reports the same.

Five shortcuts, each held to what the longer way gives:

- an invalid record of a flat schema is read in one msgspec call with numbers exact
  (``CompiledSchema._flat_problems``) instead of as a tree; the problems, their wording
  and order must be the tree path's (``CompiledSchema._tree_check``);
- a record msgspec refused in a JSON sifting window is found from the window's text
  (``_json._refused_record``), which must decline wherever the text could mislead;
- each value of an invalid record is first put to its property's quick verdict, which
  must accept only what the property's check finds no problem with;
- past the located errors a summary keeps, an invalid record is counted without its
  errors being worded or its line counted: the summary must be the one wording every
  error gives;
- the records of a sifted block past those errors are counted, not checked alone: a
  record whose property msgspec refused it at (or a batch check's) breaks its rule
  counts one problem (``RecordRules.breaks``), the others a property at a time
  (``CompiledSchema.settled_counts``). A count must never exceed the problems the
  record's own check finds, nor be made for a record that has none, and the summary
  must be the one checking each record alone gives.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from engine_support import DATE_TIME_TEXTS, Validate, counted_and_checked, job
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import (
    CompiledSchema,
    SchemaRegistry,
    ValidationSummary,
    _json,
    _ndjson,
    _patterns,
)
from silent_scalper.engine._collect import Collector
from silent_scalper.engine.rules import (
    ABSENT,
    EXACT_VALUES,
    Num,
    PropertyRule,
    RecordRules,
    quick_column,
)
from silent_scalper.engine.schemas import _SLICES, _without, compile_schema
from silent_scalper.engine.types import FileFormat, Limits, Reason

# A flat schema with every kind of rule the batch path compiles: bounds exclusive and
# not, multipleOf, a nullable integer, a boolean, an enum, a pattern, a length, both
# formats; closed.
_EVERY_RULE = compile_schema(
    "every-rule",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z]{2,8}$"},
            "at": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "kind": {"type": "string", "enum": ["a", "b"]},
            "count": {"type": "integer", "minimum": 1, "maximum": 5},
            "rate": {
                "type": "number",
                "exclusiveMinimum": 0,
                "exclusiveMaximum": 4.9999999999999998,
            },
            "step": {"type": "integer", "multipleOf": 3},
            "slot": {"type": ["integer", "null"], "minimum": 0},
            "flag": {"type": "boolean"},
            "note": {"type": "string", "minLength": 2},
        },
        "required": ["id", "count"],
        "additionalProperties": False,
    },
    None,
)

_GOOD = '{"id":"ab","count":3'
# Each a whole record text: wrong types, bounds met and missed exactly, numbers no
# double holds, nulls, unknown and missing fields, arrays and objects as values,
# repeated keys (top level and nested), strings holding '":', broken JSON, non-objects.
_RECORDS = [
    _GOOD + ',"count":3}',
    _GOOD + ',"count":9}',
    _GOOD + ',"count":5,"kind":"c","flag":1}',
    '{"id":"A1","count":0,"rate":0,"step":4,"slot":-1,"flag":null,"note":"x"}',
    _GOOD + ',"step":3.0}',
    _GOOD + ',"step":6,"rate":2.5}',
    '{"id":"ab","count":2.0}',
    '{"id":"ab","count":1e0}',
    '{"id":"ab","count":' + "9" * 4300 + "}",
    '{"id":"ab","count":' + "9" * 4301 + "}",
    _GOOD + ',"rate":4.9999999999999998}',
    _GOOD + ',"rate":4.9999999999999997}',
    _GOOD + ',"rate":-1e-400,"step":1e400}',
    _GOOD + ',"step":9,"slot":null,"flag":true,"at":"2026-01-05T09:30:00Z"}',
    _GOOD + ',"at":"2026-01-05 09:30:00Z","mail":"no-at"}',
    _GOOD + ',"mail":"' + "a" * 65 + '@example.com"}',
    _GOOD + ',"mail":"a@bücher.example","kind":"z"}',
    _GOOD + ',"kind":["a"],"note":{"x":1}}',
    _GOOD + ',"kind":[],"note":{}}',
    _GOOD + ',"extra":1,"other":"x"}',
    '{"count":7}',
    '{"id":"ab","id":"cd","count":9}',
    _GOOD + ',"note":{"k":1,"k":2}}',
    _GOOD + ',"note":"q\\":","kind":"z"}',
    _GOOD + ',"note" : "sp", "kind" :"z"}',
    _GOOD + ',"note":"broken}',
    "[1, 2]",
    "5",
    '"text"',
]


def _as_tuples(checked: Any) -> list[tuple[str, str, str | None]]:
    return [(str(e.reason), e.message, e.path) for e in checked.errors]


@pytest.mark.parametrize("schema_name", ["every rule", "job.v1"])
def test_given_records_at_every_edge_when_read_exactly_then_the_problems_are_the_trees(
    job_schema: CompiledSchema, schema_name: str
) -> None:
    """Given records at the edges of every rule, when checked (the quicker reading where
    it can settle a record), then the problems, their wording, paths and order, and a
    valid record's key and time, are the tree path's; and the quicker reading settled
    most of them, so this compares something."""
    assert _EVERY_RULE.fast
    schema = _EVERY_RULE if schema_name == "every rule" else job_schema
    records = _RECORDS
    if schema is job_schema:
        records = [
            *_RECORDS,
            job(1, priority=9, amount=-12.5, currency="usd"),
            job(2, status="paused", email="no-at", submitted_at="2026-02-30T00:00:00Z"),
            job(3, customer_id=0, quantity=-1, notes="x" * 2001),
            job(4),
            job(5, extra=1).replace('"extra":1', '"extra":[1,{"a":1,"a":2}]'),
        ]
    settled = 0
    for text in records:
        data = text.encode()
        quick = schema._flat_problems(data)
        settled += quick is not None
        checked, tree = schema.check_record(data), schema._tree_check(data)
        assert _as_tuples(checked) == _as_tuples(tree), text
        assert (checked.key, checked.time) == (tree.key, tree.time), text
        if quick is not None:
            assert [(str(e.reason), e.message, e.path) for e in quick] == _as_tuples(
                schema._tree_check(data)
            ), text
    assert settled >= 10


def test_given_a_repeated_key_or_nested_keys_then_the_quicker_reading_declines() -> None:
    """Given records whose text holds more keys than their top-level object (a repeated
    key, a nested object with keys), when read exactly, then the reading declines and
    the tree path words them (a repeated key is located where it repeats)."""
    for text in ('{"id":"ab","id":"cd","count":9}', _GOOD + ',"note":{"k":1}}'):
        assert _EVERY_RULE._flat_problems(text.encode()) is None
    errors = _EVERY_RULE.check_record(b'{"id":"ab","id":"cd","count":9}').errors
    assert [e.path for e in errors] == ["$.id", "$.count"]


@pytest.mark.parametrize(
    ("window", "bad", "found"),
    [
        (b'{"a":1},{"b":2},{"c":3}', 0, b'{"a":1}'),
        (b'{"a":1},{"b":2},{"c":3}', 1, b'{"b":2}'),
        (b'{"a":1},\n  {"b":2},{"c":3}', 1, b'{"b":2}'),
        (b'{"a":1},{"b":2},{"c":3}', 2, b'{"c":3}'),
    ],
)
def test_given_a_plain_window_then_the_refused_record_is_found_from_its_text(
    window: bytes, bad: int, found: bytes
) -> None:
    """Given a window of records ending at '},', when msgspec names record ``bad``, then
    its text and where the records before it end are found without parsing the window."""
    cut = _json._refused_record(window, 0, len(window), bad)
    assert cut is not None
    before, start, stop = cut
    assert window[start:stop] == found
    assert json.loads(b"[" + window[:before] + b"]") == json.loads(b"[" + window + b"]")[:bad]


@pytest.mark.parametrize(
    ("window", "bad"),
    [
        (b'{"a":1},{"n":"x},y"},{"c":3}', 1),  # '},' inside the refused record's string
        (b'{"a":1},5,{"c":3}', 1),  # not an object: two values to the next '},'
        (b'{"a":1} ,{"b":2},{"c":3}', 1),  # a space before the comma: '},' is further
        (b'{"a":1},{"b":2}', 3),  # fewer records than named
    ],
)
def test_given_a_window_whose_text_could_mislead_then_the_record_is_not_taken_from_it(
    window: bytes, bad: int
) -> None:
    """Given windows where counting '},' would cut a record wrongly, when the refused
    record is looked for, then the text path declines (the Raw-value parse decides) or
    the caller's decode of the records before it proves the cut wrong."""
    cut = _json._refused_record(window, 0, len(window), bad)
    if cut is None:
        return
    before, _, _ = cut
    assert len(json.loads(b"[" + window[:before] + b"]")) != bad


def _mixed_invalid(count: int) -> list[str]:
    """Records, one in ten invalid in one of several ways, one a duplicate job_id (its
    error is found out of file order), the texts of some over several lines."""
    kinds: list[dict[str, Any]] = [
        {"priority": 9},
        {"status": "paused"},
        {"currency": "usd"},
        {"customer_id": 0, "amount": -1},
        {"job_id": "J-0003"},
        {"notes": "a\nb", "quantity": -1},
    ]
    return [job(n, **(kinds[(n // 10) % len(kinds)] if n % 10 == 4 else {})) for n in range(count)]


@pytest.mark.parametrize("fmt", ["ndjson", "json one a line", "json indented"])
@pytest.mark.parametrize("max_errors", [1, 30, 250])
def test_given_more_errors_than_kept_then_counting_them_gives_the_summary_of_wording_them(
    validate: Validate, fmt: str, max_errors: int
) -> None:
    """Given files with more invalid records than the summary keeps errors, when the
    records past those kept are counted only (no wording, no line count), then the
    summary (errors kept, their places, counts, reasons) is the one wording and locating
    every error gives."""
    records = _mixed_invalid(6_000)
    if fmt == "ndjson":
        data, key = "\n".join(records) + "\n", "jobs.ndjson"
    elif fmt == "json one a line":
        data, key = "[\n" + ",\n".join(records) + "\n]", "jobs.json"
    else:
        data, key = json.dumps([json.loads(r) for r in records], indent=2), "jobs.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        counted = validate(data, key, max_errors=max_errors).to_dict()
        mp.setattr(Collector, "would_keep", lambda self, record, line: True)
        worded = validate(data, key, max_errors=max_errors).to_dict()
    assert counted == worded
    assert counted["invalid_records"] > 500
    assert len(counted["errors"]) == max_errors


def test_given_every_edge_record_then_the_problems_with_quick_verdicts_are_the_checks() -> None:
    """Given the edge records read exactly, when their problems are found with each
    value first put to its property's quick verdict, then they are the problems of the
    loop that checks every value (the one CSV cells take)."""
    rules = _EVERY_RULE._rules
    assert rules is not None
    readable = []
    for text in _RECORDS:
        try:
            values = EXACT_VALUES.decode(text.encode())
        except (msgspec.MsgspecError, ArithmeticError):
            continue
        if isinstance(values, dict):
            readable.append(values)
    assert len(readable) > 20
    for values in readable:
        assert rules._every_problem(values) == rules.problems(values, {}), values


# Rules of every kind the quick verdicts read, with bounds of both kinds on each side
# (ties included), an integer and a fractional multipleOf, nullable ones, and both
# formats with a pattern and lengths on top.
_QUICK_PROPERTIES: dict[str, dict[str, Any]] = {
    f"p{i}": sub
    for i, sub in enumerate(
        [
            {"type": "integer"},
            {"type": "integer", "minimum": 1, "maximum": 5},
            {"type": "integer", "exclusiveMinimum": 0, "minimum": 0, "maximum": 2.5},
            {"type": "integer", "minimum": -3, "exclusiveMinimum": -3.5, "multipleOf": 3},
            {"type": ["integer", "null"], "exclusiveMaximum": 10},
            {"type": "number"},
            {"type": "number", "minimum": 0, "exclusiveMaximum": 4.9999999999999998},
            {"type": "number", "exclusiveMinimum": -1e-5, "maximum": 1e300},
            {"type": "number", "multipleOf": 0.5},
            {"type": "number", "multipleOf": 2, "maximum": 100},
            {"type": ["number", "null"], "minimum": 2, "exclusiveMinimum": 2},
            {"type": "boolean"},
            {"type": ["boolean", "null"]},
            {"type": "string"},
            {"type": "string", "enum": ["a", "b", "1"]},
            {"type": ["string", "null"], "enum": ["a"]},
            {"type": "string", "pattern": "^[a-z]{2,4}$"},
            {"type": "string", "minLength": 2, "maxLength": 3},
            {"type": "string", "format": "date-time"},
            {"type": "string", "format": "email", "maxLength": 20},
            {"type": "string", "format": "date-time", "pattern": "Z$", "minLength": 20},
        ]
    )
}
_QUICK_RULES = [PropertyRule.of(name, sub) for name, sub in _QUICK_PROPERTIES.items()]

_EXACT_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-12, max_value=12),
    st.integers(),
    st.sampled_from([1 << 14_284, -(1 << 14_284), (1 << 14_284) - 1, 10**4300, 2**63]),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=-12, max_value=12, places=2).map(Decimal),
    st.sampled_from(
        [
            Decimal("1.8e308"),
            Decimal("-1.8e308"),
            Decimal("1.7976931348623157e308"),
            Decimal("-1.7976931348623157e308"),
            Decimal("1e308"),
            Decimal("9.99e307"),
            Decimal("-1e999999"),
        ]
    ),
    st.sampled_from(["a", "b", "1", "ab", "abcd", "abcde", "", "AB", "ab\n"]),
    st.sampled_from(["2026-01-05T09:30:00Z", "2026-02-30T00:00:00Z", "a@b.example"]),
    st.text(max_size=6),
)


@settings(max_examples=600, deadline=None)
@given(_EXACT_VALUE)
def test_given_any_exact_value_then_each_quick_verdict_is_the_checks(value: Any) -> None:
    """Given a value as an exact reading holds it, when each rule's quick verdict is
    asked, then it accepts exactly what the rule's check finds no problem with, except
    that it may defer (False) on what it does not read: integers past 14,284 bits,
    Decimals past a double's range, a fractional multipleOf, a Decimal's remainder."""
    for rule in _QUICK_RULES:
        problem = rule.check(value)
        if rule.quick(value):
            assert problem is None, (rule, value)
            continue
        deferred = (
            (isinstance(value, int) and abs(value) >= 1 << 14_284)
            or (isinstance(value, Decimal) and abs(value) > Decimal(sys.float_info.max))
            or isinstance(rule.multiple_of, Decimal)
            or (isinstance(value, Decimal) and rule.multiple_of is not None)
        )
        assert problem is not None or deferred, (rule, value)


def test_given_a_tree_number_then_the_quick_verdict_defers_to_the_check() -> None:
    """Given a tree's number (its text kept), then no quick verdict accepts it: the
    check reads it exactly."""
    for rule in _QUICK_RULES:
        assert not rule.quick(Num("3"))


# Cells for each column of _EVERY_RULE: valid, refused, empty (absent), and long ones
# (not remembered), so rows mix every outcome.
_CELLS = {
    "id": ["ab", "A1", "", "x" * 70, "abcdefghi"],
    "at": ["2026-01-05T09:30:00Z", "2026-02-30T00:00:00Z", "", "2026-01-05 09:30:00Z"],
    "mail": ["a@b.example", "no-at", "", "a@bücher.example"],
    "kind": ["a", "c", ""],
    "count": ["3", "9", "0", "1.5", "x", "", "9" * 80],
    "rate": ["2.5", "0", "5", "1e400", "-1e-400", ""],
    "step": ["3", "4", "3.0", ""],
    "slot": ["null", "-1", "2", ""],
    "flag": ["true", "1", "null", ""],
    "note": ["ab", "x", "", "y" * 100],
}
_HEADER = list(_CELLS)


@settings(max_examples=300, deadline=None)
@given(
    st.fixed_dictionaries({k: st.sampled_from(v) for k, v in _CELLS.items()}),
    st.sets(st.sampled_from(_HEADER), min_size=1),
)
def test_given_a_csv_row_then_its_suspect_columns_judged_alone_give_the_joint_problems(
    cells: dict[str, str], names: set[str]
) -> None:
    """Given a CSV row and some of its columns (those a column check refused), when
    each column's cell is judged alone and remembered, then the problems and their
    order are those of the columns judged together, the first time and when remembered."""
    row = [cells[k] for k in _HEADER]
    index = {k: i for i, k in enumerate(_HEADER)}
    only = frozenset(names)
    joint = _EVERY_RULE._cell_problems({k: v for k, v in cells.items() if k in only and v}, only)
    expected = [(e.path, e.message) for e in joint]
    for _ in range(2):
        assert _EVERY_RULE.suspect_problems(only, row, index) == expected
    memo = _EVERY_RULE._cell_memo
    assert all(len(cell) <= 64 for _, cell in memo)


def test_given_no_flat_rules_then_suspect_columns_are_left_to_the_whole_row() -> None:
    """Given a schema whose rules are not flat, then no column is judged alone."""
    nested = compile_schema(
        "nested",
        {"type": "object", "properties": {"a": {"type": "object"}}, "additionalProperties": False},
        None,
    )
    assert nested.suspect_problems(frozenset({"a"}), ["{}"], {"a": 0}) is None


# Values for records counted a property at a time: the exact values above, containers,
# and values equal across types or spellings (True and 1, 1 and Decimal("1.0")), drawn
# from a small pool so that columns repeat them.
_COUNTED_VALUE = st.one_of(
    _EXACT_VALUE,
    st.sampled_from([True, False, 1, 0, Decimal("1.0"), Decimal("1"), Decimal("0E-3"), 3, 9]),
    st.sampled_from([[], ["a"], {}, {"x": 1}]),
)
# Properties of every rule above and of every kind of quick verdict (some never quick:
# every value they refuse or defer is checked, and its verdict remembered).
_COUNTED_PROPERTIES = {**_EVERY_RULE.document["properties"], **_QUICK_PROPERTIES}
_COUNTED_RECORD = st.dictionaries(
    st.sampled_from([*_COUNTED_PROPERTIES, "extra"]), _COUNTED_VALUE, max_size=12
)


@pytest.mark.parametrize("closed", [True, False])
@settings(max_examples=120, deadline=None)
@given(records=st.lists(_COUNTED_RECORD, max_size=40), pool=st.lists(_COUNTED_RECORD, max_size=4))
def test_given_any_records_then_counting_them_a_property_at_a_time_gives_their_problems(
    records: list[dict[str, Any]], pool: list[dict[str, Any]], closed: bool
) -> None:
    """Given records as an exact reading holds them (any values, absent and unknown
    keys, values repeated across records), when their problems are counted a property at
    a time, then each count is the number of problems the record's own check words."""
    required = frozenset([*_EVERY_RULE.required, "p3", "p8"])
    rules = RecordRules.of(_COUNTED_PROPERTIES, required, closed=closed)
    records = records + pool * 3  # the same records again: remembered verdicts reused
    expected = [len(rules.problems(r)) for r in records]
    assert rules.problem_counts(records) == expected
    columns = {rule.name: verdict for rule, verdict in _COLUMN_VERDICTS if verdict is not None}
    assert rules.problem_counts(records, columns) == expected


@pytest.mark.parametrize("closed", [True, False])
@settings(max_examples=200, deadline=None)
@given(record=_COUNTED_RECORD, name=st.sampled_from([*_COUNTED_PROPERTIES, "extra", "zzz"]))
def test_given_any_record_then_a_property_breaks_exactly_where_a_problem_is_listed(
    record: dict[str, Any], name: str, closed: bool
) -> None:
    """Given a record as an exact reading holds it and any property name, when asked
    whether that property breaks its rule, then the answer is whether the record's own
    check lists a problem of it (its value, its absence when required, or its being
    unknown to a closed schema)."""
    required = frozenset([*_EVERY_RULE.required, "p3", "p8"])
    rules = RecordRules.of(_COUNTED_PROPERTIES, required, closed=closed)
    listed = {
        path.removeprefix("$.") if path != "$" else message.split("`")[1]
        for path, message in rules.problems(record)
    }
    assert rules.breaks(record, name) == (name in listed)


@pytest.mark.parametrize("lines", [True, False])
def test_given_edge_texts_then_their_counts_are_the_checks_or_left_to_it(lines: bool) -> None:
    """Given record texts at every edge (broken, not objects, repeated and nested keys,
    numbers past msgspec's range), when counted for a summary that keeps none of their
    errors, then a text counted has exactly the exact check's number of problems, all
    schema violations, and a text left uncounted (0) is one the quicker reading cannot
    settle or a valid one; the texts are counted in one call whether or not one is
    broken."""
    texts = [t.encode() for t in _RECORDS if "\n" not in t or not lines]
    counts, settled = _EVERY_RULE.settled_counts(texts, lines=lines)
    assert sum(n > 0 and ok for n, ok in zip(counts, settled, strict=True)) >= 12
    for text, n, ok in zip(texts, counts, settled, strict=True):
        checked = _EVERY_RULE.check_record(text)
        if ok:
            assert n == len(checked.errors), text
            assert {e.reason for e in checked.errors} <= {Reason.SCHEMA_VIOLATION}, text
        else:
            assert _EVERY_RULE._flat_problems(text) is None, text


# Every property of the schema above, one it does not have, and none (the batch checks').
_NAMES = [None, "id", "at", "mail", "kind", "count", "rate", "ratio", "flag", "note", "zzz"]


@pytest.mark.parametrize("lines", [True, False])
@pytest.mark.parametrize("name", _NAMES)
def test_given_edge_texts_and_a_property_named_then_each_count_is_a_floor_of_the_checks(
    lines: bool, name: str | None
) -> None:
    """Given the same texts, each said to be refused at one property (or by a batch
    check), when counted for a summary that keeps none of their errors, then a text is
    counted (at least one, at most its exact check's number of problems, all schema
    violations) exactly when the reading settles it and the check finds a problem; and
    a text whose named property breaks its rule counts one."""
    texts = [t.encode() for t in _RECORDS if "\n" not in t or not lines]
    counts = _EVERY_RULE.refusal_counts(texts, [name] * len(texts), lines=lines)
    exact, settled = _EVERY_RULE.settled_counts(texts, lines=lines)
    for text, n, whole, ok in zip(texts, counts, exact, settled, strict=True):
        errors = _EVERY_RULE.check_record(text).errors
        if not ok:
            assert n == 0, text
            continue
        assert (n > 0) == bool(errors), text
        assert n <= len(errors), text
        assert n in (1, whole), text
        assert {e.reason for e in errors} <= {Reason.SCHEMA_VIOLATION}, text
    # The record breaking seven rules: one problem counted when the property named is
    # one it breaks (None: the pattern of "id"), all seven otherwise.
    seven = texts.index(_RECORDS[3].encode())
    assert counts[seven] == (1 if name in (None, "id", "count", "rate", "flag", "note") else 7)


@given(st.lists(st.booleans(), max_size=400), st.booleans())
@example([True] * 50, False)  # every one dropped: picked from a mask
@example([i % (_SLICES * 2) == 0 for i in range(300)], True)  # one in 32: sliced
def test_given_any_indices_dropped_then_the_rest_are_kept_in_order(
    dropped: list[bool], as_range: bool
) -> None:
    """Given items (a list, or a range as the places of records are) and any sorted
    indices to drop, sparse or dense, when the rest are taken, then they are every item
    not dropped, in order, as a list."""
    n = len(dropped)
    items: Any = range(10**12, 10**12 + 7 * n, 7) if as_range else [f"r{i}" for i in range(n)]
    drop = [i for i, gone in enumerate(dropped) if gone]

    kept = _without(items, drop)

    assert isinstance(kept, list)
    assert kept == [x for x, gone in zip(items, dropped, strict=True) if not gone]


def _every_record_refused(count: int) -> list[str]:
    """Records every one of which is invalid (a file under the wrong schema, a column
    wrong throughout), in many ways at once, with now and then one the quicker reading
    leaves to the exact check (a repeated key, a nested object, a number past msgspec's
    range, broken JSON, not an object) and one msgspec refuses that is valid after all."""
    kinds: list[dict[str, Any] | str] = [
        {"priority": 9},
        {"priority": 9, "currency": "usd", "extra": 1},
        {"priority": True, "status": None},
        {"customer_id": 0, "amount": "12", "email": "no-at"},
        {"submitted_at": "2026-02-30T00:00:00Z", "notes": ["x"]},
        {"status": None, "customer_id": None},
        {"priority": 9, "quantity": -1, "notes": {"a": 1}},
    ]
    odd = [
        '{"job_id":"J-x","job_id":"J-y","submitted_at":"2026-01-05T09:30:00Z","customer_id":0,'
        '"status":"queued"}',
        '{"job_id":"J-n","submitted_at":"2026-01-05T09:30:00Z","customer_id":0,"status":"queued",'
        '"notes":{"k":1}}',
        '{"job_id":"J-b","submitted_at":"2026-01-05T09:30:00Z","customer_id":0,"status":"queued",'
        '"amount":1e400}',
        '{"job_id":"J-broken',
        "[1, 2]",
        job(0, amount=4.9999999999999999),
    ]
    out: list[str] = []
    for n in range(count):
        if n % 997 == 500:
            out.append(odd[(n // 997) % len(odd)])
            continue
        kind = kinds[n % len(kinds)]
        out.append(kind if isinstance(kind, str) else job(n, **kind))
    return out


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("max_errors", [1, 100, 1000])
def test_given_every_record_refused_then_those_past_the_kept_errors_are_counted_alike(
    validate: Validate, fmt: str, max_errors: int
) -> None:
    """Given a file in which every record is refused, when the records past the kept
    errors are counted a property at a time, then the summary is the one checking each
    record alone gives (errors kept, their places, counts), and most records were counted
    that way."""
    records = _every_record_refused(14_000)
    if fmt == "ndjson":
        data, key = "\n".join(records) + "\n", "jobs.ndjson"
    else:
        records = [r for r in records if "J-broken" not in r]  # broken JSON ends an array
        data, key = "[\n" + ",\n".join(records) + "\n]", "jobs.json"
    counted: list[int] = []
    real = CompiledSchema.settled_counts

    def spy(
        self: CompiledSchema, texts: list[bytes], *, lines: bool
    ) -> tuple[list[int], list[bool]]:
        counts, settled = real(self, texts, lines=lines)
        counted.extend(n for n, ok in zip(counts, settled, strict=True) if ok and n)
        return counts, settled

    fast, worded = _counted_and_checked(
        validate, (data, key, max_errors), CompiledSchema, "settled_counts", spy
    )
    assert fast == worded
    assert len(fast["errors"]) == max_errors
    assert fast["invalid_records"] >= len(records) - 20
    assert len(counted) > len(records) // 2


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("max_errors", [1, 30])
def test_given_a_few_refused_records_then_those_past_the_kept_errors_are_counted_alike(
    validate: Validate, fmt: str, max_errors: int
) -> None:
    """Given a file with one record in fifty refused, each its own way (by msgspec at a
    property, a field missing or unknown, by a batch check), when
    the blocks are sifted and the refused records past the kept errors counted from the
    property each was refused at, then the summary is the one checking each record alone
    gives, and most of them were counted from that property alone."""
    kinds: list[dict[str, Any]] = [
        {"priority": 9},
        {"status": "paused", "amount": -1},
        {"currency": "usd"},
        {"customer_id": 0, "email": "no-at"},
        {"extra": 1},
        {"quantity": -1, "notes": 5},
    ]
    records = [
        job(n, **kinds[(n // 50) % len(kinds)]) if n % 50 == 7 else job(n) for n in range(12_000)
    ]
    records[1208] = records[1208].replace('"status":"queued"', '"state":"queued"')
    if fmt == "ndjson":
        data, key = "\n".join(records) + "\n", "jobs.ndjson"
    else:
        data, key = "[\n" + ",\n".join(records) + "\n]", "jobs.json"
    named: list[str | None] = []
    counted: list[int] = []
    real = CompiledSchema.refusal_counts

    def spy(
        self: CompiledSchema, texts: list[bytes], names: list[str | None], *, lines: bool
    ) -> list[int]:
        counts = real(self, texts, names, lines=lines)
        named.extend(names)
        counted.extend(counts)
        return counts

    fast, worded = _counted_and_checked(
        validate, (data, key, max_errors), CompiledSchema, "refusal_counts", spy
    )
    assert fast == worded
    assert fast["invalid_records"] == 241
    assert len(fast["errors"]) == max_errors
    assert {"priority", "status", "customer_id", "extra", "quantity", None} <= set(named)
    assert counted.count(1) > 200


_JOB = SchemaRegistry.load().get("job.v1")


@settings(max_examples=300)
@given(
    st.one_of(
        st.tuples(st.just("submitted_at"), DATE_TIME_TEXTS),
        st.tuples(st.sampled_from(["job_id", "currency", "email"]), st.text(max_size=80)),
        st.tuples(
            st.just("email"),
            st.builds("{}@{}".format, st.text(max_size=70), st.text(max_size=40)),
        ),
    )
)
def test_given_any_string_then_a_batch_checks_refusal_is_a_problem_of_its_rule(
    value: tuple[str, str],
) -> None:
    """Given any string for a property with a batch check (a pattern, a date-time, an
    e-mail address; leap seconds and near misses among the dates), when the check's own
    test refuses it, then the property's rule finds a problem in it, and where the test
    accepts it only the rule's length bound on an address may (what lets a refusal count
    as a record's problem without its text being read)."""
    prop, text = value
    refuses = _JOB.pattern_refuses(prop)
    assert refuses is not None
    rules = _JOB._rules
    assert rules is not None

    broken = rules.breaks({prop: text}, prop)

    if refuses(text):
        assert broken
    else:
        assert not broken or (prop == "email" and len(text) > 254)


def test_given_a_property_without_a_batch_check_then_no_refusal_test_is_offered() -> None:
    assert _JOB.pattern_refuses("status") is None
    assert _JOB.pattern_refuses("priority") is None
    assert _JOB.pattern_refuses("no such property") is None


def _batch_refused(count: int) -> list[str]:
    """Records one in ten refused by a batch check alone, each its own way (a date
    written with a space, every one different; a lower-case currency; an address
    without its at; an id the pattern refuses), with now and then one whose values
    cannot prove it: a leap second (valid, which the date-time batch check refuses only
    without the compiled module), a refused record repeating a key, and a valid record
    repeating an earlier record's id."""
    kinds: list[dict[str, Any]] = [
        {"currency": "usd"},
        {"email": "no-at"},
        {"job_id": "-bad"},
        {"currency": "eur", "email": "also-no-at"},
    ]
    out: list[str] = []
    for n in range(count):
        if n % 10 == 3:
            out.append(job(n, **kinds[(n // 10) % len(kinds)]))
        elif n % 10 == 7:
            out.append(job(n, submitted_at=f"2026-01-05 09:{n % 60:02d}:{n % 59:02d}Z"))
        else:
            out.append(job(n))
    # In the third, fourth and fifth of the file's blocks of 1 MiB: a repeated key in a
    # refused record and in one the batch checks accept (msgspec keeps the last value).
    out[15_001] = out[15_001].replace('"status"', '"currency":"USD","currency":"usd","status"')
    out[15_011] = out[15_011].replace('"status"', '"currency":"usd","currency":"USD","status"')
    out[25_501] = job(25_501, submitted_at="2016-12-31T23:59:60Z")
    out[40_002] = job(39_002)
    return out


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("max_errors", [1, 30])
@pytest.mark.parametrize("compiled_dates", [True, False])
def test_given_records_refused_by_batch_checks_then_past_the_kept_errors_their_values_count(
    validate: Validate,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
    max_errors: int,
    compiled_dates: bool,
) -> None:
    """Given a file of several blocks, one record in ten refused by a pattern or a
    date-time alone, when each refused record past the kept errors is counted from its
    decoded values (its text never read), then the summary is the one checking each
    record alone gives, every block after the first was counted so, and the blocks
    whose values cannot prove it (a leap second refused by msgspec's reading of dates,
    a refused record repeating a key, an id repeated) were sifted instead."""
    if not compiled_dates:
        monkeypatch.setattr(_patterns, "_date_time_lines", None)

    fast, checked, verdicts, counted = counted_and_checked(
        validate, _batch_refused(50_000), fmt, max_errors
    )

    assert fast == checked
    assert fast["invalid_records"] == 10_003
    assert len(counted) > 1_000
    assert verdicts.count(False) >= 3


def _none_counted(
    self: Collector, texts: list[bytes], named: list[str | None], *, lines: bool
) -> list[int]:
    """``Collector.problem_counts`` that counts nothing: each refused record checked."""
    return [0] * len(texts)


def _counted_and_checked(
    validate: Validate, file: tuple[str, str, int], owner: Any, name: str, spy: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The summaries of ``file`` (its text, key and ``max_errors``), every error kept
    whatever its size: as validated, ``owner.name`` replaced by ``spy`` (which watches
    it), and with every refused record checked alone instead of counted."""
    data, key, max_errors = file
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(owner, name, spy)
        fast = validate(data, key, max_errors=max_errors).to_dict()
        mp.setattr(Collector, "problem_counts", _none_counted)
        checked = validate(data, key, max_errors=max_errors).to_dict()
    return fast, checked


@pytest.mark.parametrize("closed", [True, False])
def test_given_values_equal_across_types_then_each_count_is_its_own(closed: bool) -> None:
    """Given, for every property, values equal as Python numbers yet of different JSON
    types (True and 1 and 1.0, False and 0 and 0.000) in both orders, when counted a
    property at a time, then no value takes another's remembered verdict."""
    rules = RecordRules.of(_COUNTED_PROPERTIES, frozenset(), closed=closed)
    equal = [True, 1, Decimal("1.0"), Decimal("1"), False, 0, Decimal("0E-3")]
    records = [
        {name: value for name in _COUNTED_PROPERTIES} for value in [*equal, *reversed(equal)]
    ]
    counts = rules.problem_counts(records)
    assert counts == [len(rules.problems(r)) for r in records]
    assert len(set(counts)) > 2


# Every whole-column verdict there is: the quick rules' (no pattern or format judged in
# bulk) and every-rule's (their patterns and formats judged by the batch checks).
_COLUMN_VERDICTS = [
    *((rule, quick_column(rule)) for rule in _QUICK_RULES),
    *((_EVERY_RULE._rules.by_name[n], v) for n, v in _EVERY_RULE._columns.items()),  # type: ignore[union-attr]
]
_LONG_EMAILS = [
    "a" * 64 + "@" + "b" * 60 + "." + "c" * 60 + "." + "d" * 60 + "." + "e" * n for n in (5, 6, 7)
]
_COLUMN_VALUE = st.one_of(
    _COUNTED_VALUE,
    st.sampled_from(["ab", "abcdefgh", "2026-01-05T09:30:00+05:30", "2026-01-05T23:59:60Z"]),
    st.sampled_from([*_LONG_EMAILS, "a@bücher.example", "a@b\u200b.de", "a\nb@c.de", "ab\n"]),
    st.sampled_from([Decimal("4.9999999999999998"), Decimal("4.9999999999999997"), 5, 1, 0]),
)


@settings(max_examples=400, deadline=None)
@given(values=st.lists(_COLUMN_VALUE, max_size=30), extra=_COLUMN_VALUE)
def test_given_a_column_with_one_value_refused_then_no_whole_column_verdict_accepts_it(
    values: list[Any], extra: Any
) -> None:
    """Given, for every rule, a column of values its quick verdict accepts, absences and
    one more value, when the column is judged whole, then it is accepted only if that
    value is accepted too: a whole-column verdict never accepts what a value's would not."""
    assert len(_COLUMN_VERDICTS) > 20
    for rule, verdict in _COLUMN_VERDICTS:
        if verdict is None:
            continue
        column = [*(v for v in values if rule.quick(v)), ABSENT, extra]
        if verdict(column, set(map(type, column))):
            assert rule.quick(extra), (rule, extra)


def test_given_valid_records_then_every_column_is_accepted_whole(
    job_schema: CompiledSchema,
) -> None:
    """Given valid job records (optional properties absent in some), when their columns
    are judged whole, then every property with a whole-column verdict accepts its
    column, so counting takes no value-by-value verdict for them."""
    records = [
        EXACT_VALUES.decode(job(n, amount=n / 7, email=f"c{n}@x.example").encode())
        for n in range(200)
    ]
    records += [EXACT_VALUES.decode(job(n).encode()) for n in range(200, 300)]
    assert {"job_id", "submitted_at", "status", "amount", "email"} <= job_schema._columns.keys()
    for name, verdict in job_schema._columns.items():
        column = [r.get(name, ABSENT) for r in records]
        assert verdict(column, set(map(type, column))), name


def _mostly_refused_then_mostly_valid(count: int) -> str:
    """NDJSON whose first two thirds are mostly refused records (one in eight valid, ids
    repeated among them; now and then a record the exact reading cannot settle, broken
    JSON, one valid after all, a blank line) and whose last third is mostly valid."""
    refused: list[dict[str, Any]] = [
        {"priority": 9},
        {"currency": "usd", "extra": 1},
        {"status": None, "quantity": -1},
        {"email": "no-at", "amount": "12"},
        {"submitted_at": "2026-02-30T00:00:00Z"},
        {"customer_id": 0, "priority": True},
        {"notes": ["x"]},
    ]
    odd = [
        '{"job_id":"J-x","job_id":"J-y","submitted_at":"2026-01-05T09:30:00Z","customer_id":0,'
        '"status":"queued"}',
        job(1, notes="n").replace('"notes":"n"', '"notes":{"k":1}'),
        '{"job_id":"J-broken',
        job(2, amount=4.9999999999999999),
        "",
        job(3, amount=1).replace('"amount":1', '"amount":1e400'),
    ]
    lines: list[str] = []
    for n in range(count):
        if n % 1499 == 700:
            lines.append(odd[(n // 1499) % len(odd)])
        elif n < count * 2 // 3:
            lines.append(job(n % 5000) if n % 8 == 0 else job(n, **refused[n % len(refused)]))
        else:
            lines.append(job(n, priority=9) if n % 50 == 0 else job(n))
    return "\n".join(lines) + "\n"


def _counted_whole_and_sifted(
    validate: Validate, records: list[str], fmt: str, max_errors: int
) -> tuple[dict[str, Any], dict[str, Any], list[Any]]:
    """The summary of ``records`` as an NDJSON file or a JSON array, as validated and with
    no block counted whole (every refused record then checked alone), and what each call
    to count a block whole returned (None: it declined)."""
    module: Any = _ndjson
    name, key, data = "_ndjson_dense", "jobs.ndjson", "\n".join(records) + "\n"
    if fmt == "json":
        module, name, key = _json, "_json_dense", "jobs.json"
        data = "[\n" + ",\n".join(records) + "\n]"
    dense: list[Any] = []
    real = getattr(module, name)

    def spy(*args: Any) -> Any:
        done = real(*args)
        dense.append(done)
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(module, name, spy)
        fast = validate(data, key, max_errors=max_errors).to_dict()
        mp.setattr(module, name, lambda *args: None)
        mp.setattr(Collector, "problem_counts", _none_counted)
        sifted = validate(data, key, max_errors=max_errors).to_dict()
    return fast, sifted, dense


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("max_errors", [1, 3000])
def test_given_mostly_refused_blocks_then_counting_each_whole_gives_the_sifted_summary(
    validate: Validate, max_errors: int, fmt: str
) -> None:
    """Given NDJSON blocks (or runs of a JSON array) most of whose records are refused,
    past the kept errors, when each such block has every record counted at once and its
    valid records decoded as one batch, then the summary is the one sifting each block in
    windows and checking each refused record alone gives; blocks under half refused, and
    those whose errors may be kept, are still sifted in windows."""
    records = _mostly_refused_then_mostly_valid(48_000).splitlines()
    if fmt == "json":  # broken JSON would end the array; a blank line is no element
        records = [r for r in records if r and "J-broken" not in r]
    fast, sifted, dense = _counted_whole_and_sifted(validate, records, fmt, max_errors)
    assert fast == sifted
    assert len([d for d in dense if d is not None]) >= 2
    if fmt == "ndjson":
        assert fast["reason"] == "MALFORMED"  # the broken line past the kept errors


def _alternating(groups: int, size: int) -> list[str]:
    """Records in groups of ``size``, every record of the even groups refused (a priority
    written as a string, which msgspec refuses whatever the record type's bounds) and
    every record of the odd ones valid: blocks alternately refused and valid, as a file
    joined from a wrong export and a right one would be."""
    return [job(n, priority="9") if (n // size) % 2 == 0 else job(n) for n in range(groups * size)]


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_given_blocks_alternating_refused_and_valid_then_only_refused_ones_are_counted_whole(
    validate: Validate, fmt: str
) -> None:
    """Given a file whose blocks (or array runs) are alternately all refused and all
    valid, past the kept errors, when it is validated, then only the refused blocks are
    counted whole: a mostly valid block after a refused one is not read exactly line by
    line first (its middle decodes), and the summary is the windows' own."""
    records = _alternating(5, 20_000)
    fast, sifted, dense = _counted_whole_and_sifted(validate, records, fmt, max_errors=5)
    assert fast == sifted
    assert fast["invalid_records"] == 60_000
    assert len(dense) >= 2
    assert None not in dense  # no block was read whole only to be sifted after all


def test_given_a_block_under_half_refused_then_counting_it_whole_declines(
    job_schema: CompiledSchema,
) -> None:
    """Given a block a third of whose lines are refused, when it is offered to be counted
    whole, then nothing is recorded, the density flag is cleared, and the caller sifts
    it in windows instead."""
    lines = [job(n, priority=9) if n % 3 == 0 else job(n) for n in range(300)]
    block = ("\n".join(lines) + "\n").encode()
    col = Collector(job_schema, Limits(max_bytes=1 << 30, max_errors=1), FileFormat.NDJSON)
    col.dense = True

    assert _ndjson._ndjson_dense(block, 1, col, len(lines), None) is None

    assert (col.records, col.invalid, col.error_count, col.dense) == (0, 0, 0, False)
