"""The record type's lenient twin and the value checks taken out of it.

A whole block is decoded into the twin when the record type refuses it, and the checks
then find the records breaking a bound, a length or an enum. The two together must
accept exactly what the record type accepts, the compiled pass must find what the
Python definition finds, and a refused block must give the summary of checking each
record alone.
"""

from __future__ import annotations

import json
import math
import sys
from decimal import Decimal, localcontext
from typing import Annotated, Any

import msgspec
import pytest
from engine_support import REPO, Validate, counted_and_checked, job
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import _constraints, _fields, _struct
from silent_scalper.engine._constraints import value_failures_python
from silent_scalper.engine.schemas import CompiledSchema, _decoded_whole, compile_schema

_JOB_TEXT = (REPO / "schemas" / "job.v1.json").read_text(encoding="utf-8")

# Every kind of constraint the twin takes out, on required, optional and nullable
# fields, beside those it keeps (a pattern msgspec checks, a multipleOf) and a batch
# pattern; closed.
_SCHEMA = compile_schema(
    "constrained",
    {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z]{2,8}$"},
            "count": {"type": "integer", "minimum": 1, "maximum": 5},
            "low": {"type": "integer", "exclusiveMinimum": -3},
            "huge": {"type": "integer", "maximum": 9_223_372_036_854_775_807},
            "far": {"type": "integer", "minimum": 2, "maximum": 2**70},
            "rate": {"type": "number", "exclusiveMinimum": 0, "maximum": 2.5},
            "tiny": {"type": "number", "minimum": 0.3},
            "kind": {"type": "string", "enum": ["a", "b", "ü"]},
            "note": {"type": "string", "minLength": 2, "maxLength": 4},
            "slot": {"type": ["integer", "null"], "minimum": 0},
            "word": {"type": ["string", "null"], "maxLength": 3},
            "mail": {"type": "string", "format": "email"},
            "either": {"type": "string", "pattern": "^(x|yy)$"},
            "step": {"type": "integer", "multipleOf": 3, "minimum": 3},
            "flag": {"type": "boolean"},
        },
        "required": ["id", "count", "kind"],
        "additionalProperties": False,
    },
    None,
)

_EDGES: dict[str, list[str]] = {
    "count": ["0", "1", "5", "6", "-1", "3", "1.0", "true", '"3"', "9223372036854775808"],
    "low": ["-3", "-2", "0", "-9223372036854775808", "-9223372036854775809"],
    "huge": ["9223372036854775807", "9223372036854775808", "18446744073709551615", "0"],
    "far": ["1", "2", "9223372036854775808", "1180591620717411303424", "1180591620717411303425"],
    "rate": ["0", "0.0", "-0.0", "1e-400", "-1e-400", "2.5", "2.5000000000000001", "2.51", "1"],
    "tiny": ["0.3", "0.29999999999999998", "0.30000000000000004", "0.2999999", "1", "0"],
    "kind": ['"a"', '"b"', '"c"', '"ü"', '"u"', '""', '"ab"', "1", "null"],
    "note": ['"x"', '"xy"', '"wxyz"', '"vwxyz"', '"🙂🙂"', '"é"', '""', "null"],
    "slot": ["null", "0", "-1", "7"],
    "word": ["null", '"abc"', '"abcd"', '"ééé"', '"🙂🙂🙂🙂"'],
    "mail": ['"a@b.example"', '"' + "a" * 64 + "@" + "b" * 190 + '.example"', '"x"'],
    "either": ['"x"', '"yy"', '"z"'],
    "step": ["3", "6", "4", "0"],
    "flag": ["true", "0"],
}


@st.composite
def _record_texts(draw: st.DrawFn) -> str:
    """A record's JSON text: the required fields present most of the time, each field's
    value drawn from its edges (in range, at each bound, just past it, past int64, too
    small for a double, of another type, null)."""
    required = ("id", "count", "kind")
    parts: list[str] = []
    for name, edges in [("id", ['"ab"', '"A"']), *_EDGES.items()]:
        present = draw(st.integers(0, 30)) > 0 if name in required else draw(st.booleans())
        if present:
            parts.append(f'"{name}":{draw(st.sampled_from(edges))}')
    return "{" + ",".join(parts) + "}"


