"""The compiled counts (``_native``) give exactly the Python definitions' answers
(``_scan``), and the key count is the number of keys a JSON parser reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import msgspec
import pytest
from engine_support import corpus, job
from hypothesis import example, given, settings
from hypothesis import strategies as st
from silent_scalper.engine import (
    Limits,
    SchemaRegistry,
    _json,
    _ndjson,
    _scan,
    _source,
    schemas,
    validate_stream,
)

native = pytest.importorskip(
    "silent_scalper.engine._native",
    reason="the compiled module is not built (a C compiler at install: docs/performance.md)",
)

# Characters that change what either count sees: quotes, escapes, colons, the formula
# starts, number parts, JSON whitespace and structure.
_TRICKY = '"\\:=+-@.eE0123456789 \t\r\n,[]{}ab'


def _objects_read(text: bytes) -> list[list[str]]:
    """The keys of every object of ``text``, repeats included, as a JSON parser reads them
    (the oracle)."""
    objects: list[list[str]] = []

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append([k for k, _ in pairs])
        return dict(pairs)

    json.loads(text, object_pairs_hook=hook)
    return objects


def _pairs_read(text: bytes) -> int:
    """Keys a JSON parser reads in ``text``, repeated ones included."""
    return sum(map(len, _objects_read(text)))


def _repeats_read(text: bytes) -> bool:
    """Whether some object of ``text`` repeats a key, as a JSON parser reads it."""
    return any(len(set(keys)) != len(keys) for keys in _objects_read(text))


def _escaped_key(text: bytes) -> bool:
    """Whether some key of ``text`` is written with an escape."""
    return any(b"\\" in key for key, colon in _KEYS.findall(text) if colon)


_KEYS = re.compile(rb'("(?:[^"\\]++|\\.)*+")([ \t\r\n]*+:)?', re.S)
_scalars = st.none() | st.booleans() | st.integers() | st.text(alphabet=_TRICKY, max_size=8)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(st.tuples(st.text(alphabet=_TRICKY, max_size=6), inner), max_size=4)
    ),
    max_leaves=12,
)


def _render(value: Any, space: str) -> str:
    """``value`` as JSON with ``space`` around every separator; a list of pairs is an
    object whose keys may repeat."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        items = [f"{json.dumps(k)}{space}:{space}{_render(v, space)}" for k, v in value]
        return "{" + f",{space}".join(items) + "}"
    if isinstance(value, list):
        return "[" + f",{space}".join(_render(v, space) for v in value) + "]"
    return json.dumps(value)


@settings(max_examples=300, deadline=None)
@given(_values, st.sampled_from(["", " ", "\t", "\r\n ", "  \n"]))
@example([("a", 1), ("a", 2)], " ")
@example([('k\\":', '"=x'), ("-1e5", "+1.5")], "")
def test_given_json_text_when_its_keys_are_counted_then_both_count_what_a_parser_reads(
    value: Any, space: str
) -> None:
    text = _render(value, space).encode()
    assert native.key_count(text) == _scan.key_count_python(text) == _pairs_read(text)


@settings(max_examples=300, deadline=None)
@given(_values, st.sampled_from(["", " ", "\t", "\r\n "]))
@example([("a", 1), ("b", [("a", 2), ("a", 3)])], "")
@example([("a", [[("a", 1)], [("a", 1)]]), ("b", 2)], " ")
@example([("\u00e9", 1), ("\u00e9", 2)], "")
@example([('"', 1), ('"', 2)], "")
def test_given_json_text_when_repeated_keys_are_sought_then_a_parser_agrees(
    value: Any, space: str
) -> None:
    text = _render(value, space).encode()
    found = native.repeats_key(text)
    if found == -1:
        assert _escaped_key(text)  # the bytes cannot tell only for a key with an escape
    else:
        assert found == int(_repeats_read(text))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            _values.map(lambda v: ("record", _render(v, " "))),
            st.text(alphabet=_TRICKY.replace("\n", ""), max_size=30).map(lambda t: ("text", t)),
        ),
        max_size=6,
    )
)
@example([("text", '{"a":"x'), ("record", '{"a": 1, "a": 2}')])
@example([("text", '{"a":1, "b": {'), ("record", '{"b": 1, "b": 2}')])
@example([("text", '"\\'), ("record", '{"c": 1, "c": 2}')])
@example([("text", '{"k":1,'), ("record", '{"k": 2}')])
def test_given_ndjson_with_broken_lines_when_repeats_are_sought_then_none_is_missed(
    lines: list[tuple[str, str]],
) -> None:
    text = "\n".join(line for _, line in lines).encode()
    found = native.line_repeats_key(text)
    well_formed = []
    for _, line in lines:
        try:
            well_formed.append(_repeats_read(line.encode()))
        except ValueError:
            continue
    if found == 0:
        assert not any(well_formed)  # a broken line never hides a repeat in another
    if all(kind == "record" for kind, _ in lines) and found != -1:
        assert found == int(any(well_formed))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=_TRICKY, max_size=60))
