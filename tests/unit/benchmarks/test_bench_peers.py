"""The peers (polars, msgspec per record, jsonschema) find what the generator wrote, and the
side-by-side section compares the engine with the fastest peer that did."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks import fast_peers, peers, run, worker
from benchmarks.generate import Format, generate
from benchmarks.peers import _compare, _cost_pairs, _ratios, invalid_costs

SIZE = 120_000


@pytest.mark.parametrize("invalid", [False, True])
def test_polars_counts_the_invalid_csv_records_the_generator_wrote(
    tmp_path: Path, invalid: bool
) -> None:
    made = generate(tmp_path, Format.CSV, SIZE, invalid=invalid)

    result = fast_peers.run_polars(made.path)

    assert result["records"] == made.records
    assert result["invalid_records"] == made.invalid_records


_JSON_PEERS: dict[str, Callable[[Path, str], dict[str, Any]]] = {
    "msgspec": fast_peers.run_msgspec,
    "jsonschema": lambda path, fmt: worker.run_jsonschema(path, fmt, budget_bytes=1 << 40),
}


@pytest.mark.parametrize("peer", sorted(_JSON_PEERS))
@pytest.mark.parametrize("fmt", [Format.NDJSON, Format.JSON])
@pytest.mark.parametrize("invalid", [False, True])
def test_each_json_peer_counts_the_invalid_records_the_generator_wrote(
    tmp_path: Path, peer: str, fmt: Format, invalid: bool
) -> None:
    made = generate(tmp_path, fmt, SIZE, invalid=invalid)

    result = _JSON_PEERS[peer](made.path, fmt.value)

    assert result["records"] == made.records
    assert result["invalid_records"] == made.invalid_records


@pytest.mark.parametrize("peer", sorted(_JSON_PEERS))
def test_a_repeated_job_id_is_invalid_for_each_peer(tmp_path: Path, peer: str) -> None:
    line = (
        b'{"job_id":"job-1","submitted_at":"2026-01-01T00:00:00Z",'
        b'"customer_id":1,"status":"queued"}\n'
    )
    path = tmp_path / "twice.ndjson"
    path.write_bytes(line + line + line.replace(b"queued", b"paused"))

    result = _JSON_PEERS[peer](path, "ndjson")

    assert (result["records"], result["invalid_records"]) == (3, 2)


def test_jsonschema_stops_at_its_budget(tmp_path: Path) -> None:
    made = generate(tmp_path, Format.NDJSON, SIZE, invalid=False)

    result = worker.run_jsonschema(made.path, "ndjson", budget_bytes=made.size // 4)

    assert 0 < result["records"] < made.records // 2


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


def _peer_row(fmt: str, variant: str, engine_mb_s: float) -> dict[str, object]:
    return {"format": fmt, "variant": variant, "tools": {"engine": {"cpu_mb_s": engine_mb_s}}}


def test_the_invalid_cost_target_compares_the_engine_on_both_files_of_a_format() -> None:
    """Given the engine at 100 MB/s on the valid CSV and 92 on the 1 % invalid one, and at
    100 and 60 on NDJSON, then CSV's 8 % cost meets the 10 % target and NDJSON's 40 % misses."""
    peers = {
        "size": "100MB",
        "rows": [
            _peer_row("csv", "valid", 100.0),
            _peer_row("csv", "1% invalid", 92.0),
            _peer_row("ndjson", "valid", 100.0),
            _peer_row("ndjson", "1% invalid", 60.0),
        ],
    }

    found = {t["target"]: t for t in run.invalid_cost_targets(peers)}

    assert found["csv: 1% invalid costs <= 10%"]["met"] is True
    assert found["ndjson: 1% invalid costs <= 10%"]["met"] is False
    assert found["ndjson: 1% invalid costs <= 10%"]["measured"].startswith("+40%")


def test_the_local_stack_target_reads_the_run_of_small_files() -> None:
    """Given an end-to-end section with 8 small files a second, then the 25 files/s target
    is reported as missed with the measured figure; a run that failed is reported as such."""
    e2e = {
        "runs": [
            {"label": "small", "files": 1000, "files_per_second": 8.0},
            {"label": "large", "files": 20, "files_per_second": 0.5},
        ]
    }
    (target,) = run.local_stack_targets(e2e)
    assert (target["met"], target["measured"]) == (False, "8.0 files/s (1,000 files)")

    (failed,) = run.local_stack_targets({"runs": [{"label": "small", "error": "not measured"}]})
    assert failed["met"] is None
    assert run.local_stack_targets(None) == []


def _rounds(cpu: list[float], invalid: int = 0) -> dict[str, object]:
    return {
        "cpu_mb_s": 100 / sorted(cpu)[len(cpu) // 2],
        "cpu_rounds": cpu,
        "invalid_records": invalid,
    }


def test_the_ratio_pairs_the_runs_of_each_round() -> None:
    """Given a machine whose speed changed between rounds (the peer's second run caught a
    slow spell the engine's did not), when the ratio is taken, then it is the median of
    each round's own ratio (1.2), not the ratio of the medians (2.4)."""
    row = {
        "format": "ndjson",
        "variant": "valid",
        "invalid_expected": 0,
        "tools": {"engine": _rounds([1.0, 1.0, 2.0]), "msgspec": _rounds([1.2, 2.4, 2.4])},
    }

    _compare(row)

    assert row["engine_over_fastest_peer"] == pytest.approx(1.2)


def test_the_invalid_cost_pairs_the_engine_runs_of_each_round() -> None:
    """Given the engine's runs on the valid and the invalid file, round by round, then the
    cost is the median of each round's cost, and a format missing a file has none."""
    rows = [
        {"format": "json", "variant": "valid", "tools": {"engine": _rounds([1.0, 2.0, 2.0])}},
        {"format": "json", "variant": "1% invalid", "tools": {"engine": _rounds([1.1, 2.2, 1.0])}},
        {"format": "csv", "variant": "valid", "tools": {"engine": _rounds([1.0])}},
    ]

    costs = invalid_costs(rows)

    assert costs == {"json": pytest.approx(1 - 1 / 1.1)}


def test_adjacent_pairs_decide_the_invalid_cost_where_a_format_has_them() -> None:
    """Given rounds that say one cost and adjacent pairs that say another, then the
    pairs' median decides, and a format without pairs keeps its rounds' cost."""
    rows = [
        {"format": "json", "variant": "valid", "tools": {"engine": _rounds([1.0, 1.0, 1.0])}},
        {"format": "json", "variant": "1% invalid", "tools": {"engine": _rounds([2.0, 2.0, 2.0])}},
        {"format": "csv", "variant": "valid", "tools": {"engine": _rounds([1.0])}},
        {"format": "csv", "variant": "1% invalid", "tools": {"engine": _rounds([1.25])}},
    ]
    pairs = {
        "json": [
            {"valid": 1.0, "1% invalid": 1.05},
            {"valid": 2.0, "1% invalid": 2.0},
            {"valid": 1.0, "1% invalid": 1.5},
        ]
    }

    costs = invalid_costs(rows, pairs)

    assert costs == {"json": pytest.approx(1 - 1 / 1.05), "csv": pytest.approx(1 - 1 / 1.25)}


def test_the_engine_runs_of_a_pair_are_back_to_back_in_turned_orders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the two files, when four pairs are run, then each pair runs both files next to
    each other, the valid one first in the first and third pairs and last in the others,
    and each pair records each file's CPU seconds."""
    made = {
        invalid: generate(tmp_path, Format.NDJSON, 2_000, invalid=invalid)
        for invalid in (False, True)
    }
    calls: list[str] = []

    def worker(argv: list[str]) -> dict[str, float]:
        calls.append(argv[1])
        return {"cpu_seconds": float(len(calls))}

    monkeypatch.setattr(peers, "run_worker", worker)

    pairs = _cost_pairs(Format.NDJSON, made, 4, 2_000, lambda _msg: None)

    valid, invalid = str(made[False].path), str(made[True].path)
    assert calls == [valid, invalid, invalid, valid, valid, invalid, invalid, valid]
    assert pairs[1] == {"1% invalid": 3.0, "valid": 4.0}


def test_a_quick_run_gives_no_verdict_on_the_targets_written_for_the_full_runs_files() -> None:
    # Given the targets of a quick run: peers and invalid costs on 10 MB files, the local
    # stack on 100 small files, and a throughput target judged on any size
    items = [
        {"target": "csv valid >= 1.0x the fastest peer", "measured": "0.60x (10MB)", "met": False},
        {"target": "ndjson: 1% invalid costs <= 10%", "measured": "+17% (10MB)", "met": False},
        {"target": "local stack >= 25 small files/s", "measured": "23.5 files/s", "met": False},
        {"target": "csv >= 80 MB/s on one core", "measured": "97.5 MB/s", "met": True},
    ]
    # When their verdicts are given for a quick run
    quick = run.quick_verdicts(items)
    # Then the first three keep their figures, marked, with no verdict, and the last is kept
    assert [item["met"] for item in quick] == [None, None, None, True]
    assert quick[0]["measured"] == "0.60x (10MB); quick run: judged on the full run"
    assert quick[3] == items[3]
