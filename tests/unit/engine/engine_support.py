"""Helpers shared by the engine tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from silent_scalper.engine import ValidationSummary
from silent_scalper.engine._collect import Collector
from silent_scalper.engine.schemas import CompiledSchema

REPO = Path(__file__).resolve().parents[3]
CORPORA = REPO.parent / "shared" / "corpora"
SAMPLES = REPO / "samples"

# Date-time texts around every rule of RFC 3339 (years 0000 and leap years, month lengths,
# hours, leap seconds, fractions with a non-ASCII digit, zones) and just past each.
_YEARS = ["0000", "0004", "0096", "0100", "0400", "1900", "2000", "2024", "2100", "9999", "20x6"]
_ZONES = ["Z", "z", "+00:00", "-23:59", "+24:00", "+05:60", "", "+0500", " Z", "Z\n", "+1:00"]
DATE_TIME_TEXTS = st.builds(
    "{}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}{}".format,
    st.sampled_from(_YEARS),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["T", "t", " ", "TT"]),
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(0, 61),
    st.sampled_from(["", ".", ".5", ".123456789", ".x", ".\u0665"]),
    st.sampled_from(_ZONES),
)


def job(n: int, **changes: Any) -> str:
    """A valid job.v1 record as compact JSON: job_id J-<n>, changes applied (None removes)."""
    record: dict[str, Any] = {
        "job_id": f"J-{n:04d}",
        "submitted_at": f"2026-01-05T09:{n % 60:02d}:00Z",
        "customer_id": 7,
        "status": "queued",
    }
    for key, value in changes.items():
        if value is None:
            record.pop(key, None)
        else:
            record[key] = value
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)


def corpus(name: str) -> Path:
    """A folder of ../shared/corpora, or skip the test with a clear message."""
    path = CORPORA / name
    if not path.is_dir():
        pytest.skip(f"corpus {name} not found at {path} (../shared/corpora, see docs/testing.md)")
    return path


# The signature of the ``validate`` fixture: validate(data, key, schema=None, **limits).
type Validate = Callable[..., ValidationSummary]


def counted_and_checked(
    validate: Any, records: list[str], fmt: str, max_errors: int, schema: Any = None
) -> tuple[dict[str, Any], dict[str, Any], list[bool], list[int]]:
    """The summaries of ``records`` as NDJSON lines or a JSON array (``fmt``), every error
    kept whatever its size: as validated, and with every refused block sifted from the
    record type's own decoding and every refused record checked alone. Also each verdict
    of ``Collector.record_counted_refusals`` in the first, and the records it counted."""
    if fmt == "ndjson":
        data, key = "\n".join(records) + "\n", "jobs.ndjson"
    else:
        data, key = "[\n" + ",\n".join(records) + "\n]", "jobs.json"
    verdicts: list[bool] = []
    counted: list[int] = []
    real = Collector.record_counted_refusals

    def spy(self: Collector, data: bytes, objs: list[Any], refused: Any, *at: Any) -> bool:
        verdicts.append(real(self, data, objs, refused, *at))
        counted.extend(refused[0] if verdicts[-1] else [])
        return verdicts[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(Collector, "record_counted_refusals", spy)
        fast = validate(data, key, schema, max_errors=max_errors).to_dict()
        mp.setattr(Collector, "record_counted_refusals", lambda self, *args: False)
        mp.setattr(
            CompiledSchema,
            "decode_whole_lines",
            lambda self, data, **_: self.decode_lines(data)[0],
        )
        mp.setattr(
            CompiledSchema,
            "decode_whole_array",
            lambda self, data, **_: self.decode_array(data)[0],
        )
        mp.setattr(
            Collector, "problem_counts", lambda self, texts, named, *, lines: [0] * len(texts)
        )
        checked = validate(data, key, schema, max_errors=max_errors).to_dict()
    return fast, checked, verdicts, counted
