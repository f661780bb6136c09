"""Conformance corpora from ../shared/corpora: JSONTestSuite and csv-spectrum."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from engine_support import CORPORA, corpus
from silent_scalper.engine import (
    CompiledSchema,
    Limits,
    Reason,
    SchemaRegistry,
    ValidationSummary,
    sniff,
    validate_stream,
)

LIMITS = Limits(max_bytes=1 << 30)


def _files(folder: str, pattern: str) -> list[str]:
    path = CORPORA / folder
    return sorted(p.name for p in path.glob(pattern)) if path.is_dir() else ["(corpus absent)"]


def pipeline(path: Path, schema: CompiledSchema) -> tuple[Reason | None, ValidationSummary | None]:
    """What the pipeline does with the file: TypeCheck, then (if it passed) ValidateSchema."""
    data = path.read_bytes()
    checked = sniff(data[: LIMITS.sniff_bytes], key=path.name, size=len(data), limits=LIMITS)
    if not checked.ok:
        return checked.reason, None
    summary = validate_stream(
        io.BytesIO(data), key=path.name, schema=schema, limits=LIMITS, fmt=checked.format
    )
    return summary.reason, summary


@pytest.mark.parametrize("name", _files("JSONTestSuite", "y_*.json"))
def test_every_y_file_is_accepted_as_json(name: str, any_schema: CompiledSchema) -> None:
    """Well-formed JSON is never MALFORMED or BAD_ENCODING (records must still be objects,
    so a top-level scalar is a SCHEMA_VIOLATION under `any`)."""
    path = corpus("JSONTestSuite") / name
    reason, summary = pipeline(path, any_schema)
    assert reason not in (Reason.MALFORMED, Reason.BAD_ENCODING, Reason.UNSUPPORTED_TYPE)
    assert reason is not Reason.EMPTY_FILE
    if reason is None:
        assert summary is not None
        assert summary.records >= 1


@pytest.mark.parametrize("name", _files("JSONTestSuite", "n_*.json"))
@pytest.mark.parametrize("schema_name", ["any", "job.v1"])
def test_every_n_file_is_rejected_as_malformed_encoding_or_empty(
    name: str, schema_name: str, registry: SchemaRegistry
) -> None:
    path = corpus("JSONTestSuite") / name
    reason, summary = pipeline(path, registry.get(schema_name))
    assert reason in (Reason.MALFORMED, Reason.BAD_ENCODING, Reason.EMPTY_FILE), summary
    if summary is not None and reason is not Reason.EMPTY_FILE:
        assert summary.errors[0].location  # located


@pytest.mark.parametrize("name", _files("JSONTestSuite", "i_*.json"))
def test_no_i_file_crashes(
    name: str, any_schema: CompiledSchema, job_schema: CompiledSchema
) -> None:
    path = corpus("JSONTestSuite") / name
    for schema in (any_schema, job_schema):
        reason, summary = pipeline(path, schema)
        assert reason is None or isinstance(reason, Reason)
        if summary is not None:
            assert len(json.dumps(summary.to_dict())) < 16 * 1024


@pytest.mark.parametrize("name", _files("csv-spectrum/csvs", "*.csv"))
def test_every_csv_spectrum_file_is_valid_with_its_json_twins_record_count(
    name: str, any_schema: CompiledSchema
) -> None:
    folder = corpus("csv-spectrum")
    twin = json.loads((folder / "json" / name).with_suffix(".json").read_text(encoding="utf-8"))
    expected = len(twin) if isinstance(twin, list) else 1  # a lone object is one record
    reason, summary = pipeline(folder / "csvs" / name, any_schema)
    assert reason is None, summary
    assert summary is not None
    assert summary.records == expected
    assert summary.columns == list((twin[0] if isinstance(twin, list) else twin).keys())