def _accepted(decoder: msgspec.json.Decoder[Any], text: str) -> Any | None:
    try:
        return decoder.decode(text.encode())
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None


@settings(max_examples=600)
@given(st.lists(_record_texts(), min_size=1, max_size=12))
def test_given_any_records_then_the_twin_and_its_checks_accept_what_the_record_type_does(
    texts: list[str],
) -> None:
    """Given records with every field at and around its constraints, when each is decoded
    by the record type, and by its lenient twin then put to the checks taken out of it
    (compiled, and by the Python definition), then a record is accepted by the one exactly
    when by the other, and both checks name the same records and checks."""
    values = _SCHEMA._values
    assert values is not None
    strict = msgspec.json.Decoder(_SCHEMA._record_type)
    lenient = msgspec.json.Decoder(values.lenient)
    twins = [_accepted(lenient, text) for text in texts]
    decoded = [twin for twin in twins if twin is not None]

    compiled = values.failures(decoded)
    defined = value_failures_python(decoded, values.checks)

    assert compiled == defined
    refused = {id(decoded[i]) for i in compiled[0]}
    for text, twin in zip(texts, twins, strict=True):
        by_type = _accepted(strict, text) is not None
        by_twin = twin is not None and id(twin) not in refused
        assert by_type == by_twin, text


def test_given_the_twins_fields_then_the_compiled_pass_reads_each_at_its_place() -> None:
    """Given a twin record whose every checked field breaks its check, one at a time, when
    the compiled pass reads it, then it names that field's check (a wrong offset would
    read another field's value)."""
    values = _SCHEMA._values
    assert values is not None
    base = json.loads('{"id":"ab","count":3,"kind":"a"}')
    breaking = {
        "count": 9,
        "low": -5,
        "rate": 3.0,
        "tiny": 0.0,
        "kind": "c",
        "note": "x",
        "slot": -1,
        "word": "abcd",
        "mail": "a" * 300,
        "huge": 2**63,
        "far": 1,
        "step": 0,
    }
    lenient = msgspec.json.Decoder(values.lenient)
    for c, check in enumerate(values.checks):
        record = lenient.decode(json.dumps({**base, check.prop: breaking[check.prop]}))
        assert values.failures([record]) == ([0], [c]), check.prop


def test_given_records_of_another_type_then_the_compiled_pass_refuses_to_read_them() -> None:
    values = _SCHEMA._values
    assert values is not None
    strict = msgspec.json.Decoder(_SCHEMA._record_type).decode(b'{"id":"ab","count":3,"kind":"a"}')
    if values._plan is None:
        pytest.skip("the compiled module is not built")
    with pytest.raises(TypeError, match="not of the record type"):
        values.failures([strict])


def test_given_a_field_type_the_twin_does_not_know_then_no_twin_is_made() -> None:
    """Given an annotation the twin cannot take its constraints out of, when the twin is
    asked for, then the annotation is refused and no twin is made (the schema keeps the
    record type alone); a record type with nothing to take out has none either."""
    with pytest.raises(ValueError, match="not a field type"):
        _constraints.lenient_annotation(list[int])
    bounded = Annotated[int, msgspec.Meta(ge=1)]
    fields = {"a": "f0", "b": "f1"}

    assert _struct._value_checks("T", [("f0", bounded, True)], fields, closed=True) is not None
    assert (
        _struct._value_checks(
            "T", [("f0", bounded, True), ("f1", list[int], False)], fields, closed=True
        )
        is None
    )
    assert _struct._value_checks("T", [("f0", str, True)], fields, closed=True) is None


