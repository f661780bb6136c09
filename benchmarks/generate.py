"""Deterministic job files for the benchmarks: CSV, NDJSON and JSON array at a target size.

Every file is a sequence of *blocks* of ``BLOCK_RECORDS`` records valid for ``job.v1``. The
records of a block are built once from a seeded RNG; each block then differs only in its
job-id infix and its timestamp prefix, which are substituted into the pre-serialised block
with two ``bytes.replace`` calls. That keeps generation at disk speed (a 1 GB file in
seconds) while every ``job_id`` in a file stays unique and ``submitted_at`` increases.

With ``invalid=True`` exactly one record of every block (1 %) breaks one schema rule,
cycling through five different rules, so the engine's error path is exercised as well.
Files always hold whole blocks, so the 1 % is exact and the size is the first block
boundary at or past the target.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

BLOCK_RECORDS = 100
"""Records per block; exactly one of them is invalid when ``invalid=True``."""

INVALID_INDEX = 57
"""Position of the invalid record inside each block (any fixed index works)."""

DEFAULT_SEED = 20261125

COLUMNS: tuple[str, ...] = (
    "job_id",
    "submitted_at",
    "customer_id",
    "status",
    "priority",
    "amount",
    "currency",
    "email",
    "quantity",
    "notes",
)

# Placeholders substituted per block. "~" never occurs in generated values, and no
# format quotes or escapes it, so the serialised block keeps them verbatim.
_BLOCK_MARK = b"~B~"
_TIME_MARK = b"~T~"
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)

_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
_CURRENCIES = ("USD", "EUR", "GBP", "JPY", "CHF", "SEK")
_NOTES = (
    "rush order",
    "call before delivery, gate code 4411",
    'customer said "urgent" twice',
    "split shipment; second half next week",
    "Zürich depot — handle with care",
    "納期厳守",
    "line one\nline two of a multi-line note",
    "re-run of job after a failed upload, see ticket 1182",
)

# One schema rule broken per invalid record, chosen by block number. Each is a
# SCHEMA_VIOLATION in every format (CSV cells are coerced by the schema's types).
_VIOLATIONS: tuple[tuple[str, Any], ...] = (
    ("priority", 9),
    ("status", "paused"),
    ("amount", -12.5),
    ("currency", "usd"),
    ("customer_id", 0),
)

MB = 1_000_000
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 1_000, "MB": MB, "GB": 1_000 * MB}


class Format(StrEnum):
    """File formats the generator writes (values match the engine's ``FileFormat``)."""

    CSV = "csv"
    NDJSON = "ndjson"
    JSON = "json"


@dataclass(frozen=True, slots=True)
class GeneratedFile:
    """A generated file and what the engine must find in it."""

    path: Path
    format: Format
    size: int
    records: int
    invalid_records: int
    blocks: int
    first_submitted_at: str
    last_submitted_at: str


def parse_size(text: str) -> int:
    """Parse ``"10MB"``, ``"1GB"``, ``"500KB"`` or a plain byte count (decimal units)."""
    match = _SIZE_RE.match(text)
    if match is None:
        raise ValueError(f"not a size: {text!r} (use e.g. 10MB, 100MB, 1GB)")
    unit = (match.group(2) or "B").upper()
    return int(float(match.group(1)) * _UNITS[unit])


def format_size(size: int) -> str:
    """Render a byte count as the label used in tables and file names (10MB, 1GB)."""
    if size >= 1_000 * MB and size % (1_000 * MB) == 0:
        return f"{size // (1_000 * MB)}GB"
    if size >= MB and size % MB == 0:
        return f"{size // MB}MB"
    return f"{size}B"


def _block_time(block: int) -> str:
    """Timestamp prefix (to the minute) of a block: one minute per block from 2026-01-01."""
    return (_EPOCH + timedelta(minutes=block)).strftime("%Y-%m-%dT%H:%M")


def _template_records(seed: int) -> list[dict[str, Any]]:
    """The records of one block, with placeholders where blocks differ."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    for i in range(BLOCK_RECORDS):
        customer = rng.randint(1, 999_999)
        offset = "Z" if i % 3 == 0 else "+00:00"
        record: dict[str, Any] = {
            "job_id": f"job-~B~-{i:03d}",
            "submitted_at": f"~T~:{i * 59 // BLOCK_RECORDS:02d}.{i:03d}{offset}",
            "customer_id": customer,
            "status": rng.choice(_STATUSES),
        }
        if rng.random() < 0.9:
            record["priority"] = rng.randint(1, 5)
        if rng.random() < 0.9:
            record["amount"] = round(rng.uniform(0, 25_000), 2)
            record["currency"] = rng.choice(_CURRENCIES)
        if rng.random() < 0.8:
            record["email"] = f"customer{customer}@example.com"
        if rng.random() < 0.8:
            record["quantity"] = rng.randint(0, 500)
        if rng.random() < 0.3:
            record["notes"] = rng.choice(_NOTES)
        records.append(record)
    return records


def _serialise(records: list[dict[str, Any]], fmt: Format) -> bytes:
    """Serialise one block; CSV without header, JSON array items without brackets."""
    if fmt is Format.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        for record in records:
            writer.writerow(["" if record.get(c) is None else record[c] for c in COLUMNS])
        return out.getvalue().encode()
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
    sep = ",\n" if fmt is Format.JSON else "\n"
    tail = "" if fmt is Format.JSON else "\n"
    return (sep.join(lines) + tail).encode()


def block_templates(fmt: Format, *, invalid: bool, seed: int = DEFAULT_SEED) -> list[bytes]:
    """Serialised block templates: one, or one per violation kind when ``invalid``."""
    records = _template_records(seed)
    if not invalid:
        return [_serialise(records, fmt)]
    templates = []
    for field, bad in _VIOLATIONS:
        broken = [dict(r) for r in records]
        broken[INVALID_INDEX][field] = bad
        templates.append(_serialise(broken, fmt))
    return templates


def file_name(fmt: Format, size: int, *, invalid: bool) -> str:
    """Stable file name for a generated file, e.g. ``jobs-10MB-1pct.ndjson``."""
    return f"jobs-{format_size(size)}-{'1pct' if invalid else 'valid'}.{fmt.value}"


def generate(
    directory: Path,
    fmt: Format,
    target_bytes: int,
    *,
    invalid: bool,
    seed: int = DEFAULT_SEED,
    name: str | None = None,
) -> GeneratedFile:
    """Write a job file of at least ``target_bytes`` (whole blocks) and describe it.

    The same arguments always produce the same bytes.
    """
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    templates = block_templates(fmt, invalid=invalid, seed=seed)
    path = directory / (name or file_name(fmt, target_bytes, invalid=invalid))
    head = b""
    if fmt is Format.CSV:
        head = (",".join(COLUMNS) + "\r\n").encode()
    elif fmt is Format.JSON:
        head = b"[\n"
    block = 0
    with path.open("wb", buffering=1 << 20) as out:
        written = out.write(head)
        while written < target_bytes:
            if block and fmt is Format.JSON:
                written += out.write(b",\n")
            body = templates[block % len(templates)]
            body = body.replace(_BLOCK_MARK, b"%08d" % block)
            body = body.replace(_TIME_MARK, _block_time(block).encode())
            written += out.write(body)
            block += 1
        if fmt is Format.JSON:
            written += out.write(b"\n]\n")
    first = json.loads(_serialise(_template_records(seed)[:1], Format.NDJSON))["submitted_at"]
    last = json.loads(_serialise(_template_records(seed)[-1:], Format.NDJSON))["submitted_at"]
    return GeneratedFile(
        path=path,
        format=fmt,
        size=written,
        records=block * BLOCK_RECORDS,
        invalid_records=block if invalid else 0,
        blocks=block,
        first_submitted_at=first.replace("~T~", _block_time(0)),
        last_submitted_at=last.replace("~T~", _block_time(block - 1)),
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m benchmarks.generate DIR --format csv --size 10MB [--invalid]``."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--format", choices=[f.value for f in Format], default="ndjson")
    parser.add_argument("--size", type=parse_size, default=10 * MB)
    parser.add_argument("--invalid", action="store_true", help="1 %% invalid records")
    args = parser.parse_args(argv)
    args.directory.mkdir(parents=True, exist_ok=True)
    made = generate(args.directory, Format(args.format), args.size, invalid=args.invalid)
    print(f"{made.path} {made.size} bytes, {made.records} records, {made.invalid_records} invalid")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