@example('{"a":"=1","b":"-2","c":"-2e5","d":"+1.5e","e":[ "@x"],"f":"-1e+5"}')
@example('{"a": \t"-1.5E-7", "b":"+.5", "c":"-", "d":"-e5"}')
@example(':"=')
@example('"=')
def test_given_any_text_when_formula_values_are_counted_then_the_counts_agree(text: str) -> None:
    data = text.encode()
    assert native.formula_count(data) == _scan.formula_count_python(data)
    assert native.newline_count(data) == _scan.newline_count_python(data) == data.count(b"\n")
    assert native.quote_count(data) == _scan.quote_count_python(data) == data.count(b'"')


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=_TRICKY, min_size=9, max_size=200),
    st.integers(min_value=0, max_value=8),
    st.sampled_from([b"", b',"', b'[ "=', b":"]),
)
@example('{"a":"=1",  "b":"@x","c":[ "+y"]}', 0, b'"')
def test_given_text_at_any_offset_when_formula_values_are_counted_then_only_the_viewed_bytes_count(
    text: str, pad: int, around: bytes
) -> None:
    # Given text whose quotes and formula starts fall anywhere in the module's eight-byte
    # words, viewed between bytes that would make a match if they were read
    data = text.encode()
    buffer = b"x" * pad + around + data + b"=1" + around
    view = memoryview(buffer)[pad + len(around) : pad + len(around) + len(data)]
    # When its formula values are counted, then the count is the definition's on the
    # viewed bytes alone
    assert native.formula_count(view) == _scan.formula_count_python(data)


@pytest.mark.parametrize("pad", range(17))
def test_given_a_quote_and_a_formula_start_across_any_word_edge_when_counted_then_each_is_found(
    pad: int,
) -> None:
    text = b'{"k":' + b" " * pad + b'"=SUM(A1)", "n": "-5", "m":"-x", "o": [' + b"\t" * pad
    text += b'"@me"]}'
    assert native.formula_count(text) == _scan.formula_count_python(text) == 3


_SIMILAR_KEYS = st.text(alphabet="abz", min_size=0, max_size=3)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SIMILAR_KEYS, max_size=90), st.lists(_SIMILAR_KEYS, max_size=5))
@example([f"k{i:02d}" for i in range(80)] + ["k07"], [])
@example(["abc", "azc", "aac"], ["abc"])
def test_given_objects_with_many_similar_keys_when_repeats_are_sought_then_a_parser_agrees(
    keys: list[str], nested: list[str]
) -> None:
    # Given objects whose keys share lengths and first and last characters (past the 64
    # the module tells apart without comparing them), one nested inside the other
    inner = [(k, i) for i, k in enumerate(nested)]
    value = [(k, i) for i, k in enumerate(keys)] + [("zzzz", inner or 0)]
    text = _render(value, " ").encode()
    # When repeated keys are sought, then the answer is the parser's, in either mode
    assert native.repeats_key(text) == int(_repeats_read(text))
    assert native.line_repeats_key(text) == int(_repeats_read(text))


