"""The 1 % invalid records' cost counted in instructions, beside the timed one.

The target is judged in CPU seconds (``benchmarks.peers``: adjacent pairs of fresh
processes on 100 MB files). On a shared VM that figure moves with the host by more than
the target's margin (docs/performance.md quotes the spread). Instructions do not move:
valgrind's cachegrind counts the same number every run, so a change to the invalid path
shows in them whatever the host does. They are not the target: the invalid path's extra
instructions run at a lower rate than the valid path's (about half of the extra time is
allocating and freeing objects, which costs memory latency more than instructions), so
the timed cost is two to three times the counted one (docs/performance-log.md).

Each file is validated by the engine worker (``benchmarks.worker engine``) under
cachegrind, without its cache simulation; a file of one block (100 records) gives the
import, the schema load and the worker's own work, which are subtracted.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.generate import MB, Format, format_size, generate

#: Size of the files counted: large enough that the fixed costs are small, small enough
#: that cachegrind (about 50 times slower than the engine) takes seconds a file.
SIZE = 20 * MB
_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def count(argv: list[str]) -> int:
    """Instructions ``argv`` runs, counted by cachegrind; RuntimeError when it fails."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=cachegrind",
            "--cache-sim=no",
            "--cachegrind-out-file=/dev/null",
            *argv,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    found = _REFS.search(done.stderr)
    if done.returncode != 0 or found is None:
        lines = done.stderr.strip().splitlines()
        raise RuntimeError(lines[-1] if lines else f"exit status {done.returncode}")
    return int(found.group(1).replace(",", ""))


def invalid_cost(valid: int, invalid: int) -> float:
    """The speed lost to the invalid records, as the timed target reads it: 1 minus the
    valid file's count over the invalid one's."""
    return 1 - valid / invalid


def instructions_section(
    workdir: Path,
    formats: list[Format],
    progress: Callable[[str], None],
    *,
    size: int = SIZE,
    counter: Callable[[list[str]], int] = count,
) -> dict[str, Any]:
    """Per format, the engine's instructions on a valid and a 1 % invalid file of
    ``size`` bytes (the fixed costs subtracted) and the cost that gives; an ``error``
    instead when valgrind is not installed or a count fails."""
    if counter is count and shutil.which("valgrind") is None:
        return {"error": "valgrind is not installed: not counted", "rows": []}
    rows: list[dict[str, Any]] = []
    try:
        for fmt in formats:
            engine = [sys.executable, "-m", "benchmarks.worker", "engine", "--format", fmt.value]
            progress(f"instructions {format_size(size)} {fmt.value}: counting under cachegrind")
            one = generate(workdir, fmt, 1, invalid=False, name=f"one-block.{fmt.value}")
            fixed = counter([*engine, str(one.path)])
            counted: dict[str, int] = {}
            for invalid in (False, True):
                made = generate(workdir, fmt, size, invalid=invalid)
                counted["1% invalid" if invalid else "valid"] = (
                    counter([*engine, str(made.path)]) - fixed
                )
                made.path.unlink()
            rows.append(
                {
                    "format": fmt.value,
                    "valid": counted["valid"],
                    "1% invalid": counted["1% invalid"],
                    "cost": invalid_cost(counted["valid"], counted["1% invalid"]),
                }
            )
    except RuntimeError as exc:
        return {"error": f"not counted: {exc}", "rows": rows}
    return {"size": format_size(size), "rows": rows}