@pytest.mark.parametrize(
    ("field", "text", "proven"),
    [
        ("count", "9", True),
        ("kind", '"c"', True),
        ("note", '"vwxyz"', True),
        ("rate", "2.51", True),
        ("tiny", "0.2", True),
        # 0.3's nearest double is below 0.3: the record type refuses it, the rule does
        # not, and the double beside it above 0.3 says so.
        ("tiny", "0.3", False),
        ("rate", "2.5000000000000001", False),  # 2.5 after rounding: valid after all
        ("rate", "-1e-400", False),  # -0.0: refused at 0 exclusive, its text too small
    ],
)
def test_given_a_refused_value_then_it_is_proven_only_where_its_text_must_break_the_rule(
    field: str, text: str, proven: bool
) -> None:
    """Given a record the checks refuse for one value, when its refusal is put to the
    rule on the decoded value, then it is proven for integers, strings and numbers
    clearly past their bound, and not where the text's own number may meet the bound."""
    values = _SCHEMA._values
    assert values is not None
    record = msgspec.json.Decoder(values.lenient).decode(
        ('{"id":"ab","count":3,"kind":"a","' + field + '":' + text + "}").encode()
    )
    assert values.failures([record])[0] == [0]

    assert _SCHEMA.whole_refused([record]) == ([0], proven, True)


def _doubles_near(bound: float, steps: int = 4) -> list[float]:
    """The doubles up to ``steps`` either side of ``bound``, and it."""
    out = [bound]
    for toward in (-math.inf, math.inf):
        at = bound
        for _ in range(steps):
            at = math.nextafter(at, toward)
            out.append(at)
    return out


def _rounding_to(value: float) -> list[Decimal]:
    """The ends of the numbers whose nearest double is ``value`` (the halfway points to
    the doubles beside it), and ``value`` itself: a number's text is one of them or
    between them. For an infinite value, the least number that rounds to it."""
    with localcontext() as exact:
        exact.prec = 2_000
        if math.isinf(value):
            top = Decimal(sys.float_info.max)
            half_ulp = (top - Decimal(math.nextafter(sys.float_info.max, 0))) / 2
            return [(top + half_ulp).copy_sign(Decimal(value))]
        ends = [math.nextafter(value, -math.inf), math.nextafter(value, math.inf)]
        return [Decimal(value), *((Decimal(end) + Decimal(value)) / 2 for end in ends)]


_BOUNDS_NEAR = sorted(
    {
        near
        for check in (_SCHEMA._values.checks if _SCHEMA._values is not None else ())
        if check.kind == _constraints.NUMBER
        for bound in (check.low, check.high)
        if bound is not None
        for near in _doubles_near(bound)
    }
)

_VALUES_OF_KIND = {
    _constraints.INTEGER: st.one_of(
        st.integers(-(2**70), 2**70), st.sampled_from([-(2**63), 2**63 - 1, 2**63, -(2**63) - 1])
    ),
    _constraints.NUMBER: st.one_of(st.floats(allow_nan=False), st.sampled_from(_BOUNDS_NEAR)),
    _constraints.LENGTH: st.text(max_size=300),
    _constraints.ENUM: st.one_of(st.text(max_size=3), st.sampled_from(["a", "b", "ü", "A"])),
}


@settings(max_examples=400)
@given(st.data())
def test_given_a_value_breaking_a_check_then_where_the_check_proves_it_the_rule_breaks(
    data: st.DataObject,
) -> None:
    """Given any check of the schema and any value of its kind that breaks it (numbers
    also at and beside their bounds), when the check says that proves the record
    invalid, then the property's rule finds a problem in the value; for a number, in
    every number whose nearest double the value is (an integer's bound at int64's ends,
    which may be a wider one clamped, and a number at or next to its bound never prove
    it)."""
    values = _SCHEMA._values
    rules = _SCHEMA._rules
    assert values is not None
    assert rules is not None
    check = data.draw(st.sampled_from(values.checks), label="check")
    value = data.draw(_VALUES_OF_KIND[check.kind], label="value")
    if not _constraints.breaks(check, value):
        return

    if not check.proves(value):
        return
    if check.kind == _constraints.NUMBER:
        for number in _rounding_to(value):
            assert rules.breaks({check.prop: number}, check.prop), number
    else:
        assert rules.breaks({check.prop: value}, check.prop)


_NUMBER_TEXTS = st.builds(
    "{}{}.{}e{}".format,
    st.sampled_from(["", "-"]),
    st.integers(0, 10**30),
    st.from_regex(r"[0-9]{1,40}", fullmatch=True),
    st.integers(-340, 320),
)


