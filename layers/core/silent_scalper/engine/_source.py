"""The one reader of a file: every byte hashed, counted and checked, read exactly once."""

from __future__ import annotations

import codecs
import hashlib
from typing import BinaryIO

from silent_scalper.engine._scan import newline_count, utf8_prefix

#: Read size: large enough that per-chunk work is amortised, small enough to bound memory.
CHUNK = 1 << 20
#: Bytes the UTF-8 check decodes at once (see Source._decode_pieces).
_PIECE = 1 << 16


class TooLargeError(Exception):
    pass


class EncodingError(Exception):
    def __init__(self, message: str, offset: int, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.line = line


class FatalError(Exception):
    """Parsing cannot go on (the error is already recorded); drain the rest."""


class Source:
    """The one reader of the input: hashes, counts, checks UTF-8 and NULs, enforces size."""

    def __init__(self, stream: BinaryIO, max_bytes: int) -> None:
        self._stream = stream
        self._max = max_bytes
        self.sha = hashlib.sha256()
        self.size = 0
        self._lines = 0  # newlines before the current chunk, for locating encoding errors
        self.newlines = 0  # newlines in the last chunk returned (parsers reuse the count)
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._checking = True
        self._deferred: Exception | None = None
        self._eof = False

    def prime(self, head: bytes) -> None:
        """Account for a head read with ``check=False`` and already found to be clean."""
        try:
            self._utf8.decode(head)
        except UnicodeDecodeError:  # pragma: no cover - check_content accepted it
            self._checking = False

    def read_chunk(self, n: int = CHUNK, *, check: bool = True) -> bytes:
        """Up to ``n`` checked bytes; b"" at the end. Raises TooLargeError / EncodingError."""
        if self._deferred is not None:
            exc, self._deferred = self._deferred, None
            raise exc
        if self._eof:
            return b""
        # Never past one byte over the limit: where reading stops must not depend on the
        # reads a parser happened to ask for, so every path reports the same size.
        data = self._stream.read(min(n, self._max + 1 - self.size))
        if not data:
            self._eof = True
            if self._checking:
                try:
                    self._utf8.decode(b"", final=True)
                except UnicodeDecodeError:
                    raise self._encoding_problem(
                        b"", 0, "the file ends inside a UTF-8 sequence"
                    ) from None
            return b""
        self.sha.update(data)
        start = self.size
        self.size += len(data)
        if self.size > self._max:
            raise TooLargeError
        if self._checking and check:
            bad = self._check(data, start)
            if bad is not None:
                cut, problem = bad
                self._deferred = problem
                self._checking = False
                data = data[:cut]
        self.newlines = newline_count(data)
        self._lines += self.newlines
        return data

    def _check(self, data: bytes, start: int) -> tuple[int, EncodingError] | None:
        nul = data.find(b"\x00")
        held = self._utf8.getstate()[0]  # an unfinished sequence the last chunk ended with
        if data.isascii() and not held:
            if nul < 0:
                return None
        else:
            end = len(data) if nul < 0 else nul
            view = memoryview(data)[:end]
            # Complete sequences need no decoder: it only runs from where they end (at
            # the chunk's end, or a first error it words and locates), holding no bytes
            # there, as when it decodes them all.
            skip = 0 if held else utf8_prefix(view)
            cut = None if skip == end else self._decode_pieces(view[skip:])
            if cut is not None:
                cut += skip
                # A sequence the last chunk began (cut < 0) is bad from its first byte.
                byte = data[cut] if cut >= 0 else held[cut]
                return max(cut, 0), self._encoding_problem(
                    data, cut, f"not valid UTF-8: byte 0x{byte:02x} at offset {start + cut}"
                )
        if nul >= 0:
            return nul, self._encoding_problem(
                data, nul, f"NUL byte at offset {start + nul} (binary data or UTF-16/32 text)"
            )
        return None

    def _decode_pieces(self, view: memoryview) -> int | None:
        """Run the incremental decoder over ``view`` in pieces; None, or where it failed,
        counted from the view's start: negative when the failing sequence began in bytes
        the decoder held from the chunk before.

        Pieces of ``_PIECE`` bytes keep the decoded text in the CPU cache: a 1 MiB chunk
        with one CJK character decodes to 2 MiB of UCS-2, and decoding it whole was about
        twice as slow. ``UnicodeDecodeError.start`` counts from the bytes the decoder held
        before the call (an unfinished sequence), so those are taken off.
        """
        decode = self._utf8.decode
        for at in range(0, len(view), _PIECE):
            before = len(self._utf8.getstate()[0])  # bytes held before this piece
            try:
                decode(view[at : at + _PIECE])
            except UnicodeDecodeError as exc:
                return at - before + exc.start
        return None

    def _encoding_problem(self, data: bytes, cut: int, message: str) -> EncodingError:
        """The problem at ``data[cut]``; a negative ``cut`` is in the unfinished sequence
        the chunk before ended with, which holds no line feed: the line is the chunk's
        first."""
        line = self._lines + data.count(b"\n", 0, max(cut, 0)) + 1
        return EncodingError(message, self.size - len(data) + cut, line)

    def drain(self) -> None:
        """Read (hash, count) the rest without parsing or checking it."""
        self._checking = False
        self._deferred = None
        while self.read_chunk(CHUNK):
            pass


def read_head(source: Source, size: int) -> bytes:
    """The first ``size`` bytes (or the whole file), unchecked: the content check words
    problems in the head better (a gzip file is UNSUPPORTED_TYPE, not bad UTF-8)."""
    parts: list[bytes] = []
    have = 0
    while have < size:
        data = source.read_chunk(size - have, check=False)
        if not data:
            break
        parts.append(data)
        have += len(data)
    return b"".join(parts)


class Prefixed:
    """The source with the already-read head put back in front."""

    def __init__(self, source: Source, head: bytes) -> None:
        self.source = source
        self._head = head
        self.newlines = 0  # b"\n" in the last bytes read() returned

    def read(self, n: int = CHUNK) -> bytes:
        if self._head:
            out, self._head = self._head, b""
            self.newlines = newline_count(out)
            return out
        out = self.source.read_chunk(n)
        self.newlines = self.source.newlines
        return out
