"""JSON Schema loading and compilation into the fastest validator that fits.

A schema file is checked once at load (``Draft202012Validator.check_schema``) and then
compiled; a folder's ``checked.sha256`` (written by :func:`write_checked`, which ``sam
build`` runs on the layer's schemas) names documents already checked, whose check, and
with it importing ``jsonschema`` at a cold start, is skipped. A flat object schema gets
two validators that always agree (``rules`` defines what valid means):

- the exact check, :class:`~silent_scalper.engine.rules.RecordRules`: one record (JSON
  bytes or CSV cells) at a time, every problem worded and located;
- batch filters that accept many records in one C call: a ``msgspec.Struct`` type built
  with ``msgspec.defstruct`` (types, bounds, lengths, string enums as ``Literal``,
  ``additionalProperties: false`` as ``forbid_unknown_fields``), then each string
  pattern (and date-time and e-mail as patterns) over a whole batch, and a count of the
  batch's keys against the fields it filled (a repeated key). A filter only accepts
  what the exact check accepts (number bounds are made exclusive, so a value that is a
  bound after rounding to a float is checked exactly); whatever it refuses goes to the
  exact check, which has the last word.

A schema using anything else (nested objects, ``oneOf``, ``$ref``...) is checked record by
record with ``jsonschema`` on exactly read values (integers as int, other numbers as
Decimal), with the engine's date-time and e-mail rules as its format checks.

Here: the registry, the compiled schema and its compilation. The parts it is made of live
in ``_errors`` (exceptions), ``_struct`` (the Struct filter), ``_fields`` (a field of
many records read at once), ``_patterns`` (batch string checks), ``_cells`` (CSV column
checks) and ``_fallback`` (jsonschema's format checks).

Two annotation keywords (JSON Schema ignores unknown keywords) carry what a record
schema cannot say: ``x-unique`` lists properties whose values must be unique within a
file, ``x-timestamp`` names the property whose first/last values the summary reports.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import Any, NamedTuple

import msgspec

from silent_scalper.engine._cells import (
    CellRule,
    CsvColumns,
    _cell_kinds,
    _cell_number_problem,
    _cells_fit,
    _coerce_cell,
    _csv_rules,
)
from silent_scalper.engine._constraints import ValueChecks
from silent_scalper.engine._errors import (
    AT_BYTE,
    RECORD_EXCEPTIONS,
    RecordError,
    SchemaLoadError,
    UnknownSchemaError,
    failing_index,
    to_record_error,
)
from silent_scalper.engine._fallback import _format_checker
from silent_scalper.engine._fields import FieldReader
from silent_scalper.engine._patterns import PatternCheck, time_span
from silent_scalper.engine._scan import NATIVE, key_count, line_repeats_key, repeats_key
from silent_scalper.engine._struct import _fast_struct
from silent_scalper.engine.rules import (
    EXACT_CONTEXT,
    EXACT_VALUES,
    ColumnVerdict,
    Num,
    Obj,
    RecordRules,
    duplicate_keys,
    is_date_time,
    json_type,
    number_problem,
    parse_tree,
    plain,
    quick_column,
    to_datetimes,
)
from silent_scalper.engine.types import Reason, clip

__all__ = [
    "ANY_SCHEMA",
    "CHECKED_FILE",
    "RECORD_EXCEPTIONS",
    "Checked",
    "CompiledSchema",
    "RecordError",
    "SchemaLoadError",
    "SchemaRegistry",
    "UnknownSchemaError",
    "array_refusal",
    "compile_schema",
    "document_digest",
    "lines_refusal",
    "to_record_error",
    "write_checked",
]

ANY_SCHEMA = "any"

_BUNDLED_DIR = Path(__file__).resolve().parent.parent / "schemas"
#: The file in a schema folder listing the documents (by :func:`document_digest`) that
#: passed the meta-schema check when :func:`write_checked` wrote it.
CHECKED_FILE = "checked.sha256"
_JSON_WS = b" \t\r\n"
_WELL_FORMED: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
# What reading a record exactly can raise: msgspec's, or any other ValueError (the tree
# path then words the record). Numbers past Decimal's exponents no longer raise: see
# rules.exact_decimal.
_EXACT_READ_EXCEPTIONS: tuple[type[BaseException], ...] = (*RECORD_EXCEPTIONS, ValueError)


class Checked(NamedTuple):
    """The exact check of one record: every problem found (none: valid) and, for a valid
    record, its unique-key text and timestamp (None where absent or not tracked). A named
    tuple: one is made for every record the exact check takes, and a frozen dataclass
    took four times as long to make."""

    errors: list[RecordError]
    key: str | None = None
    time: datetime | None = None


class WholeRefusal(NamedTuple):
    """What :meth:`CompiledSchema.whole_refused` finds in records decoded whole."""

    #: The records refused, sorted; None when a batch check refuses and names none.
    flagged: list[int] | None
    #: Whether each of them holds a decoded value its property's rule refuses.
    proven: bool
    #: Whether a record breaks a constraint the lenient twin leaves out (the record type
    #: refused the block): the next block is then likely refused too, and is first
    #: decoded into the twin (``twin_first``).
    by_value: bool


@dataclass(frozen=True, eq=False)
class CompiledSchema:
    """A loaded schema, compiled once, applied to every record of many files.

    ``properties`` (in file order) are the CSV columns; ``required`` must be present;
    ``closed`` means no other property is allowed. ``fast`` tells whether batches of
    records are filtered in C (else each record is checked by jsonschema).
    """

    name: str
    document: Mapping[str, Any]
    path: Path | None
    properties: tuple[str, ...]
    required: frozenset[str]
    closed: bool
    unique: tuple[str, ...]
    timestamp: str | None
    fast: bool
    _record_type: Any = field(repr=False)
    _one: msgspec.json.Decoder[Any] = field(repr=False)
    _many: msgspec.json.Decoder[Any] = field(repr=False)
    _key: Callable[[Any], Any] | None = field(repr=False)
    _time: Callable[[Any], Any] | None = field(repr=False)
    _validator: Any = field(repr=False)  # jsonschema's, for schemas that are not fast
    _property_types: Mapping[str, str] = field(repr=False)
    _rules: RecordRules | None = field(repr=False, default=None)
    _patterns: tuple[PatternCheck, ...] = field(repr=False, default=())
    # The constraints the record type's lenient twin leaves out, and decoders of the twin
    # (NDJSON lines, arrays): what a whole block is decoded into (see _constraints).
    _values: ValueChecks | None = field(repr=False, default=None)
    _whole_one: msgspec.json.Decoder[Any] | None = field(repr=False, default=None)
    _whole_many: msgspec.json.Decoder[Any] | None = field(repr=False, default=None)
    _cell_kinds: Mapping[str, str] = field(repr=False, default_factory=dict)
    _csv_rules: Mapping[str, CellRule | None] | None = field(repr=False, default=None)
    _time_required: bool = field(repr=False, default=False)
    _date_times: frozenset[str] = field(repr=False, default=frozenset())
    _required_count: int = field(repr=False, default=0)
    _optional: tuple[Callable[[Any], Any], ...] = field(repr=False, default=())
    # The key's and the time's field of many records at once (see _fields), when they
    # are read as they are (None: map ``_key`` / ``_time`` over the records).
    _keys: Callable[[list[Any]], list[Any]] | None = field(repr=False, default=None)
    _times: Callable[[list[Any]], list[Any]] | None = field(repr=False, default=None)
    # Each property's whole-column verdict for :meth:`settled_counts` (see
    # :func:`~silent_scalper.engine.rules.quick_column`), where it has one.
    _columns: Mapping[str, ColumnVerdict] = field(repr=False, default_factory=dict)
    # The problems of a CSV column's cell judged alone, by (column, cell): see
    # :meth:`suspect_problems`. Bounded, and only short cells (the ones that repeat).
    _cell_memo: dict[tuple[str, str], tuple[tuple[str, str], ...]] = field(
        repr=False, default_factory=dict
    )
    # Whether a number a value check refused is proven to break its rule, by (check,
    # value): a refused amount often repeats down a file, and its proof is three exact
    # readings. Bounded like the cells' memo.
    _number_proofs: dict[tuple[int, float], bool] = field(repr=False, default_factory=dict)

    @property
    def text_columns(self) -> frozenset[str] | None:
        """Free-text properties (strings without enum or date-time); None: any column."""
        if self.name == ANY_SCHEMA:
            return None
        props = self.document.get("properties", {})
        out = set()
        for name, sub in props.items() if isinstance(props, dict) else ():
            kind = sub.get("type") if isinstance(sub, dict) else None
            is_string = kind == "string" or (isinstance(kind, list) and "string" in kind)
            if kind is None or (
                is_string and "enum" not in sub and sub.get("format") != "date-time"
            ):
                out.add(name)
        return frozenset(out)

    @property
    def _list_type(self) -> Any:
        return list[self._record_type]  # type: ignore[name-defined]

    # -- the exact check, one record ---------------------------------------------------
    def check_record(self, data: bytes | memoryview) -> Checked:
        """Every problem of one JSON record (its bytes), or its key and time if valid.

        Well-formedness first (msgspec, strict JSON): broken JSON is the one problem
        reported. Then each repeated key, the value's type, and each property's rule.
        A flat schema's invalid record usually takes :meth:`_flat_problems` instead,
        which finds the same problems in the same order for less.
        """
        if self._rules is not None:
            found = self._flat_problems(data)
            if found is not None:
                return Checked(found)
        return self._tree_check(data)

    def _tree_check(self, data: bytes | memoryview) -> Checked:
        """:meth:`check_record` from the record parsed as a tree (every pair of every
        object kept, numbers as their text): the definition the quicker reading agrees
        with, and the path of everything that reading cannot settle."""
        try:
            _WELL_FORMED.decode(data)
        except msgspec.ValidationError:
            pass  # well-formed, with a number beyond msgspec's range: the rules say which
        except RECORD_EXCEPTIONS as exc:
            return Checked([to_record_error(exc, data)])
        try:
            tree = parse_tree(bytes(data).decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # pragma: no cover - msgspec took it
            return Checked([RecordError(Reason.MALFORMED, f"not well-formed JSON: {exc}")])
        errors = [
            RecordError(
                Reason.SCHEMA_VIOLATION,
                f"key {clip(key, 80)!r} appears more than once in the object",
                path,
            )
            for path, key in duplicate_keys(tree)
        ]
        if not isinstance(tree, Obj):
            got = json_type(tree)
            errors.append(RecordError(Reason.SCHEMA_VIOLATION, f"Expected `object`, got `{got}`"))
            return Checked(errors)
        errors += self._tree_problems(tree)
        if errors:
            return Checked(errors)
        return self._valid(dict(tree.pairs))

    def _flat_problems(self, data: bytes | memoryview) -> list[RecordError] | None:
        """The problems of an invalid record of a flat schema, read in one msgspec call
        (:data:`~silent_scalper.engine.rules.EXACT_VALUES`) rather than as a tree; None
        when this reading cannot tell: the text does not decode (broken JSON, a number
        beyond msgspec's range), is not an object, may repeat a key, or the record is
        valid (the tree path then gives its key and time as it always has).

        The rules see the values the tree gives (numbers exact), so they word the same
        problems in the same order. A repeated key is ruled out by counting: the keys of
        the text, nested ones included (:func:`~silent_scalper.engine._scan.key_count`,
        exact on well-formed JSON, which this is once decoded), are as many as the
        object has only when no key repeats and no nested object has keys (the tree
        would find no repeated key either).
        """
        assert self._rules is not None
        try:
            values = EXACT_VALUES.decode(data)
        except _EXACT_READ_EXCEPTIONS:
            return None
        if not _settled(values, data):
            return None
        problems = self._rules.problems(values)
        if not problems:
            return None
        return [RecordError(Reason.SCHEMA_VIOLATION, m, p) for p, m in problems]

    def settled_counts(self, texts: list[bytes], *, lines: bool) -> tuple[list[int], list[bool]]:
        """How many problems :meth:`check_record` finds in each record (``texts``, each
        one NDJSON line when ``lines``, else one array element), and whether the reading
        settled the record. The records are read as :meth:`_flat_problems` reads one, in
        one call, and the rules applied a property at a time
        (:meth:`RecordRules.problem_counts`). Where that reading cannot tell (as
        :meth:`_flat_problems` returns None: broken JSON, not an object, a key that may
        repeat, a number past msgspec's range) the record is not settled and its count
        means nothing; a record settled with no problem is valid."""
        if self._rules is None or not texts:
            return [0] * len(texts), [False] * len(texts)
        values = _exact_records(texts, lines=lines)
        settled = [_settled(v, text) for v, text in zip(values, texts, strict=True)]
        counts = self._rules.problem_counts(
            [v if ok else {} for v, ok in zip(values, settled, strict=True)], self._columns
        )
        return counts, settled

    def refusal_counts(
        self, texts: list[bytes], named: Sequence[str | None], *, lines: bool
    ) -> list[int]:
        """What to count for each refused record (``texts``, each one NDJSON line when
        ``lines``, else one array element) none of whose errors will be kept: a number of
        its problems, at least one, that :meth:`check_record` would find, all schema
        violations; or 0 where that check must tell (the reading cannot settle the
        record, or finds no problem).

        Past the kept errors the summary needs only whether each record has a problem
        (the errors' total says whether any went unkept), so a record is first put to
        the property it was refused at: ``named[i]``, the property msgspec named, or
        None for the batch checks' properties (a record a batch check refused breaks
        one of them). One problem found there counts 1. Only the records whose named
        properties break nothing (the record type refuses more than the schema in places:
        a bound clamped to what msgspec holds, a number rounded to a double) are counted
        whole, a property at a time (:meth:`RecordRules.problem_counts`). Each record is
        read as :meth:`settled_counts` reads it."""
        rules = self._rules
        if rules is None or not texts:
            return [0] * len(texts)
        values = _exact_records(texts, lines=lines)
        batch = tuple(check.prop for check in self._patterns)
        out = [0] * len(texts)
        whole: list[int] = []  # the records counted whole
        for i, (v, text, name) in enumerate(zip(values, texts, named, strict=True)):
            if not _settled(v, text):
                continue  # the exact check tells
            if any(rules.breaks(v, prop) for prop in (batch if name is None else (name,))):
                out[i] = 1
            else:
                whole.append(i)
        if whole:
            counts = rules.problem_counts([values[i] for i in whole], self._columns)
            for i, n in zip(whole, counts, strict=True):
                out[i] = n
        return out

    def check_cells(self, cells: Mapping[str, str], only: frozenset[str] | None = None) -> Checked:
        """Every problem of one CSV row (its non-empty cells by column), or its key and time.

        ``only``: the columns that can hold a problem (another check accepted every other
        cell, and a cell's problems depend on that cell alone); the row's problems are
        then found from those, in the same order. A row without any is checked whole, for
        its key and time.
        """
        if only is not None and self._rules is not None:
            found = self._cell_problems({k: v for k, v in cells.items() if k in only}, only)
            if found:
                return Checked(found)
        if self._rules is None:
            types = self._property_types
            limits = [
                RecordError(Reason.SCHEMA_VIOLATION, problem, f"$.{k}")
                for k, v in cells.items()
                if (problem := _cell_number_problem(v, types.get(k))) is not None
            ]
            if limits:  # as a JSON record's: its number limits first, alone
                return Checked(limits)
            values = {k: _coerce_cell(v, types.get(k)) for k, v in cells.items()}
            errors = self._validator_problems(values)
            return Checked(errors) if errors else self._valid(values)
        tree_values, cell_problems = self._read_cells(cells)
        problems = self._rules.problems(tree_values, cell_problems)
        if problems:
            return Checked([RecordError(Reason.SCHEMA_VIOLATION, m, p) for p, m in problems])
        return self._valid(tree_values)

    def _read_cells(self, cells: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """Each cell read by its property's rule: the values read, and the problem of each
        cell that could not be (a property without a rule keeps its text)."""
        assert self._rules is not None
        by_name = self._rules.by_name
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for prop, cell in cells.items():
            rule = by_name.get(prop)
            if rule is None:
                values[prop] = cell
                continue
            value, problem = rule.from_cell(cell)
            if problem is None:
                values[prop] = value
            else:
                problems[prop] = problem
        return values, problems

    def suspect_problems(
        self, names: frozenset[str], row: list[str], index: Mapping[str, int]
    ) -> list[tuple[str, str]] | None:
        """(path, message) of each problem of the columns ``names`` of one CSV row
        (``row[index[name]]`` is a column's cell, "" when empty), in the order
        :meth:`check_cells` lists them with ``only=names``: what it finds for a row when
        some problem is there. None for a schema without flat rules.

        A column's problems depend on its cell alone, so each column is judged on its own
        and the problems of short cells are remembered: a refused value that repeats
        down a file (a misspelt status, a currency in lower case) is judged once.
        """
        rules = self._rules
        if rules is None:
            return None
        if len(names) == 1:
            (name,) = names
            return list(self._column_problems(name, row[index[name]]))
        # Unknown columns first (a closed schema lists them before its rules), in
        # header order, as the joint check does.
        position = rules.position
        out: list[tuple[str, str]] = []
        for name in sorted(names, key=lambda n: (position.get(n, -1), index[n])):
            out += self._column_problems(name, row[index[name]])
        return out

    def pattern_refuses(self, name: str) -> Callable[[str], bool] | None:
        """A test of property ``name``'s strings (a non-empty CSV cell, or a value)
        true only of those its rule finds a problem in: the property's batch check
        refusing the text, since :meth:`PatternCheck.matches` is the rule's own test
        (its pattern, or its format's). None when the property has no batch check."""
        for check in self._patterns:
            if check.prop == name:
                matches = check.matches
                return lambda text: not matches(text)
        return None

    def cell_problem_count(self, name: str, cell: str) -> int | None:
        """How many problems property ``name``'s CSV cell has alone ("" when empty): as
        many as :meth:`suspect_problems` lists for that column. None for a schema
        without flat rules."""
        if self._rules is None:
            return None
        return len(self._column_problems(name, cell))

    def _column_problems(self, name: str, cell: str) -> tuple[tuple[str, str], ...]:
        """The problems of property ``name``'s CSV cell alone ("": absent), remembered."""
        memo = self._cell_memo
        found = memo.get((name, cell))
        if found is not None:
            return found
        assert self._rules is not None
        values, earlier = self._read_cells({name: cell} if cell else {})
        found = tuple(self._rules.problems(values, earlier, only=frozenset((name,))))
        if len(cell) <= _MEMO_CELL and len(memo) < _MEMO_CELLS:
            memo[(name, cell)] = found
        return found

    def _cell_problems(self, cells: Mapping[str, str], names: frozenset[str]) -> list[RecordError]:
        """The problems of the properties ``names`` given their non-empty ``cells``."""
        assert self._rules is not None
        tree_values, cell_problems = self._read_cells(cells)
        problems = self._rules.problems(tree_values, cell_problems, only=names)
        return [RecordError(Reason.SCHEMA_VIOLATION, m, p) for p, m in problems]

    def _tree_problems(self, tree: Obj) -> list[RecordError]:
        if self.name == ANY_SCHEMA:
            return [
                RecordError(Reason.SCHEMA_VIOLATION, message, path)
                for path, message in number_problems(tree)
            ]
        if self._rules is not None:
            return [
                RecordError(Reason.SCHEMA_VIOLATION, m, p)
                for p, m in self._rules.problems(dict(tree.pairs))
            ]
        errors = [
            RecordError(Reason.SCHEMA_VIOLATION, message, path)
            for path, message in number_problems(tree)
        ]
        return errors or self._validator_problems(plain(tree))

    def _validator_problems(self, value: Any) -> list[RecordError]:
        assert self._validator is not None
        out = []
        # jsonschema computes multipleOf in the current decimal context: the exact one.
        with localcontext(EXACT_CONTEXT):
            errors = sorted(self._validator.iter_errors(value), key=_error_order)
        for error in errors:
            path = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            out.append(RecordError(Reason.SCHEMA_VIOLATION, error.message, path))
        return out

    def _valid(self, values: Mapping[str, Any]) -> Checked:
        """Key text and time of a valid record's values (tree values or plain ones)."""
        key = None
        value = values.get(self.unique[0]) if self.unique else None
        if value is not None:
            # As the batch path keys records: a string property's value as it is, any
            # other value as canonical JSON text (so 1 and "1" differ).
            key = value if isinstance(value, str) and self._key_is_text else _key_text(value)
        time = None
        if self.timestamp is not None:
            value = values.get(self.timestamp)
            if isinstance(value, str) and is_date_time(value):
                time = to_datetimes([value])[0]
        return Checked([], key, time)

    @property
    def _key_is_text(self) -> bool:
        props = self.document.get("properties", {})
        return bool(self.unique) and props.get(self.unique[0], {}).get("type") == "string"

    # -- batch filters: many records in one C call -------------------------------------
    @property
    def batches(self) -> bool:
        """Whether records can be accepted in batches (else each takes the exact check)."""
        return self.fast

    def accept_array(self, data: bytes) -> tuple[list[Any] | None, int | None]:
        """(the records of ``[rec, rec, ...]``, None) if every one is valid, else (None, a
        hint): the index of the first record found failing, if known. The exact check then
        decides the records not accepted: this never accepts one it would refuse."""
        if not self.fast:
            return None, None
        objs, hint = self.decode_array(data)
        return (None, hint) if objs is None else self._batch_verdict(objs, data)

    def accept_lines(self, data: bytes | memoryview) -> tuple[list[Any] | None, int | None]:
        """Like :meth:`accept_array` for newline-delimited records (blank lines skipped, so
        a hint counts records, not lines)."""
        if not self.fast:
            return None, None
        objs, hint, _ = self.decode_lines(data)
        return (None, hint) if objs is None else self._batch_verdict(objs, data)

    def no_repeated_key(self, data: bytes | memoryview, objs: list[Any]) -> bool:
        """Whether no record of ``data`` (decoded: ``objs``) repeats a key. With
        :meth:`decode_lines` and :meth:`refused` finding nothing, what
        :meth:`accept_lines` checks."""
        return self._no_repeated_key(data, objs)

    def decode_lines(
        self, data: bytes | memoryview
    ) -> tuple[list[Any] | None, int | None, int | None]:
        """The records of newline-delimited ``data`` decoded (types, enums, bounds: what
        the record type holds), or None with what msgspec names: the index of the record
        it refused, or for broken JSON the byte offset where it stopped. No pattern or
        repeated-key check: :meth:`refused` and :meth:`keys_unrepeated` do those."""
        try:
            objs: list[Any] = self._one.decode_lines(data)
        except RECORD_EXCEPTIONS as exc:
            return None, *lines_refusal(exc)
        return objs, None, None

    @property
    def lines_decoder(self) -> Callable[[bytes | memoryview], list[Any]]:
        """msgspec's own ``decode_lines`` for this schema's records: what
        :meth:`decode_lines` calls, raising one of ``RECORD_EXCEPTIONS`` where that
        returns None (read the exception with :func:`lines_refusal`)."""
        return self._one.decode_lines

    def decode_array(self, data: bytes) -> tuple[list[Any] | None, int | None]:
        """:meth:`decode_lines` for ``[rec, rec, ...]`` (well-formed: the index only)."""
        try:
            objs: list[Any] = self._many.decode(data)
        except RECORD_EXCEPTIONS as exc:
            return None, array_refusal(exc)
        return objs, None

    @property
    def array_decoder(self) -> Callable[[bytes], list[Any]]:
        """msgspec's own decoder of ``[rec, rec, ...]``: what :meth:`decode_array` calls,
        raising one of ``RECORD_EXCEPTIONS`` where that returns None (read the exception
        with :func:`array_refusal`)."""
        return self._many.decode

    def decode_whole_lines(
        self, data: bytes | memoryview, *, twin_first: bool = False
    ) -> list[Any] | None:
        """A block of NDJSON lines decoded in one call, for :meth:`whole_refused` to judge:
        by the record type, or when it refuses the block, into its lenient twin (where it
        has one), which a bound, a length or an enum broken does not stop. None when
        msgspec refuses the block both ways (a type, a field missing or unknown, broken
        JSON). ``twin_first``: into the twin straight away (the last block broke such a
        constraint; its records then go to the checks, whose verdict is the record
        type's), sparing the record type's attempt, which stops at the first such record."""
        twin = None if self._whole_one is None else self._whole_one.decode_lines
        return _decoded_whole(self._one.decode_lines, twin, data, twin_first=twin_first)

    def decode_whole_array(self, data: bytes, *, twin_first: bool = False) -> list[Any] | None:
        """:meth:`decode_whole_lines` for ``[rec, rec, ...]``."""
        twin = None if self._whole_many is None else self._whole_many.decode
        return _decoded_whole(self._many.decode, twin, data, twin_first=twin_first)

    def whole_refused(self, objs: list[Any]) -> WholeRefusal:
        """:meth:`refused` of records :meth:`decode_whole_lines` or
        :meth:`decode_whole_array` decoded, with the records breaking a constraint the
        lenient twin leaves out: every record the record type and the batch checks would
        refuse, sorted (None as :meth:`refused` says it). And whether each of them holds
        a decoded value its property's rule refuses: a problem :meth:`check_record` finds
        in that record's text too, when no key of it repeats (the decoded value is then
        the one value the text gives the property), proven from the checks' own findings:

        - a pattern's refusal is :meth:`PatternCheck.matches` failing, which is the rule's
          own test (its pattern, or its format's pattern and, for an e-mail address, the
          IDNA domain; the rule's length bound on an address can only refuse more); the
          date-time check finds its refused values with msgspec's parser, which refuses a
          leap second the rule accepts, so each of its records is put to ``matches``;
        - a value breaking a constraint the twin leaves out proves the record where the
          check is the rule's own or the value is clearly past it
          (:meth:`ValueCheck.proves`), and is put to the rule otherwise: an integer as
          it is, a number as the exact value of its double and of the two doubles beside
          it (the text's own number lies between those, so all three broken means it is).

        And whether a record broke such a constraint (:class:`WholeRefusal`)."""
        findings = self._batch_findings(objs)
        if findings is None:
            return WholeRefusal(None, False, False)
        by_value = False
        flagged: set[int] = set()
        proven: set[int] = set()
        for check, found in findings:
            flagged.update(found)
            if check.refusal_proves:
                proven.update(found)
            else:
                values = check.read.values([objs[k] for k in found])
                matches = check.matches
                proven.update(
                    k
                    for k, v in zip(found, values, strict=True)
                    if v.__class__ is str and not matches(v)
                )
        if self._values is not None and objs and objs[0].__class__ is self._values.lenient:
            indices, which = self._values.failures(objs)
            by_value = bool(indices)
            flagged.update(indices)
            proven.update(self._values_proven(objs, indices, which))
        return WholeRefusal(sorted(flagged), flagged <= proven, by_value)

    def _values_proven(
        self, objs: list[Any], indices: list[int], which: list[int]
    ) -> Iterator[int]:
        """The records ``indices`` (each breaking the value check ``which``) whose broken
        value their property's rule refuses (see :meth:`whole_refused`)."""
        values, rules = self._values, self._rules
        if values is None or rules is None:
            return
        breaks = rules.breaks
        memo = self._number_proofs
        for k, c in zip(indices, which, strict=True):
            check = values.checks[c]
            value = getattr(objs[k], check.attr)
            if check.proves(value):
                yield k
            elif value.__class__ is float:
                known = memo.get((c, value))
                if known is None:
                    near = (
                        math.nextafter(value, -math.inf),
                        value,
                        math.nextafter(value, math.inf),
                    )
                    known = all(breaks({check.prop: Decimal(v)}, check.prop) for v in near)
                    if len(memo) < _MEMO_CELLS:
                        memo[(c, value)] = known
                if known:
                    yield k
            elif breaks({check.prop: value}, check.prop):
                yield k

    def refused(self, objs: list[Any]) -> list[int] | None:
        """Indices of the decoded records whose strings the batch checks refuse, sorted
        ([] if none). None when a batch check refuses the records and no single value
        can be named (the caller then narrows the old way)."""
        findings = self._batch_findings(objs)
        if findings is None:
            return None
        return sorted({k for _, found in findings for k in found})

    def _batch_findings(self, objs: list[Any]) -> list[tuple[PatternCheck, list[int]]] | None:
        """Each batch check that refuses some of the records, with the indices of those
        (:meth:`PatternCheck.failures`); None when one refuses them and no single value
        can be named."""
        findings: list[tuple[PatternCheck, list[int]]] = []
        for check in self._patterns:
            found = check.failures(objs)
            if found is None:
                continue
            if not found:
                return None
            findings.append((check, found))
        return findings

    def keys_unrepeated(
        self,
        text: bytes,
        objs: list[Any],
        left_out: list[bytes],
        kept: Callable[[], bytes],
        *,
        lines: bool = False,
    ) -> bool:
        """:meth:`_no_repeated_key` for the records of ``text`` less the whole lines
        ``left_out`` (``objs`` are the records of the rest). The compiled module first
        looks for a repeat in the whole text (``lines``: NDJSON, whose left-out lines may
        be broken, each line read on its own): none means none in the kept records (the
        Python path cannot tell, and counts).
        Otherwise: counting key colons is local, so the lines left out are subtracted;
        when whitespace precedes a colon the text of the kept lines (``kept()``) is
        tokenized instead."""
        if (line_repeats_key if lines else repeats_key)(text) == 0:
            return True
        fields = self._fields_in(objs)
        compact = text.translate(None, _JSON_WS)
        if compact.count(b'":') - sum(_key_colons(line) for line in left_out) == fields:
            return True
        return self._no_repeated_key(kept(), objs)

    def accept_cells(self, rows: list[dict[str, str]]) -> list[Any] | None:
        """Many CSV rows (non-empty cells by column) if every one is valid, else None."""
        if not self.fast or not self._cells_plausible(rows):
            return None
        try:
            objs: list[Any] = msgspec.convert(rows, self._list_type, strict=False)
        except RECORD_EXCEPTIONS:
            return None
        for check in self._patterns:
            if not check.all_match(objs):
                return None
        return objs

    def _batch_verdict(
        self, objs: list[Any], data: bytes | memoryview
    ) -> tuple[list[Any] | None, int | None]:
        first: int | None = None
        for check in self._patterns:
            if not check.all_match(objs):
                k = check.first_failure(objs)
                first = k if first is None else min(first, k)
        if first is not None:
            return None, first
        if not self._no_repeated_key(data, objs):
            return None, None
        return objs, None

    def _no_repeated_key(self, data: bytes | memoryview, objs: list[Any]) -> bool:
        """Whether no object of the (well-formed) JSON text repeats a key: its key count
        equals the keys the decoded records hold (decoding folds a repeated key into one).

        The compiled module compares each object's keys directly (or, for a key with an
        escape, counts the keys exactly) in one pass. Without it: with JSON
        whitespace removed (one C pass) every key ends with '":'; other '":' (a string
        starting with a colon, an escaped quote before one, once spaces are gone) are
        rare and only ever add. So equal counts prove no key repeats; otherwise the
        strings are tokenized exactly and counted again (the same answer either way).
        """
        repeats = repeats_key(data)  # -1 without the compiled module
        if repeats >= 0:
            return repeats == 0
        fields = self._fields_in(objs)
        if NATIVE:
            return key_count(data) == fields
        text = bytes(data)
        if text.translate(None, _JSON_WS).count(b'":') == fields:
            return True
        return key_count(text) == fields

    def _fields_in(self, objs: list[Any]) -> int:
        """How many keys the decoded records hold."""
        if self.name == ANY_SCHEMA:
            return sum(map(len, objs))
        count = len(objs)
        present = count * self._required_count
        for get in self._optional:
            present += count - operator.countOf(map(get, objs), msgspec.UNSET)
        return present

    def csv_columns(self, header: list[str]) -> CsvColumns | None:
        """Column-wise checks for CSV rows under ``header`` (already checked against the
        schema), or None when some property has no column-wise equivalent."""
        rules = self._csv_rules
        if rules is None:
            return None
        at = {name: i for i, name in enumerate(header)}
        time = self.timestamp
        return CsvColumns(
            rules=[(at[p], rule) for p, rule in rules.items() if p in at and rule is not None],
            required=[at[p] for p in self.properties if p in self.required and p in at],
            patterns=[(at[c.prop], c) for c in self._patterns if c.prop in at],
            key=at.get(self.unique[0]) if self.unique else None,
            # Only date-time values count as timestamps (as in times_of).
            time=at.get(time) if time and time in self._date_times else None,
            times=self.tracks_time,
        )

    def _cells_plausible(self, rows: list[dict[str, str]]) -> bool:
        """The cell grammar of each typed column, for a whole batch a column at a time."""
        for prop, kind in self._cell_kinds.items():
            values = list(filter(_NOT_NULL, map(operator.methodcaller("get", prop), rows)))
            if not values:
                continue
            if not _cells_fit(kind, values):
                return False
        return True

    # -- what the summary needs from valid records ------------------------------------
    @property
    def tracks_keys(self) -> bool:
        """Whether records carry a unique key to collect."""
        return self._key is not None

    @property
    def tracks_time(self) -> bool:
        """Whether records carry a timestamp to collect."""
        return self._time is not None

    def keys_of(self, objs: list[Any]) -> list[Any]:
        """The unique-key value of each valid record (None where absent)."""
        assert self._key is not None
        if self._keys is not None:
            return self._keys(objs)
        return list(map(self._key, objs))

    def times_of(self, objs: list[Any]) -> list[datetime]:
        """Timestamps of valid records that have one: all of them, or only the earliest
        and the latest (:func:`time_span`), which is all the summary keeps."""
        assert self._time is not None
        values = self._times(objs) if self._times is not None else list(map(self._time, objs))
        if not self._time_required:
            values = [v for v in values if isinstance(v, str)]
        return time_span(values) if values else []


def _key_colons(line: bytes) -> int:
    """'":' in ``line`` with JSON whitespace removed (as counted for a whole text)."""
    return line.translate(None, _JSON_WS).count(b'":')


#: Cells whose problems are remembered: at most this long, this many in all (a few MB).
_MEMO_CELL = 64
_MEMO_CELLS = 16_384


def _exact_records(texts: list[bytes], *, lines: bool) -> list[Any]:
    """Each text read by :data:`~silent_scalper.engine.rules.EXACT_VALUES`, None where it
    cannot be. All are read in one call when all can be: NDJSON lines (no line break in
    them, none blank) as lines, msgspec then making exactly one value a line; array
    elements (each one well-formed JSON value) as an array of them. The count proves the
    pairing."""
    try:
        if lines:
            values: list[Any] = EXACT_VALUES.decode_lines(b"\n".join(texts))
        else:
            values = EXACT_VALUES.decode(b"[" + b",".join(texts) + b"]")
    except _EXACT_READ_EXCEPTIONS:
        pass
    else:
        if len(values) == len(texts):
            return values
    out: list[Any] = []
    for text in texts:
        try:
            out.append(EXACT_VALUES.decode(text))
        except _EXACT_READ_EXCEPTIONS:
            out.append(None)
    return out


def _settled(values: Any, text: bytes | memoryview) -> bool:
    """Whether ``values``, the exact reading of the record ``text``, is the object the
    tree reading would check: an object whose keys, counted in the text (nested ones
    included: :func:`~silent_scalper.engine._scan.key_count`), are all its own, so no
    key repeats and no nested object has keys."""
    return type(values) is dict and key_count(text) == len(values)


def _decoded_whole(
    first: Callable[[Any], list[Any]],
    twin: Callable[[Any], list[Any]] | None,
    data: Any,
    *,
    twin_first: bool,
) -> list[Any] | None:
    """``first(data)``, or ``twin(data)`` when msgspec refuses that, or None when it
    refuses both (or there is no twin). ``twin_first``: ``twin(data)`` alone, as the twin
    accepts whatever the record type does."""
    for decode in (twin,) if twin_first and twin is not None else (first, twin):
        if decode is None:
            break
        try:
            return decode(data)
        except RECORD_EXCEPTIONS:
            continue
    return None


#: :func:`_without` slices between the dropped indices while they are under one in
#: this many of the items, and masks beyond.
_SLICES = 16


def _without[T](objs: Sequence[T], drop: list[int]) -> list[T]:
    """``objs`` (a list, or a range) less the (sorted) indices ``drop``."""
    if len(drop) * _SLICES > len(objs):
        # Many dropped (most records refused): a slice between each two would cost a
        # step each, so the kept ones are picked in one pass from a mask.
        kept = bytearray(b"\x01") * len(objs)
        for i in drop:
            kept[i] = 0
        return list(itertools.compress(objs, kept))
    out: list[T] = []
    at = 0
    for i in drop:
        out += objs[at:i]
        at = i + 1
    out += objs[at:]
    return out


def lines_refusal(exc: BaseException) -> tuple[int | None, int | None]:
    """What a refusal of :meth:`CompiledSchema.lines_decoder` names: the index of the
    record refused (a value), or the byte offset where broken JSON stopped the reading,
    each None when not named."""
    if isinstance(exc, msgspec.ValidationError):
        return failing_index(exc), None
    if isinstance(exc, msgspec.DecodeError):
        at = AT_BYTE.search(str(exc))
        return None, int(at.group(1)) if at else None
    return None, None


def refusal_property(exc: BaseException) -> str | None:
    """The property a refusal of :meth:`CompiledSchema.lines_decoder` or
    :meth:`CompiledSchema.array_decoder` names: the field missing or unknown, or the
    first property on the path where the value was refused; None when it names none."""
    if not isinstance(exc, msgspec.ValidationError):
        return None
    text = str(exc)
    found = _NAMED_FIELD.match(text) or _AT_PROPERTY.search(text)
    return found.group(1) if found else None


#: msgspec's words for a field missing or unknown ("Object missing required field `x` -
#: at `$[3]`"), and the first property on a path ("... - at `$[3].priority`").
_NAMED_FIELD = re.compile(r"Object (?:missing required|contains unknown) field `([^`]+)`")
_AT_PROPERTY = re.compile(r"`\$\[\d+\]\.([^`.\[]+)")


def array_refusal(exc: BaseException) -> int | None:
    """The index of the record a refusal of :meth:`CompiledSchema.array_decoder` names
    (a value; None for broken JSON, or when not named)."""
    return failing_index(exc) if isinstance(exc, msgspec.ValidationError) else None


def _error_order(error: Any) -> tuple[str, ...]:
    return tuple(str(p) for p in error.absolute_path)


def number_problems(tree: Any, path: str = "$") -> list[tuple[str, str]]:
    """(path, message) of every number in ``tree`` beyond the engine's number limits."""
    if isinstance(tree, Num):
        problem = number_problem(tree)
        return [] if problem is None else [(path, problem)]
    if isinstance(tree, Obj):
        return [p for k, v in tree.pairs for p in number_problems(v, f"{path}.{k}")]
    if isinstance(tree, list):
        return [p for i, v in enumerate(tree) for p in number_problems(v, f"{path}[{i}]")]
    return []


def _key_text(value: Any) -> str:
    """Canonical JSON text of a non-string key value, as the batch path's encoding of the
    same value: integers as integers, other numbers as the float they round to."""
    if isinstance(value, Num):
        exact = value.exact()
        return str(exact) if isinstance(exact, int) else msgspec.json.encode(float(exact)).decode()
    if isinstance(value, Decimal):
        return msgspec.json.encode(float(value)).decode()
    return msgspec.json.encode(plain(value)).decode()


class SchemaRegistry:
    """The schemas a deployment accepts, by name (file name without ``.json``)."""

    def __init__(self, schemas: Mapping[str, CompiledSchema], directory: Path | None) -> None:
        self._schemas = dict(schemas)
        self.directory = directory

    @classmethod
    def load(cls, directory: Path | None = None, *, use_checked: bool = True) -> SchemaRegistry:
        """Load and compile every ``*.json`` in ``directory`` (None: the bundled schemas).

        Raises SchemaLoadError naming the file when one is not valid JSON, not a valid
        2020-12 schema, or uses the engine's annotations wrongly. A document the folder's
        ``checked.sha256`` lists (``use_checked``) is not checked against the meta-schema
        again; anything else about it still is.
        """
        directory = _BUNDLED_DIR if directory is None else Path(directory)
        if not directory.is_dir():
            raise SchemaLoadError(f"{directory}: schema directory not found")
        checked = _checked_digests(directory) if use_checked else frozenset()
        schemas: dict[str, CompiledSchema] = {ANY_SCHEMA: compile_schema(ANY_SCHEMA, {}, None)}
        for path in sorted(directory.glob("*.json")):
            name = path.name.removesuffix(".json")
            if name == ANY_SCHEMA:
                raise SchemaLoadError(f"{path}: the name 'any' is reserved for the built-in schema")
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise SchemaLoadError(f"{path}: not a readable JSON file: {exc}") from exc
            known = bool(checked) and document_digest(document) in checked
            schemas[name] = compile_schema(name, document, path, checked=known)
        return cls(schemas, directory)

    @property
    def names(self) -> list[str]:
        """Every schema name, sorted."""
        return sorted(self._schemas)

    def get(self, name: str) -> CompiledSchema:
        """The compiled schema called ``name``; raises UnknownSchemaError."""
        try:
            return self._schemas[name]
        except KeyError:
            raise UnknownSchemaError(name, self._schemas) from None


def document_digest(document: Any) -> str:
    """sha256 of a schema document's canonical JSON text (keys sorted, no spaces): the
    same document however its file is laid out."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _checked_digests(directory: Path) -> frozenset[str]:
    """The digests ``directory``'s ``checked.sha256`` lists; none when it is missing or
    unreadable (every document is then checked: the list only ever saves work)."""
    try:
        text = (directory / CHECKED_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return frozenset()
    return frozenset(line.split()[0] for line in text.splitlines() if line.strip())


def write_checked(directory: Path) -> Path:
    """Check and compile every schema of ``directory`` (raising SchemaLoadError as
    :meth:`SchemaRegistry.load` does), then write its ``checked.sha256``: one line per
    document, its digest and its file name. Returns the file written."""
    registry = SchemaRegistry.load(directory, use_checked=False)
    lines = [
        f"{document_digest(schema.document)}  {schema.path.name}\n"
        for schema in map(registry.get, registry.names)
        if schema.path is not None
    ]
    target = Path(directory) / CHECKED_FILE
    target.write_text("".join(lines), encoding="utf-8")
    return target


def compile_schema(
    name: str, document: Any, path: Path | None, *, checked: bool = False
) -> CompiledSchema:
    """Check and compile one schema document. ``{}`` with name ``any`` is the built-in.
    ``checked``: the document is known to pass the meta-schema check (it is not run)."""
    where = str(path) if path is not None else f"schema {name!r}"
    if not isinstance(document, dict):
        raise SchemaLoadError(f"{where}: a schema must be a JSON object")
    if not checked and document:
        # Imported here: about 40-150 ms of a cold start, and a deployed layer's schemas
        # were checked when it was built. ``{}`` (the built-in ``any``) needs no check.
        import jsonschema  # noqa: PLC0415

        try:
            jsonschema.Draft202012Validator.check_schema(document)
        except jsonschema.SchemaError as exc:
            loc = "/".join(str(p) for p in exc.absolute_path) or "(root)"
            raise SchemaLoadError(f"{where}: invalid JSON Schema at {loc}: {exc.message}") from exc
    props_doc = document.get("properties", {})
    properties = tuple(props_doc) if isinstance(props_doc, dict) else ()
    required = frozenset(document.get("required", ()))
    closed = document.get("additionalProperties", True) is False
    unique = _string_list(document.get("x-unique", []), where, "x-unique", properties)
    timestamp = document.get("x-timestamp")
    if timestamp is not None and timestamp not in properties:
        raise SchemaLoadError(f"{where}: x-timestamp {timestamp!r} is not a declared property")
    if len(unique) > 1:
        raise SchemaLoadError(f"{where}: x-unique supports one property, got {list(unique)}")
    property_types: dict[str, str] = {}
    if isinstance(props_doc, dict):
        for prop, sub in props_doc.items():
            if isinstance(sub, dict) and isinstance(sub.get("type"), str):
                property_types[prop] = sub["type"]

    struct = _fast_struct(name, document) if name != ANY_SCHEMA else None
    values: ValueChecks | None = None
    patterns: tuple[PatternCheck, ...] = ()
    rules: RecordRules | None = None
    validator: Any = None
    optional: tuple[Callable[[Any], Any], ...] = ()
    keys: Callable[[list[Any]], list[Any]] | None = None
    times: Callable[[list[Any]], list[Any]] | None = None
    if name == ANY_SCHEMA:
        record_type: Any = dict[str, Any]
        key: Callable[[Any], Any] | None = None
        time: Callable[[Any], Any] | None = None
    elif struct is not None:
        record_type, fields, patterns, values = struct
        rules = RecordRules.of(props_doc, required, closed=closed)
        optional = tuple(operator.attrgetter(fields[p]) for p in properties if p not in required)
        key = (
            _key_getter(operator.attrgetter(fields[unique[0]]), props_doc, unique)
            if unique
            else None
        )
        time = operator.attrgetter(fields[timestamp]) if timestamp else None
        if key is not None and isinstance(key, operator.attrgetter):  # the value as it is
            keys = FieldReader(fields[unique[0]]).values
        if timestamp:
            times = FieldReader(fields[timestamp]).values
    else:
        record_type = dict[str, Any]
        # Bounds read as Decimal, like the values: every comparison exact.
        exact_document = json.loads(json.dumps(document), parse_float=Decimal)
        import jsonschema  # noqa: PLC0415 - only for schemas the fast path cannot take

        validator = jsonschema.Draft202012Validator(
            exact_document, format_checker=_format_checker()
        )
        key = _dict_getter(unique[0]) if unique else None
        time = _dict_getter(timestamp) if timestamp else None
    lenient: Any = None if values is None else values.lenient
    return CompiledSchema(
        name=name,
        document=document,
        path=path,
        properties=properties,
        required=required,
        closed=closed,
        unique=unique,
        timestamp=timestamp,
        fast=struct is not None or name == ANY_SCHEMA,
        _record_type=record_type,
        _one=msgspec.json.Decoder(record_type),
        _many=msgspec.json.Decoder(list[record_type]),
        _values=values,
        _whole_one=None if lenient is None else msgspec.json.Decoder(lenient),
        _whole_many=None if lenient is None else msgspec.json.Decoder(list[lenient]),
        _key=key,
        _time=time,
        _validator=validator,
        _property_types=property_types,
        _rules=rules,
        _patterns=patterns,
        _columns=_column_verdicts(rules, patterns),
        _cell_kinds=_cell_kinds(props_doc) if struct is not None else {},
        _csv_rules=_csv_rules(props_doc, unique) if struct is not None else None,
        _time_required=struct is not None
        and timestamp in required
        and props_doc[timestamp].get("type") == "string"
        and props_doc[timestamp].get("format") == "date-time",
        _date_times=frozenset(
            p
            for p, sub in (props_doc.items() if isinstance(props_doc, dict) else ())
            if isinstance(sub, dict) and sub.get("format") == "date-time"
        ),
        _required_count=len(required),
        _optional=optional,
        _keys=keys,
        _times=times,
    )


def _column_verdicts(
    rules: RecordRules | None, patterns: tuple[PatternCheck, ...]
) -> dict[str, ColumnVerdict]:
    """Each property's :func:`~silent_scalper.engine.rules.quick_column`, its pattern or
    format judged by the property's batch check."""
    if rules is None:
        return {}
    strings = {check.prop: check.strings_match for check in patterns}
    verdicts = {r.name: quick_column(r, strings.get(r.name)) for r in rules.rules}
    return {name: verdict for name, verdict in verdicts.items() if verdict is not None}


def _string_list(
    value: Any, where: str, keyword: str, properties: tuple[str, ...]
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SchemaLoadError(f"{where}: {keyword} must be a list of property names")
    for v in value:
        if v not in properties:
            raise SchemaLoadError(
                f"{where}: {keyword} names {v!r}, which is not a declared property"
            )
    return tuple(value)


_NOT_NULL = functools.partial(operator.is_not, None)


def _key_getter(
    get: Callable[[Any], Any], props: Any, unique: tuple[str, ...]
) -> Callable[[Any], Any] | None:
    """Unique-key values as strings: raw for string properties, else canonical JSON text
    (so 1 and "1" differ, and lists or objects can be compared too)."""
    if not unique:
        return None
    if isinstance(props, dict) and props.get(unique[0], {}).get("type") == "string":
        return get
    encode = msgspec.json.encode

    def as_text(obj: Any) -> str | None:
        value = get(obj)
        if value is None or value is msgspec.UNSET:
            return None
        return encode(value).decode()

    return as_text


def _dict_getter(prop: str) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        return obj.get(prop) if isinstance(obj, dict) else None

    return get
