"""Exact uniqueness of one key across a file, in bounded memory.

Values are kept exactly (no hashing, so no false duplicates) in a dict up to a cap.
When the cap is reached the dict is written out as one sorted run to a temporary
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
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import msgspec

_FANIN = 32
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1
LINE_MASK = _LINE_MASK  # lines above it are clamped by pack()

_BLOCK = 1024

type Block = tuple[list[str], list[int]]
type Duplicate = tuple[str, int, int]


def pack(record: int, line: int) -> int:
    """Record number and line as one int (lines past 2**32 are clamped)."""
    return (record << _LINE_BITS) | min(line, _LINE_MASK)


def unpack(where: int) -> tuple[int, int]:
    """Inverse of :func:`pack`."""
    return where >> _LINE_BITS, where & _LINE_MASK


class UniqueTracker:
    """Collects key values with their places; reports duplicates in order of appearance.

    In memory, a duplicate is found at once (``add`` returns the first place).
    Across spilled runs it is found by :meth:`finish`.
    """

    def __init__(self, memory_entries: int) -> None:
        self._cap = max(1, memory_entries)
        self._seen: dict[str, int] = {}
        self._runs: list[Path] = []
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0  # values added (duplicates included)
        self._encoder = msgspec.json.Encoder()
        self._decoder = msgspec.json.Decoder(tuple[list[str], list[int]])
        self._names = itertools.count()

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
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
        self._runs.clear()

    @property
    def spilled(self) -> int:
        """How many sorted runs went to disk."""
        return len(self._runs)

    def add_batch(self, keys: list[Any], wheres: Sequence[int]) -> bool:
        """Add many records' keys in C-speed bulk; False if any might be a duplicate.

        On False nothing was added and the caller adds the batch one by one with
        :meth:`add`, to locate the duplicate (or skip absent keys).
        """
        # One set, then O(1) lookups: cheaper than scanning the list for None and UNSET.
        fresh = set(keys)
        if (
            len(fresh) != len(keys)
            or None in fresh
            or msgspec.UNSET in fresh
            or not self._seen.keys().isdisjoint(fresh)
        ):
            return False
        self._seen.update(zip(keys, wheres, strict=True))
        self.count += len(keys)
        if len(self._seen) >= self._cap:
            self._spill()
        return True

    def add(self, key: Any, where: int) -> int | None:
        """Add one value; returns where it was first seen if it is already in memory."""
        if key is None or key is msgspec.UNSET:
            return None
        self.count += 1
        first = self._seen.get(key)
        if first is not None:
            return first
        self._seen[key] = where
        if len(self._seen) >= self._cap:
            self._spill()
        return None

    def _spill(self) -> None:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="scalper-unique-")
        keys = sorted(self._seen)
        wheres = list(map(self._seen.__getitem__, keys))
        self._runs.append(self._write(keys, wheres))
        self._seen.clear()

    def _write(self, keys: list[str], wheres: list[int], path: Path | None = None) -> Path:
        """Write sorted, unique keys as blocks of ``_BLOCK``: one JSON line each
        (JSON escapes newlines, so a line never splits a value)."""
        assert self._tmp is not None
        if path is None:
            path = Path(self._tmp.name) / f"run{next(self._names)}.jsonl"
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
        span a spill).
        """
        if not self._runs:
            return
        self._spill()
        runs = list(self._runs)
        while len(runs) > _FANIN:
            # Too many files to open at once: merge groups into runs of unique keys first.
            merged: list[Path] = []
            for i in range(0, len(runs), _FANIN):
                group = runs[i : i + _FANIN]
                assert self._tmp is not None
                out = Path(self._tmp.name) / f"run{next(self._names)}.jsonl"
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
