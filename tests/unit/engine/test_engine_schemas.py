"""Schemas: loading, checking, compilation to msgspec, and the jsonschema fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from engine_support import REPO, Validate, job
from silent_scalper.engine import (
    ANY_SCHEMA,
    Reason,
    SchemaLoadError,
    SchemaRegistry,
    UnknownSchemaError,
    checked_schemas,
)
from silent_scalper.engine.schemas import CHECKED_FILE, document_digest, write_checked


def write(directory: Path, name: str, document: Any) -> Path:
    path = directory / f"{name}.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_the_bundled_registry_has_job_v1_and_any(registry: SchemaRegistry) -> None:
    assert {"job.v1", ANY_SCHEMA} <= set(registry.names)
    job_v1 = registry.get("job.v1")
    assert job_v1.fast  # compiled to msgspec, no per-record jsonschema
    assert job_v1.properties[:4] == ("job_id", "submitted_at", "customer_id", "status")
    assert job_v1.required == {"job_id", "submitted_at", "customer_id", "status"}
    assert job_v1.closed
    assert job_v1.unique == ("job_id",)
    assert job_v1.timestamp == "submitted_at"


def test_the_layer_package_finds_the_schemas_through_its_symlink() -> None:
    link = REPO / "layers/core/silent_scalper/schemas"
    assert link.is_symlink()
    assert os.readlink(link) == "../../../schemas"
    assert (link / "job.v1.json").is_file()


def test_given_an_unknown_name_then_unknown_schema_error_listing_the_known(
    registry: SchemaRegistry,
) -> None:
    with pytest.raises(UnknownSchemaError) as info:
        registry.get("job.v9")
    assert str(info.value) == f"unknown schema 'job.v9' (known: {', '.join(registry.names)})"


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ("{not json", "not a readable JSON file"),
        ("[1, 2]", "a schema must be a JSON object"),
        ({"type": "objekt"}, "invalid JSON Schema at type"),
        (
            {"type": "object", "properties": {"a": {"type": "string"}}, "x-unique": ["b"]},
            "x-unique",
        ),
        ({"type": "object", "x-timestamp": "t"}, "x-timestamp 't' is not a declared property"),
    ],
)
def test_given_a_broken_schema_file_then_the_error_names_the_file(
    tmp_path: Path, document: Any, fragment: str
) -> None:
    path = write(tmp_path, "broken.v1", document)
    with pytest.raises(SchemaLoadError) as info:
        SchemaRegistry.load(tmp_path)
    assert str(path) in str(info.value)
    assert fragment in str(info.value)


def test_given_a_file_named_any_then_refused(tmp_path: Path) -> None:
    write(tmp_path, "any", {"type": "object"})
    with pytest.raises(SchemaLoadError, match="reserved"):
        SchemaRegistry.load(tmp_path)


def test_given_a_missing_directory_then_schema_load_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaLoadError, match="not found"):
        SchemaRegistry.load(tmp_path / "nope")


def test_a_user_adds_a_schema_by_dropping_a_file(tmp_path: Path, validate: Validate) -> None:
    write(
        tmp_path,
        "invoice.v1",
        {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "invoice no": {"type": "string", "minLength": 2},
                "total": {"type": "number", "exclusiveMinimum": 0},
                "paid": {"type": "boolean"},
                "memo": {"type": ["string", "null"]},
            },
            "required": ["invoice no", "total"],
        },
    )
    schema = SchemaRegistry.load(tmp_path).get("invoice.v1")
    assert schema.fast
    s = validate(
        '{"invoice no": "A1", "total": 3, "paid": true, "memo": null, "extra": 1}\n'
        '{"invoice no": "A", "total": 0}\n',
        "a.ndjson",
        schema=schema,
    )
    # Both problems of line 2, in property order.
    assert [e.location for e in s.errors] == ["line 2, $.invoice no", "line 2, $.total"]
    csv = validate(
        "invoice no,total,paid\nA1,3.5,true\nA2,0,false\nA3,1,1\n", "a.csv", schema=schema
    )
    assert [(e.location, e.message) for e in csv.errors] == [
        ("record 2 (line 3), column total", "Expected `float` > 0.0"),
        ("record 3 (line 4), column paid", "Expected `bool` (true or false), got '1'"),
    ]


@pytest.mark.parametrize(
    ("key", "frame"),
    [("orders.json", "[\n{}\n]"), ("orders.ndjson", "{}")],
)
def test_given_a_slow_schema_when_records_hold_only_required_keys_then_each_is_checked(
    validate: Validate, tmp_path: Path, key: str, frame: str
) -> None:
    # Given a schema jsonschema checks (minItems), and many records with no optional key:
    # the text's keys then match what the records hold, so no repeated-key check routes
    # them to the exact path.
    write(
        tmp_path,
        "order.v1",
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "lines": {"type": "array", "minItems": 1},
                "note": {"type": "string"},
            },
            "required": ["id", "lines"],
            "additionalProperties": False,
        },
    )
    schema = SchemaRegistry.load(tmp_path).get("order.v1")
    assert not schema.fast
    records = [f'{{"id": {i}, "lines": []}}' for i in range(300)]
    separator = ",\n" if key.endswith(".json") else "\n"
    # When the file is validated
    s = validate(frame.replace("{}", separator.join(records)), key, schema=schema)
    # Then every record is refused, each for its own empty list
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert (s.records, s.invalid_records) == (300, 300)
    assert all(e.message == "[] should be non-empty" for e in s.errors)


def test_given_keywords_the_fast_path_lacks_then_jsonschema_validates(
    tmp_path: Path, validate: Validate
) -> None:
    write(
        tmp_path,
        "order.v1",
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "lines": {"type": "array", "items": {"type": "object"}, "minItems": 1},
                "kind": {"oneOf": [{"const": "a"}, {"const": "b"}]},
                "ts": {"type": "string", "format": "date-time"},
            },
            "required": ["id", "lines"],
            "additionalProperties": False,
            "x-unique": ["id"],
            "x-timestamp": "ts",
        },
    )
    schema = SchemaRegistry.load(tmp_path).get("order.v1")
    assert not schema.fast
    s = validate(
        "[\n"
        '{"id": 1, "lines": [{}], "kind": "a", "ts": "2026-01-01T00:00:00Z"},\n'
        '{"id": 2, "lines": []},\n'
        '{"id": 3, "lines": [{}], "kind": "c"},\n'
        '{"id": 1, "lines": [{}], "ts": "2026-01-02T00:00:00+02:00"}\n'
        "]",
        "a.json",
        schema=schema,
    )
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert [e.location for e in s.errors] == ["$[1].lines", "$[2].kind", "$[3].id"]
    assert s.errors[0].message == "[] should be non-empty"
    assert (s.first_submitted_at, s.last_submitted_at) == (
        "2026-01-01T00:00:00+00:00",
        "2026-01-02T00:00:00+02:00",
    )
    csv = validate("id,lines\n1,x\n", "a.csv", schema=schema)
    assert csv.reason is Reason.SCHEMA_VIOLATION
    assert csv.errors[0].column == "lines"


def test_email_and_patterns_follow_json_schema_not_python_regex(validate: Validate) -> None:
    s = validate(
        job(1, email="a@b.co") + "\n" + job(2, email="a b@c.d") + "\n" + job(3, currency="EUR\n"),
        "a.ndjson",
    )
    assert [e.location for e in s.errors] == ["line 2, $.email", "line 3, $.currency"]


def test_date_time_is_rfc3339_section_5_6(validate: Validate) -> None:
    bad = [
        "2026-01-05",
        "2026-01-05T09:30:00",  # no offset
        "05/01/2026 09:30",
        "2026-13-01T00:00:00Z",
        "2026-01-05 09:30:00Z",  # a space for T
        "2026-01-05T09:30:00+0530",  # an offset without its colon
        "2025-02-29T00:00:00Z",  # not a leap year
        "2026-01-05T09:30Z",  # no seconds
        "0000-01-01T00:00:00Z",
    ]
    good = [
        "2026-01-05T09:30:00Z",
        "2026-01-05t09:30:00.123456789+05:30",  # t and z in either case, any fraction
        "2024-02-29T23:59:60-00:00",  # a leap day, the grammar's leap second
        "2000-02-29T00:00:00z",
    ]
    lines = [job(i, submitted_at=v) for i, v in enumerate(bad + good)]
    s = validate("\n".join(lines), "a.ndjson", max_errors=100)
    assert [e.line for e in s.errors] == list(range(1, len(bad) + 1))


def test_the_fallback_checks_formats_and_cells_like_the_fast_path(
    tmp_path: Path, validate: Validate
) -> None:
    write(
        tmp_path,
        "event.v1",
        {
            "type": "object",
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "mail": {"type": "string", "format": "email"},
                "score": {"type": "number"},
                "tags": {"type": "array"},
            },
        },
    )
    schema = SchemaRegistry.load(tmp_path).get("event.v1")
    assert not schema.fast
    s = validate(
        '{"at": "2026-01-05T09:30:00"}\n{"mail": "nobody"}\n{"at": "2026-01-05T09:30:00+02:00"}\n',
        "a.ndjson",
        schema=schema,
    )
    assert [e.location for e in s.errors] == ["line 1, $.at", "line 2, $.mail"]
    csv = validate("score,at\ninf,\n1e3,\n 5,\n,1700000000\n", "a.csv", schema=schema)
    assert [(e.record, e.column) for e in csv.errors] == [(1, "score"), (3, "score"), (4, "at")]


# -- the checked list: schemas checked once, at build --------------------------------------
_NO_JSONSCHEMA = """
import sys
from pathlib import Path
from silent_scalper.engine import SchemaRegistry
registry = SchemaRegistry.load(Path(sys.argv[1]))
assert registry.get("job.v1").fast
print(",".join(registry.names), "jsonschema" in sys.modules)
"""


def _bundled_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "schemas"
    folder.mkdir()
    for path in (REPO / "schemas").glob("*.json"):
        (folder / path.name).write_bytes(path.read_bytes())
    return folder


def test_given_a_checked_list_when_loading_then_jsonschema_is_not_imported(
    tmp_path: Path,
) -> None:
    """Given the bundled schemas and the list the layer build writes, when a fresh
    interpreter loads them, then they compile as before and jsonschema stays unimported;
    without the list it is imported (for the meta-schema check)."""
    folder = _bundled_copy(tmp_path)
    names = ",".join(SchemaRegistry.load(folder).names)

    def load() -> str:
        run = subprocess.run(
            [sys.executable, "-c", _NO_JSONSCHEMA, str(folder)],
            capture_output=True,
            text=True,
            check=True,
        )
        return run.stdout.strip()

    assert load() == f"{names} True"
    written = write_checked(folder)
    assert written == folder / CHECKED_FILE
    assert load() == f"{names} False"


def test_the_checked_list_names_each_document_by_its_canonical_digest(tmp_path: Path) -> None:
    folder = _bundled_copy(tmp_path)
    lines = write_checked(folder).read_text(encoding="utf-8").splitlines()
    expected = {
        f"{document_digest(json.loads(p.read_text(encoding='utf-8')))}  {p.name}"
        for p in folder.glob("*.json")
    }
    assert set(lines) == expected
    # The same document laid out differently, its keys in another order, is the same.
    job = folder / "job.v1.json"
    document = json.loads(job.read_text(encoding="utf-8"))
    job.write_text(json.dumps(dict(reversed(document.items())), indent=7))
    assert write_checked(folder).read_text(encoding="utf-8").splitlines() == lines


@pytest.mark.parametrize("listed", ["the old document's digest", "the list garbled"])
def test_given_a_schema_changed_after_the_list_was_written_then_it_is_checked(
    tmp_path: Path, listed: str
) -> None:
    """Given a list written for a valid schema, when the schema file is then made invalid
    (or the list is garbage), then loading checks it and refuses it as before: the list
    only spares documents it names exactly."""
    write(tmp_path, "orders.v1", {"type": "object"})
    write_checked(tmp_path)
    if listed == "the list garbled":
        (tmp_path / CHECKED_FILE).write_bytes(b"\xff\xfe not a list")
    write(tmp_path, "orders.v1", {"type": "objekt"})
    with pytest.raises(SchemaLoadError, match="invalid JSON Schema at type"):
        SchemaRegistry.load(tmp_path)


def test_given_an_invalid_schema_then_no_list_is_written(tmp_path: Path) -> None:
    write(tmp_path, "orders.v1", {"type": "object", "properties": {"a": {"minLength": -1}}})
    with pytest.raises(SchemaLoadError, match=r"orders\.v1\.json"):
        write_checked(tmp_path)
    assert not (tmp_path / CHECKED_FILE).exists()
    assert checked_schemas.main([str(tmp_path)]) == 1
    assert checked_schemas.main([]) == 2


def test_given_a_listed_schema_the_fast_path_cannot_take_then_jsonschema_still_validates(
    tmp_path: Path, validate: Validate
) -> None:
    """Given a listed schema that needs the jsonschema fallback (a nested object), when it
    is loaded and used, then its records are still checked with every problem found."""
    write(
        tmp_path,
        "nested.v1",
        {
            "type": "object",
            "properties": {"a": {"type": "object", "properties": {"b": {"type": "integer"}}}},
            "required": ["a"],
        },
    )
    assert checked_schemas.main([str(tmp_path)]) == 0
    schema = SchemaRegistry.load(tmp_path).get("nested.v1")
    assert not schema.fast
    s = validate('{"a": {"b": 1}}\n{"a": {"b": "x"}}\n{}\n', "n.ndjson", schema=schema)
    assert [e.location for e in s.errors] == ["line 2, $.a.b", "line 3"]