# Byte sequences around every rule of UTF-8: each length, its first byte's edges (overlong
# forms, surrogates, past U+10FFFF), stray and missing continuation bytes.
_UTF8_PARTS = [
    b"a", b"\n", b"\x7f", b"\xc2\x80", b"\xdf\xbf", b"\xe0\xa0\x80", b"\xed\x9f\xbf",
    b"\xee\x80\x80", b"\xf0\x90\x80\x80", b"\xf4\x8f\xbf\xbf", b"\x80", b"\xbf", b"\xc0",
    b"\xc1\xbf", b"\xc2", b"\xe0\x9f\xbf", b"\xed\xa0\x80", b"\xe1\x80", b"\xf0\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80", b"\xf5\x80\x80\x80", b"\xff", b"\xf1\x80\x80", b"12345678",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(_UTF8_PARTS), max_size=30) | st.binary(max_size=40).map(lambda b: [b])
)
@example([b"abcdefg", b"\xc3\xa9", b"abcdefgh", b"\xe2\x82"])
def test_given_any_bytes_when_their_utf8_prefix_is_measured_then_both_definitions_agree(
    parts: list[bytes],
) -> None:
    data = b"".join(parts)
    assert native.utf8_prefix(data) == _scan.utf8_prefix_python(data)


def _corpus_texts() -> list[tuple[str, bytes]]:
    texts = [(p.name, p.read_bytes()) for p in sorted(corpus("JSONTestSuite").glob("*.json"))]
    for line in (corpus("naughty-strings") / "blns.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            record = {"notes": line, line[:20]: f"={line}", "n": [line, f"-{line}"]}
            texts.append((line[:20], json.dumps(record, ensure_ascii=False).encode()))
    return texts


# Lines of JSON whitespace, records, and bytes msgspec refuses (a form feed is not JSON
# whitespace).
_NDJSON_LINES = ["", " ", "\t", "\r", " \r", "{}", " {}", "1", "\f", "x"]


def _lines_msgspec_skips(text: bytes) -> list[int]:
    """The indices of the lines of NDJSON ``text`` that msgspec's ``decode_lines``
    skips (the oracle): each line on its own is decoded as no record."""
    lines = text.split(b"\n")
    if lines[-1:] == [b""]:
        lines.pop()  # a final line feed ends the last line
    skipped = []
    for index, line in enumerate(lines):
        try:
            records = msgspec.json.Decoder(Any).decode_lines(line)
        except msgspec.DecodeError:
            continue
        if not records:
            skipped.append(index)
    return skipped


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_NDJSON_LINES), max_size=12))
@example(["", ""])
@example([" ", "{}"])
def test_given_ndjson_lines_when_blank_ones_are_found_then_both_definitions_and_msgspec_agree(
    lines: list[str],
) -> None:
    """Given NDJSON text with lines of JSON whitespace, records and other bytes, with and
    without a final line feed, when its blank lines are found, then the compiled and the
    Python definitions give the same (index, start, next start), the lines are those
    msgspec skips, and each start and next start is where that line and the next begin."""
    for text in ("\n".join(lines).encode(), ("\n".join(lines) + "\n").encode()):
        found = native.blank_lines(text)
        assert found == _scan.blank_lines_python(text)
        assert [index for index, _, _ in found] == _lines_msgspec_skips(text)
        starts = [0, *(i + 1 for i, byte in enumerate(text) if byte == ord("\n"))]
        for index, start, after in found:
            assert start == starts[index]
            assert after == (starts[index + 1] if index + 1 < len(starts) else len(text))


def test_given_every_corpus_text_when_counted_then_both_definitions_agree() -> None:
    for name, text in _corpus_texts():
        # Formulas are counted on any text; keys on well-formed text (what the engine
        # passes: records msgspec has decoded).
        assert native.formula_count(text) == _scan.formula_count_python(text), name
        assert native.newline_count(text) == text.count(b"\n"), name
        assert native.utf8_prefix(text) == _scan.utf8_prefix_python(text), name
        assert native.quote_count(text) == _scan.quote_count_python(text), name
        assert native.blank_lines(text) == _scan.blank_lines_python(text), name
        try:
            read = _pairs_read(text)
        except (ValueError, RecursionError):
            continue
        assert native.key_count(text) == _scan.key_count_python(text) == read, name
        found = native.repeats_key(text)
        assert found == int(_repeats_read(text)) or (found == -1 and _escaped_key(text)), name


