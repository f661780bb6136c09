"""One streaming pass over a file: parse, validate every record, count, hash.

The stream is read front to back exactly once, in chunks. Every byte goes through
:class:`Source`, which hashes it (sha256), counts it (``TOO_LARGE`` past the limit) and
checks it is UTF-8 without NULs (cheaply: ``bytes.isascii()`` skips the decoder for
ASCII chunks). Parsers hold at most a chunk plus one record, so memory does not grow
with the file. After a fatal problem (an encoding error, a JSON array that breaks) the
rest of the stream is still read, unparsed, so that size and sha256 are always complete
(except ``TOO_LARGE``, where reading stops one byte past the limit, ``sha256`` is empty
and no record is counted).

The reader is ``_source``; each format has its module (``_ndjson``, ``_json``, ``_csv``)
feeding one ``_collect.Collector``.
"""

from __future__ import annotations

from typing import BinaryIO

from silent_scalper.engine import _csv_columnar
from silent_scalper.engine._collect import Collector
from silent_scalper.engine._csv import validate_csv
from silent_scalper.engine._json import validate_json
from silent_scalper.engine._ndjson import validate_ndjson
from silent_scalper.engine._source import (
    EncodingError,
    FatalError,
    Prefixed,
    Source,
    TooLargeError,
    read_head,
)
from silent_scalper.engine.schemas import (
    CompiledSchema,
)
from silent_scalper.engine.sniff import check_content, format_for_key
from silent_scalper.engine.types import (
    FileFormat,
    Limits,
    LocatedError,
    Reason,
    ValidationSummary,
)

__all__ = ["load_readers", "validate_stream"]


def load_readers(fmt: FileFormat) -> bool:
    """Import now what validating a file of ``fmt`` imports on its first file: pyarrow's
    CSV reader and compute kernels for CSV, nothing for the JSON formats. For a process
    that wants its first file timed as its later ones (a benchmark), or would rather pay
    at its cold start; the engine itself never calls it. Whether the format's reader is
    there (False: pyarrow is missing, and CSV takes the row reader)."""
    if fmt is FileFormat.CSV:
        return _csv_columnar.load()
    return True


def validate_stream(
    stream: BinaryIO,
    *,
    key: str,
    schema: CompiledSchema,
    limits: Limits,
    fmt: FileFormat | None = None,
) -> ValidationSummary:
    """Validate every record of ``stream`` against ``schema`` in one pass, in constant memory.

    ``key`` is the object key or file name (its extension names the format unless
    ``fmt`` is given). Never raises for any content; only errors reading ``stream``
    itself (network, disk) propagate.
    """
    fmt = fmt if fmt is not None else format_for_key(key)
    source = Source(stream, limits.max_bytes)
    col = Collector(schema, limits, fmt or FileFormat.JSON)
    columns: list[str] | None = None
    encoding: str | None = None
    empty = False
    try:
        head = read_head(source, limits.sniff_bytes)
        complete = len(head) < limits.sniff_bytes
        if fmt is None:
            col.error(
                Reason.UNSUPPORTED_TYPE,
                LocatedError("not a .csv, .json, .ndjson or .jsonl file", "file"),
            )
            source.drain()
        else:
            reason, detail = (
                check_content(head, fmt, complete=complete) if head else (Reason.EMPTY_FILE, "")
            )
            if reason is not None:
                message = detail or "the file is empty (0 bytes)"
                col.error(reason, LocatedError(message, "file"))
                empty = reason is Reason.EMPTY_FILE
                source.drain()
            else:
                encoding = detail
                source.prime(head)
                body = Prefixed(source, head)
                try:
                    if fmt is FileFormat.CSV:
                        columns, empty = validate_csv(body, col)
                    elif fmt is FileFormat.NDJSON:
                        empty = validate_ndjson(body, col)
                    else:
                        empty = validate_json(body, col)
                except EncodingError as exc:
                    col.error(
                        Reason.BAD_ENCODING,
                        LocatedError(exc.message, f"line {exc.line}", line=exc.line),
                    )
                    source.drain()
                except FatalError:
                    source.drain()
                col.finish_unique()
        sha256 = source.sha.hexdigest()
    except TooLargeError:
        # How many records a path had checked when the limit was crossed depends on how
        # far ahead it reads; none of them is reported, so every path gives one summary.
        if col.unique is not None:
            col.unique.close()
        col = Collector(schema, limits, fmt or FileFormat.JSON)
        columns, empty = None, False
        col.error(
            Reason.TOO_LARGE,
            LocatedError(f"more than {limits.max_bytes} bytes; reading stopped there", "file"),
        )
        sha256 = ""
    finally:
        if col.unique is not None:
            col.unique.close()
    if empty and not col.reasons:
        col.error(
            Reason.EMPTY_FILE,
            LocatedError("the file holds no data (only whitespace or a byte-order mark)", "file"),
        )
    elif col.records == 0 and not col.reasons:
        col.error(Reason.SCHEMA_VIOLATION, LocatedError("the file has no records", "file"))
    reason = Reason.most_fundamental(col.reasons)
    errors = sorted(col.errors, key=lambda e: (e.record or 0, e.line or 0))[: limits.max_errors]
    summary = ValidationSummary(
        # Valid means no problem was recorded at all, whatever its reason.
        valid=col.error_count == 0 and not col.reasons,
        reason=reason,
        format=fmt,
        encoding=encoding,
        size=source.size,
        sha256=sha256,
        records=col.records,
        invalid_records=min(col.invalid, col.records),
        errors=errors,
        errors_truncated=col.error_count > len(errors),
        columns=columns,
        schema=schema.name,
        job_ids=(col.unique.count - col.duplicates) if col.unique is not None else 0,
        first_submitted_at=None if col.first_time is None else col.first_time.isoformat(),
        last_submitted_at=None if col.last_time is None else col.last_time.isoformat(),
        formula_cells=col.formula_cells,
    )
    summary.fit_budget()
    return summary
