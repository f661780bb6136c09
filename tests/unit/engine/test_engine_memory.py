"""Constant memory: a file 20x larger validates in the same peak RSS.

Each validation runs in a fresh subprocess that reports its own peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``) once done, so the pytest process, other
tests and earlier children cannot blur the number. No timing is asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

# The child: validate one file, print the summary's counts and the peak RSS in KiB.
CHILD = """
import json, resource, sys
from silent_scalper.engine import Limits, SchemaRegistry, validate_stream
path, cap = sys.argv[1], int(sys.argv[2])
schema = SchemaRegistry.load().get("job.v1")
limits = Limits(max_bytes=1 << 40, unique_memory_entries=cap)
with open(path, "rb") as fh:
    s = validate_stream(fh, key=path, schema=schema, limits=limits)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"valid": s.valid, "records": s.records, "invalid": s.invalid_records,
                  "errors": [e.location for e in s.errors], "peak_kib": peak}))
"""

# Keep the unique-id store at its cap in both runs: the comparison is then about the
# parser's buffers, which must not grow with the file.
UNIQUE_CAP = 20_000
BLOCK = 1_000


def template(fmt: str) -> bytes:
    """BLOCK valid records whose ids hold the marker ``~B~``; the last has a bad priority."""
    rows = []
    for i in range(BLOCK):
        rec = {
            "job_id": f"job-~B~-{i:04d}",
            "submitted_at": f"2026-01-{1 + i % 28:02d}T{i % 24:02d}:00:00Z",
            "customer_id": 1 + i % 5000,
            "status": "queued",
            "priority": 9 if i == BLOCK - 1 else 1 + i % 5,
            "amount": round(i % 997 * 1.25, 2),
            "currency": "EUR",
            "email": f"user{i % 100}@example.com",
            "notes": 'multi\nline, with "quotes"' if i % 7 == 0 else "",
        }
        if fmt == "csv":
            cells = [str(v) for v in rec.values()]
            rows.append(",".join(_quote(c) for c in cells))
        else:
            rows.append(json.dumps(rec))
    return (",\n" if fmt == "json" else "\n").join(rows).encode()


def _quote(cell: str) -> str:
    return '"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell


def generate(path: Path, fmt: str, target: int) -> int:
    """Write about ``target`` bytes of job records (unique ids); returns how many records."""
    body = template(fmt)
    blocks = 0
    with path.open("wb") as fh:
        if fmt == "csv":
            fh.write(
                b"job_id,submitted_at,customer_id,status,priority,amount,currency,email,notes\n"
            )
        elif fmt == "json":
            fh.write(b"[\n")
        while blocks * len(body) < target:
            if blocks:
                fh.write(b",\n" if fmt == "json" else b"\n")
            fh.write(body.replace(b"~B~", b"%06d" % blocks))
            blocks += 1
        fh.write(b"\n]\n" if fmt == "json" else b"\n")
    return blocks * BLOCK


def peak(path: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(UNIQUE_CAP)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(out.stdout)
    return result


@pytest.mark.parametrize(("fmt", "big_mb"), [("json", 80), ("csv", 30), ("ndjson", 50)])
def test_peak_memory_does_not_grow_with_file_size(tmp_path: Path, fmt: str, big_mb: int) -> None:
    small_path, big_path = tmp_path / f"small.{fmt}", tmp_path / f"big.{fmt}"
    small_records = generate(small_path, fmt, 5_000_000)
    big_records = generate(big_path, fmt, big_mb * 1_000_000)
    small, big = peak(small_path), peak(big_path)
    # Everything was read and checked: one bad record per block, each located.
    assert (small["records"], small["invalid"]) == (small_records, small_records // BLOCK)
    assert (big["records"], big["invalid"]) == (big_records, big_records // BLOCK)
    growth_mib = (big["peak_kib"] - small["peak_kib"]) / 1024
    # The big file is 6-16x the small one; constant memory means the same peak give or
    # take allocator noise. Memory that grew with the input would add >= 50 MiB here.
    assert growth_mib < 12, (small, big)
