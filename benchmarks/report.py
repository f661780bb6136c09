"""Render a results JSON as the Markdown tables docs/performance.md shows.

python -m benchmarks.report                      # benchmarks/results/latest.json
python -m benchmarks.report benchmarks/results/2026-11-25-host.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks.generate import parse_size

RESULTS = Path(__file__).resolve().parent / "results"
MiB = 1 << 20


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], left: Sequence[int] = (0,)) -> str:
    """A Markdown table; the columns at indexes ``left`` are left-aligned, the rest right."""
    align = ["---" if i in left else "---:" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def throughput_md(rows: list[dict[str, Any]]) -> str:
    """Engine vs sha256 vs peer per file."""
    out = []
    for r in rows:
        peer = r.get("peer") or "-"
        if r.get("peer") and r.get("peer_extrapolated") and r.get("peer_bytes"):
            peer += f" (first {r['peer_bytes'] / 1e6:,.0f} MB, extrapolated)"
        ratio = r.get("peer_ratio")
        check = "ok" if r.get("counts_ok") and r.get("sha256_matches") is not False else "MISMATCH"
        if r.get("errors"):
            check = "error"
        rss = r.get("engine_peak_rss")
        out.append(
            [
                r["format"],
                r["size_label"],
                r["variant"],
                f"{r['records']:,}",
                _num(r.get("engine_mb_s")),
                _num(r.get("engine_cpu_mb_s")),
                _num(r.get("sha256_cpu_mb_s")),
                _num(r.get("sha256_ratio"), 2),
                peer,
                _num(r.get("peer_cpu_mb_s")),
                "-" if ratio is None else f"{ratio:,.0f}x",
                _num(rss / MiB) if rss else "-",
                check,
            ]
        )
    header = [
        "format",
        "size",
        "file",
        "records",
        "engine MB/s (wall)",
        "engine MB/s (CPU)",
        "sha256 MB/s (CPU)",
        "engine / sha256",
        "peer",
        "peer MB/s (CPU)",
        "engine / peer",
        "peak RSS MiB",
        "counts",
    ]
    return _table(header, out, left=(0, 1, 2, 8, 12))


def peers_md(section: dict[str, Any]) -> str:
    """Engine and fastest peers side by side, with the ratio per format and variant."""
    rows = []
    for row in section["rows"]:
        ratio = row["engine_over_fastest_peer"]
        for tool, r in row["tools"].items():
            found = f"{r['invalid_records']:,}" + ("" if r["counts_ok"] else " (MISMATCH)")
            rows.append(
                [
                    row["format"],
                    row["variant"],
                    tool,
                    _num(r["cpu_mb_s"]),
                    _num(r["mb_s"]),
                    found,
                    _num(r["peak_rss_bytes"] / 2**20),
                    "-" if ratio is None or tool != "engine" else f"{ratio:.2f}",
                ]
            )
    header = ["format", "file", "tool", "MB/CPU-s", "MB/s wall", "invalid found",
              "peak RSS MiB", "engine / fastest peer"]  # fmt: skip
    title = (
        f"Engine vs fastest peers on {section['size']} files "
        f"(medians of {section['repeats']} rounds, fresh process each; the ratio is the "
        "median of each round's own ratio):\n\n"
    )
    return title + _table(header, rows, left=(0, 1, 2))


def instructions_rows(section: dict[str, Any]) -> list[list[str]]:
    """The instruction count's rows as both the report and the console print them."""
    return [
        [r["format"], f"{r['valid']:,}", f"{r['1% invalid']:,}", f"{r['cost']:+.1%}"]
        for r in section["rows"]
    ]


def instructions_md(section: dict[str, Any]) -> str:
    """The 1 % invalid records' cost counted in instructions."""
    rows = instructions_rows(section)
    title = (
        f"1 % invalid records counted in instructions ({section.get('size', '-')} files, "
        "cachegrind, the import and schema load subtracted):\n\n"
    )
    note = f"\n\n{section['error']}" if section.get("error") else ""
    return title + _table(["format", "valid", "1% invalid", "invalid cost"], rows) + note


def memory_md(memory: dict[str, Any]) -> str:
    """Peak RSS per format and size."""
    sizes = sorted({s for m in memory.values() for s in m["by_size"]}, key=parse_size)
    rows = []
    for fmt, m in memory.items():
        cells = [_num(m["by_size"][s] / MiB) if s in m["by_size"] else "-" for s in sizes]
        rows.append([fmt, *cells, f"{m['spread_bytes'] / MiB:+.1f}"])
    header = ["peak RSS MiB", *sizes, "largest - smallest"]
    return _table(header, rows)


def targets_md(items: list[dict[str, Any]]) -> str:
    """Targets against measured figures."""
    rows = []
    for item in items:
        met = item["met"]
        mark = "n/a" if met is None else ("yes" if met else "**NO**")
        rows.append([item["target"], item["measured"], mark])
    return _table(["target", "measured", "met"], rows, left=(0, 2))


