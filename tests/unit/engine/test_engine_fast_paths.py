"""Fast paths and the exact path agree: same verdicts, errors, locations and summary fields.

The engine validates batches of records with bulk checks and only falls back to record
by record work when a batch fails. These tests run the same files with the fast path
switched off and require identical summaries, on cells chosen to sit at the edges of what
each check takes (spellings msgspec's lax conversion accepts or refuses).
"""

from __future__ import annotations

import io
import itertools
import json
from typing import Any

import pytest
from engine_support import Validate, job
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import (
    CompiledSchema,
    FileFormat,
    Limits,
    SchemaRegistry,
    ValidationSummary,
    _json,
    _ndjson,
)
from silent_scalper.engine._collect import Collector, kept_positions
from silent_scalper.engine._csv import _breaks, _row_starts
from silent_scalper.engine._source import _PIECE, CHUNK, EncodingError, Source
from silent_scalper.engine.schemas import compile_schema
from silent_scalper.engine.unique import pack

HEADER = "job_id,submitted_at,customer_id,status,priority,amount,currency,email,quantity,notes\n"
GOOD = [
    "J-{n:04d}",
    "2026-01-05T09:30:00Z",
    "7",
    "queued",
    "2",
    "12.5",
    "EUR",
    "a@b.example",
    "3",
    "plain",
]
# Per column: cells the exact path takes in another spelling, or refuses.
EDGES: dict[int, list[str]] = {
    0: ["-ab", "_ab", "ab", "a" * 64, "a" * 65, "abé", "ab c", "Ab_-9", "ab\n", ""],
    1: [
        "2026-01-05T09:30:00+01:00",
        "2026-01-05 09:30:00Z",
        "2026-01-05T09:30:00",
        "1767605400",
        "2026-02-30T00:00:00Z",
        "null",
        "",
    ],
    2: ["0", "-0", "5.0", "1e3", "007", "+5", " 5", "1_000", "99999999999999999999", "", "x"],
    3: ["running", "Queued", "", "queued "],
    4: ["1", "5", "6", "0", "5.0", "", "2.5"],
    5: ["0", "-0", "-0.0", "0.50", "1e3", "1E+3", ".5", "5.", "inf", "nan", "-1", "1e999", ""],
    6: ["USD", "usd", "US", "", "EURO"],
    7: ["x@y.z", "no-at", "a@b", "", "=cmd@x.y"],
    8: ["0", "-1", "", "1.0"],
    9: ["", "=1+1", "-5", "+3.2e1", "@SUM(A1)", "x" * 2001, "two\nlines", "-2+3"],
}


def _rows() -> list[str]:
    """Valid rows with one edge cell each, in batches long enough for every code path."""
    rows: list[str] = []
    n = 0
    for column, cells in EDGES.items():
        for cell in cells:
            for _ in range(40):  # runs of valid rows around each edge
                n += 1
                rows.append(",".join(c.format(n=n) for c in GOOD))
            n += 1
            row = [c.format(n=n) for c in GOOD]
            row[column] = cell
            rows.append(",".join(f'"{c}"' if "\n" in c or "," in c else c for c in row))
    return [r + "\n" for r in rows]


def _both(validate: Validate, data: str, key: str, **kw: Any) -> tuple[Any, Any]:
    """The summary as the engine gives it, and with the CSV column checks switched off
    (every batch then takes the exact, per-row dict path)."""
    fast = validate(data, key, **kw).to_dict()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CompiledSchema, "csv_columns", lambda self, header: None)
        exact = validate(data, key, **kw).to_dict()
    return fast, exact


def test_given_edge_cells_in_csv_then_the_column_checks_agree_with_the_exact_path(
    validate: Validate,
) -> None:
    fast, exact = _both(validate, HEADER + "".join(_rows()), "jobs.csv", max_errors=1000)
    assert fast == exact
    assert fast["invalid_records"] > 0  # the edges did reach the error path
    assert fast["records"] > 2000  # more than one batch