def test_given_a_memoryview_when_counted_then_it_counts_the_viewed_bytes() -> None:
    text = b'xx{"a": "=1", "b" :2}yy'
    view = memoryview(text)[2:-2]
    assert native.key_count(view) == 2
    assert native.formula_count(view) == 1
    assert native.newline_count(memoryview(b"\n\nx\n")[1:3]) == 1
    # A sequence cut off by the view's end, whatever bytes follow it outside the view.
    assert native.utf8_prefix(memoryview(b"ab\xe2\x82\xac")[:4]) == 2
    assert native.utf8_prefix(memoryview(b"ab\xc3\xa9")[:3]) == 2
    assert native.quote_count(memoryview(b'"a""b"')[1:4]) == 2


def test_given_a_str_when_counted_then_a_type_error_says_bytes_are_wanted() -> None:
    with pytest.raises(TypeError):
        native.key_count("{}")


def test_given_the_built_module_then_the_engine_counts_with_it() -> None:
    assert _scan.NATIVE
    assert _scan.key_count is native.key_count
    assert _scan.formula_count is native.formula_count
    assert _scan.utf8_prefix is native.utf8_prefix
    assert _scan.blank_lines is native.blank_lines
    assert _scan.decode_windows is native.decode_windows
    assert _scan.line_texts is native.line_texts
    assert _json._buffer_offsets is native.buffer_offsets


def _summaries(paths: list[Path]) -> list[dict[str, Any]]:
    registry = SchemaRegistry.load()
    out = []
    for path in paths:
        with path.open("rb") as stream:
            summary = validate_stream(
                stream, key=path.name, schema=registry.get("job.v1"), limits=Limits(1 << 30)
            )
        out.append(summary.to_dict())
    return out


def test_given_the_same_files_when_validated_without_the_module_then_the_summaries_are_equal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given NDJSON and JSON arrays with 2 % invalid records, and records with a repeated
    # key, an escaped key and a formula value
    records = [
        job(i, status="nope")
        if i % 100 == 7
        else job(i, customer_id="x")
        if i % 100 == 53
        else job(i, notes=" spaced ")
        if i % 10 == 3
        else job(i)
        for i in range(5000)
    ]
    lines, array = tmp_path / "jobs.ndjson", tmp_path / "jobs.json"
    lines.write_text("\n".join(records) + "\n\n \r\n", encoding="utf-8")
    array.write_text("[\n" + ",\n".join(records) + "\n]", encoding="utf-8")
    paths = [lines, array]
    extra = tmp_path / "extra.ndjson"
    extra.write_text(
        "\n".join(
            [
                '{"job_id": "J-0001", "submitted_at": "2026-01-05T09:00:00Z", '
                '"customer_id": 7, "status": "queued", "notes": "=cmd"}',
                '{"job_id": "J-0002", "submitted_at": "2026-01-05T09:00:00Z", '
                '"customer_id": 7, "status": "queued", "status": "failed"}',
                '{"job_\\u0069d": "J-0003", "submitted_at": "2026-01-05T09:00:00Z", '
                '"customer_id": 7, "status": "queued", "job_id": "J-0004"}',
            ]
        )
    )
    paths.append(extra)
    # When they are validated with the compiled module and then without it
    with_module = _summaries(paths)
    monkeypatch.setattr(schemas, "key_count", _scan.key_count_python)
    monkeypatch.setattr(schemas, "repeats_key", _scan.repeats_key_python)
    monkeypatch.setattr(schemas, "line_repeats_key", _scan.repeats_key_python)
    monkeypatch.setattr(schemas, "NATIVE", False)
    monkeypatch.setattr(_json, "formula_count", _scan.formula_count_python)
    monkeypatch.setattr(_ndjson, "formula_count", _scan.formula_count_python)
    monkeypatch.setattr(_ndjson, "blank_lines", _scan.blank_lines_python)
    monkeypatch.setattr(_ndjson, "decode_windows", _scan.decode_windows_python)
    monkeypatch.setattr(_json, "decode_windows", _scan.decode_windows_python)
    monkeypatch.setattr(_ndjson, "line_texts", _scan.line_texts_python)
    monkeypatch.setattr(_json, "_buffer_offsets", None)
    monkeypatch.setattr(_source, "newline_count", _scan.newline_count_python)
    monkeypatch.setattr(_source, "utf8_prefix", _scan.utf8_prefix_python)
    monkeypatch.setattr(_json, "newline_count", _scan.newline_count_python)
    without = _summaries(paths)
    # Then every summary is the same, errors and counts included
    assert with_module == without
    assert [s["invalid_records"] for s in with_module] == [100, 100, 2]
    assert with_module[-1]["formula_cells"] == 1


