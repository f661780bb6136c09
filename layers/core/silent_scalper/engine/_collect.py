"""What one pass accumulates (counts, located errors, keys, times) and how places are named."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from silent_scalper.engine.schemas import (
    Checked,
    CompiledSchema,
    _without,
)
from silent_scalper.engine.types import (
    FileFormat,
    Limits,
    LocatedError,
    Reason,
    clip,
)
from silent_scalper.engine.unique import (
    LINE_MASK,
    SortedRunTracker,
    UniqueTracker,
    pack,
    unpack,
)

JSON_WS = b" \t\n\r"
#: Records a window holds when a batch failed and its errors are being located.
WINDOW = 64


class Collector:
    """Accumulates what the summary reports, with bounded memory."""

    def __init__(self, schema: CompiledSchema, limits: Limits, fmt: FileFormat) -> None:
        self.schema = schema
        self.limits = limits
        self.fmt = fmt
        self.reasons: set[Reason] = set()
        self.errors: list[LocatedError] = []
        # Errors found: every one kept or worded, at least one for each record only
        # counted past those (the summary asks only whether it is 0, and whether it is
        # more than the errors kept).
        self.error_count = 0
        self.records = 0
        self.invalid = 0
        self.formula_cells = 0
        self.first_time: datetime | None = None
        self.last_time: datetime | None = None
        self.duplicates = 0
        self._last_kept = (0, 0)  # the place of the last record error kept
        # Whether most records of the last block (or array run) sifted were refused: the
        # next one is then first counted whole (_ndjson._ndjson_dense, _json._json_dense).
        self.dense = False
        # Whether the last block decoded whole broke a constraint of the record type's
        # that its lenient twin leaves out: the next is then decoded into the twin first.
        self.twin_first = False
        # Duplicate errors kept, by place: (the error, key, place, first place given). A
        # store reports a repeat against the first place *it* holds; when an earlier place
        # turns up later (in another run), the kept error is worded again against it.
        self._kept_repeats: dict[tuple[int, int], tuple[LocatedError, str, int, int]] = {}
        self._first_of: dict[str, int] = {}  # for the keys of kept repeats: the first place
        self.unique: UniqueTracker | SortedRunTracker | None = (
            UniqueTracker(limits.unique_memory_entries) if schema.tracks_keys else None
        )

    def error(self, reason: Reason, error: LocatedError) -> bool:
        """Count an error and keep it if it is among the file's first; True if kept."""
        self.reasons.add(reason)
        self.error_count += 1
        if len(self.errors) < self.limits.max_errors:
            self.errors.append(error)
            if error.record is not None and _place(error) > self._last_kept:
                self._last_kept = _place(error)
            return True
        if error.record is not None and _place(error) < self._last_kept:
            # Found out of file order (a duplicate found when its keys were sorted): it
            # takes the place of the last record error kept, so the summary keeps the
            # first errors of the file whatever order they were found in.
            at = max(
                (i for i, e in enumerate(self.errors) if e.record is not None),
                key=lambda i: _place(self.errors[i]),
            )
            self.errors[at] = error
            self._last_kept = max(_place(e) for e in self.errors if e.record is not None)
            return True
        return False

    def would_keep(self, record: int, line: int) -> bool:
        """Whether an error of record ``record`` at ``line`` would be kept."""
        return len(self.errors) < self.limits.max_errors or (record, line) < self._last_kept

    def count_errors(self, reasons: Sequence[Reason]) -> None:
        """Errors that would not be kept (see :meth:`would_keep`): counted, not worded."""
        self.reasons.update(reasons)
        self.error_count += len(reasons)

    def problem_counts(
        self, texts: list[bytes], named: Sequence[str | None], *, lines: bool
    ) -> list[int]:
        """:meth:`CompiledSchema.refusal_counts` of refused records (NDJSON lines when
        ``lines``, else array elements; ``named``: the property each was refused at, if
        known) when some of their errors may go past those the summary keeps (each record
        has one at least), else 0 for each. The caller counts a record's problems only
        once its errors would not be kept (:meth:`would_keep`)."""
        if len(self.errors) + len(texts) <= self.limits.max_errors:
            return [0] * len(texts)
        return self.schema.refusal_counts(texts, named, lines=lines)

    def count_refused(self, counts: Sequence[int]) -> None:
        """Invalid records none of whose errors would be kept, the i-th with ``counts[i]``
        (at least one) of its schema violations (see
        :meth:`CompiledSchema.refusal_counts`): counted, not worded. Past the kept errors
        ``error_count`` need not be exact (see its comment in :meth:`__init__`)."""
        if counts:
            self.invalid += len(counts)
            self.reasons.add(Reason.SCHEMA_VIOLATION)
            self.error_count += sum(counts)

    def record_counted_refusals(
        self,
        data: bytes,
        objs: list[Any],
        refused: tuple[list[int], bool],
        places: tuple[int, int, int],
    ) -> bool:
        """Record a batch msgspec decoded whole (``objs``, from ``data``: NDJSON lines or
        an array) whose checks refused some records (``refused``: their indices and
        whether each is proven invalid by a decoded value, as
        :meth:`CompiledSchema.whole_refused` says), without reading those records'
        texts, when none of the batch's errors would be kept: each refused record is
        counted as one schema violation and the others are recorded as one valid batch.
        ``places``: the batch's first record, its first line and the lines from one
        record to the next (:func:`consecutive`).

        Sound because a record msgspec decoded is well-formed UTF-8 JSON, so every
        problem the exact check could find in it is a schema violation; and past the kept
        errors the summary needs only that each is invalid. False, with nothing recorded,
        when an error could still be kept, a key may repeat in a record (its text would
        then tell), a refusal is not proven on the values, or a valid record's unique key
        repeats one (the order of the reports then matters): the caller sifts the batch."""
        flagged, proven = refused
        first_record, first_line, line_step = places
        count = len(objs)
        if (
            not proven
            or self.would_keep(first_record, first_line)
            or not self.schema.no_repeated_key(data, objs)
        ):
            return False
        wheres = _without(consecutive(first_record, first_line, line_step, count), flagged)
        if not self.valid_batch_unless_repeated(_without(objs, flagged), wheres):
            return False
        self.dense = len(flagged) * 2 > count
        self.count_refused([1] * len(flagged))
        self.records = first_record - 1 + count
        return True

    def valid_batch(self, objs: list[Any], wheres: Sequence[int]) -> None:
        """Bookkeeping for valid records (keys, times); ``wheres[i]`` is pack(record, line)."""
        if not objs:
            return
        schema = self.schema
        self.valid_values(
            schema.keys_of(objs) if self.unique is not None else None,
            schema.times_of(objs) if schema.tracks_time else None,
            wheres,
        )

    def valid_batch_unless_repeated(self, objs: list[Any], wheres: Iterable[int]) -> bool:
        """:meth:`valid_batch` when no key of ``objs`` repeats one seen (or another of
        them): then nothing is reported, so the caller may order its other reports
        freely. False, with nothing recorded, otherwise. ``wheres`` is read at most
        once (an iterator will do: no list of places is built)."""
        schema = self.schema
        if (
            self.unique is not None
            and objs
            and not self.unique.add_batch(schema.keys_of(objs), wheres)
        ):
            return False
        if objs and schema.tracks_time:
            self.valid_values(None, schema.times_of(objs), ())  # no key: no place needed
        return True

    def valid_checked(self, result: Checked, where: int) -> None:
        """Bookkeeping for one record the exact check found valid; ``where`` as above."""
        self.valid_values(
            [result.key] if self.unique is not None else None,
            [result.time] if result.time is not None else None,
            (where,),
        )

    def valid_values(
        self, keys: list[Any] | None, times: list[datetime] | None, wheres: Sequence[int]
    ) -> None:
        """Bookkeeping for valid records given their keys (None: no key tracked) and the
        timestamps they have; ``wheres[i]`` is pack(record, line) of the record of keys[i]."""
        if times:
            try:
                self._span(times)
            except OverflowError:
                # An offset that moves an instant past year 1 or 9999 cannot be compared
                # as an instant; the record stays valid, only the summary skips its time.
                self._span([t for t in times if _comparable(t)])
        self._keys(keys, wheres)

    def _span(self, times: list[datetime]) -> None:
        if not times:
            return
        lo, hi = min(times), max(times)
        if self.first_time is None or lo < self.first_time:
            self.first_time = lo
        if self.last_time is None or hi > self.last_time:
            self.last_time = hi

    def use_sorted_runs(self) -> None:
        """Track keys in sorted runs (:class:`SortedRunTracker`): for keys that arrive as
        Arrow arrays. Only before any key was added."""
        if self.unique is not None:
            assert self.unique.count == 0
            self.unique = SortedRunTracker(self.limits.unique_memory_entries * 2, self._duplicate)

    def add_arrow_keys(self, keys: Any, wheres: Any) -> None:
        """Keys of valid records as a string array (no nulls) with their places."""
        assert isinstance(self.unique, SortedRunTracker)
        self.unique.add_arrow(keys, wheres)

    def _keys(self, keys: list[Any] | None, wheres: Sequence[int]) -> None:
        if self.unique is not None and keys and not self.unique.add_batch(keys, wheres):
            for key, where in zip(keys, wheres, strict=True):
                self._add_key(key, where)

    def _add_key(self, key: Any, where: int) -> None:
        assert self.unique is not None
        seen = self.unique.add(key, where)
        if seen is not None:
            self._duplicate(str(key), where, seen)

    def _duplicate(self, key: str, where: int, seen: int) -> None:
        self.duplicates += 1
        self.invalid += 1
        error = self._repeat_error(key, where, seen)
        kept = self.error(Reason.SCHEMA_VIOLATION, error)
        if kept:
            self._kept_repeats[_place(error)] = (error, key, where, seen)
            if len(self._kept_repeats) > 4 * self.limits.max_errors:
                self._forget_evicted_repeats()
        if kept or key in self._first_of:  # only the keys of kept repeats are followed
            self._first_of[key] = min(seen, self._first_of.get(key, seen))

    def _repeat_error(self, key: str, where: int, seen: int) -> LocatedError:
        record, line = unpack(where)
        first_record, first_line = unpack(seen)
        prop = self.schema.unique[0]
        return record_error_at(
            record,
            line,
            prop,
            f"{prop} {clip(key, 80)!r} is not unique: already used by "
            f"{place(first_record, first_line, self.fmt)}",
            self.fmt,
        )

    def _forget_evicted_repeats(self) -> None:
        """Keep the repeat bookkeeping to the errors still kept (bounded memory)."""
        kept = {id(e) for e in self.errors}
        self._kept_repeats = {p: r for p, r in self._kept_repeats.items() if id(r[0]) in kept}
        keys = {r[1] for r in self._kept_repeats.values()}
        self._first_of = {k: v for k, v in self._first_of.items() if k in keys}

    def finish_unique(self) -> None:
        """Report the repeats found across spilled runs, then word every kept repeat
        against its key's first place in the file (the smallest place any store gave),
        so the summary does not depend on where the stores happened to spill."""
        if self.unique is None:
            return
        for key, where, seen in self.unique.finish():
            self._duplicate(key, where, seen)
        self.unique.close()
        for i, error in enumerate(self.errors):
            kept = self._kept_repeats.get(_place(error))
            if kept is not None and kept[0] is error:
                _, key, where, seen = kept
                if self._first_of[key] < seen:
                    self.errors[i] = self._repeat_error(key, where, self._first_of[key])