def test_given_duplicates_across_fast_and_exact_batches_then_places_agree(
    validate: Validate,
) -> None:
    rows = _rows()
    # A job_id repeated far apart, once in a clean batch and once next to an error.
    data = HEADER + "".join(rows) + rows[0] + rows[len(rows) // 2]
    fast, exact = _both(validate, data, "jobs.csv", max_errors=1000)
    assert fast == exact
    assert any("is not unique" in e["message"] for e in fast["errors"])


def test_given_every_edge_cell_alone_then_each_verdict_agrees(validate: Validate) -> None:
    for column, cell in ((c, x) for c, cells in EDGES.items() for x in cells):
        row = [c.format(n=1) for c in GOOD]
        row[column] = cell
        line = ",".join(f'"{c}"' if "\n" in c or "," in c else c for c in row)
        fast, exact = _both(validate, HEADER + line + "\n", "jobs.csv")
        assert fast == exact, (column, cell)


@pytest.mark.parametrize(
    "properties",
    [
        {"n": {"type": ["integer", "null"], "minimum": 0}, "k": {"type": "string"}},
        {"n": {"type": "number", "multipleOf": 0.5}, "k": {"type": "string"}},
        {"n": {"type": "integer", "multipleOf": 3}, "k": {"type": "string", "minLength": 2}},
        {"n": {"type": "boolean"}, "k": {"type": "string", "pattern": "^(a|b)+$"}},
        {"n": {"type": ["boolean", "null"]}, "k": {"type": ["string", "null"]}},
        {"n": {"enum": ["x", "y"]}, "k": {"type": "string", "format": "email"}},
    ],
)
def test_given_other_column_types_then_the_column_checks_agree(
    validate: Validate, properties: dict[str, Any]
) -> None:
    schema = compile_schema(
        "t",
        {"type": "object", "properties": properties, "required": ["k"], "x-unique": ["k"]},
        None,
    )
    cells = ["", "0", "1", "-1", "3", "6", "1.5", "2.0", "null", "true", "false", "x", "y"]
    keys = ["ab", "a", "abab", "", "null", "c@d.e", "ab"]
    rows = [f"{n},{k}{i}\n" for i, (n, k) in enumerate(itertools.product(cells, keys))]
    for data in ("n,k\n" + "".join(rows), "n,k\n" + "".join(rows[:1]) * 3):
        fast, exact = _both(validate, data, "t.csv", schema=schema, max_errors=1000)
        assert fast == exact


def test_given_the_bundled_job_schema_then_csv_rows_take_the_column_checks(
    registry: SchemaRegistry,
) -> None:
    """Guards the speed-up itself: job.v1 has a column-wise check for its CSV rows."""
    assert registry.get("job.v1").csv_columns(HEADER.strip().split(",")) is not None


def _first_problem(body: bytes) -> tuple[int, str]:
    """Where decoding the whole file fails first, and the message that problem gets."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start
        return at, f"not valid UTF-8: byte 0x{body[at]:02x} at offset {at}"
    raise AssertionError("no problem found")


def _assert_problem_as_decoding_whole(
    body: bytes, problem: EncodingError, delivered: list[bytes]
) -> None:
    """The problem is located as decoding the whole file locates it, however the file was
    cut into chunks; what was delivered is the file up to the bad sequence, or up to the
    chunk that showed it bad, when the sequence began in the chunk before (its first
    bytes were delivered, as any unfinished sequence at a chunk's end is)."""
    at, message = _first_problem(body)
    assert problem.message == message
    assert problem.offset == at
    assert problem.line == body[:at].count(b"\n") + 1
    got = b"".join(delivered)
    assert got == body[: len(got)]
    assert at <= len(got) <= at + 3


def _read_until_raised(source: Source, chunk: int, delivered: list[bytes]) -> None:
    """Read chunks into ``delivered`` until the source raises. The error comes on the read
    after the one that returned the bytes before it (possibly none); two empty reads in a
    row mean the end came without one, and the caller's pytest.raises then fails."""
    while True:
        delivered.append(source.read_chunk(chunk))
        if len(delivered) > 1 and not delivered[-1] and not delivered[-2]:
            return


@pytest.mark.parametrize("shift", [-3, -2, -1, 0, 1, 2])
@pytest.mark.parametrize(
    "bad", [b"\xff", b"\xe7\x41", b"\xe7\x80\x41", b"\xed\xa0\x80", b"\xf0\x9f\x98", b"\xc3"]
)
def test_given_bad_utf8_at_a_piece_boundary_then_the_offset_is_as_decoding_whole(
    bad: bytes, shift: int
) -> None:
    """The check decodes a chunk in pieces; where a bad sequence straddles two pieces (or
    two chunks) the reported byte, offset and line are what decoding the whole file
    gives."""
    body = bytearray(b"a\n" * (_PIECE // 2 + 8) + "Zürich 納期\n".encode() * 4)
    at = _PIECE + shift
    body[at : at + len(bad)] = bad
    for chunk in (CHUNK, _PIECE + 1, 1000):
        source = Source(io.BytesIO(bytes(body)), max_bytes=1 << 30)
        delivered: list[bytes] = []
        with pytest.raises(EncodingError) as caught:
            _read_until_raised(source, chunk, delivered)
        _assert_problem_as_decoding_whole(bytes(body), caught.value, delivered)


_TEXT_PARTS = [c.encode() for c in ["a", "\n", "é", "納", "😀", "\u0661", "abcdefgh"]]
_BAD_PARTS = [
    b"\xff", b"\x80", b"\xc3", b"\xc0\xaf", b"\xe7\x41", b"\xe0\x80\xaf", b"\xed\xa0\x80",
    b"\xf0\x9f\x98", b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_TEXT_PARTS), min_size=1, max_size=80),
    st.sampled_from([None, *_BAD_PARTS]),
    st.integers(0, 80),
    st.sampled_from([1, 2, 3, 5, 64, 1000]),
)
@example([b"\xc3\xa9"] * 8, b"\xc3", 8, 5)
def test_given_multibyte_text_when_read_in_chunks_then_any_problem_is_as_decoding_whole(
    parts: list[bytes], bad: bytes | None, at: int, chunk: int
) -> None:
    """Complete UTF-8 sequences are passed by the compiled check and the decoder runs
    from where they stop: any problem's byte, offset and line are what decoding the
    whole file gives, wherever sequences and chunks are cut."""
    if bad is not None:
        parts.insert(min(at, len(parts)), bad)
    body = b"".join(parts) + b"a"  # a sequence cut off by the file's end is another error
    source = Source(io.BytesIO(body), max_bytes=1 << 30)
    delivered: list[bytes] = []
    if bad is None:
        while data := source.read_chunk(chunk):
            delivered.append(data)
        assert b"".join(delivered) == body
        return
    with pytest.raises(EncodingError) as caught:
        _read_until_raised(source, chunk, delivered)
    _assert_problem_as_decoding_whole(body, caught.value, delivered)


def test_given_line_breaks_in_several_columns_then_row_starts_count_as_row_by_row() -> None:
    """Row starts are counted a column at a time; they must equal the per-row count
    (\\r\\n, \\r and \\n are each one break, and a \\r ending one cell and a \\n starting
    the next are two)."""
    cells = ["", "plain", "a\nb", "a\r\nb", "a\rb", "end\r", "\nstart", "\r\n\r\n", "\n\r"]
    rows = [list(combo) for combo in itertools.product(cells, repeat=3)]
    expected = list(itertools.accumulate((1 + _breaks(row) for row in rows), initial=7))
    assert _row_starts(list(zip(*rows, strict=True)), len(rows), 7) == expected
    no_cr = [row for row in rows if "\r" not in "".join(row)]
    expected = list(itertools.accumulate((1 + _breaks(row) for row in no_cr), initial=1))
    assert _row_starts(list(zip(*no_cr, strict=True)), len(no_cr), 1) == expected


def test_given_many_invalid_records_in_a_multiline_json_array_then_lines_are_unchanged(
    validate: Validate,
) -> None:
    """JSON error lines are counted on from the previous error instead of from the
    buffer start; they must be what counting from the start gives, in every path (batch,
    windows, record by record, several chunks)."""
    records = [
        json.loads(job(n, priority=9 if n % 7 == 3 else 2, notes="x\\n" * (n % 5)))
        for n in range(30_000)
    ]
    records[12_345] = [records[12_345]]  # a nested element takes the exact scanner
    data = json.dumps(records, indent=2)
    with pytest.MonkeyPatch.context() as mp:
        # Keep every error (not only what fits the summary's size budget) to compare.
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        fast = validate(data, "jobs.json", max_errors=10_000).to_dict()
        mp.setattr(
            _json._Buffer,
            "line_at",
            lambda self, pos: self.base_line + self.buf.count(b"\n", 0, pos),
        )
        exact = validate(data, "jobs.json", max_errors=10_000).to_dict()
    assert fast == exact
    assert len(data) > 2 * CHUNK
    assert len({e["line"] for e in fast["errors"]}) > 4000


def _mixed_invalid_lines(count: int, *, blanks: bool) -> list[str]:
    """NDJSON lines, one in twenty invalid in one of many ways (every rule the fast path
    checks, broken JSON, a repeated key, a duplicate job_id, spellings at the edge of the
    batch checks), and blank lines now and then when ``blanks``."""
    odd: list[Any] = [
        {"priority": 9},
        {"status": "paused"},
        {"currency": "usd"},
        {"customer_id": 0},
        {"email": "no-at"},
        {"submitted_at": "2026-01-05T23:59:60Z"},
        {"submitted_at": "2026-01-05 09:30:00Z"},
        {"submitted_at": "2026-01-05T09:30:00+0530"},
        {"amount": 1e300},
        {"extra": 1},
        {"status": None},
        {"job_id": "J-0005"},
        '{"job_id":"J-broken',
        "[1, 2]",
        '{"job_id":"J-x","job_id":"J-y","submitted_at":"2026-01-05T09:30:00Z",'
        '"customer_id":7,"status":"queued"}',
        '{"job_id" : "J-sp","submitted_at":"2026-01-05T09:30:00Z","customer_id":7,'
        '"status":"queued"}',
        '{"job_id":"J-q\\":","submitted_at":"2026-01-05T09:30:00Z","customer_id":7,'
        '"status":"queued"}',
    ]
    lines: list[str] = []
    for n in range(count):
        # Blank lines and repeated keys send a block back to the narrowing: only in the
        # first blocks.
        if blanks and n % 997 == 5 and n < 8_000:
            lines.append("  ")
        kinds = len(odd) if n < 8_000 else len(odd) - 3
        kind = odd[(n // 20) % kinds] if n % 20 == 7 else {}
        lines.append(kind if isinstance(kind, str) else job(n, **kind))
    return [line + "\n" for line in lines]


def _sifted_and_narrowed(
    validate: Validate, data: str, max_errors: int
) -> tuple[dict[str, Any], dict[str, Any], list[bool]]:
    """The NDJSON summary with sifting, the one with every refused block narrowed, and
    whether each refused block was sifted (every error kept: no size budget)."""
    sifted: list[bool] = []
    real = _ndjson._ndjson_sifted

    def spy(*args: Any, **kwargs: Any) -> bool:
        done = real(*args, **kwargs)
        sifted.append(done)
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(_ndjson, "_ndjson_sifted", spy)
        fast = validate(data, "jobs.ndjson", max_errors=max_errors).to_dict()
        mp.setattr(_ndjson, "_ndjson_sifted", lambda *args, **kwargs: False)
        narrowed = validate(data, "jobs.ndjson", max_errors=max_errors).to_dict()
    return fast, narrowed, sifted


@pytest.mark.parametrize("blanks", [False, True])
@pytest.mark.parametrize("max_errors", [50, 100_000])
def test_given_many_kinds_of_invalid_lines_then_sifting_agrees_with_narrowing(
    validate: Validate, blanks: bool, max_errors: int
) -> None:
    """A refused NDJSON block is sifted in one pass (windows decoded, batch checks run
    once, only refused lines checked exactly); the summary must be the one narrowing the
    block window by window gives, errors kept in the same order when they overflow."""
    data = "".join(_mixed_invalid_lines(40_000, blanks=blanks))
    fast, narrowed, sifted = _sifted_and_narrowed(validate, data, max_errors)
    assert fast == narrowed
    assert len(data) > 3 * CHUNK
    assert fast["invalid_records"] > 1500
    assert sifted.count(True) >= 3


@pytest.mark.parametrize("sifter", ["windows", "raw values"])
@pytest.mark.parametrize("uniform", [True, False])
@pytest.mark.parametrize("max_errors", [50, 100_000])
def test_given_many_kinds_of_invalid_records_in_a_json_array_then_sifting_agrees_with_narrowing(
    validate: Validate, max_errors: int, uniform: bool, sifter: str
) -> None:
    """The same for a refused run of a JSON array: sifted in one pass, the summary is
    the narrowing's (lines of errors included), whether one separator joins the records
    (offsets summed) or not (each record found), and whether the run is sifted in
    windows cut from its text or, as when a window does not parse, from its records
    parsed as Raw values first."""
    records = [line.strip() for line in _mixed_invalid_lines(40_000, blanks=False)]
    records = [r for r in records if "J-broken" not in r]
    seps = [",\n" if uniform or n % 3 else " ,\n\n " for n in range(len(records))]
    body = "".join(r + sep for r, sep in zip(records[:-1], seps, strict=False))
    data = "[\n" + body + records[-1] + "\n]"
    sifted: list[tuple[str, int | None]] = []
    real_windows = _json._json_windows
    real_raw = _json._json_sifted

    def spy_windows(b: Any, run: bytes, index: int, col: Any) -> int | None:
        done = real_windows(b, run, index, col)
        sifted.append(("windows", done))
        return done

    def spy_raw(*args: Any) -> int | None:
        done = real_raw(*args)
        sifted.append(("raw values", done))
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        if sifter == "windows":
            mp.setattr(_json, "_json_windows", spy_windows)
        else:
            mp.setattr(_json, "_json_windows", lambda b, run, index, col: None)
        mp.setattr(_json, "_json_sifted", spy_raw)
        fast = validate(data, "jobs.json", max_errors=max_errors).to_dict()
        mp.setattr(_json, "_json_windows", lambda b, run, index, col: None)
        mp.setattr(_json, "_json_sifted", lambda *args: None)
        narrowed = validate(data, "jobs.json", max_errors=max_errors).to_dict()
    assert fast == narrowed
    assert fast["invalid_records"] > 1500
    assert len([1 for how, done in sifted if how == sifter and done is not None]) >= 3


# Records at the edges of what the sifting windows and the batch checks take: values at
# their bounds (valid, though the Struct's exclusive number bounds refuse some), a bool
# for an integer, explicit nulls, absent optional fields, an unknown key, strings that
# hold "}," or a line break escape, lines longer than a window, a leap second.
_EDGES: list[dict[str, Any] | str] = [
    {"priority": 9},
    {"priority": 5},
    {"priority": 1},
    {"priority": True},
    {"priority": None},
    {"customer_id": 1},
    {"customer_id": 0},
    {"amount": 0},
    "AMOUNT -1e-400",
    "AMOUNT 4.9999999999999999",
    "AMOUNT 25000.000000000000001",
    {"amount": "12"},
    {"status": "paused"},
    {"quantity": 0},
    {"quantity": -1},
    {"notes": "x" * 5000},
    {"notes": 'a},{"job_id":"J-9999"},{b'},
    {"notes": "line\nbreak"},
    {"notes": "y" * 2001},
    {"extra": 1},
    {"currency": "usd"},
    {"email": "no-at"},
    {"submitted_at": "2026-01-05T23:59:60Z"},
    "NULL_STATUS",
    "NULL_PRIORITY",
]


def _edge_records(count: int) -> list[str]:
    """``count`` records: mostly valid, an edge case at irregular places (so they fall at
    the start, middle and end of windows), the first and the last record among them."""
    out: list[str] = []
    for n in range(count):
        kind = _EDGES[(n // 7) % len(_EDGES)] if n % 7 in (0, 3) or n == count - 1 else {}
        if kind == "NULL_STATUS":
            out.append(job(n).replace('"status":"queued"', '"status":null'))
        elif kind == "NULL_PRIORITY":
            out.append(job(n, priority=2).replace('"priority":2', '"priority":null'))
        elif isinstance(kind, str):  # a number written as no float would write it
            out.append(job(n, amount=123).replace('"amount":123', f'"amount":{kind.split()[1]}'))
        else:
            assert isinstance(kind, dict)
            out.append(job(n, **kind))
    return out


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("ending", ["final newline", "no final newline", "broken last line"])
def test_given_edge_records_in_ndjson_then_windowed_sifting_flags_exactly_the_narrowings(
    validate: Validate, newline: str, ending: str
) -> None:
    """Given NDJSON whose refused blocks hold every kind of refusal (bounds, types,
    nulls, unknown keys, patterns, lines longer than a sifting window), the first and
    last line among them, when validated with the windowed sifting and without it, then
    every error, its line and the counts agree, and the sifting took the blocks."""
    lines = _edge_records(12_000)
    if ending == "broken last line":
        lines[-1] = lines[-1][:20]
    data = newline.join(lines) + (newline if ending == "final newline" else "")
    fast, narrowed, sifted = _sifted_and_narrowed(validate, data, 100_000)
    assert fast == narrowed
    assert len(data) > 2 * CHUNK
    assert fast["invalid_records"] > 1500
    assert sifted.count(True) >= 2


@pytest.mark.parametrize("separator", [",", ",\n", " , "])
def test_given_edge_records_in_a_json_array_then_windowed_sifting_flags_exactly_the_narrowings(
    validate: Validate, separator: str
) -> None:
    """Given a JSON array of the same records (a string holding "}," makes some window
    cuts fall inside a string, which must not parse), when validated with the windowed
    sifting and with every sifting off, then every error, its line and the counts
    agree, and the windows took some runs."""
    data = "[" + separator.join(_edge_records(12_000)) + "]"
    sifted: list[int | None] = []
    real = _json._json_windows

    def spy(b: Any, run: bytes, index: int, col: Any) -> int | None:
        done = real(b, run, index, col)
        sifted.append(done)
        return done

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(_json, "_json_windows", spy)
        fast = validate(data, "jobs.json", max_errors=100_000).to_dict()
        mp.setattr(_json, "_json_windows", lambda b, run, index, col: None)
        mp.setattr(_json, "_json_sifted", lambda *args: None)
        narrowed = validate(data, "jobs.json", max_errors=100_000).to_dict()
    assert fast == narrowed
    assert fast["invalid_records"] > 1500
    if separator != " , ":  # no "}," to cut at: the runs go to the Raw-value sifting
        assert len([done for done in sifted if done is not None]) >= 2


def test_given_blank_lines_in_a_refused_block_then_the_windowed_sifting_declines() -> None:
    """Given a refused NDJSON block with a whitespace-only line, when sifted in windows,
    then it declines before recording anything (a record index would not be a line)."""
    schema = SchemaRegistry.load().get("job.v1")
    lines = [job(n, priority=9 if n == 40 else 2) for n in range(100)]
    lines.insert(70, "  \r")
    block = ("\n".join(lines) + "\n").encode()
    col = Collector(schema, Limits(max_bytes=1 << 20), FileFormat.NDJSON)
    assert _ndjson._ndjson_sifted(block, 1, col, len(lines)) is False
    assert (col.records, col.invalid, col.error_count) == (0, 0, 0)


_BLANKS = ["", "  ", "\t", "\r", " \t \r"]


def _with_blank_lines(records: list[str], every: int) -> str:
    """``records`` as NDJSON with blank lines of every kind: before the first record,
    after every ``every``-th (one, two or three in a row, cycling through the kinds of
    JSON whitespace msgspec skips), and after the last."""
    out = [_BLANKS[1]]
    for n, record in enumerate(records):
        out.append(record)
        if n % every == every - 1:
            out += [_BLANKS[(n + k) % len(_BLANKS)] for k in range(1 + n % 3)]
    out.append("")
    return "\n".join(out) + "\n"


def _every_line_exactly(mp: pytest.MonkeyPatch) -> None:
    """Each NDJSON block checked a line at a time by the exact check: the definition."""
    mp.setattr(
        _ndjson,
        "_ndjson_checked",
        lambda block, first_line, col, _lines: _ndjson._ndjson_lines(
            _ndjson._split_lines(block), first_line, col
        ),
    )


@pytest.mark.parametrize(("invalid", "every"), [(False, 3), (True, 3), (True, 250)])
def test_given_blank_lines_then_every_block_agrees_with_the_exact_check_line_by_line(
    validate: Validate, every: int, invalid: bool
) -> None:
    """Given NDJSON with blank lines of every kind (first and last line, several in a
    row, at block edges), valid or with one line in twenty invalid in many ways, when
    validated, then the summary is the one of checking every line exactly: the same
    records, errors and lines."""
    records = [line.rstrip("\n") for line in _mixed_invalid_lines(24_000, blanks=False)]
    if not invalid:
        records = [job(n) for n in range(24_000)]
    data = _with_blank_lines(records, every)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        fast = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
        _every_line_exactly(mp)
        exact = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
    assert fast == exact
    assert fast["records"] == 24_000
    assert len(data) > 2 * CHUNK
    assert (fast["invalid_records"] > 1_000) is invalid


def test_given_a_valid_file_with_blank_lines_then_each_block_is_one_batch(
    validate: Validate,
) -> None:
    """Given a valid NDJSON file with blank lines here and there, when validated, then no
    block is sifted or narrowed line by line: a blank line does not leave the path of
    one batch per block, and each record keeps its own line."""
    records = [job(n) for n in range(24_000)]
    records[9_000] = job(5, status="running")  # a repeat of J-0005: where both are matters
    data = _with_blank_lines(records, 1_000)
    slow: list[str] = []
    with pytest.MonkeyPatch.context() as mp:
        for name in ("_ndjson_sifted", "_ndjson_narrow", "_ndjson_lines"):
            real = getattr(_ndjson, name)
            mp.setattr(_ndjson, name, lambda *a, _r=real, _n=name: slow.append(_n) or _r(*a))
        summary = validate(data, "jobs.ndjson")
    assert slow == []
    assert len(data) > 2 * CHUNK
    lines = data.split("\n")
    first, later = lines.index(records[5]) + 1, lines.index(records[9_000]) + 1
    assert summary.records == 24_000
    assert [(e.record, e.line, e.message) for e in summary.errors] == [
        (9_001, later, f"job_id 'J-0005' is not unique: already used by line {first}")
    ]


def test_given_a_refused_block_with_blank_lines_then_it_is_sifted_whole_not_narrowed(
    validate: Validate,
) -> None:
    """Given NDJSON with blank lines and records refused by msgspec and by a batch check
    in every block, when validated, then each block is sifted whole, its blank lines
    left out (not narrowed window by window, nor taken run by run), with the errors and
    lines the exact check gives."""
    records = [
        job(n, priority=9) if n % 97 == 5 else job(n, currency="usd") if n % 89 == 3 else job(n)
        for n in range(24_000)
    ]
    data = _with_blank_lines(records, 600)
    narrowed: list[int] = []
    runs: list[int] = []
    with pytest.MonkeyPatch.context() as mp:
        real = _ndjson._ndjson_narrow
        mp.setattr(_ndjson, "_ndjson_narrow", lambda *a, **k: narrowed.append(1) or real(*a, **k))
        real_runs = _ndjson._ndjson_runs
        mp.setattr(_ndjson, "_ndjson_runs", lambda *a: runs.append(1) or real_runs(*a))
        fast = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
        assert (narrowed, runs) == ([], [])
        _every_line_exactly(mp)
        exact = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
    assert fast == exact
    assert fast["invalid_records"] == len([r for r in records if "usd" in r or '"priority":9' in r])


def test_given_blank_lines_and_only_batch_check_refusals_then_the_whole_decode_is_sifted(
    validate: Validate,
) -> None:
    """Given NDJSON with blank lines whose blocks msgspec decodes whole and only a batch
    check refuses (a currency, an e-mail address), when validated, then each such block
    is sifted from those records (no window decoded again), with the errors and lines
    the exact check gives."""
    records = [
        job(n, currency="usd") if n % 89 == 3 else job(n, email="no-at") if n % 97 == 5 else job(n)
        for n in range(24_000)
    ]
    data = _with_blank_lines(records, 600)
    whole: list[bool] = []
    with pytest.MonkeyPatch.context() as mp:
        real = _ndjson._ndjson_sifted

        def spy(*args: Any, **kwargs: Any) -> bool:
            whole.append(len(args) > 4 and args[4][0] is not None)
            return real(*args, **kwargs)

        mp.setattr(_ndjson, "_ndjson_sifted", spy)
        fast = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
        _every_line_exactly(mp)
        exact = validate(data, "jobs.ndjson", max_errors=100_000).to_dict()
    assert fast == exact
    assert whole
    assert all(whole)
    assert fast["invalid_records"] == len([r for r in records if "usd" in r or "no-at" in r])


@pytest.mark.parametrize(
    ("indices", "refused", "lines"),
    [
        ([0, 1, 2], [], [0, 1, 2]),
        ([0, 1, 2], [0], [1, 2, 3]),
        ([0, 2, 3], [1, 2], [0, 4, 5]),
        ([4], [0, 1, 2, 3], [8]),
    ],
)
def test_given_decoded_indices_then_their_lines_skip_the_refused_ones(
    indices: list[int], refused: list[int], lines: list[int]
) -> None:
    """Decoded record d is the d-th line that was not refused."""
    assert kept_positions(indices, refused) == lines


@pytest.mark.parametrize("key", ["jobs.ndjson", "jobs.json"])
def test_given_only_batch_check_refusals_then_the_block_is_sifted_from_its_decoded_records(
    validate: Validate, key: str
) -> None:
    """Given NDJSON or a JSON array whose invalid records break only what the batch
    checks test after decoding (patterns, e-mail, date-times; a leap second is valid),
    when validated, then each refused block or run is sifted from the records already
    decoded (no window decoded again), and every error, its line and the counts are the
    narrowing's."""
    kinds: list[dict[str, Any]] = [
        {"currency": "usd"},
        {"email": "no-at"},
        {"submitted_at": "2026-01-05 09:30:00Z"},
        {"submitted_at": "2026-01-05T23:59:60Z"},
        {"job_id": "-bad"},
    ]
    records = [
        job(n, **(kinds[(n // 11) % len(kinds)] if n % 11 == 4 else {})) for n in range(12_000)
    ]
    ndjson = key.endswith(".ndjson")
    data = "".join(r + "\n" for r in records) if ndjson else "[" + ",\n".join(records) + "]"
    module: Any = _ndjson if ndjson else _json
    name = "_ndjson_sifted" if ndjson else "_json_sifted"
    at = 4  # the position of the decoded records among the arguments
    calls: list[tuple[bool, Any]] = []
    real = getattr(module, name)

    def spy(*args: Any) -> Any:
        done = real(*args)
        calls.append((len(args) > at and args[at][0] is not None, done))
        return done

    off: Any = False if ndjson else None
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ValidationSummary, "fit_budget", lambda self: None)
        mp.setattr(module, name, spy)
        fast = validate(data, key, max_errors=100_000).to_dict()
        mp.setattr(module, name, lambda *args: off)
        mp.setattr(_json, "_json_windows", lambda *args: None)
        narrowed = validate(data, key, max_errors=100_000).to_dict()
    assert fast == narrowed
    assert fast["invalid_records"] > 800
    assert calls
    assert all(from_decoded and done not in (None, False) for from_decoded, done in calls)


def _long_file(key: str) -> str:
    """About 2.5 MB of valid records in the format ``key`` names (several chunks)."""
    if key.endswith(".csv"):
        row = ",".join(GOOD) + "\n"
        return HEADER + "".join(row.format(n=n) for n in range(40_000))
    records = [job(n) for n in range(25_000)]
    return "[" + ",\n".join(records) + "]" if key.endswith(".json") else "\n".join(records)


@pytest.mark.parametrize("key", ["jobs.csv", "jobs.ndjson", "jobs.json"])
@pytest.mark.parametrize("max_bytes", [9_000, CHUNK - 1, CHUNK + 5, 2 * CHUNK + 123])
def test_given_a_stream_longer_than_max_bytes_then_every_path_gives_one_summary(
    validate: Validate, key: str, max_bytes: int
) -> None:
    """How far a path had read when the limit was crossed must not show: reading stops
    one byte past it and nothing checked before is counted."""
    data = _long_file(key)
    fast = validate(data, key, max_bytes=max_bytes).to_dict()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(CompiledSchema, "csv_columns", lambda self, header: None)
        mp.setattr(CompiledSchema, "batches", property(lambda self: False))
        exact = validate(data, key, max_bytes=max_bytes).to_dict()
    assert fast == exact
    assert (fast["reason"], fast["size"], fast["records"]) == ("TOO_LARGE", max_bytes + 1, 0)


@settings(max_examples=200, deadline=None)
@given(
    lines=st.integers(1, 60),
    blank_at=st.sets(st.integers(0, 59)),
    first_record=st.integers(1, 10**6),
    first_line=st.sampled_from([1, 17, 10**6, 2**31]),
)
def test_given_blank_lines_then_each_record_is_placed_at_its_own_line(
    lines: int, blank_at: set[int], first_record: int, first_line: int
) -> None:
    """Given a block's blank lines anywhere (every other line, runs of them, first and
    last), when its records' places are made, then record i is placed at its own line,
    as pack says."""
    blank = sorted(k for k in blank_at if k < lines)
    if not blank or len(blank) == lines:
        return  # no blank line: one range (consecutive); only blank lines: no record
    blanks = [(k, 0, 0) for k in blank]  # where a blank line starts plays no part here
    kept = [k for k in range(lines) if k not in blank_at]
    expected = [pack(first_record + i, first_line + k) for i, k in enumerate(kept)]
    assert list(_ndjson._places(first_record, first_line, lines, blanks)) == expected
