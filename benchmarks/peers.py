"""The engine beside its fastest peers on the same files, in one run.

For each format, a valid file and a 1 % invalid one of the same size are generated; the
engine and each fast peer (`benchmarks.fast_peers`: polars for CSV, msgspec Struct per
record for NDJSON and JSON arrays) check them in ``repeats`` rounds, each round running
every tool on the valid file and then on the invalid one, each run in a fresh process.
The median CPU seconds give MB per CPU-second. Every tool must find the invalid records
the generator wrote; a tool that does not is flagged, not compared.

The ratio engine / fastest peer (per CPU-second) goes into the results per format and
variant: above 1.0 the engine is ahead. It is the median of each round's own ratio: the
machine's speed drifts by more than these differences over the minutes a section takes,
and runs seconds apart share it.

The engine's cost of the invalid records is measured on its own after the rounds:
``cost_pairs`` pairs of engine runs, the valid and the invalid file back to back, the
order turned around every other pair (valid first, then invalid first) so that a steady
drift favours neither, and the cost is the median of the pairs' own costs. In a round the
two engine runs have a peer's run between them, and this VM's speed was seen to change by
a factor of two within seconds.
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


def _summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One tool's fresh-process runs on one file: median CPU and wall, highest peak RSS,
    and each round's CPU seconds (for the paired ratios)."""
    cpu = statistics.median(r["cpu_seconds"] for r in runs)
    wall = statistics.median(r["seconds"] for r in runs)
    size = int(runs[0]["bytes"])
    return {
        "runs": len(runs),
        "cpu_seconds": cpu,
        "cpu_rounds": [r["cpu_seconds"] for r in runs],
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
    cost_pairs: int = 7,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, Any]:
    """Engine and fast peers on each format's valid and 1 % invalid file of ``size`` bytes,
    then ``cost_pairs`` adjacent pairs of engine runs on the two files."""
    rows: list[dict[str, Any]] = []
    pairs: dict[str, list[dict[str, float]]] = {}
    for fmt in formats:
        tools = ("engine", *FAST_PEERS[fmt])
        made = {invalid: generate(workdir, fmt, size, invalid=invalid) for invalid in (False, True)}
        runs: dict[tuple[bool, str], list[dict[str, Any]]] = {}
        errors: dict[bool, list[str]] = {False: [], True: []}
        failed: set[tuple[bool, str]] = set()  # a tool that failed on a file once: left out
        try:
            for round_no in range(repeats):
                for invalid, file in made.items():
                    variant = _variant(invalid)
                    for tool in tools:
                        if (invalid, tool) in failed:
                            continue
                        progress(
                            f"peers {format_size(size)} {fmt.value} {variant}: {tool} "
                            f"(round {round_no + 1} of {repeats})"
                        )
                        try:
                            result = run_worker([tool, str(file.path), "--format", fmt.value])
                        except (WorkerError, subprocess.TimeoutExpired, KeyError) as exc:
                            errors[invalid].append(f"{tool}: {exc}")
                            failed.add((invalid, tool))
                            runs.pop((invalid, tool), None)
                            continue
                        runs.setdefault((invalid, tool), []).append(result)
            if not failed & {(False, "engine"), (True, "engine")}:
                pairs[fmt.value] = _cost_pairs(fmt, made, cost_pairs, size, progress)
        finally:
            for file in made.values():
                file.path.unlink(missing_ok=True)
        for invalid, file in made.items():
            row: dict[str, Any] = {
                "format": fmt.value,
                "variant": _variant(invalid),
                "bytes": file.size,
                "invalid_expected": file.invalid_records,
                "tools": {
                    tool: _summary(runs[(invalid, tool)])
                    for tool in tools
                    if (invalid, tool) in runs
                },
                "errors": errors[invalid],
            }
            _compare(row)
            rows.append(row)
    return {
        "size": format_size(size),
        "repeats": repeats,
        "rows": rows,
        "ratios": _ratios(rows),
        "cost_pairs": pairs,
        "invalid_costs": invalid_costs(rows, pairs),
    }


def _cost_pairs(
    fmt: Format,
    made: dict[bool, Any],
    count: int,
    size: int,
    progress: Callable[[str], None],
) -> list[dict[str, float]]:
    """``count`` pairs of engine runs (CPU seconds) on the valid and the invalid file,
    back to back, valid first in even pairs and invalid first in odd ones."""
    out: list[dict[str, float]] = []
    for pair in range(count):
        order = (False, True) if pair % 2 == 0 else (True, False)
        cpu: dict[str, float] = {}
        for invalid in order:
            progress(
                f"invalid cost {format_size(size)} {fmt.value}: engine on the "
                f"{_variant(invalid)} file (pair {pair + 1} of {count})"
            )
            result = run_worker(["engine", str(made[invalid].path), "--format", fmt.value])
            cpu[_variant(invalid)] = float(result["cpu_seconds"])
        out.append(cpu)
    return out


def _variant(invalid: bool) -> str:
    return "1% invalid" if invalid else "valid"


def _paired(fast: list[float], slow: list[float]) -> float | None:
    """Median over rounds of ``fast[i] / slow[i]`` (None without rounds to pair)."""
    if not fast or len(fast) != len(slow):
        return None
    return statistics.median(a / b for a, b in zip(fast, slow, strict=True))


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
    if engine is None or row["fastest_peer"] is None:
        row["engine_over_fastest_peer"] = None
        return
    peer = tools[row["fastest_peer"]]
    # Per CPU-second on the same file, engine / peer = the peer's CPU / the engine's CPU.
    paired = _paired(peer.get("cpu_rounds", []), engine.get("cpu_rounds", []))
    row["engine_over_fastest_peer"] = (
        paired if paired is not None else engine["cpu_mb_s"] / peers[row["fastest_peer"]]
    )


def invalid_costs(
    rows: list[dict[str, Any]], pairs: dict[str, list[dict[str, float]]] | None = None
) -> dict[str, float]:
    """format -> how much of its speed the engine loses on the 1 % invalid file against
    the valid one (0.08: 8 % fewer MB per CPU-second): the median of the adjacent pairs'
    own costs (``pairs``, see :func:`_cost_pairs`) where the format has them, else of
    each round's own cost where both files have the same rounds, else from the median
    speeds."""
    engines: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        engine = row["tools"].get("engine")
        if engine is not None and engine.get("cpu_mb_s"):
            engines.setdefault(row["format"], {})[row["variant"]] = engine
    out: dict[str, float] = {}
    for fmt, by_variant in engines.items():
        valid, invalid = by_variant.get("valid"), by_variant.get("1% invalid")
        if valid is None or invalid is None:
            continue
        adjacent = (pairs or {}).get(fmt) or []
        kept = _paired([p["valid"] for p in adjacent], [p["1% invalid"] for p in adjacent])
        if kept is None:
            kept = _paired(valid.get("cpu_rounds", []), invalid.get("cpu_rounds", []))
        out[fmt] = 1 - (kept if kept is not None else invalid["cpu_mb_s"] / valid["cpu_mb_s"])
    return out


def _ratios(rows: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """format -> variant -> engine / fastest peer (per CPU-second)."""
    out: dict[str, dict[str, float | None]] = {}
    for row in rows:
        out.setdefault(row["format"], {})[row["variant"]] = row["engine_over_fastest_peer"]
    return out
