"""The engine's vocabulary: reason codes, formats, limits and the small typed results.

The results are plain dataclasses, cheap to build on the hot path, and they are the one
definition of their shape: the pipeline's step models (:mod:`silent_scalper.pipeline.models`)
use them as field types, and pydantic reads them from these field declarations, so a result
crosses a Lambda boundary (Step Functions payloads are JSON) and comes back typed. A summary's
JSON form has one serialiser, :meth:`ValidationSummary.to_dict`: the step models write it,
the payload budget measures it and ``scalper validate --json`` prints it. It is msgspec's,
which the engine already runs on, so validating a file never imports pydantic.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

#: How many leading bytes type checking needs; TypeCheck does a ranged GET of these.
SNIFF_BYTES = 8192

#: Hard ceiling for ``ValidationSummary.to_dict()`` once JSON-encoded. Step Functions
#: payloads may be 256 KiB; a summary also lands in DynamoDB items and reports, so it
#: stays far below that whatever the file.
SUMMARY_BUDGET_BYTES = 15 * 1024

# Long values are clipped so that one hostile cell cannot eat the summary budget.
_MAX_MESSAGE_CHARS = 300
_MAX_NAME_CHARS = 120


class Reason(StrEnum):
    """Why a file was not accepted. Stable strings: stored, alerted on and documented.

    Members are declared from the most fundamental problem to the least: when a file has
    several, the summary names the first (:meth:`most_fundamental`). A new member is
    ranked by where it is declared, so no reason can be left unranked.
    """

    TOO_LARGE = "TOO_LARGE"
    EMPTY_FILE = "EMPTY_FILE"
    UNSUPPORTED_TYPE = "UNSUPPORTED_TYPE"
    BAD_ENCODING = "BAD_ENCODING"
    MALFORMED = "MALFORMED"
    SCHEMA_VIOLATION = "SCHEMA_VIOLATION"

    @property
    def rank(self) -> int:
        """0 for the most fundamental reason, then 1, 2... in declaration order."""
        return _RANKS[self]

    @classmethod
    def most_fundamental(cls, reasons: Iterable[Reason]) -> Reason | None:
        """The reason a summary names among ``reasons`` (None if there are none)."""
        return min(reasons, key=_RANKS.__getitem__, default=None)


_RANKS: dict[Reason, int] = {reason: i for i, reason in enumerate(Reason)}


class FileFormat(StrEnum):
    """The record formats the engine reads."""

    CSV = "csv"
    JSON = "json"
    NDJSON = "ndjson"


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds the engine enforces.

    ``max_bytes``: a file larger than this is ``TOO_LARGE`` (checked from the object size
    and again while streaming). ``max_errors``: how many located errors a summary keeps
    (all invalid records are still counted). ``sniff_bytes``: the head size type checking
    reads. ``max_record_bytes``: one JSON record / NDJSON line / CSV cell larger than this
    is reported instead of buffered, which is what keeps memory constant.
    ``unique_memory_entries``: how many unique-key values are kept in memory before
    sorted runs spill to a temporary directory. The default (32,768, about 4 MB) is
    below the id count of a 10 MB job file, so a 10 MB and a 1 GB file both peak at
    one full store: peak memory stays flat however large the file.
    """

    max_bytes: int
    max_errors: int = 100
    sniff_bytes: int = SNIFF_BYTES
    max_record_bytes: int = 1 << 20
    unique_memory_entries: int = 32_768


def clip(text: str, limit: int = _MAX_MESSAGE_CHARS) -> str:
    """Shorten ``text`` to at most ``limit`` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True, slots=True)
class LocatedError:
    """One problem and where it is.

    ``location`` is for people ("record 3 (line 4), column priority", "line 7",
    "$[3].priority"); the other fields are the same place for programs.
    """

    message: str
    location: str
    record: int | None = None
    line: int | None = None
    column: str | None = None
    path: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form; the place fields that are unknown are left out."""
        return _known(msgspec.to_builtins(self))


@dataclass(frozen=True, slots=True)
class TypeCheckResult:
    """Outcome of :func:`silent_scalper.engine.sniff` on a file's first bytes."""

    ok: bool
    format: FileFormat | None
    encoding: str | None
    reason: Reason | None
    message: str | None


@dataclass(slots=True)
class ValidationSummary:
    """Everything one streaming pass learned about a file; small whatever the file size.

    ``errors`` holds the first ``Limits.max_errors`` located errors (fewer if they would
    not fit the summary's size budget; ``errors_truncated`` then says so), while
    ``invalid_records`` counts every invalid record. ``formula_cells`` counts string
    cells starting with ``= + - @`` (a spreadsheet would run them as formulas); it is
    advisory and never makes a file invalid.
    """

    valid: bool
    reason: Reason | None
    format: FileFormat | None
    encoding: str | None
    size: int
    sha256: str
    records: int
    invalid_records: int
    # Defaults (keyword-only, so the declaration order stays the JSON form's order) let a
    # payload written before a field existed still parse, e.g. when an execution is redriven.
    errors: list[LocatedError] = field(default_factory=list, kw_only=True)
    errors_truncated: bool = field(default=False, kw_only=True)
    columns: list[str] | None
    columns_truncated: bool = field(default=False, kw_only=True)
    schema: str
    job_ids: int = field(default=0, kw_only=True)
    first_submitted_at: str | None
    last_submitted_at: str | None
    formula_cells: int = field(default=0, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form (fields in declaration order, enums as their strings, each located
        error as :meth:`LocatedError.to_dict` writes it), under ``SUMMARY_BUDGET_BYTES`` once
        encoded. The step models write a summary with this method."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        data["errors"] = [_known(error) for error in data["errors"]]
        return data

    def encoded_size(self) -> int:
        """Bytes of ``to_dict()`` as ``json.dumps`` writes it by default (ASCII-escaped, with
        spaces), which is the largest form it takes: the Lambda runtime serialises so."""
        return len(json.dumps(self.to_dict()))

    def fit_budget(self, budget: int = SUMMARY_BUDGET_BYTES) -> None:
        """Drop trailing errors, then trailing columns, until the summary fits ``budget``.

        Messages and names are already clipped when created; this is the last guard so
        that a file with thousands of columns or long messages still yields a small result.
        """
        if self.columns is not None:
            self.columns = [clip(c, _MAX_NAME_CHARS) for c in self.columns]
        size = self.encoded_size()
        while size > budget and self.errors:
            # Remove a proportionate chunk at once rather than one at a time.
            excess = size - budget
            per_error = max(1, (size - 400) // max(1, len(self.errors) + 1))
            drop = max(1, min(len(self.errors), excess // per_error + 1))
            del self.errors[len(self.errors) - drop :]
            self.errors_truncated = True
            size = self.encoded_size()
        while size > budget and self.columns:
            keep = max(0, len(self.columns) // 2)
            self.columns = self.columns[:keep]
            self.columns_truncated = True
            size = self.encoded_size()


def _known(error: dict[str, Any]) -> dict[str, Any]:
    # A located error's message and location are never None; its place fields may be unknown.
    return {name: value for name, value in error.items() if value is not None}
