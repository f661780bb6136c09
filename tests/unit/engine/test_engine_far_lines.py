"""Records past line 2**32, as in a file of billions of lines (a 5 GiB upload of blank
lines before its records can have them): a record's place packs its line into 32 bits,
clamped there, and the clamp must never carry into the record's number. A file that
large cannot be a test's input, so the readers here are made to start counting just
below the limit, as if those lines had come first."""

from __future__ import annotations

from typing import Any

import pytest
from engine_support import Validate, job
from silent_scalper.engine import _collect, _csv_columnar, _ndjson
from silent_scalper.engine.unique import LINE_MASK, pack, unpack

#: Lines taken to come before the file's own first line.
FAR = LINE_MASK - 3


def test_given_places_across_the_line_limit_then_lines_are_clamped_and_records_kept() -> None:
    # Given four consecutive records whose lines cross the 32-bit limit
    places = _collect.consecutive(10, LINE_MASK - 1, 1, 4)
    # Then each keeps its own record number and a line past the limit reads as the limit
    assert [unpack(p) for p in places] == [
        (10, LINE_MASK - 1),
        (11, LINE_MASK),
        (12, LINE_MASK),
        (13, LINE_MASK),
    ]
    # And below the limit the places are still a lazy range of the same values
    near = _collect.consecutive(10, LINE_MASK - 4, 1, 4)
    assert isinstance(near, range)
    assert list(near) == [pack(10 + k, LINE_MASK - 4 + k) for k in range(4)]


def test_given_ndjson_lines_past_the_limit_with_blank_ones_then_places_are_clamped() -> None:
    # Given a block of six lines, the third blank, starting two lines below the limit
    blanks = [(2, 0, 0)]
    # When its records' places are made
    places = _ndjson._places(1, LINE_MASK - 1, 6, blanks)
    # Then records count on and lines stop at the limit
    assert [unpack(p) for p in places] == [
        (1, LINE_MASK - 1),
        (2, LINE_MASK),
        (3, LINE_MASK),
        (4, LINE_MASK),
        (5, LINE_MASK),
    ]


def _repeat(summary: Any) -> tuple[int | None, int | None, str]:
    (error,) = summary.errors
    return error.record, error.line, error.message


def test_given_an_ndjson_repeat_past_the_limit_then_it_names_its_own_record(
    validate: Validate, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given NDJSON records read as if FAR lines came first, the sixth repeating the second
    real = _ndjson._ndjson_block

    def far(block: bytes, first_line: int, *args: Any, **kwargs: Any) -> bool:
        return real(block, first_line + FAR, *args, **kwargs)

    monkeypatch.setattr(_ndjson, "_ndjson_block", far)
    data = "".join(job(i) + "\n" for i in (1, 2, 3, 4, 5, 2))
    # When validated
    s = validate(data, "a.ndjson")
    # Then the repeat is record 6, on the last line a place can hold, and names the line
    # of the record it repeats
    assert _repeat(s) == (
        6,
        LINE_MASK,
        f"job_id 'J-0002' is not unique: already used by line {FAR + 2}",
    )


@pytest.mark.parametrize("cells_span_lines", [False, True])
def test_given_a_csv_repeat_past_the_limit_then_it_names_its_own_record(
    validate: Validate, monkeypatch: pytest.MonkeyPatch, cells_span_lines: bool
) -> None:
    # Given CSV rows read by the columnar path as if FAR lines came first, the sixth
    # repeating the second (and, in one case, a cell holding a line break)
    real = _csv_columnar.Position
    monkeypatch.setattr(_csv_columnar, "Position", lambda lines: real(lines + FAR))
    header = "job_id,submitted_at,customer_id,status"
    notes = ',"two\nlines"' if cells_span_lines else ""
    header += ",notes" if cells_span_lines else ""
    rows = [f"J-{n:04d},2026-01-05T09:0{n}:00Z,7,queued{notes}" for n in (1, 2, 3, 4, 5, 2)]
    # When validated
    s = validate("\n".join([header, *rows]) + "\n", "a.csv")
    # Then the repeat is record 6, its line past the limit read as the limit, and it
    # names the record it repeats, whose line is at the limit or past it
    assert _repeat(s) == (
        6,
        LINE_MASK,
        f"job_id 'J-0002' is not unique: already used by record 2 (line {LINE_MASK})",
    )
