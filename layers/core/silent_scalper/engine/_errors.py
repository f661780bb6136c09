"""What a schema or a record can get wrong, as exceptions, and msgspec's errors mapped
onto them (a located message and a reason code)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import msgspec

from silent_scalper.engine.types import Reason, clip

#: Where msgspec says broken JSON stopped its reading: "... (byte 12)".
AT_BYTE = re.compile(r" \(byte (\d+)\)$")
#: The first index on the path of a msgspec error ("... - at `$[12].priority`").
_FIRST_INDEX = re.compile(r"`\$\[(\d+)\]")
_UNKNOWN_FIELD = re.compile(r"^Object contains unknown field `(.*)`$", re.DOTALL)
_AT_PATH = re.compile(r"^(?P<msg>.*?)(?: - at `(?P<path>\$[^`]*)`)?$", re.DOTALL)


class SchemaLoadError(Exception):
    """A schema file cannot be used; the message names the file."""


class UnknownSchemaError(KeyError):
    """No schema of that name is loaded."""

    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = sorted(known)

    def __str__(self) -> str:
        return f"unknown schema {self.name!r} (known: {', '.join(self.known)})"


class RecordError(Exception):
    """One record is not acceptable: ``reason`` is MALFORMED, BAD_ENCODING or SCHEMA_VIOLATION.

    ``path`` is a JSON path relative to what was decoded (``$.priority``, ``$[3].job_id``).
    """

    # Slots, and the message set as the exception's args directly (what
    # ``Exception.__init__(message)`` does): one is made for every problem the exact check
    # finds, and these halve the cost of making one.
    __slots__ = ("message", "offset", "path", "reason")

    def __init__(
        self, reason: Reason, message: str, path: str | None = None, offset: int | None = None
    ) -> None:
        self.args = (message,)
        self.reason = reason
        self.message = clip(message)
        self.path = path
        self.offset = offset  # byte offset of a syntax error within the decoded bytes

    def line_in(self, data: bytes | memoryview, first_line: int) -> int:
        """The line of a syntax error, given the line the decoded bytes start on."""
        if self.offset is None:
            return first_line
        return first_line + bytes(data[: self.offset]).count(b"\n")


def split_msgspec_message(text: str) -> tuple[str, str | None]:
    """Split msgspec's "Expected `int` - at `$.a`" into ("Expected `int`", "$.a")."""
    m = _AT_PATH.match(text)
    if m is None:  # pragma: no cover - the pattern matches every string
        return text, None
    return m.group("msg"), m.group("path")


# A \uD800-\uDBFF escape not followed by a \uDC00-\uDFFF one, or a \uDC00-\uDFFF escape
# not preceded by a high one: JSON text that names no Unicode character.
_LONE_SURROGATE = re.compile(
    rb"\\u[dD][89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F][0-9a-fA-F]{2})"
    rb"|(?<!\\u[dD][89abAB][0-9a-fA-F]{2})\\u[dD][c-fC-F][0-9a-fA-F]{2}"
)


def to_record_error(exc: BaseException, data: bytes | memoryview | None = None) -> RecordError:
    """Map what msgspec (or the recursion guard) raises on one record to a RecordError;
    ``data`` (the record's bytes) lets a lone surrogate escape be named as such."""
    if isinstance(exc, RecordError):
        # Callers keep the error in a local of the frame its traceback points to: a
        # cycle that only a full gc pass frees, holding that frame's 1 MiB input block.
        # Dropping the traceback (and any chained error's) frees it at once, which kept
        # files with many invalid records from growing peak memory by tens of MiB.
        exc.__traceback__ = None
        exc.__context__ = None
        exc.__cause__ = None
        return exc
    if isinstance(exc, msgspec.ValidationError):
        msg, path = split_msgspec_message(str(exc))
        unknown = _UNKNOWN_FIELD.match(msg)
        if path is None and unknown is not None:
            path = f"$.{unknown.group(1)}"  # msgspec names the field but gives no path at "$"
        return RecordError(Reason.SCHEMA_VIOLATION, msg, path)
    if isinstance(exc, UnicodeDecodeError):
        return RecordError(Reason.BAD_ENCODING, f"not valid UTF-8: {exc.reason}")
    if isinstance(exc, RecursionError):
        return RecordError(Reason.MALFORMED, "nesting too deep to parse")
    msg = str(exc)
    msg = msg.removeprefix("JSON is malformed: ")
    if msg == "Input data was truncated" or "surrogate" in msg:
        lone = None if data is None else _LONE_SURROGATE.search(bytes(data))
        if lone is not None:
            escape = lone.group().decode()
            return RecordError(
                Reason.MALFORMED,
                f"not well-formed JSON: the escape {escape} is a lone UTF-16 surrogate, "
                "which is not a Unicode character",
                None,
                lone.start(),
            )
    if msg == "Input data was truncated":
        msg = "unexpected end of data (truncated value)"
    offset = None
    at = AT_BYTE.search(msg)
    if at is not None:
        # The offset is within the record, not the file: it becomes a line instead.
        offset = int(at.group(1))
        msg = msg[: at.start()]
    return RecordError(Reason.MALFORMED, f"not well-formed JSON: {msg}", None, offset)


RECORD_EXCEPTIONS: tuple[type[BaseException], ...] = (
    msgspec.DecodeError,
    msgspec.ValidationError,
    UnicodeDecodeError,
    RecursionError,
    RecordError,
)


def failing_index(exc: BaseException) -> int | None:
    """The index of the record (or list item) a msgspec error names first on its path
    ("... - at `$[12].priority`"), or None when it names none."""
    found = _FIRST_INDEX.search(str(exc))
    return int(found.group(1)) if found else None
