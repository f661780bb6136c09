"""``load_readers`` imports up front what a format's first file would import.

A process that times its files (the benchmark) or would rather pay at its cold start calls
it once; after it, validating a file of that format imports nothing. Each case runs in a
fresh interpreter: this one has imported everything already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from engine_support import job

_CHILD = """
import io, json, sys
from silent_scalper.engine import FileFormat, Limits, SchemaRegistry, load_readers, validate_stream

fmt, data, load = FileFormat(sys.argv[1]), sys.argv[2].encode(), sys.argv[3] == "load"
schema = SchemaRegistry.load().get("job.v1")
before = set(sys.modules)
loaded = load_readers(fmt) if load else None
between = set(sys.modules)
summary = validate_stream(
    io.BytesIO(data), key="jobs." + fmt.value, schema=schema, limits=Limits(max_bytes=10**6)
)
print(json.dumps({
    "loaded": loaded,
    "by_load": sorted(between - before),
    "by_file": sorted(set(sys.modules) - between),
    "valid": summary.valid,
    "records": summary.records,
}))
"""


def _file(fmt: str) -> str:
    """Three valid job records (one breaking a pattern too, so the refused path runs)."""
    records = [json.loads(job(n, currency="EUR" if n else "usd")) for n in range(3)]
    if fmt == "ndjson":
        return "".join(json.dumps(r) + "\n" for r in records)
    if fmt == "json":
        return json.dumps(records)
    header = list(records[0])
    return "\n".join([",".join(header), *(",".join(str(r[k]) for k in header) for r in records)])


def _run(fmt: str, *, load: bool) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, fmt, _file(fmt), "load" if load else "no"],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "json"])
def test_given_the_readers_loaded_when_the_first_file_is_validated_then_nothing_is_imported(
    fmt: str,
) -> None:
    """Given a fresh process that loaded a format's readers, when it validates its first
    file of that format, then no module is imported during the validation, and the file
    is read as without the call (two valid records and one refused)."""
    loaded = _run(fmt, load=True)
    plain = _run(fmt, load=False)

    assert loaded["loaded"] is True
    assert loaded["by_file"] == []
    assert (loaded["valid"], loaded["records"]) == (plain["valid"], plain["records"]) == (False, 3)


def test_given_a_csv_file_then_its_first_validation_imports_pyarrow_unless_loaded() -> None:
    """Given a fresh process, when it validates its first CSV file without loading the
    readers, then that validation imports pyarrow's CSV reader and kernels (what the
    call moves up front); the JSON formats load nothing."""
    plain = _run("csv", load=False)
    loaded = _run("csv", load=True)

    assert {"pyarrow", "pyarrow.compute", "pyarrow.csv"} <= set(plain["by_file"])  # type: ignore[arg-type]
    assert {"pyarrow", "pyarrow.compute", "pyarrow.csv"} <= set(loaded["by_load"])  # type: ignore[arg-type]
    assert _run("ndjson", load=True)["by_load"] == []
