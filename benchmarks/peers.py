"""The engine beside its fastest peers on the same files, in one run.

For each format, a valid file and a 1 % invalid one of the same size are generated; the
engine and each fast peer (`benchmarks.fast_peers`: polars for CSV, msgspec Struct per
record for NDJSON and JSON arrays) check it ``repeats`` times, each time in a fresh
process, and the median CPU seconds give MB per CPU-second. Every tool must find the
invalid records the generator wrote; a tool that does not is flagged, not compared.

The ratio engine / fastest peer (per CPU-second) goes into the results per format and
variant: above 1.0 the engine is ahead.
"""

from __future__ import annotations

import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import Format, format_size, generate
from benchmarks.throughput import WorkerError, mb_per_s, run_worker

FAST_PEERS: dict[Format, tuple[str, ...]] = {
    Format.CSV: ("polars",),
    Format.NDJSON: ("msgspec",),
    Format.JSON: ("msgspec",),
}


def _measure(tool: str, path: Path, fmt: Format, repeats: int) -> dict[str, Any]:
    """``repeats`` fresh-process runs of one tool: median CPU and wall, highest peak RSS."""
    runs = [run_worker([tool, str(path), "--format", fmt.value]) for _ in range(repeats)]
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    wall = statistics.median(r["seconds"] for r in runs)
    size = int(runs[0]["bytes"])
    return {
        "runs": repeats,
        "cpu_seconds": cpu,
        "seconds": wall,
        "cpu_mb_s": mb_per_s(size, cpu),
        "mb_s": mb_per_s(size, wall),
        "records": runs[0]["records"],
        "invalid_records": runs[0]["invalid_records"],
        "peak_rss_bytes": max(r["peak_rss_bytes"] for r in runs),
    }


def side_by_side(
    workdir: Path,
    size: int,
    formats: list[Format],
    *,
    repeats: int = 3,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Engine and fast peers on each format's valid and 1 % invalid file of ``size`` bytes."""
    rows: list[dict[str, Any]] = []
    for fmt in formats:
        for invalid in (False, True):
            variant = "1% invalid" if invalid else "valid"
            made = generate(workdir, fmt, size, invalid=invalid)
            row: dict[str, Any] = {
                "format": fmt.value,
                "variant": variant,
                "bytes": made.size,
                "invalid_expected": made.invalid_records,
                "tools": {},
                "errors": [],
            }
            try:
                for tool in ("engine", *FAST_PEERS[fmt]):
                    progress(f"peers {format_size(size)} {fmt.value} {variant}: {tool}")
                    try:
                        row["tools"][tool] = _measure(tool, made.path, fmt, repeats)
                    except (WorkerError, subprocess.TimeoutExpired, KeyError) as exc:
                        row["errors"].append(f"{tool}: {exc}")
            finally:
                made.path.unlink(missing_ok=True)
            _compare(row)
            rows.append(row)
    return {"size": format_size(size), "repeats": repeats, "rows": rows, "ratios": _ratios(rows)}


def _compare(row: dict[str, Any]) -> None:
    """Flag tools that missed the invalid count; the ratio to the fastest one that did not."""
    tools = row["tools"]
    for result in tools.values():
        result["counts_ok"] = result["invalid_records"] == row["invalid_expected"]
    peers = {
        name: r["cpu_mb_s"] for name, r in tools.items() if name != "engine" and r["counts_ok"]
    }
    row["fastest_peer"] = max(peers, key=lambda name: peers[name]) if peers else None
    engine = tools.get("engine")
    row["engine_over_fastest_peer"] = (
        engine["cpu_mb_s"] / peers[row["fastest_peer"]]
        if engine is not None and row["fastest_peer"] is not None
        else None
    )


def _ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """format -> variant -> engine / fastest peer (per CPU-second)."""
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        out.setdefault(row["format"], {})[row["variant"]] = row["engine_over_fastest_peer"]
    return out
