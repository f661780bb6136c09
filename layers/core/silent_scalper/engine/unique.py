"""Exact uniqueness of one key across a file, in bounded memory.

Values are kept exactly (no hashing, so no false duplicates) in a dict up to a cap;
a batch whose values rise past every value added before (ids counting up through the
file) cannot repeat one and is held in order beside the dict, without a lookup. When
the cap is reached what is held is written out as one sorted run to a temporary
directory and cleared. At the end the runs and what is left in memory are merged, a
block of 1,024 keys at a time per run with bulk list operations (see ``_merge``; runs are
merged in groups so at most ``_FANIN`` files are open), and equal keys are the
duplicates. Memory is the cap (about 4 MB at the default 32,768 values) or, while
merging, one block per open run (at most 32 x 1,024 keys, about 3 MB) whatever the
file size; disk is a few dozen bytes a value, which Lambda's /tmp (512 MB to 10 GB)
holds for tens of millions of records.

Each value remembers where it was seen as ``record << 32 | line``, one int, so that a
duplicate is reported with both places.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec

_FANIN = 32
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1
LINE_MASK = _LINE_MASK  # lines above it are clamped by pack()

_BLOCK = 1024

#: ``UniqueTracker._top`` before any key, and once keys were added that do not compare.
_NOTHING = object()
_UNKNOWN = object()

type Block = tuple[list[str], list[int]]
type Duplicate = tuple[str, int, int]


def pack(record: int, line: int) -> int:
    """Record number and line as one int (lines past 2**32 are clamped)."""
    return (record << _LINE_BITS) | min(line, _LINE_MASK)


def unpack(where: int) -> tuple[int, int]:
    """Inverse of :func:`pack`."""
    return where >> _LINE_BITS, where & _LINE_MASK


class _RunFiles:
    """The sorted runs a tracker spilled: files in one temporary folder made on first use,
    deleted with it on :meth:`close`."""

    def __init__(self, suffix: str) -> None:
        self.paths: list[Path] = []
        self._suffix = suffix
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._names = itertools.count()

    def new_path(self) -> Path:
        """A fresh file name in the folder (not added to :attr:`paths`)."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="scalper-unique-")
        return Path(self._tmp.name) / f"run{next(self._names)}{self._suffix}"

    def close(self) -> None:
        """Delete the folder and every run in it."""
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self.paths.clear()


