"""Helpers shared by the engine tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from silent_scalper.engine import ValidationSummary

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