# -- decoding a refused block's windows -------------------------------------------------


class _Rec(msgspec.Struct, forbid_unknown_fields=True):
    n: int


_RECORD_LINES = msgspec.json.Decoder(_Rec).decode_lines
_RECORD_ARRAY = msgspec.json.Decoder(list[_Rec]).decode
# What the windows meet: records, a refused value, an unknown key, broken JSON, a blank
# line, a `},` inside a string (a false cut), and closing braces with no comma after them.
_ELEMENTS = st.sampled_from(
    [
        '{"n": 1}',
        '{"n":22}',
        '{"n": "x"}',
        '{"m": 3}',
        '{"n": 4',
        "",
        '{"n": 5, "s": "},"}',
        '{"n": 6 }',
        '{"n": 7} ',
        '{"n": 8, "s": "a}b"}',
    ]
)


def _windows(
    decode_windows: Any, decode: Any, text: bytes, step: int, framed: bool
) -> list[tuple[Any, ...]]:
    """Every call of ``decode_windows`` over ``text``: resumed past each refused window,
    as the engine resumes past the refused record, with what each call gave."""
    calls: list[tuple[Any, ...]] = []
    pos, line = 0, 0
    while True:
        decoded: list[Any] = []
        marks: list[int] = []
        marks_at: list[int] = []
        pos, line, end, exc = decode_windows(
            decode,
            memoryview(text),
            pos,
            line,
            step,
            schemas.RECORD_EXCEPTIONS,
            decoded,
            marks,
            marks_at,
            framed,
        )
        failure = None if exc is None else (type(exc), str(exc))
        calls.append((pos, line, end, failure, decoded, marks, marks_at))
        if exc is None:
            return calls
        pos, line = end + 1, line + 1


@settings(max_examples=300, deadline=None)
@given(
    elements=st.lists(_ELEMENTS, max_size=40),
    step=st.integers(min_value=0, max_value=60),
    framed=st.booleans(),
)
def test_given_any_windows_when_decoded_then_the_compiled_loop_gives_the_pythons_answers(
    elements: list[str], step: int, framed: bool
) -> None:
    # Given records, refused and broken ones among them, as NDJSON lines or array elements
    text = (",".join(elements) if framed else "\n".join(elements)).encode()
    decode = _RECORD_ARRAY if framed else _RECORD_LINES
    # When both loops decode its windows, resuming past each refused one
    compiled = _windows(native.decode_windows, decode, text, step, framed)
    python = _windows(_scan.decode_windows_python, decode, text, step, framed)
    # Then every call gives the same positions, records, marks and refusal
    assert compiled == python


class _Loop:
    """A window loop used as the engine uses it: over one text, the lists it fills kept
    from one call to the next."""

    def __init__(
        self, decode_windows: Any, decode: Any, text: bytes, step: int, framed: bool = False
    ) -> None:
        self.decode_windows, self.decode, self.text = decode_windows, decode, text
        self.step, self.framed = step, framed
        self.decoded: list[Any] = []
        self.marks: list[int] = []
        self.marks_at: list[int] = []

    def __call__(self, pos: int, line: int) -> tuple[int, int, int, BaseException | None]:
        result: tuple[int, int, int, BaseException | None] = self.decode_windows(
            self.decode,
            memoryview(self.text),
            pos,
            line,
            self.step,
            schemas.RECORD_EXCEPTIONS,
            self.decoded,
            self.marks,
            self.marks_at,
            self.framed,
        )
        return result


