"""The engine's value rules hold in every format and on the batch path as on the exact one.

Each case is a job record with one value at the edge of a rule, validated alone and in the
middle of many valid records (so the batch filters see it), as NDJSON, a JSON object,
a JSON array and, where CSV can spell it, a CSV row.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from engine_support import Validate, job
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import Reason, ValidationSummary
from silent_scalper.engine.rules import is_email

CSV_HEADER = "job_id,submitted_at,customer_id,status,priority,amount,currency,email,notes"
CSV_COLUMNS = CSV_HEADER.split(",")


def _csv_row(record: dict[str, Any]) -> str:
    cells = []
    for column in CSV_COLUMNS:
        value = record.get(column, "")
        cell = value if isinstance(value, str) else json.dumps(value)
        cells.append(f'"{cell}"' if any(c in cell for c in ',"\n') else cell)
    return ",".join(cells)


def _verdicts(validate: Validate, text: str, *, csv: str | None = None) -> dict[str, bool]:
    """Whether the record (its JSON text) is valid, per format, alone and among 300."""
    around = [job(n) for n in range(1000, 1300)]
    many = [*around[:150], text, *around[150:]]
    out = {
        "ndjson": validate(text, "a.ndjson").valid,
        "object": validate(text, "a.json").valid,
        "array": validate("[" + text + "]", "a.json").valid,
        "ndjson batch": validate("\n".join(many), "a.ndjson").valid,
        "array batch": validate("[" + ",".join(many) + "]", "a.json").valid,
    }
    if csv is not None:
        rows = [_csv_row(json.loads(r)) for r in around]
        out["csv"] = validate(CSV_HEADER + "\n" + csv + "\n", "a.csv").valid
        out["csv batch"] = validate(
            "\n".join([CSV_HEADER, *rows[:150], csv, *rows[150:]]) + "\n", "a.csv"
        ).valid
    return out


def _one_verdict(validate: Validate, text: str, *, csv: str | None = None) -> bool:
    verdicts = _verdicts(validate, text, csv=csv)
    assert len(set(verdicts.values())) == 1, verdicts
    return next(iter(verdicts.values()))


def _domain(length: int) -> str:
    """A valid host name of ``length`` characters (at least 63): labels of 60, then one
    of the rest."""
    labels: list[str] = []
    while length > 62:  # room for a label of 60, its dot and at least two more
        labels.append("b" * 60)
        length -= 61
    return ".".join([*labels, "c" * length])


def _with(field: str, literal: str) -> str:
    """job(1) with ``field`` set to the raw JSON ``literal`` (kept as written)."""
    record = job(1)
    return record[:-1] + f',"{field}":{literal}}}'


@pytest.mark.parametrize(
    ("field", "literal", "valid"),
    [
        ("priority", "4.9999999999999999", False),  # an integer is written without a fraction
        ("priority", "5", True),
        ("priority", "5.0", False),
        ("priority", "1e0", False),
        ("customer_id", "0.99999999999999999", False),
        ("amount", "-1e-400", False),  # below minimum 0, though it rounds to -0.0
        ("amount", "1e-400", True),
        ("amount", "0", True),
        ("amount", "0.0", True),
        ("amount", "-0.0", True),  # -0 is not below 0
        ("amount", "1e308", True),
        ("amount", "1e309", False),  # beyond the largest double
        ("amount", "-0.00000000000000000000000001", False),
        # Exponents past Decimal's own (±999,999,999,999,999,999): no traceback, the sign kept.
        ("amount", "1e-999999999999999999999", True),
        ("amount", "-1e-999999999999999999999", False),
        ("amount", "-0e-999999999999999999999", True),
        ("amount", "-0.0e+999999999999999999999", True),  # zero, however large its exponent
        ("amount", "1e999999999999999999999", False),
    ],
)
def test_numbers_are_compared_exactly_in_every_format(
    validate: Validate, field: str, literal: str, valid: bool
) -> None:
    text = _with(field, literal)
    row = _csv_row({**json.loads(job(1)), field: literal})
    assert _one_verdict(validate, text, csv=row) is valid


@pytest.mark.parametrize(
    ("cell", "valid"),
    [("1.0", False), ("1e2", False), ("3.00000000000000001", False), ("007", False),
     ("+3", False), (" 3", False), ("3", True), ("-0", False)],
)  # fmt: skip
def test_an_integer_cell_is_written_as_a_json_integer(
    validate: Validate, cell: str, valid: bool
) -> None:
    """A CSV cell must spell the JSON value (priority: integer 1..5; -0 is 0, below 1)."""
    row = _csv_row({**json.loads(job(1)), "priority": cell})
    json_text = _with("priority", cell) if cell.strip().lstrip("+") == cell.strip() else None
    csv_valid = validate(CSV_HEADER + "\n" + row + "\n", "a.csv").valid
    assert csv_valid is valid
    if json_text is not None and cell == cell.strip():
        try:
            json.loads(json_text)
        except ValueError:
            return  # not JSON at all (007): nothing to compare
        assert validate(json_text, "a.ndjson").valid is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("2026-01-05T09:30:00Z", True),
        ("2026-01-05t09:30:00.5z", True),
        ("2026-01-05T09:30:00-00:00", True),
        ("2024-02-29T23:59:60+01:00", True),
        ("2026-01-05 09:30:00Z", False),
        ("2026-01-05T09:30:00+0530", False),
        ("2026-02-29T09:30:00Z", False),
        ("2026-01-05T09:30:00", False),
        ("2026-01-05T24:00:00Z", False),
        ("0000-01-01T00:00:00Z", False),
    ],
)
def test_date_time_is_rfc3339_in_every_format(validate: Validate, value: str, valid: bool) -> None:
    text = job(1, submitted_at=value)
    assert _one_verdict(validate, text, csv=_csv_row(json.loads(text))) is valid


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("a@b.co", True),
        ("first.last+tag@mail.example.org", True),
        ("a@bücher.example", True),
        (".a@b.c", False),
        ("a..b@c.d", False),
        ("a.@b.cd", False),
        ("a@-b.c", False),
        ("a@b-.cd", False),
        ("a@b..c", False),
        ("a@b", False),
        ("a" * 64 + "@b.co", True),
        ("a" * 65 + "@b.co", False),
        # The whole address: at most 254 characters, though the local part (64) and the
        # domain (253) each allow more together.
        ("a" * 64 + "@" + _domain(189), True),
        ("a" * 64 + "@" + _domain(190), False),
        ("a@" + _domain(252), True),
        ("a@" + _domain(253), False),
        ("a\u200bb@c.de", False),
        ("a@b\u200b.de", False),
        ("a b@c.de", False),
        ('"a"@b.co', False),  # quoted local parts are not in the rule
    ],
)
def test_email_is_the_rfc5321_mailbox_rule_in_every_format(
    validate: Validate, email: str, valid: bool
) -> None:
    text = job(1, email=email)
    assert _one_verdict(validate, text, csv=_csv_row(json.loads(text))) is valid


# Addresses around every length the rule bounds: the local part (64), each label (63),
# the domain (253) and the whole address (254), with IDN labels whose ASCII form is longer.
_LABELS = st.sampled_from(["b", "bc", "b" * 61, "b" * 62, "b" * 63, "b" * 64, "bü", "ü" * 20, "b-"])
_ADDRESSES = st.builds(
    "{}@{}".format,
    st.integers(1, 66).map(lambda n: "a" * n) | st.sampled_from(["a.b", ".a", "a b", "é"]),
    st.lists(_LABELS, min_size=1, max_size=5).map(".".join),
)


# ``validate`` holds no state between examples: a function it returns, over one schema.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(_ADDRESSES, min_size=40, max_size=40))
def test_a_batch_of_addresses_is_judged_as_the_email_rule_judges_each(
    validate: Validate, addresses: list[str]
) -> None:
    """Given forty addresses around every length the e-mail rule bounds, when records
    holding them are validated together (the batch checks, then the exact check of what
    they refuse), then in every format exactly the records whose address the rule
    refuses are invalid."""
    records = [json.loads(job(n, email=a)) for n, a in enumerate(addresses)]
    refused = {n + 1 for n, a in enumerate(addresses) if not is_email(a)}
    files = {
        "a.ndjson": "\n".join(json.dumps(r) for r in records) + "\n",
        "a.json": json.dumps(records),
        "a.csv": "\n".join([CSV_HEADER, *(_csv_row(r) for r in records)]) + "\n",
    }
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        for key, data in files.items():
            summary = validate(data, key, max_errors=1000)
            assert {e.record for e in summary.errors} == refused, key


@pytest.mark.parametrize(
    "text",
    [
        job(1)[:-1] + ',"priority":9,"priority":3}',
        job(1)[:-1] + ',"currency":"usd","currency":"USD"}',
        job(1)[:-1] + ',"currency" : "USD","currency":"USD"}',  # a space before the colon
        job(1)[:-1] + ',"notes":":x\\":","currency":"EUR","currency":"EUR"}',
        '{"job_id":"J-0001","job_id":"J-0001","submitted_at":"2026-01-05T09:00:00Z",'
        '"customer_id":7,"status":"queued"}',
    ],
)
def test_a_repeated_key_is_refused_in_every_json_format(validate: Validate, text: str) -> None:
    assert _one_verdict(validate, text) is False
    s = validate(text, "a.ndjson")
    assert any("appears more than once" in e.message for e in s.errors)


def test_strings_that_look_like_keys_do_not_count_as_repeated(validate: Validate) -> None:
    text = job(1, notes='"x": "y", ":", "\\"a\\":1"')
    assert _one_verdict(validate, text) is True


def _places(s: ValidationSummary) -> list[tuple[int | None, str | None]]:
    return [(e.record, e.column) for e in s.errors]


def test_an_invalid_record_reports_all_its_problems_in_every_format(validate: Validate) -> None:
    bad = job(2, priority=9, currency="usd", status="paused")
    rows = [json.loads(job(1)), json.loads(bad), json.loads(job(3))]
    expected = [(2, "status"), (2, "priority"), (2, "currency")]
    ndjson = validate("\n".join([job(1), bad, job(3)]), "a.ndjson")
    array = validate("[" + ",".join([job(1), bad, job(3)]) + "]", "a.json")
    csv = validate("\n".join([CSV_HEADER, *map(_csv_row, rows)]) + "\n", "a.csv")
    for summary in (ndjson, array, csv):
        assert _places(summary) == expected
        assert summary.invalid_records == 1
    single = validate(bad, "a.json")
    assert [e.column for e in single.errors] == ["status", "priority", "currency"]
    capped = validate("\n".join([job(1), bad, job(3)]), "a.ndjson", max_errors=2)
    assert len(capped.errors) == 2
    assert capped.errors_truncated


def test_a_pattern_error_before_a_type_error_in_an_array_is_reported_not_raised(
    validate: Validate,
) -> None:
    records = [job(1, currency="usd"), job(2, customer_id=0), job(3)]
    for n in (0, 5, 200):
        before = [job(i) for i in range(1000, 1000 + n)]
        after = [job(i) for i in range(2000, 2000 + n)]
        s = validate("[" + ",".join([*before, *records, *after]) + "]", "a.json")
        assert s.reason is Reason.SCHEMA_VIOLATION
        assert [e.column for e in s.errors] == ["currency", "customer_id"]


def test_a_lone_surrogate_escape_is_named(validate: Validate) -> None:
    s = validate(job(1)[:-1] + ',"notes":"\\ud800x"}', "a.ndjson")
    assert s.reason is Reason.MALFORMED
    assert "lone UTF-16 surrogate" in s.errors[0].message
    assert "\\ud800" in s.errors[0].message


@pytest.mark.parametrize(
    ("field", "literal", "valid"),
    [
        ("a", "0.05", True),
        ("a", "0.051", False),
        ("a", "1e30", True),  # a quotient of 32 digits: past Python's default 28
        ("a", "1.5e300", True),
        ("a", "123456789012345678901234567890.57", True),
        ("a", "123456789012345678901234567890.571", False),
        ("a", "1e-999999999999999999999", False),  # not zero, and smaller than 0.01
        ("a", "0e-999999999999999999999", True),
        ("b", "7" + "0" * 40, True),
        ("b", "1" + "0" * 40, False),
    ],
)
def test_multiple_of_is_exact_for_any_number_in_every_format(
    validate: Validate, field: str, literal: str, valid: bool
) -> None:
    """multipleOf is decided on the exact value, whatever the quotient's size: Python's
    default decimal context would raise on most of these (a traceback, not a verdict)."""
    from silent_scalper.engine.schemas import compile_schema

    schema = compile_schema(
        "t",
        {
            "type": "object",
            "properties": {
                "a": {"type": "number", "multipleOf": 0.01},
                "b": {"type": "integer", "multipleOf": 7},
            },
        },
        None,
    )
    text = f'{{"{field}":{literal}}}'
    cells = f"{field}\n{literal}\n"
    verdicts = {
        "ndjson": validate(text, "a.ndjson", schema=schema).valid,
        "array": validate(f"[{text}]", "a.json", schema=schema).valid,
        "csv": validate(cells, "a.csv", schema=schema).valid,
    }
    assert verdicts == dict.fromkeys(verdicts, valid)


@pytest.mark.parametrize(
    ("literal", "message"),
    [
        ("1e999999999999999999999", "Number out of range"),
        ("-1e309", "Number out of range"),
    ],
)
def test_a_number_past_the_limits_is_worded_alike_in_every_format_of_a_fallback_schema(
    validate: Validate, literal: str, message: str
) -> None:
    """A schema the exact rules do not cover (multipleOf: the jsonschema fallback) still
    words the engine's number limits as the JSON paths do, for a CSV cell too."""
    from silent_scalper.engine.schemas import compile_schema

    schema = compile_schema(
        "t", {"type": "object", "properties": {"a": {"type": "number", "multipleOf": 0.01}}}, None
    )
    summaries = [
        validate(f'{{"a":{literal}}}', "a.ndjson", schema=schema),
        validate(f'[{{"a":{literal}}}]', "a.json", schema=schema),
        validate(f"a\n{literal}\n", "a.csv", schema=schema),
    ]
    assert [[e.message.split(" (")[0] for e in s.errors] for s in summaries] == [[message]] * 3


