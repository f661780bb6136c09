"""Type checking from the key, the size and the first bytes (what TypeCheck runs)."""

from __future__ import annotations

import gzip

import pytest
from pydantic import TypeAdapter
from silent_scalper.engine import (
    SNIFF_BYTES,
    FileFormat,
    Limits,
    Reason,
    TypeCheckResult,
    format_for_key,
    sniff,
)

LIMITS = Limits(max_bytes=1000)


def check(head: bytes, key: str = "in/jobs.csv", size: int | None = None) -> TypeCheckResult:
    return sniff(head, key=key, size=len(head) if size is None else size, limits=LIMITS)


@pytest.mark.parametrize(
    ("key", "fmt"),
    [
        ("a.csv", FileFormat.CSV),
        ("dir/b.JSON", FileFormat.JSON),
        ("c.ndjson", FileFormat.NDJSON),
        ("d.jsonl", FileFormat.NDJSON),
        ("e.txt", None),
        ("f.csv.gz", None),
        ("noext", None),
    ],
)
def test_the_extension_names_the_format(key: str, fmt: FileFormat | None) -> None:
    assert format_for_key(key) == fmt


def test_given_a_plain_csv_head_then_ok_with_format_and_encoding() -> None:
    result = check(b"job_id,status\nJ-1,queued\n")
    assert result == TypeCheckResult(True, FileFormat.CSV, "utf-8", None, None)


def test_given_a_utf8_bom_then_it_is_accepted_as_utf8_sig() -> None:
    result = check(b"\xef\xbb\xbf[{}]", key="a.json")
    assert result.ok
    assert result.encoding == "utf-8-sig"


@pytest.mark.parametrize(
    ("head", "key"),
    [
        (b"", "a.csv"),
        (b"   \n\t\r\n", "a.json"),
        (b"\xef\xbb\xbf", "a.ndjson"),
        (b"\xef\xbb\xbf \n", "a.csv"),
    ],
)
def test_given_no_bytes_or_only_whitespace_or_bom_then_empty_file(head: bytes, key: str) -> None:
    result = check(head, key=key)
    assert (result.ok, result.reason) == (False, Reason.EMPTY_FILE)


def test_given_whitespace_head_of_a_larger_file_then_not_judged_empty_yet() -> None:
    # Only the head is known: the rest of a big file may hold data.
    limits = Limits(max_bytes=10**6)
    result = sniff(b" " * SNIFF_BYTES, key="a.json", size=SNIFF_BYTES * 2, limits=limits)
    assert result.ok


def test_given_a_size_over_the_limit_then_too_large_before_anything_else() -> None:
    result = check(b"\x1f\x8b", key="a.csv", size=1001)
    assert result.reason is Reason.TOO_LARGE
    assert result.message is not None
    assert "1001" in result.message


def test_given_exactly_the_limit_then_not_too_large() -> None:
    assert check(b"a,b\n1,2\n", size=1000).ok


@pytest.mark.parametrize(
    ("head", "what"),
    [
        (gzip.compress(b"a,b\n1,2\n", mtime=0), "gzip"),
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "JPEG"),
        (b"GIF89a\x01\x00", "GIF"),
        (b"<?xml version='1.0'?><jobs/>", "XML"),
        (b"  <!DOCTYPE html><html></html>", "XML/HTML"),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_given_other_file_types_named_csv_then_unsupported_type(head: bytes, what: str) -> None:
    result = check(head, key="upload.csv")
    assert result.reason is Reason.UNSUPPORTED_TYPE
    assert result.message is not None
    assert what in result.message


def test_given_json_content_in_a_csv_then_unsupported_type() -> None:
    result = check(b'  [{"job_id": "J-1"}]', key="a.csv")
    assert result.reason is Reason.UNSUPPORTED_TYPE
    assert result.message == "the content looks like JSON, not CSV"


def test_given_an_unknown_extension_then_unsupported_type_naming_it() -> None:
    result = check(b"hello", key="notes.txt")
    assert result.reason is Reason.UNSUPPORTED_TYPE
    assert result.message is not None
    assert ".txt" in result.message


@pytest.mark.parametrize(
    ("head", "name"),
    [
        ("a,b\n".encode("utf-16"), "UTF-16 LE"),
        (b"\xfe\xff\x00a", "UTF-16 BE"),
        ("[]".encode("utf-32"), "UTF-32 LE"),
    ],
)
def test_given_a_utf16_or_utf32_bom_then_bad_encoding(head: bytes, name: str) -> None:
    result = check(head, key="a.json")
    assert result.reason is Reason.BAD_ENCODING
    assert result.message is not None
    assert name in result.message


def test_given_nul_bytes_then_bad_encoding_at_the_offset() -> None:
    result = check(b"a,b\n1,\x002\n")
    assert result.reason is Reason.BAD_ENCODING
    assert result.message is not None
    assert "offset 6" in result.message


def test_given_latin1_text_then_bad_encoding_naming_the_byte() -> None:
    result = check("name\nZürich\n".encode("latin-1"))
    assert result.reason is Reason.BAD_ENCODING
    assert result.message == "not valid UTF-8: byte 0xfc at offset 6"


def test_given_a_multibyte_character_cut_by_the_head_then_still_ok() -> None:
    text = ("x" * (SNIFF_BYTES - 1) + "é").encode()
    limits = Limits(max_bytes=10**6)
    result = sniff(text[:SNIFF_BYTES], key="a.csv", size=len(text) + 100, limits=limits)
    assert result.ok


def test_given_text_that_is_not_json_then_sniff_leaves_it_to_the_parser() -> None:
    # Not UNSUPPORTED_TYPE: the validator reports MALFORMED with a location.
    assert check(b"hello, world", key="a.json").ok


def test_given_a_verdict_when_dumped_to_json_and_read_back_then_it_is_the_same() -> None:
    result = check(b"\x1f\x8b\x08", key="a.csv")
    adapter = TypeAdapter(TypeCheckResult)

    wire = adapter.dump_python(result, mode="json")

    assert wire["reason"] == "UNSUPPORTED_TYPE"
    assert adapter.validate_python(wire) == result
