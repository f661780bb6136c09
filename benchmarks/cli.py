"""``scalper validate`` against the engine called from Python, whole processes.

A user who validates one file from a shell pays for the interpreter, the imports and the
check; the same check from Python (the API path: ``SchemaRegistry.load()`` then
``validate_stream``) is the floor. Each form runs ``repeats`` times in a fresh process;
the CPU seconds (user + system) and peak RSS of that process come from ``wait4``, so the
figures include start-up and imports, which is what the command line adds.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.generate import MB, Format, generate

#: The API path, as a user's script would call it.
_API = """
import sys
from pathlib import Path
from silent_scalper.engine import Limits, SchemaRegistry, validate_stream
path = Path(sys.argv[1])
with path.open("rb") as stream:
    summary = validate_stream(
        stream,
        key=path.name,
        schema=SchemaRegistry.load().get("job.v1"),
        limits=Limits(max_bytes=100 * 1024 * 1024),
    )
sys.exit(0 if summary.valid else 1)
"""

#: How much more the command line may cost than the API path (docs/performance.md).
TARGET_EXTRA_CPU_S = 0.1
TARGET_EXTRA_RSS_MB = 50.0


def run_process(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """CPU seconds and peak RSS (bytes) of one fresh process running ``argv`` (with
    ``env`` as its whole environment, if given); RuntimeError with the last line of its
    stderr when it fails."""
    # stderr to a file, not a pipe: wait4 reaps the child, so nothing would drain a pipe
    # and a long traceback could block it before it exits.
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if proc.returncode != 0:  # the files are valid: anything else did not measure the check
        lines = stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {proc.returncode}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


def cli_section(workdir: Path, *, repeats: int = 5) -> dict[str, Any]:
    """Per format, a 1 MB valid file through the API path, ``scalper validate --json``
    and ``scalper validate`` (the table), in ``repeats`` rounds of fresh processes.

    Each round runs every form once, back to back, the order turned every other round,
    so a slow phase of a shared host weighs on the forms alike. A form's figures are the
    medians of its runs; its extra over the API path is the median of the rounds' own
    differences (each run against the API run of its round), as the engine's invalid
    cost is taken from adjacent pairs (``benchmarks/peers.py``)."""
    rows: list[dict[str, Any]] = []
    for fmt in (Format.NDJSON, Format.CSV):
        made = generate(workdir, fmt, MB, invalid=False)
        path = str(made.path)
        scalper = [sys.executable, "-m", "scalper", "validate"]
        forms = {
            "API path": [sys.executable, "-c", _API, path],
            "scalper validate --json": [*scalper, "--json", path],
            "scalper validate": [*scalper, path],
        }
        runs = rounds(forms, repeats)
        api = runs["API path"]
        for name, measured in runs.items():
            rows.append(
                {
                    "format": fmt.value,
                    "form": name,
                    "cpu_seconds": statistics.median(cpu for cpu, _ in measured),
                    "peak_rss_bytes": statistics.median(rss for _, rss in measured),
                    "extra_cpu_seconds": statistics.median(
                        cpu - base for (cpu, _), (base, _) in zip(measured, api, strict=True)
                    ),
                    "extra_rss_mb": statistics.median(
                        rss - base for (_, rss), (_, base) in zip(measured, api, strict=True)
                    )
                    / MB,
                }
            )
    return {"file_bytes": MB, "repeats": repeats, "rows": rows}


def rounds(
    forms: dict[str, list[str]], repeats: int, env: dict[str, str] | None = None
) -> dict[str, list[tuple[float, int]]]:
    """Each form's (CPU seconds, peak RSS) in every round, the forms of a round run back
    to back, in the given order in even rounds and reversed in odd ones. A form that
    fails raises RuntimeError naming it."""
    runs: dict[str, list[tuple[float, int]]] = {name: [] for name in forms}
    names = list(forms)
    for round_ in range(repeats):
        for name in names if round_ % 2 == 0 else reversed(names):
            try:
                runs[name].append(run_process(forms[name], env))
            except RuntimeError as exc:
                raise RuntimeError(f"{name}: {exc}") from exc
    return runs


def cli_targets(section: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The command line within 0.1 CPU-second and 50 MB of the API path (worst form)."""
    rows = [r for r in (section or {}).get("rows", []) if r["form"] != "API path"]
    if not rows:
        return []
    cpu = max(rows, key=lambda r: r["extra_cpu_seconds"])
    rss = max(rows, key=lambda r: r["extra_rss_mb"])
    return [
        {
            "target": f"scalper validate within {TARGET_EXTRA_CPU_S} CPU-s of the API",
            "measured": f"{cpu['extra_cpu_seconds']:+.2f} s ({cpu['form']}, {cpu['format']})",
            "met": cpu["extra_cpu_seconds"] <= TARGET_EXTRA_CPU_S,
        },
        {
            "target": f"scalper validate within {TARGET_EXTRA_RSS_MB:.0f} MB of the API",
            "measured": f"{rss['extra_rss_mb']:+.1f} MB ({rss['form']}, {rss['format']})",
            "met": rss["extra_rss_mb"] <= TARGET_EXTRA_RSS_MB,
        },
    ]
