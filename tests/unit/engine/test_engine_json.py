"""JSON: one record object or an array of records, streamed, strict RFC 8259."""

from __future__ import annotations

import pytest
from engine_support import Validate, job
from silent_scalper.engine import FileFormat, LocatedError, Reason


def array(*records: str, sep: str = ",\n") -> str:
    return "[\n" + sep.join(records) + "\n]\n"


def test_given_an_array_of_valid_records_then_valid(validate: Validate) -> None:
    s = validate(array(job(1), job(2), job(3)), "a.json")
    assert s.valid, s.errors
    assert (s.format, s.records, s.invalid_records, s.job_ids) == (FileFormat.JSON, 3, 0, 3)


def test_given_a_single_record_object_then_one_record(validate: Validate) -> None:
    s = validate(job(1, notes="only one"), "a.json")
    assert s.valid
    assert s.records == 1
    assert s.first_submitted_at == s.last_submitted_at == "2026-01-05T09:01:00+00:00"


def test_given_bad_records_then_errors_carry_the_json_path(validate: Validate) -> None:
    s = validate(array(job(1), job(2, priority=0), job(3), job(4, amount=-1)), "a.json")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors == [
        LocatedError("Expected `int` >= 1", "$[1].priority", 2, 3, "priority", "$[1].priority"),
        LocatedError("Expected `float` >= 0.0", "$[3].amount", 4, 5, "amount", "$[3].amount"),
    ]


def test_given_a_bad_single_object_then_path_from_the_root(validate: Validate) -> None:
    s = validate(job(1, currency="euro"), "a.json")
    assert s.errors[0].location == "$.currency"


def test_given_nested_records_then_scanned_exactly(validate: Validate, any_schema: object) -> None:
    data = '[{"a": [1, {"b": "]},{"}], "c": {"d": [[]]}}, {"e": "\\"]"}]'
    s = validate(data, "a.json", schema=any_schema)
    assert s.valid, s.errors
    assert s.records == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("[" + job(1) + ",]", "expected a value before ']'"),
        ("[," + job(1) + "]", "expected a value before ','"),
        ("[" + job(1), "unexpected end of data: the array is not closed"),
        ("[" + job(1) + "] []", "unexpected data after the end of the array"),
        ("[" + job(1) + "}", "unexpected '}' in the array"),
    ],
)
def test_given_a_broken_array_then_malformed(validate: Validate, data: str, message: str) -> None:
    s = validate(data, "a.json")
    assert s.reason is Reason.MALFORMED
    assert s.errors[-1].message == message


@pytest.mark.parametrize(
    "record",
    [
        '{"job_id": NaN}',
        "{'job_id': 'J-0001'}",
        '{"job_id": "J-0001" /* comment */}',
        '{"job_id": "J-0001",}',
        '{"job_id": "J-\x01"}',
    ],
)
def test_given_non_rfc8259_json_then_malformed_with_line(validate: Validate, record: str) -> None:
    s = validate(array(job(1), record), "a.json")
    assert s.reason is Reason.MALFORMED
    assert s.errors[0].location == "$[1] (line 3)"
    assert s.errors[0].message.startswith("not well-formed JSON")


def test_given_a_repeated_key_then_refused_at_the_repeated_key(validate: Validate) -> None:
    """Readers disagree on which value of a repeated key wins (first or last): the record
    that was checked might not be the one consumed, so the gate refuses it."""
    s = validate(
        '{"job_id": "J-0001", "job_id": "J-0002", "submitted_at": "2026-01-05T09:00:00Z",'
        ' "customer_id": 1, "status": "queued"}',
        "a.json",
    )
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert [e.path for e in s.errors] == ["$.job_id"]
    assert "appears more than once" in s.errors[0].message


def test_given_100000_nested_brackets_then_malformed_not_a_crash(validate: Validate) -> None:
    s = validate("[" * 100_000, "a.json")
    assert s.reason is Reason.MALFORMED
    assert s.errors[0].location.startswith("$[0]")


def test_given_100000_balanced_brackets_then_located_not_a_crash(
    validate: Validate, any_schema: object
) -> None:
    for schema in (None, any_schema):
        s = validate("[" * 100_000 + "]" * 100_000, "a.json", schema=schema)
        assert s.reason in (Reason.MALFORMED, Reason.SCHEMA_VIOLATION)
        assert s.errors[0].path == "$[0]"
    s = validate('{"a":' * 100_000 + "1" + "}" * 100_000, "a.json", schema=any_schema)
    assert s.reason in (Reason.MALFORMED, Reason.SCHEMA_VIOLATION)


