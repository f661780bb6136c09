"""Hostile large files: a reason code and bounded memory, measured in a fresh process.

Each file is generated in a temporary directory and validated by the pipeline's own steps
(TypeCheck's ranged read, then ValidateSchema's streaming pass through the engine) in a
child process, reading the file the way the Lambda reads S3 (a file-like body). The child
reports its peak RSS before and after validating: the growth must stay far below the file
size. This is a memory bound, not a timing test; the 1 GB runs belong to the benchmarks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

MIB = 1024 * 1024
#: Peak RSS growth allowed while validating a file of 64-200 MiB.
RSS_GROWTH_LIMIT_MIB = 64
HEADER = b"job_id,submitted_at,customer_id,status,priority,amount,notes\n"
ROW = b"J-%06d,2026-01-05T09:30:00Z,7,queued,2,12.5,plain note\n"

# Runs in the child: TypeCheck + ValidateSchema over the file through an S3-like client.
CHILD = r"""
import io, json, resource, sys
from silent_scalper.engine import Limits, SchemaRegistry
from silent_scalper.pipeline import StepInput, type_check, validate_schema

path, key = sys.argv[1], sys.argv[2]


class FileS3:
    "get_object over a local file: Range honoured, the body streamed like botocore's."

    def get_object(self, **args):
        body = open(path, "rb")
        if "Range" in args:
            start, end = (int(x) for x in args["Range"].removeprefix("bytes=").split("-"))
            body.seek(start)
            return {"Body": io.BytesIO(body.read(end - start + 1))}
        return {"Body": body}


size = __import__("os").path.getsize(path)
step = StepInput.model_validate({
    "bucket": "input", "object": {"key": key, "size": size, "sequencer": "01"},
    "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:p:x",
})
limits = Limits(max_bytes=1 << 40)
schema = SchemaRegistry.load().get("job.v1")
s3 = FileS3()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
checked = type_check(s3, step, limits=limits)
outcome = validate_schema(
    s3, step, type_result=checked.verdict, schema=schema, limits=limits, key_hint=checked.key
)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
json.dump({
    "type_check": checked.model_dump(mode="json"),
    "valid": outcome.valid,
    "reason": outcome.reason,
    "message": outcome.message,
    "size": None if outcome.summary is None else outcome.summary.size,
    "before_kib": before,
    "after_kib": after,
}, sys.stdout)
"""


def no_newline_csv(out: Any, size: int) -> None:
    out.write(HEADER + b"J-000001,2026-01-05T09:30:00Z,7,queued,,,")
    _fill(out, b"x", size)


def no_newline_ndjson(out: Any, size: int) -> None:
    out.write(b'{"job_id": "J-000001", "notes": "')
    _fill(out, b"y", size)


def no_newline_json(out: Any, size: int) -> None:
    out.write(b'[{"job_id": "J-000001", "notes": "')
    _fill(out, b"z", size)


def invalid_utf8_in_the_middle(out: Any, size: int) -> None:
    out.write(HEADER)
    rows = b"".join(ROW % n for n in range(20_000))
    written, middle_done = 0, False
    while written < size:
        out.write(rows)
        written += len(rows)
        if not middle_done and written >= size // 2:
            out.write(b"J-999999,2026-01-05T09:30:00Z,7,queued,,,caf\xe9 au lait\n")
            middle_done = True


def _fill(out: Any, byte: bytes, size: int) -> None:
    chunk = byte * MIB
    for _ in range(size // MIB):
        out.write(chunk)


def generate(directory: Path, name: str, write: Callable[[Any, int], None], size: int) -> Path:
    """A hostile file of about ``size`` bytes in ``directory``."""
    path = directory / name
    with path.open("wb") as out:
        write(out, size)
    return path


def validate_in_child(path: Path, key: str) -> dict[str, Any]:
    """Run TypeCheck + ValidateSchema on ``path`` in a fresh interpreter; its report."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), key],
        capture_output=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


@dataclass(frozen=True)
class Case:
    """One hostile file: how to write it, how big, and what the pipeline must say."""

    key: str
    write: Callable[[Any, int], None]
    size_mib: int
    reason: str
    message: str | None = None


CASES = [
    Case(
        "no-newline.csv",
        no_newline_csv,
        200,
        "SCHEMA_VIOLATION",
        "line 2: line longer than the 1048576-byte limit",
    ),
    Case(
        "no-newline.ndjson",
        no_newline_ndjson,
        64,
        "SCHEMA_VIOLATION",
        "line 1: record longer than the 1048576-byte limit",
    ),
    Case("no-newline.json", no_newline_json, 64, "MALFORMED"),
    Case("invalid-utf8.csv", invalid_utf8_in_the_middle, 64, "BAD_ENCODING"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.key for c in CASES])
def test_given_a_hostile_large_file_then_a_reason_code_and_bounded_memory(
    tmp_path: Path, case: Case
) -> None:
    path = generate(tmp_path, case.key, case.write, case.size_mib * MIB)
    size = path.stat().st_size
    key, reason, message, size_mib = case.key, case.reason, case.message, case.size_mib

    report = validate_in_child(path, key)

    assert report["type_check"]["ok"], report["type_check"]
    assert (report["valid"], report["reason"]) == (False, reason), report
    if message is not None:
        assert report["message"] == message
    assert report["message"], "the reason must come with a located message"
    assert report["size"] == size, "the whole object is still read (size and sha256)"
    growth_mib = (report["after_kib"] - report["before_kib"]) / 1024
    assert growth_mib < RSS_GROWTH_LIMIT_MIB, f"RSS grew {growth_mib:.0f} MiB on {size_mib} MiB"
