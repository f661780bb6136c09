"""One measurement in a fresh process: ``python -m benchmarks.worker KIND PATH [options]``.

The runner starts this module once per measurement, so each figure comes from a process
that has done nothing else: its peak RSS (``ru_maxrss``) is the peak of that measurement
alone, and no cache or allocator state carries over between measurements. The result is
one JSON object on stdout.

Kinds:
- ``engine``: ``silent_scalper.engine.validate_stream`` over the file (the code the
  ValidateSchema Lambda runs).
- ``sha256``: ``hashlib.file_digest`` over the same file, the floor of one read pass.
- ``jsonschema``: the ``jsonschema`` library per record (NDJSON, JSON array), with a set
  for ``job_id`` uniqueness, stopped after ``--budget-bytes`` (then extrapolated).
- ``frictionless``: ``frictionless`` validating the CSV against the job schema translated
  to a Table Schema, stopped after ``--budget-rows``.
- ``polars`` (CSV) and ``msgspec`` (NDJSON, JSON array): the fastest peers, whole file
  (``benchmarks.fast_peers``).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMA_NAME = "job.v1"
READ_CHUNK = 1 << 20


def peak_rss_bytes() -> int:
    """Peak resident set size of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def load_job_schema() -> dict[str, Any]:
    """The job schema as the engine bundles it (``schemas/job.v1.json``)."""
    path = REPO_ROOT / "schemas" / f"{SCHEMA_NAME}.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def run_engine(path: Path, fmt: str | None) -> dict[str, Any]:
    """Validate the file with the project's engine; time only the validation pass."""
    # Imported here, not at the top: each worker loads only what it measures, so the
    # engine's peak RSS does not include jsonschema or frictionless (same below).
    from silent_scalper.engine import (  # noqa: PLC0415
        FileFormat,
        Limits,
        SchemaRegistry,
        format_for_key,
        load_readers,
        validate_stream,
    )
    from silent_scalper.engine.heap import keep_freed_heap  # noqa: PLC0415

    keep_freed_heap()  # as the ValidateSchema function does at its cold start
    schema = SchemaRegistry.load().get(SCHEMA_NAME)
    # The format's readers are imported before the timer, as each peer imports its
    # library before its own: what a process's first CSV file adds (pyarrow) is measured
    # with the cold starts (benchmarks/cold_start.py), not charged to every file.
    file_format = FileFormat(fmt) if fmt else format_for_key(path.name)
    if file_format is not None:
        load_readers(file_format)
    # The limit is the file size: nothing in the benchmark should hit TOO_LARGE.
    limits = Limits(max_bytes=max(path.stat().st_size, 1) * 2)
    with path.open("rb") as stream:
        start, cpu_start = time.perf_counter(), time.process_time()
        summary = validate_stream(
            stream,
            key=path.name,
            schema=schema,
            limits=limits,
            fmt=FileFormat(fmt) if fmt else None,
        )
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": summary.size,
        "valid": summary.valid,
        "reason": None if summary.reason is None else str(summary.reason),
        "records": summary.records,
        "invalid_records": summary.invalid_records,
        "sha256": summary.sha256,
        "errors_kept": len(summary.errors),
        "first_submitted_at": summary.first_submitted_at,
        "last_submitted_at": summary.last_submitted_at,
    }


