"""Exact uniqueness of one key across a file, in bounded memory.

Values are kept exactly (no hashing, so no false duplicates) in a dict up to a cap.
When the cap is reached the dict is written out as one sorted run to a temporary
directory and cleared. At the end the runs and what is left in memory are merged
(a k-way ``heapq.merge``; runs are merged in groups so at most ``_FANIN`` files are open),
and equal neighbours are the duplicates. Memory is the cap (a few tens of MB at the
default 250,000 values) whatever the file size; disk is one short JSON line a value, which
Lambda's /tmp (512 MB to 10 GB) holds for tens of millions of records.

Each value remembers where it was seen as ``record << 32 | line``, one int, so that a
duplicate is reported with both places.
"""

from __future__ import annotations

import heapq
import itertools
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import msgspec

_FANIN = 32
_LINE_BITS = 32
_LINE_MASK = (1 << _LINE_BITS) - 1

type Entry = tuple[str, int]


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
        self._decoder = msgspec.json.Decoder(tuple[str, int])

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
        if (
            None in keys
            or msgspec.UNSET in keys
            or not self._seen.keys().isdisjoint(keys)
            or len(set(keys)) != len(keys)
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
        path = Path(self._tmp.name) / f"run{len(self._runs)}.bin"
        with path.open("wb") as fh:
            self._write(fh, sorted(self._seen.items()))
        self._runs.append(path)
        self._seen.clear()

    def _write(self, fh: IO[bytes], entries: Iterable[Entry]) -> None:
        # One JSON array per line: JSON escapes newlines, so lines never split a value.
        encode = self._encoder.encode
        fh.writelines(encode(entry) + b"\n" for entry in entries)

    def _read(self, path: Path) -> Iterator[Entry]:
        decode = self._decoder.decode
        with path.open("rb") as fh:
            for line in fh:
                yield decode(line)

    def finish(self) -> Iterator[tuple[str, int, int]]:
        """Yield ``(value, where, first_where)`` for every later occurrence of a value.

        Only duplicates that :meth:`add` did not already return are yielded (those that
        span a spill). Order: by value.
        """
        if not self._runs:
            return
        self._spill()
        runs = list(self._runs)
        assert self._tmp is not None
        counter = itertools.count()
        while len(runs) > _FANIN:
            merged: list[Path] = []
            for i in range(0, len(runs), _FANIN):
                group = runs[i : i + _FANIN]
                out = Path(self._tmp.name) / f"merge{next(counter)}.bin"
                with out.open("wb") as fh:
                    self._write(fh, heapq.merge(*(self._read(p) for p in group)))
                for p in group:
                    os.unlink(p)
                merged.append(out)
            runs = merged
        previous_key: str | None = None
        first_where = 0
        # Runs are sorted by (value, where), so the first of equal values came first.
        for key, where in heapq.merge(*(self._read(p) for p in runs)):
            if key == previous_key:
                yield key, where, first_where
            else:
                previous_key, first_where = key, where
