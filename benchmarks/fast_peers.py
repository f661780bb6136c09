"""The fastest peers of the engine, as a user comparing tools would run them.

Each function checks one job file against ``schemas/job.v1.json`` -- types, required
fields, patterns, enums, bounds, formats, no unknown fields, ``job_id`` unique -- and
counts the invalid records, so its figure is comparable with the engine's. Neither hashes
the file, keeps located errors or words them: the engine does all three.

- `run_polars` (CSV): ``polars.read_csv`` with every column read as text, then one
  vectorised expression per rule. polars runs on every core; its CPU seconds count every
  thread (``time.process_time``), so the figure is per CPU-second like the engine's.
- `run_msgspec` (NDJSON, JSON array): a ``msgspec.Struct`` with the schema's constraints,
  decoded line by line (NDJSON), or per item from an array of ``msgspec.Raw`` read whole
  into memory (JSON array: msgspec has no streaming array reader).

Imported by ``benchmarks.worker`` only in the process that measures them.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

JOB_ID = r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$"
CURRENCY = r"^[A-Z]{3}$"
#: What ``format: email`` accepts in practice: one @, no spaces, a dot in the domain.
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")


class Job(msgspec.Struct, forbid_unknown_fields=True):
    """``job.v1`` as a msgspec Struct (required fields first, optional ones UNSET)."""

    job_id: Annotated[str, Meta(pattern=JOB_ID)]
    submitted_at: Annotated[datetime, Meta(tz=True)]
    customer_id: Annotated[int, Meta(ge=1)]
    status: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    priority: Annotated[int, Meta(ge=1, le=5)] | UnsetType = UNSET
    amount: Annotated[float, Meta(ge=0)] | UnsetType = UNSET
    currency: Annotated[str, Meta(pattern=CURRENCY)] | UnsetType = UNSET
    email: Annotated[str, Meta(pattern=EMAIL)] | UnsetType = UNSET
    quantity: Annotated[int, Meta(ge=0)] | UnsetType = UNSET
    notes: Annotated[str, Meta(max_length=2000)] | UnsetType = UNSET


def run_msgspec(path: Path, fmt: str) -> dict[str, Any]:
    """Decode every record into `Job`; a record that fails, or repeats a job_id, is invalid."""
    decoder = msgspec.json.Decoder(Job)
    seen: set[str] = set()
    records = invalid = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    if fmt == "ndjson":
        with path.open("rb") as stream:
            items: Any = (line for line in stream if line.strip())
            records, invalid = _decode_all(decoder, items, seen)
    else:
        raw = msgspec.json.decode(path.read_bytes(), type=list[msgspec.Raw])
        records, invalid = _decode_all(decoder, raw, seen)
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": path.stat().st_size,
        "records": records,
        "invalid_records": invalid,
    }


def _decode_all(decoder: msgspec.json.Decoder[Job], items: Any, seen: set[str]) -> tuple[int, int]:
    records = invalid = 0
    for item in items:
        records += 1
        try:
            job = decoder.decode(item)
        except (msgspec.ValidationError, msgspec.DecodeError):
            invalid += 1
            continue
        if job.job_id in seen:
            invalid += 1
        seen.add(job.job_id)
    return records, invalid


def run_polars(path: Path) -> dict[str, Any]:
    """Read the CSV as text columns and count the rows that break any rule."""
    import polars as pl  # noqa: PLC0415 - 45 MB of RSS: only in the process measuring it

    def optional(name: str, ok: pl.Expr) -> pl.Expr:
        # An empty cell is an absent optional field (CSV has no null).
        return pl.col(name).is_null() | ok.fill_null(value=False)

    def integer(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Int64, strict=False)

    start, cpu_start = time.perf_counter(), time.process_time()
    frame = pl.read_csv(path, infer_schema=False)
    when = pl.col("submitted_at").str.to_datetime("%+", strict=False, time_zone="UTC")
    ok = (
        pl.col("job_id").str.contains(JOB_ID).fill_null(value=False)
        & pl.col("job_id").is_first_distinct()
        & when.is_not_null()
        & (integer("customer_id") >= 1).fill_null(value=False)
        & pl.col("status").is_in(STATUSES).fill_null(value=False)
        & optional("priority", integer("priority").is_between(1, 5))
        & optional("amount", pl.col("amount").cast(pl.Float64, strict=False) >= 0)
        & optional("currency", pl.col("currency").str.contains(CURRENCY))
        & optional("email", pl.col("email").str.contains(EMAIL))
        & optional("quantity", integer("quantity") >= 0)
        & optional("notes", pl.col("notes").str.len_chars() <= 2000)
    )
    known = set(Job.__struct_fields__)
    unknown = [c for c in frame.columns if c not in known]
    invalid = frame.height if unknown else int(frame.select((~ok).sum()).item())
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "bytes": path.stat().st_size,
        "records": frame.height,
        "invalid_records": invalid,
    }