@settings(max_examples=600)
@given(st.one_of(_NUMBER_TEXTS, st.floats(allow_nan=False, allow_infinity=False).map(repr)))
# Halfway between two doubles (ties to even), the smallest normal's neighbourhood, a
# text long past 17 digits, and 1e23 (a fast path's classic miss).
@example("9007199254740993")
@example("9007199254740993.000000000000000000001")
@example("2.2250738585072011e-308")
@example("4.9406564584124654e-324")
@example("2.4703282292062328e-324")
@example("1e23")
@example("0.3000000000000000166533453693773481063544750213623046875")
def test_given_a_numbers_text_then_msgspec_decodes_it_to_its_nearest_double(text: str) -> None:
    """Given a JSON number's text (long mantissas, exponents near a double's ends, and
    every double's shortest text), when msgspec decodes it as a float, then it is the
    double Python's correctly rounded ``float`` gives (the number's own value lies
    between the doubles beside it, which the proofs of refused numbers rely on); a
    number past the largest double is refused, never decoded as an infinity."""
    nearest = float(text)
    if math.isinf(nearest):
        with pytest.raises(msgspec.ValidationError, match="out of range"):
            msgspec.json.decode(text, type=float)
    else:
        assert msgspec.json.decode(text, type=float) == nearest


def test_given_a_number_beyond_its_bound_then_its_check_proves_it_from_two_doubles_on() -> None:
    """Given each number check's bounds, when a double at the bound, the one beyond it
    and the one after that are refused, then only the last is proven by the check alone
    (the text of the others may still meet the rule's bound; the rule decides them)."""
    values = _SCHEMA._values
    assert values is not None
    numbers = [c for c in values.checks if c.kind == _constraints.NUMBER]
    sides = [(c, c.low, -math.inf) for c in numbers if c.low is not None]
    sides += [(c, c.high, math.inf) for c in numbers if c.high is not None]
    assert len(sides) == 3
    for check, bound, beyond in sides:
        first = math.nextafter(bound, beyond)
        second = math.nextafter(first, beyond)
        assert all(_constraints.breaks(check, v) for v in (bound, first, second))
        assert [check.proves(v) for v in (bound, first, second)] == [False, False, True]
        assert check.proves(beyond)