def _place(error: LocatedError) -> tuple[int, int]:
    return error.record or 0, error.line or 0


def _comparable(time: datetime) -> bool:
    """Whether ``time`` has an instant within datetime's range (year 1 to 9999 in UTC)."""
    try:
        time.astimezone(UTC)
    except OverflowError:
        return False
    return True


def consecutive(
    first_record: int, first_line: int, line_step: int, count: int
) -> range | list[int]:
    """pack(record, line) of ``count`` consecutive records, as a lazy range. A line past
    ``LINE_MASK`` (only in a file of billions of lines) is clamped as :func:`pack` clamps
    it: the places are then a list, since a range would carry the line's overflow into
    the record's bits."""
    if first_line + line_step * max(count - 1, 0) > LINE_MASK:
        return [pack(first_record + k, first_line + line_step * k) for k in range(count)]
    step = pack(1, line_step)
    start = pack(first_record, first_line)
    return range(start, start + step * count, step)


def runs_between(refused: list[int], count: int) -> Iterator[tuple[int, int]]:
    """The runs [a, z) of records 0..count-1 between the (sorted) refused ones."""
    at = 0
    for k in refused:
        if k > at:
            yield at, k
        at = k + 1
    if count > at:
        yield at, count


def place(record: int, line: int, fmt: FileFormat) -> str:
    if fmt is FileFormat.JSON:
        return f"$[{record - 1}]"
    if fmt is FileFormat.NDJSON:
        return f"line {line}"
    return f"record {record} (line {line})"