def test_given_ndjson_lines_when_decoded_in_windows_then_each_window_ends_at_a_line_feed() -> None:
    for decode_windows in (native.decode_windows, _scan.decode_windows_python):
        # Given four lines, the third refused, and windows of at least 9 bytes
        loop = _Loop(decode_windows, _RECORD_LINES, b'{"n":1}\n{"n":2}\n{"n":"x"}\n{"n":4}\n', 9)
        # When the windows are decoded from the start, its line taken as line 10
        pos, line, end, exc = loop(0, 10)
        # Then the first window (two lines, the first line feed 9 bytes on ends the
        # second) is accepted and the second is the refused one, its records not kept
        assert (pos, line, end) == (16, 12, 26)
        assert isinstance(exc, msgspec.ValidationError)
        assert loop.decoded == [_Rec(1), _Rec(2)]
        assert (loop.marks, loop.marks_at) == ([10, 12], [0, 16])
        # And resuming past the refused line, the rest is done
        assert loop(26, 13) == (34, 14, 34, None)
        assert loop.decoded[-1] == _Rec(4)


def test_given_array_elements_when_decoded_in_windows_then_each_is_framed_as_an_array() -> None:
    decode = msgspec.json.Decoder(list[dict[str, Any]]).decode
    for decode_windows in (native.decode_windows, _scan.decode_windows_python):
        # Given three elements, a `},` inside the first one's string, and windows of at
        # least 1 byte
        text = b'{"n":1,"s":"},"},{"n":2},{"n":3}'
        loop = _Loop(decode_windows, decode, text, 1, framed=True)
        # When the windows are decoded from the start
        pos, line, end, exc = loop(0, 0)
        # Then the false cut inside the string is not where a window ends: msgspec reads
        # the broken window and says so, and nothing of it is kept
        assert (pos, line, end) == (0, 0, 13)
        assert isinstance(exc, msgspec.DecodeError)
        assert loop.decoded == []
        # And from the second element on, each window is one element, past its comma
        assert loop(17, 1) == (len(text), 3, len(text), None)
        assert loop.decoded == [{"n": 2}, {"n": 3}]
        assert (loop.marks, loop.marks_at) == ([0, 1, 2], [0, 17, 25])


def test_given_a_decoder_failing_otherwise_when_windows_are_decoded_then_its_error_propagates() -> (
    None
):
    def broken(_: object) -> list[Any]:
        raise KeyError("not a refusal")

    for decode_windows in (native.decode_windows, _scan.decode_windows_python):
        with pytest.raises(KeyError):
            decode_windows(
                broken, memoryview(b"{}\n"), 0, 0, 0, schemas.RECORD_EXCEPTIONS, [], [], []
            )
        with pytest.raises(ValueError, match="negative"):
            decode_windows(
                _RECORD_LINES, memoryview(b"{}\n"), -1, 0, 0, schemas.RECORD_EXCEPTIONS, [], [], []
            )


def test_given_no_marks_wanted_when_windows_are_decoded_then_the_rest_is_the_same() -> None:
    text = b'{"n":1}\n{"n":2}\n{"n":"x"}\n{"n":4}\n'
    for decode_windows in (native.decode_windows, _scan.decode_windows_python):
        # Given the windows of a text decoded once with marks and once without
        marked = _Loop(decode_windows, _RECORD_LINES, text, 9)
        unmarked: list[Any] = []
        # When both read the text
        with_marks = marked(0, 0)
        stop_on = schemas.RECORD_EXCEPTIONS
        without = decode_windows(
            _RECORD_LINES, memoryview(text), 0, 0, 9, stop_on, unmarked, None, None
        )
        # Then they stop at the same refused window with the same records
        assert with_marks[:3] == without[:3] == (16, 2, 26)
        assert unmarked == marked.decoded
        # And marks are both lists or both None
        with pytest.raises(TypeError, match="both None"):
            decode_windows(
                _RECORD_LINES, memoryview(text), 0, 0, 9, schemas.RECORD_EXCEPTIONS, [], [], None
            )