def _constraint_refused(count: int) -> list[str]:
    """Records one in ten refused by a bound, an enum or a length (each its own way),
    with in later blocks values whose decoded double cannot prove them (an amount
    refused as -0.0, valid at 0 after all), a refused record repeating a key, and a
    record of another type (a priority written as a string)."""
    kinds: list[dict[str, Any]] = [
        {"priority": 9},
        {"status": "paused"},
        {"amount": -12.5},
        {"customer_id": 0},
        {"notes": "n" * 2001},
        {"quantity": -1, "priority": 0},
    ]
    out = [job(n, **kinds[(n // 10) % len(kinds)]) if n % 10 == 3 else job(n) for n in range(count)]
    # In the third, fourth and fifth of the file's blocks of 1 MiB.
    out[15_001] = out[15_001].replace('"status"', '"priority":9,"priority":2,"status"')
    out[25_501] = job(25_501, amount=0)
    out[25_502] = job(25_502).replace('"status"', '"amount":-1e-400,"status"')
    out[40_002] = job(40_002, priority="2")
    return out


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
@pytest.mark.parametrize("max_errors", [1, 30])
@pytest.mark.parametrize("compiled", [True, False])
def test_given_records_refused_by_bounds_and_enums_then_blocks_decode_whole_alike(
    validate: Validate, monkeypatch: pytest.MonkeyPatch, fmt: str, max_errors: int, compiled: bool
) -> None:
    """Given a file of several blocks, one record in ten refused by a bound, an enum or a
    length, when each refused block is decoded whole into the twin and its refused
    records past the kept errors counted from their values (compiled checks, or the
    Python definition), then the summary is the one checking each record alone gives,
    most refused records were counted so, and the blocks whose values cannot prove it
    (an amount at 0 or -0.0, a repeated key, a priority of another type) were sifted."""
    schema = None
    if not compiled:
        monkeypatch.setattr(_fields, "_native", None)
        schema = compile_schema("job.v1", json.loads(_JOB_TEXT), None)

    fast, checked, verdicts, counted = counted_and_checked(
        validate, _constraint_refused(50_000), fmt, max_errors, schema
    )

    assert fast == checked
    assert fast["invalid_records"] == 5_003
    assert len(counted) > 1_000
    assert verdicts.count(False) >= 3
    if schema is not None:
        assert schema._values is not None
        assert schema._values._plan is None


@pytest.mark.parametrize("fmt", ["ndjson", "json"])
def test_given_blocks_refused_by_bounds_then_valid_ones_then_the_twin_is_tried_first_between(
    validate: Validate, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """Given a file whose blocks break bounds, then hold valid records, then records
    refused by a pattern only, then break bounds again, when it is validated, then a
    block is decoded into the twin first exactly when the block before it broke a bound
    (the record type's attempt would stop at its first such record), both ways occur,
    and the summary is the one checking each record alone gives."""
    schema = compile_schema("job.v1", json.loads(_JOB_TEXT), None)
    calls: list[bool] = []
    outcomes: list[bool] = []
    decode_name = "decode_whole_lines" if fmt == "ndjson" else "decode_whole_array"
    decode = getattr(CompiledSchema, decode_name)
    judge = CompiledSchema.whole_refused

    def spy_decode(self: CompiledSchema, data: Any, *, twin_first: bool = False) -> Any:
        calls.append(twin_first)
        return decode(self, data, twin_first=twin_first)

    def spy_judge(self: CompiledSchema, objs: list[Any]) -> Any:
        found = judge(self, objs)
        if len(outcomes) < len(calls):  # the block just decoded (not the checked run's)
            outcomes.append(found.by_value)
        return found

    # Each run of records longer than two blocks of 1 MiB (about 11,000 records each).
    def record(n: int) -> str:
        if n < 15_000 or n >= 59_000:
            return job(n, priority=9) if n % 10 == 3 else job(n)
        if n >= 37_000 and n % 10 == 3:
            return job(n, currency="usd")
        return job(n)

    records = [record(n) for n in range(70_000)]
    with monkeypatch.context() as spies:
        spies.setattr(CompiledSchema, decode_name, spy_decode)
        spies.setattr(CompiledSchema, "whole_refused", spy_judge)
        fast, checked, _, _ = counted_and_checked(validate, records, fmt, 1, schema)

    assert fast == checked
    assert fast["invalid_records"] == 4_800
    assert calls[0] is False
    assert calls[1:] == outcomes[:-1]
    assert {(a, b) for a, b in zip(calls, outcomes, strict=True)} == {
        (False, True),
        (True, True),
        (True, False),
        (False, False),
    }


@pytest.mark.parametrize("twin_first", [False, True])
@pytest.mark.parametrize("accepts", ["both", "twin", "neither"])
def test_given_a_block_when_it_is_decoded_whole_then_the_twin_first_spares_the_record_type(
    twin_first: bool, accepts: str
) -> None:
    """Given a block the record type and its twin accept, or only the twin, or neither,
    when it is decoded whole with or without the twin first, then the twin's records
    come back wherever the twin is tried first or the record type refuses, the record
    type's where it is tried first and accepts, None where both refuse, and the record
    type is not tried at all when the twin is tried first (it accepts no more)."""
    tried: list[str] = []

    def decoder(name: str, accepting: bool) -> Any:
        def decode(data: bytes) -> list[Any]:
            tried.append(name)
            if not accepting:
                raise msgspec.ValidationError("refused")
            return [name]

        return decode

    strict = decoder("strict", accepts == "both")
    twin = decoder("twin", accepts != "neither")

    got = _decoded_whole(strict, twin, b"{}", twin_first=twin_first)

    if twin_first:
        assert tried == ["twin"]
        assert got == (None if accepts == "neither" else ["twin"])
    else:
        assert tried == (["strict"] if accepts == "both" else ["strict", "twin"])
        assert got == {"both": ["strict"], "twin": ["twin"], "neither": None}[accepts]
    assert _decoded_whole(strict, None, b"{}", twin_first=twin_first) == (
        ["strict"] if accepts == "both" else None
    )
