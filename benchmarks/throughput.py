"""Engine throughput and peak memory against sha256 and two peers, each in a fresh process.

For every size and format: generate the file (valid, then 1 % invalid) in a temporary
folder, run the engine on it ``repeats`` times (best MB/s, highest peak RSS), sha256 once,
and the peer once on the valid file. The file is deleted before the next one is written, so
a 1 GB run needs about 1 GB of free disk, not 6.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.generate import MB, Format, GeneratedFile, format_size, generate

REPO_ROOT = Path(__file__).resolve().parent.parent

PEER_FOR: dict[Format, str] = {
    Format.CSV: "frictionless",
    Format.NDJSON: "jsonschema",
    Format.JSON: "jsonschema",
}


class WorkerError(RuntimeError):
    """A measurement process failed; carries the tail of its stderr."""


def run_worker(
    args: Sequence[str], *, module: str = "benchmarks.worker", timeout: float = 1_800
) -> dict[str, Any]:
    """Run ``python -m MODULE ARGS`` in a fresh process and parse its last stdout line (JSON)."""
    proc = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        raise WorkerError(lines[-1] if lines else f"exit status {proc.returncode}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def mb_per_s(nbytes: float, seconds: float) -> float:
    """Decimal megabytes per second (what the targets are written in)."""
    return nbytes / MB / seconds if seconds > 0 else float("inf")


@dataclass
class ThroughputRow:
    """One file: the engine, sha256 and the peer on it."""

    format: str
    size_label: str
    variant: str  # "valid" or "1% invalid"
    bytes: int
    records: int
    invalid_expected: int
    engine_mb_s: float | None = None
    engine_cpu_mb_s: float | None = None  # per second of CPU: one core's speed on a busy machine
    engine_runs: int = 0
    engine_peak_rss: int | None = None
    engine_records: int | None = None
    engine_invalid: int | None = None
    engine_valid: bool | None = None
    engine_reason: str | None = None
    sha256_mb_s: float | None = None
    sha256_cpu_mb_s: float | None = None
    sha256_matches: bool | None = None
    peer: str | None = None
    peer_mb_s: float | None = None
    peer_cpu_mb_s: float | None = None
    peer_bytes: int | None = None
    peer_extrapolated: bool = False
    peer_invalid: int | None = None
    peer_peak_rss: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def counts_ok(self) -> bool:
        """The engine found exactly the records and invalid records the generator wrote."""
        return self.engine_records == self.records and self.engine_invalid == self.invalid_expected

    @property
    def sha256_ratio(self) -> float | None:
        """Engine speed as a fraction of one sha256 pass over the same file (per CPU-second)."""
        if self.engine_cpu_mb_s is None or not self.sha256_cpu_mb_s:
            return None
        return self.engine_cpu_mb_s / self.sha256_cpu_mb_s

    @property
    def peer_ratio(self) -> float | None:
        """How many times faster than the peer on the same file (per CPU-second)."""
        if self.engine_cpu_mb_s is None or not self.peer_cpu_mb_s:
            return None
        return self.engine_cpu_mb_s / self.peer_cpu_mb_s

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict with the derived ratios."""
        out = asdict(self)
        out["counts_ok"] = self.counts_ok
        out["sha256_ratio"] = self.sha256_ratio
        out["peer_ratio"] = self.peer_ratio
        return out


def _engine(row: ThroughputRow, made: GeneratedFile, repeats: int) -> str | None:
    """Run the engine ``repeats`` times; keep the best speed and the highest peak RSS."""
    digest: str | None = None
    for _ in range(repeats):
        res = run_worker(["engine", str(made.path), "--format", made.format.value])
        speed = mb_per_s(res["bytes"], res["seconds"])
        row.engine_mb_s = max(row.engine_mb_s or 0.0, speed)
        cpu_speed = mb_per_s(res["bytes"], res["cpu_seconds"])
        row.engine_cpu_mb_s = max(row.engine_cpu_mb_s or 0.0, cpu_speed)
        row.engine_peak_rss = max(row.engine_peak_rss or 0, res["peak_rss_bytes"])
        row.engine_runs += 1
        row.engine_records = res["records"]
        row.engine_invalid = res["invalid_records"]
        row.engine_valid = res["valid"]
        row.engine_reason = res["reason"]
        digest = res["sha256"]
    return digest


