"""Helpers shared by the engine tests (imported by name; conftest holds the fixtures)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from silent_scalper.engine import ValidationSummary

REPO = Path(__file__).resolve().parents[3]
CORPORA = REPO.parent / "shared" / "corpora"
SAMPLES = REPO / "samples"


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
