"""Hostile content the engine tests elsewhere do not cover: each gets a reason code, no crash.

(Covered in the other engine tests and not repeated here: UTF-16/32 with a BOM, gzip/zip/
PDF renamed ``.csv``, NUL bytes in the head and in NDJSON, 100,000 brackets in JSON,
invalid UTF-8 after the head, formula cells counted in the summary. The large-file memory
bounds are in test_hostile_memory.py; keys as they arrive in events are end-to-end tests in
tests/reliability/test_keys.py.)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from engine_support import Validate, job
from silent_scalper.engine import Limits, Reason, sniff
from silent_scalper.pipeline import ExtractRequest, extract_metadata
from silent_scalper.settings import Settings

HEADER = "job_id,submitted_at,customer_id,status,priority,amount,notes\n"
ROW = "J-{n:04d},2026-01-05T09:30:00Z,7,queued,,,{notes}\n"
TEN_MIB = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (HEADER + ROW.format(n=1, notes=""), "jobs.csv"),
        (job(1) + "\n", "jobs.ndjson"),
        ("[" + job(1) + "]", "jobs.json"),
    ],
)
@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_given_utf16_without_a_bom_then_bad_encoding_not_garbage(
    text: str, key: str, codec: str
) -> None:
    data = text.encode(codec)
    result = sniff(data, key=key, size=len(data), limits=Limits(max_bytes=1 << 20))
    assert result.reason is Reason.BAD_ENCODING
    assert result.message is not None
    assert "UTF-16" in result.message


def test_given_a_nul_byte_in_a_csv_after_the_head_then_bad_encoding_at_its_line(
    validate: Validate,
) -> None:
    rows = "".join(ROW.format(n=n, notes="padding to pass the head") for n in range(400))
    data = (HEADER + rows).encode() + b"J-9999,2026-01-05T09:30:00Z,7,queued,,,a\x00b\n"
    assert len(data) > 8192
    s = validate(data, "jobs.csv")
    assert s.reason is Reason.BAD_ENCODING
    assert s.errors[-1].location == "line 402"
    assert "NUL byte" in s.errors[-1].message


def test_given_100000_nested_brackets_in_an_ndjson_line_then_malformed_and_later_lines_read(
    validate: Validate,
) -> None:
    data = job(1) + "\n" + '{"job_id": ' + "[" * 100_000 + "\n" + job(3) + "\n"
    s = validate(data, "jobs.ndjson")
    assert s.reason is Reason.MALFORMED
    assert (s.errors[0].location, s.errors[0].message) == ("line 2", "nesting too deep to parse")
    assert s.records == 3


def test_given_100000_brackets_in_a_csv_cell_then_just_a_too_long_string(
    validate: Validate,
) -> None:
    s = validate(HEADER + ROW.format(n=1, notes="[" * 100_000), "jobs.csv")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert s.errors[0].column == "notes"


@pytest.mark.parametrize("quoted", [False, True])
def test_given_a_10_mib_csv_cell_then_reported_at_its_line_not_buffered(
    validate: Validate, quoted: bool
) -> None:
    cell = "x" * TEN_MIB
    notes = f'"{cell}"' if quoted else cell
    data = HEADER + ROW.format(n=1, notes="ok") + ROW.format(n=2, notes=notes)
    s = validate(data, "jobs.csv")
    assert s.reason is Reason.SCHEMA_VIOLATION
    assert (s.errors[0].line, s.errors[0].message) == (
        3,
        "line longer than the 1048576-byte limit",
    )
    assert s.size == len(data)


SETTINGS = Settings(
    input_bucket="input-bucket",
    quarantine_bucket="quarantine-bucket",
    table_name="metadata-table",
    topic_arn="arn:aws:sns:us-east-1:123456789012:alerts",
)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (
            HEADER
            + ROW.format(n=1, notes='"=HYPERLINK(""http://evil"",""x"")"')
            + ROW.format(n=2, notes="+SUM(1+1)")
            + ROW.format(n=3, notes="-cmd|' /C calc'!A0")
            + ROW.format(n=4, notes="@SUM(A1)")
            + ROW.format(n=5, notes="plain text = later"),
            "jobs.csv",
        ),
        (
            "\n".join(
                [
                    job(1, notes="=1+1"),
                    job(2, notes="+A1"),
                    job(3, notes="-cmd"),
                    job(4, notes="@A1"),
                    job(5, notes="fine"),
                ]
            ),
            "jobs.ndjson",
        ),
    ],
)
def test_given_formula_injection_cells_then_the_metadata_record_flags_them(
    validate: Validate, data: str, key: str
) -> None:
    summary = validate(data, key)
    assert summary.valid, summary.errors
    step = ExtractRequest.model_validate(
        {
            "bucket": SETTINGS.input_bucket,
            "object": {"key": key, "size": len(data), "sequencer": "01"},
            "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:pipeline:x",
            "summary": summary.to_dict(),
            "key": key,
        }
    )

    record = extract_metadata(step, settings=SETTINGS, now=datetime.now(UTC))

    assert record.formula_cells == 4
    assert record.to_item()["formula_cells"] == {"N": "4"}
    assert json.loads(record.model_dump_json())["formula_cells"] == 4


@pytest.mark.parametrize("payload", ["-2+3+cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0"])
def test_given_a_dde_payload_starting_with_a_signed_digit_then_it_is_flagged(
    validate: Validate, payload: str
) -> None:
    """OWASP's CSV-injection example: only a cell that is wholly a number is exempt."""
    s = validate(HEADER + ROW.format(n=1, notes=payload), "jobs.csv")
    assert s.formula_cells == 1
