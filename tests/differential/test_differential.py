"""The engine against JSON Schema, on records generated from every bundled schema.

Given a record generated valid from a schema (hypothesis-jsonschema) and mutated in one
field (or not at all), when the engine validates it as NDJSON, a JSON object, inside a
JSON array at a drawn position and (where a row can say the same) as CSV, then:

- every format gives the same verdict (no exceptions to this);
- nothing raises;
- the verdict is the oracle's (``jsonschema`` Draft 2020-12 with real format checks),
  unless the disagreement is one of ``DELIBERATE_DIFFERENCES``.

``x-unique`` is left out here (records repeat on purpose); uniqueness has its own tests.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
from differential_support import (
    COUNTED,
    DELIBERATE_DIFFERENCES,
    SCHEMA_FILES,
    Case,
    csv_header,
    csv_row,
    explained,
    json_value,
    mutations,
    oracle,
    valid_at,
    validate,
)
from hypothesis import given
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from silent_scalper.engine import CompiledSchema
from silent_scalper.engine.schemas import compile_schema

#: How many valid records surround the one under test in a batch: none, a few, and more
#: than a window (64), so the batch filters and the narrowing both see it.
SURROUNDINGS = (0, 1, 7, 70)


@functools.cache
def _document(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


@functools.cache
def _engine(path: Path) -> CompiledSchema:
    document = {k: v for k, v in _document(path).items() if k != "x-unique"}
    return compile_schema(path.stem, document, None)


@functools.cache
def _records(path: Path) -> st.SearchStrategy[dict[str, Any]]:
    # Engine annotations are unknown keywords to JSON Schema; the generator sees the rest.
    document = {k: v for k, v in _document(path).items() if not k.startswith("x-")}
    return from_schema(document)


def _verdicts(
    path: Path, case: Case, base: Case, around: tuple[int, int], *, counted: bool
) -> dict[str, bool]:
    """Each format's verdict on ``case`` alone and among ``around`` (before, after)
    copies of ``base``; with ``counted`` (``base`` valid) also among them with no error
    kept, where an invalid record is counted instead of worded."""
    schema = _engine(path)
    before, after = around
    text, filler = case.json_text(), base.json_text()
    lines = [filler] * before + [text] + [filler] * after
    array, ndjson = "[" + ",\n".join(lines) + "]", "\n".join(lines) + "\n"
    out = {
        "ndjson": validate(schema, text, "r.ndjson").valid,
        "json object": validate(schema, text, "r.json").valid,
        f"json array at {before}": valid_at(validate(schema, array, "r.json"), before + 1),
        f"ndjson line {before + 1}": valid_at(validate(schema, ndjson, "r.ndjson"), before + 1),
    }
    if counted:
        out[f"json array at {before}, counted"] = (
            validate(schema, array, "r.json", COUNTED).invalid_records == 0
        )
        out[f"ndjson line {before + 1}, counted"] = (
            validate(schema, ndjson, "r.ndjson", COUNTED).invalid_records == 0
        )
    document = _document(path)
    row, filler_row = csv_row(document, case), csv_row(document, base)
    header = csv_header(document)
    if row is not None and filler_row is not None and header is not None:
        rows = [filler_row] * before + [row] + [filler_row] * after
        table = ",".join(header) + "\n" + "\n".join(rows) + "\n"
        out["csv"] = validate(schema, ",".join(header) + "\n" + row + "\n", "r.csv").valid
        out[f"csv row {before + 1}"] = valid_at(validate(schema, table, "r.csv"), before + 1)
        if counted:
            out[f"csv row {before + 1}, counted"] = (
                validate(schema, table, "r.csv", COUNTED).invalid_records == 0
            )
    return out


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.stem for p in SCHEMA_FILES])
@given(data=st.data())
def test_every_format_agrees_and_the_verdict_is_json_schemas(
    path: Path, data: st.DataObject
) -> None:
    document = _document(path)
    record = data.draw(_records(path), label="record")
    base = Case(tuple((k, json_value(v)) for k, v in record.items()), "none")
    case = data.draw(st.sampled_from(mutations(document, record)), label="case")
    before = data.draw(st.sampled_from(SURROUNDINGS), label="before")
    after = data.draw(st.sampled_from(SURROUNDINGS), label="after")

    expected = oracle(document)(case.json_text())
    base_verdicts = _verdicts(path, base, base, (0, 0), counted=False)
    base_valid = set(base_verdicts.values()) == {True}
    verdicts = _verdicts(path, case, base, (before, after), counted=base_valid)

    assert base_valid or explained(base, document), (
        f"a generated record the engine refuses: {base.describe()} {base_verdicts}"
    )
    assert len(set(verdicts.values())) == 1, f"formats disagree on {case.describe()}: {verdicts}"
    engine = next(iter(verdicts.values()))
    if engine != expected:
        difference = explained(case, document)
        assert difference is not None, (
            f"engine says {'valid' if engine else 'invalid'}, JSON Schema says "
            f"{expected}: {case.describe()}"
        )


def test_the_deliberate_differences_are_few_reasoned_and_documented() -> None:
    names = [d.name for d in DELIBERATE_DIFFERENCES]
    assert len(names) == len(set(names)) <= 8
    assert all(d.engine and len(d.reason) > 40 for d in DELIBERATE_DIFFERENCES)
    testing = (Path(__file__).resolve().parents[2] / "docs" / "testing.md").read_text()
    assert [n for n in names if f"| {n} |" not in testing] == []


def test_every_bundled_schema_is_in_the_suite() -> None:
    bundled = sorted(
        p.name for p in (Path(__file__).resolve().parents[2] / "schemas").glob("*.json")
    )
    assert [p.name for p in SCHEMA_FILES] == bundled != []