class UniqueTracker:
    """Collects key values with their places; reports duplicates in order of appearance.

    In memory, a duplicate is found at once (``add`` returns the first place).
    Across spilled runs it is found by :meth:`finish`.
    """

    def __init__(self, memory_entries: int) -> None:
        self._cap = max(1, memory_entries)
        self._seen: dict[str, int] = {}
        # Batches whose keys rise past every key added before (ids counting up: most
        # exports) need no lookup: they are held here in order, every one above the
        # dict's, and go into the dict only if a key comes that might equal one of them.
        self._rising: list[Any] = []
        self._rising_wheres: list[int] = []
        self._top: Any = _NOTHING  # the largest key added so far (_UNKNOWN: cannot tell)
        self._runs = _RunFiles(".jsonl")
        # Each run's smallest and largest key: runs whose ranges overlap no other run's
        # cannot share a key, so finish() merges only the runs that overlap.
        self._ranges: dict[Path, tuple[Any, Any]] = {}
        self.count = 0  # values added (duplicates included)
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(tuple[list[str], list[int]])

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Delete spilled runs."""
        self._runs.close()

    @property
    def spilled(self) -> int:
        """How many sorted runs went to disk."""
        return len(self._runs.paths)

    def add_batch(self, keys: list[Any], wheres: Iterable[int]) -> bool:
        """Add many records' keys in C-speed bulk; False if any might be a duplicate.

        On False nothing was added and the caller adds the batch one by one with
        :meth:`add`, to locate the duplicate (or skip absent keys).
        """
        if not keys:
            return True
        if self._rises_past_top(keys):
            held = len(self._rising_wheres)
            self._rising_wheres += wheres
            if len(self._rising_wheres) - held != len(keys):
                del self._rising_wheres[held:]
                raise ValueError("add_batch: a place for every key")
            self._rising += keys
            self._top = keys[-1]
            self.count += len(keys)
            if len(self._seen) + len(self._rising) >= self._cap:
                self._spill()
            return True
        # One set, then O(1) lookups: cheaper than scanning the list for None and UNSET.
        fresh = set(keys)
        if len(fresh) != len(keys) or None in fresh or msgspec.UNSET in fresh:
            return False
        self._settle_rising()
        if not self._seen.keys().isdisjoint(fresh):
            return False
        self._seen.update(zip(keys, wheres, strict=True))
        self._raise_top(fresh)
        self.count += len(keys)
        if len(self._seen) >= self._cap:
            self._spill()
        return True

    def add(self, key: Any, where: int) -> int | None:
        """Add one value; returns where it was first seen if it is already in memory."""
        if key is None or key is msgspec.UNSET:
            return None
        self.count += 1
        self._settle_rising()
        first = self._seen.get(key)
        if first is not None:
            return first
        self._seen[key] = where
        self._raise_top((key,))
        if len(self._seen) >= self._cap:
            self._spill()
        return None

    def _rises_past_top(self, keys: list[Any]) -> bool:
        """Whether every key is above the one before it and the first above every key
        added so far (then none can equal another or any earlier one). Keys that do not
        compare (None, UNSET, mixed types) say no."""
        first, top = keys[0], self._top
        if first is None or first is msgspec.UNSET or top is _UNKNOWN:
            return False
        try:
            return (top is _NOTHING or top < first) and all(
                map(operator.lt, keys, itertools.islice(keys, 1, None))
            )
        except TypeError:
            return False

    def _raise_top(self, added: Iterable[Any]) -> None:
        """Keep ``_top`` the largest key added, or _UNKNOWN once keys do not compare."""
        if self._top is _UNKNOWN:
            return
        try:
            high = max(added)
            if self._top is _NOTHING or high > self._top:
                self._top = high
        except TypeError:
            self._top = _UNKNOWN

    def _settle_rising(self) -> None:
        """Move the rising keys into the dict, before a key that might equal one of them
        is looked up there."""
        if self._rising:
            self._seen.update(zip(self._rising, self._rising_wheres, strict=True))
            self._rising, self._rising_wheres = [], []

    def _spill(self) -> None:
        if self._rising and not self._seen:
            # Only rising keys: sorted and unique as they came, written as they are.
            keys, wheres = self._rising, self._rising_wheres
            self._rising, self._rising_wheres = [], []
            self._write_run(keys, wheres)
            return
        self._settle_rising()
        seen = self._seen
        keys = sorted(seen)
        if not keys:
            return
        # Keys added in order (ids counting up: most exports) are sorted as they came:
        # their places are the dict's values as they are, no lookup per key. (The list
        # comparison is one identity test per key: sorted() returns the same objects.)
        in_order = list(seen)
        wheres = list(seen.values()) if keys == in_order else list(map(seen.__getitem__, keys))
        self._write_run(keys, wheres)
        self._seen.clear()

    def _write_run(self, keys: list[Any], wheres: list[int]) -> None:
        path = self._write(keys, wheres)
        self._runs.paths.append(path)
        self._ranges[path] = (keys[0], keys[-1])

    def _write(self, keys: list[str], wheres: list[int], path: Path | None = None) -> Path:
        """Write sorted, unique keys as blocks of ``_BLOCK``: one JSON line each
        (JSON escapes newlines, so a line never splits a value)."""
        if path is None:
            path = self._runs.new_path()
        encode = self._encoder.encode
        with path.open("ab") as fh:
            for i in range(0, len(keys), _BLOCK):
                fh.write(encode((keys[i : i + _BLOCK], wheres[i : i + _BLOCK])) + b"\n")
        return path

    def _blocks(self, path: Path) -> Iterator[Block]:
        decode = self._decoder.decode
        with path.open("rb") as fh:
            for line in fh:
                yield decode(line)

    def _merge(
        self, runs: list[Path], *, keep: bool = True
    ) -> Iterator[tuple[Block, list[Duplicate]]]:
        """Merge runs (each sorted, keys unique within it) step by step.

        Each step takes, from every run's current block, the keys up to the smallest
        last key among those blocks: every occurrence of those keys is then in hand
        (a run's later blocks only hold larger keys). Yields the step's sorted first
        occurrences and its duplicates. Bulk list operations keep the work in C; only a
        step that holds duplicates is walked in Python. Without ``keep`` (the last merge,
        whose output is not written) a step without duplicates yields an empty block
        instead of sorting its keys.
        """
        cursors: list[list[Any]] = []
        for run in runs:
            blocks = self._blocks(run)
            first = next(blocks, None)
            if first is not None:
                cursors.append([first[0], first[1], 0, blocks])
        while cursors:
            bound = min(c[0][-1] for c in cursors)
            keys: list[str] = []
            wheres: list[int] = []
            for c in cursors:
                end = bisect.bisect_right(c[0], bound, c[2])
                keys += c[0][c[2] : end]
                wheres += c[1][c[2] : end]
                c[2] = end
            live = []
            for c in cursors:
                if c[2] >= len(c[0]):
                    nxt = next(c[3], None)
                    if nxt is None:
                        continue
                    c[0], c[1], c[2] = nxt[0], nxt[1], 0
                live.append(c)
            cursors = live
            if len(set(keys)) == len(keys):
                if not keep:
                    yield ([], []), []
                    continue
                pairs = sorted(zip(keys, wheres, strict=True))
                yield ([k for k, _ in pairs], [w for _, w in pairs]), []
                continue
            # Runs are in file order per key: the smallest "where" is the first occurrence.
            out_keys: list[str] = []
            out_wheres: list[int] = []
            dups: list[Duplicate] = []
            for key, where in sorted(zip(keys, wheres, strict=True)):
                if out_keys and out_keys[-1] == key:
                    dups.append((key, where, out_wheres[-1]))
                else:
                    out_keys.append(key)
                    out_wheres.append(where)
            yield (out_keys, out_wheres), dups

    def finish(self) -> Iterator[Duplicate]:
        """Yield ``(value, where, first_where)`` for every later occurrence of a value.

        Only duplicates that :meth:`add` did not already return are yielded (those that
        span a spill). Only runs whose key ranges overlap are read and merged:
        keys that arrive in order (ids counting up through the file) spill runs that overlap
        none, and nothing is read back.
        """
        if not self._runs.paths:
            return
        self._spill()
        for cluster in self._overlapping():
            if len(cluster) > 1:
                yield from self._duplicates_in(cluster)

    def _overlapping(self) -> list[list[Path]]:
        """The runs in groups whose key ranges chain into one another; a key present in two
        runs puts both in one group (it lies within both ranges)."""
        clusters: list[list[Path]] = []
        highest: Any = None
        for path in sorted(self._runs.paths, key=lambda p: self._ranges[p][0]):
            lowest, last = self._ranges[path]
            if clusters and lowest <= highest:
                clusters[-1].append(path)
                highest = max(highest, last)
            else:
                clusters.append([path])
                highest = last
        return clusters

    def _duplicates_in(self, runs: list[Path]) -> Iterator[Duplicate]:
        """The duplicates among ``runs`` (key ranges overlapping), by merging them."""
        while len(runs) > _FANIN:
            # Too many files to open at once: merge groups into runs of unique keys first.
            merged: list[Path] = []
            for i in range(0, len(runs), _FANIN):
                group = runs[i : i + _FANIN]
                out = self._runs.new_path()
                out.touch()
                for (keys, wheres), dups in self._merge(group):
                    yield from dups
                    self._write(keys, wheres, out)
                for path in group:
                    os.unlink(path)
                merged.append(out)
            runs = merged
        for _, dups in self._merge(runs, keep=False):
            yield from dups


#: Keys per record batch of a sorted run on disk (the merge holds one batch per run).
_RUN_BATCH = 4_096
#: Runs merged at once (more are merged in groups first), bounding the merge's memory.
_RUN_FANIN = 16


class SortedRunTracker:
    """:class:`UniqueTracker`'s contract for keys that arrive as Arrow arrays (the
    columnar CSV path), with the duplicates found in bulk by sorting, not one dict
    lookup per key (which cost more than parsing the file).

    Keys are held as Arrow arrays (a key added from Python, by the exact check, is
    buffered beside them) up to ``entries``; then they are sorted by key and place, equal
    neighbours are the duplicates (reported against the first place, with ``report``),
    and the first occurrences are written as a sorted run, in record batches of
    ``_RUN_BATCH``. At the end what is held is sorted the same way and the runs are
    merged like :class:`UniqueTracker`'s, a batch per run at a time (in groups of
    ``_RUN_FANIN`` runs), so memory is the store or the merge, whatever the file size.

    A duplicate is therefore reported when its store is sorted, not when it is added:
    the collector keeps the first errors by place whatever order they are found in, so
    the summary is the one a dict lookup per key gives.
    """

    def __init__(self, entries: int, report: Callable[[str, int, int], None]) -> None:
        import pyarrow as pa  # noqa: PLC0415
        import pyarrow.compute as pc  # noqa: PLC0415

        self._pa, self._pc = pa, pc
        self._cap = max(1, entries)
        self._report = report
        self._keys: list[Any] = []
        self._wheres: list[Any] = []
        self._py_keys: list[str] = []
        self._py_wheres: list[int] = []
        self._held = 0
        self._runs = _RunFiles(".arrow")
        self.count = 0

    def close(self) -> None:
        """Delete spilled runs."""
        self._runs.close()

    @property
    def spilled(self) -> int:
        """How many sorted runs went to disk."""
        return len(self._runs.paths)

    def add(self, key: Any, where: int) -> int | None:
        """Add one value (None and UNSET are not values); duplicates are reported later."""
        if key is None or key is msgspec.UNSET:
            return None
        self._py_keys.append(key)
        self._py_wheres.append(where)
        self._added(1)
        return None

    def add_batch(self, keys: list[Any], wheres: Iterable[int]) -> bool:
        """Add many values (always True: nothing is left for the caller to add)."""
        for key, where in zip(keys, wheres, strict=True):
            self.add(key, where)
        return True

    def add_arrow(self, keys: Any, wheres: Any) -> None:
        """Add a string array of values (no nulls) with an int64 array of their places."""
        if len(keys):
            if isinstance(keys, self._pa.ChunkedArray):
                keys, wheres = keys.combine_chunks(), wheres.combine_chunks()
            self._keys.append(keys)
            self._wheres.append(wheres)
            self._added(len(keys))

    def _added(self, n: int) -> None:
        self.count += n
        self._held += n
        if self._held >= self._cap:
            self._spill()

    def _take_store(self) -> tuple[Any, Any]:
        pa = self._pa
        keys, wheres = self._keys, self._wheres
        if self._py_keys:
            keys = [*keys, pa.array(self._py_keys, pa.string())]
            wheres = [*wheres, pa.array(self._py_wheres, pa.int64())]
        self._keys, self._wheres, self._py_keys, self._py_wheres = [], [], [], []
        self._held = 0
        if not keys:
            return pa.array([], pa.string()), pa.array([], pa.int64())
        return pa.concat_arrays(keys), pa.concat_arrays(wheres)

    def _spill(self) -> None:
        keys, wheres = self._take_store()
        first_keys, first_wheres = self._sorted_firsts(keys, wheres, self._report)
        self._runs.paths.append(self._write(first_keys, first_wheres))

    def _sorted_firsts(
        self, keys: Any, wheres: Any, report: Callable[[str, int, int], None]
    ) -> tuple[Any, Any]:
        """Sort by key then place; report each later occurrence against the first one;
        return the first occurrences, sorted by key."""
        pa, pc = self._pa, self._pc
        n = len(keys)
        if n > 1 and pc.all(pc.greater(keys.slice(1), keys.slice(0, n - 1))).as_py():
            # Keys in strictly rising order (ids as most exports write them): sorted
            # already, and no two equal. One comparison instead of a sort.
            return keys, wheres
        table = pa.table({"k": keys, "w": wheres})
        order = pc.sort_indices(table, sort_keys=[("k", "ascending"), ("w", "ascending")])
        table = table.take(order)
        keys = table.column("k").combine_chunks()
        wheres = table.column("w").combine_chunks()
        n = len(keys)
        if n < 2:
            return keys, wheres
        same = pc.equal(keys.slice(1), keys.slice(0, n - 1))
        if not pc.any(same).as_py():
            return keys, wheres
        repeat = pa.concat_arrays([pa.array([False]), same])
        firsts = pc.fill_null_forward(pc.if_else(repeat, pa.scalar(None, pa.int64()), wheres))
        at = pc.indices_nonzero(repeat)
        for key, where, first in zip(
            pc.take(keys, at).to_pylist(),
            pc.take(wheres, at).to_pylist(),
            pc.take(firsts, at).to_pylist(),
            strict=True,
        ):
            report(key, where, first)
        keep = pc.invert(repeat)
        return pc.filter(keys, keep), pc.filter(wheres, keep)

    def _write(self, keys: Any, wheres: Any) -> Path:
        """One sorted run on disk, in record batches of ``_RUN_BATCH`` keys."""
        return self._write_steps(iter([(keys, wheres)]))

    def _write_steps(self, steps: Iterator[tuple[Any, Any]]) -> Path:
        """A sorted run written from consecutive sorted pieces, as they come."""
        pa = self._pa
        path = self._runs.new_path()
        schema = pa.schema([("k", pa.string()), ("w", pa.int64())])
        with pa.OSFile(str(path), "wb") as out, pa.ipc.new_file(out, schema) as writer:
            for keys, wheres in steps:
                batch = pa.record_batch([keys, wheres], schema=schema)
                for at in range(0, len(keys), _RUN_BATCH):
                    writer.write_batch(batch.slice(at, _RUN_BATCH))
        return path

    def finish(self) -> Iterator[Duplicate]:
        """Yield ``(value, where, first_where)`` for every later occurrence of a value
        not already reported."""
        found: list[Duplicate] = []
        if not self._runs.paths:
            keys, wheres = self._take_store()
            self._sorted_firsts(keys, wheres, lambda *dup: found.append(dup))
            yield from found
            return
        if self._held:
            self._spill()
        runs = list(self._runs.paths)
        while len(runs) > _RUN_FANIN:
            merged: list[Path] = []
            for i in range(0, len(runs), _RUN_FANIN):
                group = runs[i : i + _RUN_FANIN]
                # Written a step at a time: the group's keys are never all in memory.
                merged.append(self._write_steps(self._merge(group)))
                for path in group:
                    os.unlink(path)
            runs = merged
        for _ in self._merge(runs):
            pass

    def _merge(self, runs: list[Path]) -> Iterator[tuple[Any, Any]]:
        """Merge sorted runs a step at a time (as ``UniqueTracker._merge``): each step
        takes every run's keys up to the smallest last key of the runs' current batches,
        reports the duplicates among them and yields their first occurrences, sorted."""
        pa = self._pa
        cursors: list[list[Any]] = []
        for run in runs:
            reader = pa.ipc.open_file(pa.OSFile(str(run), "rb"))
            if reader.num_record_batches:
                batch = reader.get_batch(0)
                cursors.append([batch.column(0), batch.column(1), 0, reader, 1])
        while cursors:
            bound = min(c[0][len(c[0]) - 1].as_py() for c in cursors)
            keys: list[Any] = []
            wheres: list[Any] = []
            live = []
            for c in cursors:
                end = bisect.bisect_right(c[0], bound, lo=c[2], key=_as_py)
                keys.append(c[0].slice(c[2], end - c[2]))
                wheres.append(c[1].slice(c[2], end - c[2]))
                c[2] = end
                if end >= len(c[0]):
                    reader = c[3]
                    if c[4] >= reader.num_record_batches:
                        continue
                    batch = reader.get_batch(c[4])
                    c[0], c[1], c[2], c[4] = batch.column(0), batch.column(1), 0, c[4] + 1
                live.append(c)
            cursors = live
            yield self._sorted_firsts(
                pa.concat_arrays(keys), pa.concat_arrays(wheres), self._report
            )


def _as_py(scalar: Any) -> Any:
    return scalar.as_py()