def run_sha256(path: Path) -> dict[str, Any]:
    """sha256 of the file in 1 MiB reads: the cost of touching every byte once."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        start, cpu_start = time.perf_counter(), time.process_time()
        while chunk := stream.read(READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": size,
        "sha256": digest.hexdigest(),
    }


def _json_array_items(stream: Any) -> Iterator[tuple[Any, int]]:
    """Yield ``(item, bytes of the item and the separators before it)`` from a JSON array.

    The peer gets a streaming reader too (``json.JSONDecoder.raw_decode`` over a sliding
    buffer), so the comparison is per-record validation cost, not loading 1 GB at once.
    """
    decoder = json.JSONDecoder()
    buf = ""
    pos = 0
    last = 0  # end of the previous item in buf
    seen_open = False
    eof = False
    while True:
        while pos < len(buf) and buf[pos] in " \t\r\n,":
            pos += 1
        if not seen_open and pos < len(buf):
            if buf[pos] != "[":
                raise ValueError("not a JSON array")
            seen_open = True
            pos += 1
            continue
        if pos < len(buf) and buf[pos] == "]":
            return
        try:
            if pos >= len(buf):
                raise ValueError("need more input")
            item, end = decoder.raw_decode(buf, pos)
        except ValueError:
            if eof:
                raise
            chunk = stream.read(READ_CHUNK)
            eof = not chunk
            buf = buf[last:] + chunk
            pos -= last
            last = 0
            continue
        yield item, len(buf[last:end].encode())
        pos = last = end


def run_jsonschema(path: Path, fmt: str, budget_bytes: int) -> dict[str, Any]:
    """Validate records with ``jsonschema`` (Draft 2020-12, formats checked) until the budget."""
    import jsonschema  # noqa: PLC0415

    validator_cls = jsonschema.Draft202012Validator
    validator = validator_cls(load_job_schema(), format_checker=validator_cls.FORMAT_CHECKER)
    seen: set[str] = set()
    records = invalid = done = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    with path.open("rb") as raw:
        items: Iterator[tuple[Any, int]] = (
            ((json.loads(line), len(line)) for line in raw if line.strip())
            if fmt == "ndjson"
            else _json_array_items(io.TextIOWrapper(raw, encoding="utf-8"))
        )
        for item, length in items:
            done += length
            records += 1
            bad = next(validator.iter_errors(item), None) is not None
            job_id = item.get("job_id") if isinstance(item, dict) else None
            if isinstance(job_id, str):
                bad = bad or job_id in seen
                seen.add(job_id)
            invalid += bad
            if done >= budget_bytes:
                break
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": done,
        "records": records,
        "invalid_records": invalid,
    }


def table_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Translate the job JSON Schema to a Frictionless Table Schema with the same rules."""
    types = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}
    required = set(schema.get("required", []))
    fields = []
    for name, prop in schema["properties"].items():
        json_type = prop.get("type", "string")
        if isinstance(json_type, list):
            json_type = next(t for t in json_type if t != "null")
        field: dict[str, Any] = {"name": name, "type": types.get(json_type, "string")}
        if prop.get("format") == "date-time":
            field["type"] = "datetime"
        elif prop.get("format") == "email":
            field["format"] = "email"
        constraints: dict[str, Any] = {}
        for keyword in ("pattern", "enum", "minimum", "maximum", "maxLength", "minLength"):
            if keyword in prop:
                constraints[keyword] = prop[keyword]
        if name in required:
            constraints["required"] = True
        if name == "job_id":
            constraints["unique"] = True
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields}


def run_frictionless(path: Path, budget_rows: int) -> dict[str, Any]:
    """Validate the CSV with ``frictionless`` (row limit = budget, errors unlimited)."""
    from frictionless import Resource, Schema, system  # noqa: PLC0415

    descriptor = table_schema(load_job_schema())
    start, cpu_start = time.perf_counter(), time.process_time()
    with system.use_context(trusted=True):
        res = Resource(str(path), schema=Schema.from_descriptor(descriptor))
        report = res.validate(limit_rows=budget_rows, limit_errors=10**12)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    task = report.tasks[0]
    rows = int(task.stats.get("rows") or 0)
    problems = [e.type for e in task.errors if e.type not in ("constraint-error", "unique-error")]
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "records": rows,
        "invalid_records": len({e.row_number for e in task.errors if hasattr(e, "row_number")}),
        "other_errors": sorted(set(problems))[:5],
    }


def main(argv: list[str] | None = None) -> int:
    """Run one measurement and print its result as one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    parser.add_argument(
        "kind", choices=["engine", "sha256", "jsonschema", "frictionless", "polars", "msgspec"]
    )
    parser.add_argument("path", type=Path)
    parser.add_argument("--format", dest="fmt", default=None)
    parser.add_argument("--budget-bytes", type=int, default=1 << 62)
    parser.add_argument("--budget-rows", type=int, default=None)
    args = parser.parse_args(argv)
    if args.kind == "engine":
        result = run_engine(args.path, args.fmt)
    elif args.kind == "sha256":
        result = run_sha256(args.path)
    elif args.kind == "jsonschema":
        result = run_jsonschema(args.path, args.fmt or "ndjson", args.budget_bytes)
    elif args.kind in ("polars", "msgspec"):
        from benchmarks import fast_peers  # noqa: PLC0415 - only this process pays for it

        if args.kind == "polars":
            result = fast_peers.run_polars(args.path)
        else:
            result = fast_peers.run_msgspec(args.path, args.fmt or "ndjson")
    else:
        result = run_frictionless(args.path, args.budget_rows or 10**12)
    result["kind"] = args.kind
    result["peak_rss_bytes"] = peak_rss_bytes()
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