def test_given_scalars_then_schema_violation_records_must_be_objects(
    validate: Validate, any_schema: object
) -> None:
    assert validate("42", "a.json", schema=any_schema).reason is Reason.SCHEMA_VIOLATION
    s = validate("[1, null]", "a.json", schema=any_schema)
    assert [e.location for e in s.errors] == ["$[0]", "$[1]"]
    assert s.errors[0].message == "Expected `object`, got `int`"


def test_given_an_empty_array_then_no_records(validate: Validate) -> None:
    s = validate(" [ ] ", "a.json")
    assert (s.reason, s.records) == (Reason.SCHEMA_VIOLATION, 0)


def test_given_only_a_bom_and_whitespace_after_the_head_then_empty_file(validate: Validate) -> None:
    assert validate(b"\xef\xbb\xbf" + b" " * 20000, "a.json").reason is Reason.EMPTY_FILE


def test_given_an_element_over_the_record_limit_then_reported_and_skipped(
    validate: Validate,
) -> None:
    big = job(2, notes="n" * 5000, nested=None)
    nested_big = '{"x": [' + ",".join(["[1,2,3]"] * 2000) + "]}"
    s = validate(array(job(1), big, nested_big, job(3)), "a.json", max_record_bytes=1024)
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.records == 4
    assert [e.location for e in s.errors][-1] == "$[2]"
    assert "larger than the 1024-byte limit" in s.errors[-1].message


def test_given_records_spanning_many_chunks_then_streamed(validate: Validate) -> None:
    records = [job(i, notes="x" * (i % 50)) for i in range(12_000)]
    records[7_777] = job(7_777, priority=6)
    s = validate(array(*records), "a.json")
    assert (s.records, s.invalid_records) == (12_000, 1)
    assert s.errors[0].location == "$[7777].priority"


def test_given_formula_strings_then_counted(validate: Validate) -> None:
    s = validate(array(job(1, notes="=1+1"), job(2, notes="-x"), job(3, notes="-5")), "a.json")
    assert s.valid
    assert s.formula_cells == 2


def test_given_duplicate_job_ids_in_an_array_then_paths_name_both(validate: Validate) -> None:
    s = validate(array(job(1), job(1)), "a.json")
    assert s.errors[0].location == "$[1].job_id"
    assert s.errors[0].message == "job_id 'J-0001' is not unique: already used by $[0]"


def test_given_scattered_errors_and_tricky_strings_then_every_error_is_located(
    validate: Validate,
) -> None:
    """Batches are cut at the last "}," in reach; one inside a string must not fool it."""
    records = []
    for i in range(1, 2001):
        notes = 'a "}," b },{ c' if i % 5 == 0 else "plain"
        records.append(job(i, notes=notes, priority=0 if i % 37 == 0 else 3))
    s = validate(array(*records), "a.json", max_errors=1000)
    bad = [i for i in range(1, 2001) if i % 37 == 0]
    assert (s.records, s.invalid_records) == (2000, len(bad))
    assert [e.location for e in s.errors] == [f"$[{i - 1}].priority" for i in bad]
    assert [e.line for e in s.errors] == [i + 1 for i in bad]
    assert s.job_ids == 2000 - len(bad)


def test_given_many_nested_records_with_decoy_boundaries_then_exact(
    validate: Validate, any_schema: object
) -> None:
    """'},{' inside strings and nested arrays of objects must not split a record."""
    records = [
        '{"id": ' + str(i) + ', "tags": [{"x": 1}, {"y": 2}], "n": "},{", "m": {"k": [{}]}}'
        for i in range(3000)
    ]
    records[1234] = "[]"
    records[2999] = '"last"'
    s = validate(array(*records), "a.json", schema=any_schema)
    assert (s.records, s.invalid_records) == (3000, 2)
    assert [e.location for e in s.errors] == ["$[1234]", "$[2999]"]


def test_a_json_string_that_is_a_signed_number_is_not_a_formula(validate: Validate) -> None:
    s = validate(
        array(job(1, notes="-5"), job(2, notes="-2+3+cmd"), job(3, notes="+1e3")), "a.json"
    )
    assert s.formula_cells == 1