def record_error_at(
    record: int, line: int, column: str | None, message: str, fmt: FileFormat
) -> LocatedError:
    """A LocatedError for record ``record`` (1-based) in the format's own terms."""
    if fmt is FileFormat.CSV:
        loc = f"record {record} (line {line})" + (f", column {column}" if column else "")
        return LocatedError(clip(message), loc, record, line, column, None)
    if fmt is FileFormat.NDJSON:
        path = f"$.{column}" if column else None
        loc = f"line {line}" + (f", {path}" if path else "")
        return LocatedError(clip(message), loc, record, line, column, path)
    path = f"$[{record - 1}]" + (f".{column}" if column else "")
    return LocatedError(clip(message), path, record, line or None, column, path)


def column_of(path: str | None) -> str | None:
    """ "$.priority" -> "priority"; deeper or absent paths -> None."""
    if path and path.startswith("$.") and "." not in path[2:] and "[" not in path[2:]:
        return path[2:]
    return None


def kept_positions(indices: list[int], removed: list[int]) -> list[int]:
    """Where items ``indices`` (sorted) of a sequence with ``removed`` (sorted positions)
    taken out stood in the whole sequence: a sifted block's decoded records back to their
    lines or record numbers."""
    out: list[int] = []
    j = 0
    for d in indices:
        while j < len(removed) and removed[j] <= d + j:
            j += 1
        out.append(d + j)
    return out


def merged(first: Sequence[list[Any]], second: Sequence[list[Any]]) -> list[list[Any]]:
    """Two tables of parallel columns (the records msgspec refused and those a batch check
    refused, say), each led by a sorted column of record indices, the two disjoint,
    merged into one table sorted by those indices."""
    rows = sorted([*zip(*first, strict=True), *zip(*second, strict=True)])
    return [list(column) for column in zip(*rows, strict=True)] or [[] for _ in first]