def transitions_md(section: dict[str, Any]) -> str:
    """Transitions per path."""
    rows = []
    for name, path in section["paths"].items():
        rows.append([name, str(path["transitions"]), " → ".join(path["states"])])
    return _table(["path", "transitions", "states entered"], rows, left=(0, 2))


def cost_md(section: dict[str, Any]) -> str:
    """Cost per million files per path, Standard vs Express."""
    rows = []
    for entry in section["paths"]:
        rows.append(
            [
                entry["path"],
                entry["file"],
                f"${entry['STANDARD']['total']:,.2f}",
                f"${entry['STANDARD']['components'].get('state transitions', 0):,.2f}",
                f"${entry['EXPRESS']['total']:,.2f}",
                f"${entry['EXPRESS']['components'].get('express duration', 0):,.2f}",
            ]
        )
    header = [
        "path",
        "file",
        "Standard / 1M files",
        "of which transitions",
        "Express / 1M files",
        "of which Express duration",
    ]
    return _table(header, rows, left=(0, 1))


def pipeline_md(section: dict[str, Any]) -> str:
    """Bytes read from S3 per file through the real handlers."""
    rows = []
    for f in section["files"]:
        rows.append(
            [
                f["name"],
                f"{f['size']:,}",
                f"{f['bytes_read']:,}",
                f"{f['bytes_read'] - f['size']:+,}",
                f"{f['outcome']} {f['reason'] or ''}".strip(),
            ]
        )
    header = ["file", "size (bytes)", "GetObject bytes", "over size", "outcome"]
    return _table(header, rows, left=(0, 4))


def e2e_md(section: dict[str, Any]) -> str:
    """End-to-end files per second on the local stack."""
    rows = []
    for r in section["runs"]:
        if "error" in r:
            rows.append([f"{r['files']:,}", "-", "-", "-", "-", r["error"]])
            continue
        rows.append(
            [
                f"{r['files']:,}",
                f"{r['file_bytes']:,}",
                f"{r['files_per_second']:.2f}",
                f"{r['mb_per_second']:.1f}",
                f"{r['seconds']:.0f} s",
                ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items())),
            ]
        )
    header = ["files", "bytes each", "files/s", "MB/s", "first upload to last end", "outcomes"]
    return _table(header, rows, left=(5,))


def cli_md(section: dict[str, Any]) -> str:
    """``scalper validate`` against the API path, whole fresh processes."""
    rows = [
        [
            r["format"],
            r["form"],
            f"{r['cpu_seconds']:.3f}",
            _num(r["peak_rss_bytes"] / MiB),
            f"{r['extra_cpu_seconds']:+.3f}",
            f"{r['extra_rss_mb']:+.1f}",
        ]
        for r in section["rows"]
    ]
    header = ["format", "form", "CPU s", "peak RSS MiB", "extra CPU s", "extra RSS MB"]
    return _table(header, rows, left=(0, 1))


def cold_start_rows(section: dict[str, Any]) -> list[list[str]]:
    """The cold starts' rows as both the report and the console print them: a first
    file of a kind has its extra over its handler's import, the others none."""
    return [
        [
            r["layer"],
            r["handler"],
            f"{r['cpu_seconds']:.3f}",
            f"{r['extra_cpu_seconds']:+.3f}" if "extra_cpu_seconds" in r else "",
        ]
        for r in section["rows"]
    ]


def cold_start_md(section: dict[str, Any]) -> str:
    """Each handler's import from the core layer after each build step, and what a first
    file of a kind adds to it (the median of the rounds' differences)."""
    rows = cold_start_rows(section)
    return _table(["layer", "handler", "import CPU s", "extra CPU s"], rows, left=(0, 1))


def render(result: dict[str, Any]) -> str:
    """Every section that the results hold, as Markdown."""
    machine = result["machine"]
    parts = [
        f"Run {result['date']} on `{machine['host']}` ({machine['cpu']}, {machine['cores']} cores, "
        f"Python {machine['python']}), load average at start "
        f"{', '.join(f'{x:.2f}' for x in machine['load_average_at_start'])}.",
        "",
        targets_md(result["targets"]),
        "",
        throughput_md(result["throughput"]),
    ]
    if result.get("peers"):
        parts += ["", peers_md(result["peers"])]
    if result.get("instructions"):
        parts += ["", instructions_md(result["instructions"])]
    if result.get("memory"):
        parts += ["", memory_md(result["memory"])]
    if result.get("cli"):
        parts += ["", cli_md(result["cli"])]
    if result.get("cold_start", {}).get("rows"):
        parts += ["", cold_start_md(result["cold_start"])]
    if result.get("transitions"):
        parts += ["", transitions_md(result["transitions"])]
    if result.get("pipeline", {}).get("files"):
        parts += ["", pipeline_md(result["pipeline"])]
    if result.get("cost"):
        parts += ["", cost_md(result["cost"])]
    if result.get("e2e"):
        parts += ["", e2e_md(result["e2e"])]
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Print the Markdown for one results file."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("path", nargs="?", type=Path, default=RESULTS / "latest.json")
    args = parser.parse_args(argv)
    print(render(json.loads(args.path.read_text(encoding="utf-8"))), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