def test_numbers_beyond_the_limits_are_located_schema_errors(validate: Validate) -> None:
    big = "9" * 4301
    s = validate(job(1)[:-1] + f',"quantity":{big}}}', "a.ndjson")
    assert [(e.path, e.message) for e in s.errors] == [
        ("$.quantity", "Expected an integer of at most 4300 digits")
    ]
    assert validate(job(1)[:-1] + f',"quantity":{"9" * 4300}}}', "a.ndjson").valid


def test_a_non_string_key_is_the_same_on_the_batch_and_the_exact_path(validate: Validate) -> None:
    """Line 9 repeats a key, so lines 8-10 are checked exactly; line 10's id (checked
    exactly) must still be seen as line 1's (accepted in a batch)."""
    from silent_scalper.engine.schemas import compile_schema

    schema = compile_schema(
        "t",
        {
            "type": "object",
            "properties": {"n": {"type": "integer"}, "s": {"type": "string"}},
            "required": ["n"],
            "x-unique": ["n"],
        },
        None,
    )
    lines = [f'{{"n":{i}}}' for i in range(1, 9)]
    lines += ['{"n":9,"s":"a","s":"b"}', '{"n":1}']
    s = validate("\n".join(lines), "a.ndjson", schema=schema)
    assert [(e.line, e.column) for e in s.errors] == [(9, "s"), (10, "n")]
    assert "already used by line 1" in s.errors[1].message