# -- lines by index ---------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(st.sampled_from([b"", b"a", b"bc", b"\r", b" "]), max_size=12).map(b"\n".join),
    picks=st.lists(st.integers(min_value=0, max_value=14), max_size=8),
)
def test_given_any_text_when_lines_are_taken_by_index_then_the_compiled_twin_agrees(
    text: bytes, picks: list[int]
) -> None:
    # Given NDJSON-like text and line indices in order, some maybe past its last line
    wanted = sorted(picks)

    def taken(line_texts: Any) -> Any:
        try:
            return line_texts(text, wanted)
        except IndexError:
            return IndexError

    # When both take those lines
    # Then they give the same lines, each the part split(b"\n") gives, or both say an
    # index is past the last line
    assert taken(native.line_texts) == taken(_scan.line_texts_python)
    if not wanted or wanted[-1] <= text.count(b"\n"):
        assert taken(native.line_texts) == [text.split(b"\n")[k] for k in wanted]


def test_given_line_indices_out_of_order_when_taken_then_both_refuse_them() -> None:
    for line_texts in (native.line_texts, _scan.line_texts_python):
        with pytest.raises(ValueError, match="in order"):
            line_texts(b"a\nb\nc", [2, 1])
        with pytest.raises(ValueError, match="in order"):
            line_texts(b"a\nb\nc", [-1])
        assert line_texts(memoryview(b"xa\nb\nc")[1:], [0, 0, 2]) == [b"a", b"a", b"c"]


# -- where decoded values lie in their text ----------------------------------------------

_VALUES = st.sampled_from(['{"n": 1}', '{"s": "},"}', "2", '"x"', '[1, {"a": []}]', "null"])
_SEPARATORS = st.sampled_from([",", ", ", " ,\n  ", ",\t"])


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(_VALUES, min_size=1, max_size=12),
    separator=_SEPARATORS,
    lead=st.sampled_from(["", " ", "\n  "]),
    picks=st.lists(st.integers(min_value=0, max_value=11), max_size=6),
)
def test_given_raw_values_when_placed_by_their_buffers_then_the_offsets_are_the_texts(
    values: list[str], separator: str, lead: str, picks: list[int]
) -> None:
    # Given array elements, as a run of a JSON array, read as Raw values from its framing
    run = (lead + separator.join(values)).encode()
    framed = b"[" + run + b"]"
    raws = _json._RAW_LIST.decode(framed)
    wanted = sorted({k for k in picks if k < len(raws)})
    # When some are placed from where their buffers lie
    placed = _json._offsets_at(run, framed, raws, wanted)
    # Then each offset is where the element's text starts in the run, as found from the
    # texts, and the element's text is there
    every = _json._offsets(run, raws)
    assert placed == [every[k] for k in wanted]
    texts = [run[at : at + len(raws[k])] for at, k in zip(placed, wanted, strict=True)]
    assert texts == [bytes(raws[k]) for k in wanted]


def test_given_raw_values_not_read_from_the_text_then_their_buffers_place_nothing() -> None:
    # Given Raw values decoded from a copy of the text, and one made on its own
    framed = b'[{"n": 1}, 2]'
    copied = _json._RAW_LIST.decode(bytes(bytearray(framed)))
    # When their buffers are looked for in the text
    # Then none is placed (the caller finds them from their texts), and an empty list is
    assert native.buffer_offsets(framed, copied) is None
    assert native.buffer_offsets(framed, [msgspec.Raw(b"2")]) is None
    assert native.buffer_offsets(framed, []) == []
    assert native.buffer_offsets(framed, _json._RAW_LIST.decode(framed)) == [1, 11]
