"""The fast peers (polars, msgspec per record) find what the generator wrote, and the
side-by-side section compares the engine with the fastest peer that did."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import fast_peers
from benchmarks.generate import Format, generate
from benchmarks.peers import _compare, _ratios

SIZE = 120_000


@pytest.mark.parametrize("invalid", [False, True])
def test_polars_counts_the_invalid_csv_records_the_generator_wrote(
    tmp_path: Path, invalid: bool
) -> None:
    made = generate(tmp_path, Format.CSV, SIZE, invalid=invalid)

    result = fast_peers.run_polars(made.path)

    assert result["records"] == made.records
    assert result["invalid_records"] == made.invalid_records


@pytest.mark.parametrize("fmt", [Format.NDJSON, Format.JSON])
@pytest.mark.parametrize("invalid", [False, True])
def test_msgspec_counts_the_invalid_records_the_generator_wrote(
    tmp_path: Path, fmt: Format, invalid: bool
) -> None:
    made = generate(tmp_path, fmt, SIZE, invalid=invalid)

    result = fast_peers.run_msgspec(made.path, fmt.value)

    assert result["records"] == made.records
    assert result["invalid_records"] == made.invalid_records


def test_a_repeated_job_id_is_invalid_for_msgspec(tmp_path: Path) -> None:
    line = (
        b'{"job_id":"job-1","submitted_at":"2026-01-01T00:00:00Z",'
        b'"customer_id":1,"status":"queued"}\n'
    )
    path = tmp_path / "twice.ndjson"
    path.write_bytes(line + line + line.replace(b"queued", b"paused"))

    result = fast_peers.run_msgspec(path, "ndjson")

    assert (result["records"], result["invalid_records"]) == (3, 2)


def _tool(cpu_mb_s: float, invalid: int) -> dict[str, float | int]:
    return {"cpu_mb_s": cpu_mb_s, "invalid_records": invalid}


def test_the_ratio_is_to_the_fastest_peer_that_found_the_right_count() -> None:
    row = {
        "format": "csv",
        "variant": "1% invalid",
        "invalid_expected": 10,
        "tools": {
            "engine": _tool(50.0, 10),
            "polars": _tool(100.0, 10),
            "wrong": _tool(400.0, 3),  # faster, but missed records: not a comparison
        },
    }

    _compare(row)

    assert row["fastest_peer"] == "polars"
    assert row["engine_over_fastest_peer"] == pytest.approx(0.5)
    assert row["tools"]["wrong"]["counts_ok"] is False
    assert _ratios([row]) == {"csv": {"1% invalid": pytest.approx(0.5)}}