def _peer(row: ThroughputRow, made: GeneratedFile, budget_bytes: int) -> None:
    """Run the peer once, on at most ``budget_bytes`` of the file (then extrapolate)."""
    peer = PEER_FOR[made.format]
    row.peer = peer
    if peer == "frictionless":
        rows = made.records
        if made.size > budget_bytes:
            rows = int(budget_bytes / made.size * made.records)
        res = run_worker(["frictionless", str(made.path), "--budget-rows", str(rows)])
        done_bytes = int(made.size * res["records"] / made.records)
    else:
        res = run_worker(
            [
                "jsonschema",
                str(made.path),
                "--format",
                made.format.value,
                "--budget-bytes",
                str(budget_bytes),
            ]
        )
        done_bytes = int(res["bytes"])
    row.peer_bytes = done_bytes
    row.peer_extrapolated = done_bytes < made.size * 0.99
    row.peer_mb_s = mb_per_s(done_bytes, res["seconds"])
    row.peer_cpu_mb_s = mb_per_s(done_bytes, res["cpu_seconds"])
    row.peer_invalid = res["invalid_records"]
    row.peer_peak_rss = res["peak_rss_bytes"]


def measure_file(
    made: GeneratedFile,
    *,
    size_label: str,
    variant: str,
    repeats: int,
    with_peer: bool,
    peer_budget_bytes: int,
) -> ThroughputRow:
    """Every measurement on one generated file; a failed one is recorded, not raised."""
    row = ThroughputRow(
        format=made.format.value,
        size_label=size_label,
        variant=variant,
        bytes=made.size,
        records=made.records,
        invalid_expected=made.invalid_records,
    )
    digest: str | None = None
    try:
        digest = _engine(row, made, repeats)
    except (WorkerError, subprocess.TimeoutExpired, KeyError, ValueError) as exc:
        row.errors.append(f"engine: {exc}")
    try:
        res = run_worker(["sha256", str(made.path)])
        row.sha256_mb_s = mb_per_s(res["bytes"], res["seconds"])
        row.sha256_cpu_mb_s = mb_per_s(res["bytes"], res["cpu_seconds"])
        row.sha256_matches = None if digest is None else digest == res["sha256"]
    except (WorkerError, subprocess.TimeoutExpired) as exc:
        row.errors.append(f"sha256: {exc}")
    if with_peer:
        try:
            _peer(row, made, peer_budget_bytes)
        except (WorkerError, subprocess.TimeoutExpired, KeyError, ZeroDivisionError) as exc:
            row.errors.append(f"{PEER_FOR[made.format]}: {exc}")
    return row


def run_throughput(
    workdir: Path,
    sizes: Sequence[int],
    formats: Sequence[Format],
    *,
    repeats_for: Callable[[int], int],
    peer_budget_bytes: int,
    progress: Callable[[str], None] = lambda _msg: None,
) -> list[ThroughputRow]:
    """Measure every size x format x variant; each file is deleted once measured."""
    rows: list[ThroughputRow] = []
    for size in sizes:
        for fmt in formats:
            for invalid in (False, True):
                variant = "1% invalid" if invalid else "valid"
                progress(f"{format_size(size)} {fmt.value} {variant}: generating")
                made = generate(workdir, fmt, size, invalid=invalid)
                try:
                    progress(f"{format_size(size)} {fmt.value} {variant}: measuring")
                    row = measure_file(
                        made,
                        size_label=format_size(size),
                        variant=variant,
                        repeats=repeats_for(size),
                        with_peer=not invalid,
                        peer_budget_bytes=peer_budget_bytes,
                    )
                    rows.append(row)
                finally:
                    made.path.unlink(missing_ok=True)
    return rows
