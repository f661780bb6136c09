"""Type checking from a file's name and first bytes (no full read).

The extension names the format; the content must not contradict it. Recognisably
other content (archives, PDFs, images, office documents, XML/HTML, JSON in a ``.csv``)
is ``UNSUPPORTED_TYPE``; text that is not UTF-8 is ``BAD_ENCODING``. Text that merely
fails to parse is left to the streaming validator, which can say where it breaks
(``MALFORMED`` with a location beats a guess from the first 8 KiB).
"""

from __future__ import annotations

import codecs
import posixpath
import re

from silent_scalper.engine.types import FileFormat, Limits, Reason, TypeCheckResult

UTF8_BOM = b"\xef\xbb\xbf"

EXTENSIONS: dict[str, FileFormat] = {
    ".csv": FileFormat.CSV,
    ".json": FileFormat.JSON,
    ".ndjson": FileFormat.NDJSON,
    ".jsonl": FileFormat.NDJSON,
}

# (prefix, what it is). Order matters only where one prefix extends another.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"),
    (b"PK\x05\x06", "an empty ZIP archive"),
    (b"PK\x07\x08", "a spanned ZIP archive"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"BZh", "bzip2-compressed data"),
    (b"\xfd7zXZ\x00", "xz-compressed data"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an OLE2 document (legacy Office)"),
    (b"PAR1", "a Parquet file"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"Obj\x01", "an Avro container"),
    (b"\x7fELF", "an ELF executable"),
)

# Byte-order marks of encodings that are not UTF-8. UTF-32 LE starts like UTF-16 LE,
# so it is tested first.
_FOREIGN_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xfe\x00\x00", "UTF-32 LE"),
    (b"\x00\x00\xfe\xff", "UTF-32 BE"),
    (b"\xff\xfe", "UTF-16 LE"),
    (b"\xfe\xff", "UTF-16 BE"),
)

_MARKUP = re.compile(rb"\A\s*<(?:\?xml|!doctype|html|svg)\b", re.IGNORECASE)
_BLANK = re.compile(rb"\A[\s]*\Z")


def format_for_key(key: str) -> FileFormat | None:
    """The format an object key's extension names, or None."""
    ext = posixpath.splitext(key.rsplit("/", 1)[-1])[1].lower()
    return EXTENSIONS.get(ext)


def binary_kind(head: bytes) -> str | None:
    """What a binary file is, from its magic bytes; None for text."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return what
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        return "a RIFF media file"
    return None


def check_content(
    head: bytes, fmt: FileFormat, *, complete: bool
) -> tuple[Reason, str] | tuple[None, str]:
    """Check a head's content against ``fmt``; returns (reason, message) or (None, encoding).

    ``complete`` says the head is the whole file (so whitespace-only means empty and a
    multi-byte character cannot be cut at the end).
    """
    for bom, name in _FOREIGN_BOMS:
        if head.startswith(bom):
            return Reason.BAD_ENCODING, f"the file is {name} (byte-order mark); only UTF-8 is read"
    kind = binary_kind(head)
    if kind is not None:
        return Reason.UNSUPPORTED_TYPE, f"the content is {kind}, not {fmt.value.upper()}"
    encoding = "utf-8"
    body = head
    if head.startswith(UTF8_BOM):
        encoding = "utf-8-sig"
        body = head[len(UTF8_BOM) :]
    if complete and _BLANK.match(body):
        return Reason.EMPTY_FILE, "the file holds no data (only whitespace or a byte-order mark)"
    nul = body.find(b"\x00")
    if nul >= 0:
        return (
            Reason.BAD_ENCODING,
            f"NUL byte at offset {nul + len(head) - len(body)}: binary data or UTF-16/32 text",
        )
    try:
        codecs.getincrementaldecoder("utf-8")().decode(body, final=complete)
    except UnicodeDecodeError as exc:
        offset = exc.start + len(head) - len(body)
        return (
            Reason.BAD_ENCODING,
            f"not valid UTF-8: byte 0x{body[exc.start]:02x} at offset {offset}",
        )
    if _MARKUP.match(body):
        return Reason.UNSUPPORTED_TYPE, f"the content is XML/HTML markup, not {fmt.value.upper()}"
    first = body.lstrip()[:1]
    if fmt is FileFormat.CSV and first in (b"{", b"["):
        return Reason.UNSUPPORTED_TYPE, "the content looks like JSON, not CSV"
    return None, encoding


def sniff(head: bytes, *, key: str, size: int, limits: Limits) -> TypeCheckResult:
    """Decide from the object key, its size and its first bytes whether to read it at all.

    ``head`` is the first ``limits.sniff_bytes`` bytes (all of them for a small file).
    Never raises for any content.
    """
    head = head[: limits.sniff_bytes]
    fmt = format_for_key(key)
    if size > limits.max_bytes:
        return _reject(
            fmt, Reason.TOO_LARGE, f"{size} bytes is over the {limits.max_bytes}-byte limit"
        )
    if size == 0 or not head:
        return _reject(fmt, Reason.EMPTY_FILE, "the file is empty (0 bytes)")
    if fmt is None:
        ext = posixpath.splitext(key.rsplit("/", 1)[-1])[1] or "(none)"
        kind = binary_kind(head)
        detail = f" (the content is {kind})" if kind else ""
        return _reject(
            None,
            Reason.UNSUPPORTED_TYPE,
            f"extension {ext} is not one of {', '.join(EXTENSIONS)}{detail}",
        )
    reason, detail = check_content(head, fmt, complete=size <= len(head))
    if reason is not None:
        return _reject(fmt, reason, detail)
    return TypeCheckResult(ok=True, format=fmt, encoding=detail, reason=None, message=None)


def _reject(fmt: FileFormat | None, reason: Reason, message: str) -> TypeCheckResult:
    return TypeCheckResult(ok=False, format=fmt, encoding=None, reason=reason, message=message)
