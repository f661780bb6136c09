"""JSON Schema loading and compilation into the fastest validator that fits.

A schema file is checked once at load (``Draft202012Validator.check_schema``) and then
compiled. A flat object schema gets two validators that always agree (``rules`` defines
what valid means):

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

Two annotation keywords (JSON Schema ignores unknown keywords) carry what a record
schema cannot say: ``x-unique`` lists properties whose values must be unique within a
file, ``x-timestamp`` names the property whose first/last values the summary reports.
"""

from __future__ import annotations

import functools
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import jsonschema
import msgspec

from silent_scalper.engine.rules import (
    DATE_TIME_PATTERN,
    EMAIL_PATTERN,
    INTEGER_TEXT,
    NUMBER_TEXT,
    Num,
    Obj,
    RecordRules,
    duplicate_keys,
    ecma_end,
    email_extra,
    is_date_time,
    is_email,
    json_type,
    number_problem,
    parse_tree,
    plain,
    to_datetimes,
)
from silent_scalper.engine.types import Reason, clip

ANY_SCHEMA = "any"

_BUNDLED_DIR = Path(__file__).resolve().parent.parent / "schemas"

_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
# Keywords the fast path understands; anything else sends the schema to jsonschema.
_ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "$comment",
        "examples",
        "default",
        "deprecated",
        "readOnly",
        "writeOnly",
    }
)
_TOP_KEYWORDS = _ANNOTATIONS | {
    "$schema",
    "$id",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "x-unique",
    "x-timestamp",
}
_PROPERTY_KEYWORDS = _ANNOTATIONS | {
    "type",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "enum",
    "format",
}
_FORMAT_PATTERNS = {"date-time": DATE_TIME_PATTERN, "email": EMAIL_PATTERN}
# A colon with whitespace before it (the literal first makes the search fast).
_WS_BEFORE_COLON = re.compile(rb":(?<=[ \t\r\n]:)")
# Every string token of JSON text, with the colon that makes it a key (b"" if none).
_STRING_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"([ \t\r\n]*+:)?', re.S)
_WELL_FORMED: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
_AT_BYTE = re.compile(r" \(byte (\d+)\)$")
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

    def __init__(
        self, reason: Reason, message: str, path: str | None = None, offset: int | None = None
    ) -> None:
        super().__init__(message)
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
    at = _AT_BYTE.search(msg)
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


@dataclass(frozen=True, slots=True)
class Checked:
    """The exact check of one record: every problem found (none: valid) and, for a valid
    record, its unique-key text and timestamp (None where absent or not tracked)."""

    errors: list[RecordError]
    key: str | None = None
    time: datetime | None = None


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
    _cell_kinds: Mapping[str, str] = field(repr=False, default_factory=dict)
    _csv_rules: Mapping[str, CellRule | None] | None = field(repr=False, default=None)
    _time_required: bool = field(repr=False, default=False)
    _date_times: frozenset[str] = field(repr=False, default=frozenset())
    _required_count: int = field(repr=False, default=0)
    _optional: tuple[Callable[[Any], Any], ...] = field(repr=False, default=())

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
        """
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

    def check_cells(self, cells: Mapping[str, str]) -> Checked:
        """Every problem of one CSV row (its non-empty cells by column), or its key and time."""
        if self._rules is None:
            values = {k: _coerce_cell(v, self._property_types.get(k)) for k, v in cells.items()}
            errors = self._validator_problems(values)
            return Checked(errors) if errors else self._valid(values)
        by_name = self._rules.by_name
        tree_values: dict[str, Any] = {}
        cell_problems: dict[str, str] = {}
        for prop, cell in cells.items():
            rule = by_name.get(prop)
            if rule is None:
                tree_values[prop] = cell
                continue
            value, problem = rule.from_cell(cell)
            if problem is None:
                tree_values[prop] = value
            else:
                cell_problems[prop] = problem
        problems = self._rules.problems(tree_values, cell_problems)
        if problems:
            return Checked([RecordError(Reason.SCHEMA_VIOLATION, m, p) for p, m in problems])
        return self._valid(tree_values)

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
        for error in sorted(self._validator.iter_errors(value), key=_error_order):
            path = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            out.append(RecordError(Reason.SCHEMA_VIOLATION, error.message, path))
        return out

    def _valid(self, values: Mapping[str, Any]) -> Checked:
        """Key text and time of a valid record's values (tree values or plain ones)."""
        key = None
        if self.unique:
            value = values.get(self.unique[0])
            if isinstance(value, str) and self._key_is_text:
                key = value
            elif value is not None or self.unique[0] in values:
                key = _key_text(value) if value is not None else None
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
        try:
            objs: list[Any] = self._many.decode(data)
        except msgspec.ValidationError as exc:
            return None, _failing_index(exc)
        except RECORD_EXCEPTIONS:
            return None, None
        return self._batch_verdict(objs, data)

    def accept_lines(self, data: bytes | memoryview) -> tuple[list[Any] | None, int | None]:
        """Like :meth:`accept_array` for newline-delimited records (blank lines skipped, so
        a hint counts records, not lines)."""
        if not self.fast:
            return None, None
        try:
            objs: list[Any] = self._one.decode_lines(data)
        except msgspec.ValidationError as exc:
            return None, _failing_index(exc)
        except RECORD_EXCEPTIONS:
            return None, None
        return self._batch_verdict(objs, data)

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

        Every key ends with '":' unless whitespace precedes its colon; other '":' are rare
        (a string starting with a colon, an escaped quote before one) and only ever add.
        So without whitespace before any colon, equal counts prove no key repeats; in any
        other case the strings are tokenized exactly and counted again.
        """
        text = bytes(data)
        fields = self._fields_in(objs)
        if _WS_BEFORE_COLON.search(text) is None and text.count(b'":') == fields:
            return True
        found = _STRING_TOKEN.findall(text)
        return len(found) - found.count(b"") == fields

    def _fields_in(self, objs: list[Any]) -> int:
        """How many keys the decoded records hold."""
        if self.name == ANY_SCHEMA:
            return sum(map(len, objs))
        count = len(objs)
        present = count * self._required_count
        for get in self._optional:
            present += count - list(map(get, objs)).count(msgspec.UNSET)
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
        return list(map(self._key, objs))

    def times_of(self, objs: list[Any]) -> list[datetime]:
        """The timestamps of valid records that have one."""
        assert self._time is not None
        values = list(map(self._time, objs))
        if not self._time_required:
            values = [v for v in values if isinstance(v, str)]
        return to_datetimes(values) if values else []


def _failing_index(exc: msgspec.ValidationError) -> int | None:
    """The record index msgspec names in a batch error ("... - at `$[12].priority`")."""
    m = _FIRST_INDEX.search(str(exc))
    return int(m.group(1)) if m else None


_FIRST_INDEX = re.compile(r"`\$\[(\d+)\]")


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
    def load(cls, directory: Path | None = None) -> SchemaRegistry:
        """Load and compile every ``*.json`` in ``directory`` (None: the bundled schemas).

        Raises SchemaLoadError naming the file when one is not valid JSON, not a valid
        2020-12 schema, or uses the engine's annotations wrongly.
        """
        directory = _BUNDLED_DIR if directory is None else Path(directory)
        if not directory.is_dir():
            raise SchemaLoadError(f"{directory}: schema directory not found")
        schemas: dict[str, CompiledSchema] = {ANY_SCHEMA: compile_schema(ANY_SCHEMA, {}, None)}
        for path in sorted(directory.glob("*.json")):
            name = path.name.removesuffix(".json")
            if name == ANY_SCHEMA:
                raise SchemaLoadError(f"{path}: the name 'any' is reserved for the built-in schema")
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                raise SchemaLoadError(f"{path}: not a readable JSON file: {exc}") from exc
            schemas[name] = compile_schema(name, document, path)
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


def compile_schema(name: str, document: Any, path: Path | None) -> CompiledSchema:
    """Check and compile one schema document. ``{}`` with name ``any`` is the built-in."""
    where = str(path) if path is not None else f"schema {name!r}"
    if not isinstance(document, dict):
        raise SchemaLoadError(f"{where}: a schema must be a JSON object")
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
    patterns: tuple[PatternCheck, ...] = ()
    rules: RecordRules | None = None
    validator: Any = None
    optional: tuple[Callable[[Any], Any], ...] = ()
    if name == ANY_SCHEMA:
        record_type: Any = dict[str, Any]
        key: Callable[[Any], Any] | None = None
        time: Callable[[Any], Any] | None = None
    elif struct is not None:
        record_type, fields, patterns = struct
        rules = RecordRules.of(props_doc, required, closed=closed)
        optional = tuple(operator.attrgetter(fields[p]) for p in properties if p not in required)
        key = (
            _key_getter(operator.attrgetter(fields[unique[0]]), props_doc, unique)
            if unique
            else None
        )
        time = operator.attrgetter(fields[timestamp]) if timestamp else None
    else:
        record_type = dict[str, Any]
        # Bounds read as Decimal, like the values: every comparison exact.
        exact_document = json.loads(json.dumps(document), parse_float=Decimal)
        validator = jsonschema.Draft202012Validator(
            exact_document, format_checker=_format_checker()
        )
        key = _dict_getter(unique[0]) if unique else None
        time = _dict_getter(timestamp) if timestamp else None
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
        _key=key,
        _time=time,
        _validator=validator,
        _property_types=property_types,
        _rules=rules,
        _patterns=patterns,
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
    )


def _csv_rules(props: dict[str, Any], unique: tuple[str, ...]) -> dict[str, CellRule | None] | None:
    """Every property's column check (None: any string passes), or None when CSV rows
    must take the exact path (see :class:`CsvColumns`)."""
    if unique and props[unique[0]].get("type") != "string":
        return None  # non-string keys are compared as canonical JSON of the converted value
    kinds = _cell_kinds(props)
    return {prop: _csv_rule(sub, kinds.get(prop)) for prop, sub in props.items()}


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


def _fast_struct(
    name: str, document: dict[str, Any]
) -> tuple[Any, dict[str, str], tuple[PatternCheck, ...]] | None:
    """A msgspec Struct type equivalent to ``document``, or None if it needs jsonschema."""
    if set(document) - _TOP_KEYWORDS or document.get("type") != "object":
        return None
    additional = document.get("additionalProperties", True)
    if additional not in (True, False):
        return None
    props = document.get("properties", {})
    required = set(document.get("required", ()))
    if not required <= set(props):
        return None  # a required property without a declaration: leave it to jsonschema
    spec: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    fields: dict[str, str] = {}
    optional: list[tuple[str, Any, Any]] = []
    patterns: list[PatternCheck] = []
    for i, (prop, sub) in enumerate(props.items()):
        attr = f"f{i}"  # property names need not be Python identifiers
        bulk = _bulk_pattern(sub)
        annotation = _fast_type(sub, with_pattern=bulk is None)
        if annotation is None:
            return None
        if bulk is not None:
            fmt = sub.get("format") if isinstance(sub, dict) else None
            kind = DateTimeCheck if fmt == "date-time" else PatternCheck
            patterns.append(kind(prop, attr, bulk, fmt=fmt))
        fields[prop] = attr
        if prop in required:
            spec.append((attr, annotation))
        else:
            optional.append((attr, annotation | msgspec.UnsetType, msgspec.UNSET))
    struct = msgspec.defstruct(
        _struct_name(name),
        [*spec, *optional],
        rename={attr: prop for prop, attr in fields.items()},
        forbid_unknown_fields=additional is False,
        kw_only=True,
    )
    return struct, fields, tuple(patterns)


def _fast_type(sub: Any, *, with_pattern: bool = True) -> Any:
    """The annotated Python type for one property schema, or None if unsupported.

    ``"type": [T, "null"]`` is the type of T or None.
    """
    if isinstance(sub, dict) and isinstance(sub.get("type"), list):
        kinds = sub["type"]
        others = [k for k in kinds if k != "null"]
        if len(kinds) != 2 or len(others) != 1 or "enum" in sub:
            return None
        inner = _fast_type({**sub, "type": others[0]}, with_pattern=with_pattern)
        return None if inner is None else Optional[inner]  # noqa: UP045 - works on Annotated
    if not isinstance(sub, dict) or set(sub) - _PROPERTY_KEYWORDS:
        return None
    kind = sub.get("type")
    fmt = sub.get("format")
    if "enum" in sub:
        values = sub["enum"]
        if (
            not values
            or not all(isinstance(v, str) for v in values)
            or kind not in (None, "string")
        ):
            return None
        if set(sub) & {"pattern", "minLength", "maxLength", "format"}:
            return None
        return Literal[tuple(values)]
    if not isinstance(kind, str) or kind not in _TYPES:
        return None
    base = _TYPES[kind]
    meta: dict[str, Any] = {}
    if kind == "string":
        if fmt is not None and fmt not in _FORMAT_PATTERNS:
            return None
        if fmt is not None and set(sub) & {"pattern", "minLength", "maxLength"}:
            return None  # one pattern a property: the format's
        pattern = _string_pattern(sub)
        if pattern is not None and with_pattern:
            meta["pattern"] = ecma_end(pattern)
        if "minLength" in sub:
            meta["min_length"] = sub["minLength"]
        if "maxLength" in sub:
            meta["max_length"] = sub["maxLength"]
    elif kind in ("integer", "number"):
        if fmt is not None or (kind == "number" and "multipleOf" in sub):
            return None  # a float remainder is not exact: jsonschema on Decimals decides
        # A float is exact for integers; a number's bounds become exclusive, so that a
        # value equal to one after rounding to a float (4.9999999999999999 for 5, -1e-400
        # for 0) is left to the exact check, which compares the decimal text.
        inclusive = kind == "integer"
        for keyword, arg in (
            ("minimum", "ge" if inclusive else "gt"),
            ("maximum", "le" if inclusive else "lt"),
            ("exclusiveMinimum", "gt"),
            ("exclusiveMaximum", "lt"),
            ("multipleOf", "multiple_of"),
        ):
            if keyword in sub:
                meta[arg] = sub[keyword]
        if kind == "integer" and any(not isinstance(v, int) for v in meta.values()):
            return None  # msgspec wants integer bounds for int fields
    elif set(sub) - _ANNOTATIONS - {"type"}:
        return None
    return Annotated[base, msgspec.Meta(**meta)] if meta else base


def _string_pattern(sub: Any) -> str | None:
    """The regex a string property must match (its pattern, or email's), if any."""
    if not isinstance(sub, dict) or "enum" in sub:
        return None
    kind = sub.get("type")
    if kind != "string" and not (isinstance(kind, list) and "string" in kind):
        return None
    if sub.get("format") in _FORMAT_PATTERNS:
        return None if "pattern" in sub else _FORMAT_PATTERNS[sub["format"]]
    pattern = sub.get("pattern")
    return pattern if isinstance(pattern, str) else None


def _bulk_pattern(sub: Any) -> str | None:
    """The property's pattern if it can be checked in bulk (see PatternCheck), else None.

    Bulk needs ``^X$`` with no top-level ``|``: then, in MULTILINE mode over values
    joined by newlines, a match per line means every value matches.
    """
    pattern = _string_pattern(sub)
    if pattern is None or len(pattern) < 2 or pattern[0] != "^" or pattern[-1] != "$":
        return None
    inner = pattern[1:-1]
    depth = 0
    in_class = False
    escaped = False
    for ch in inner:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif (ch == "|" and depth == 0) or ch in "^$":
            return None
    if escaped or in_class or depth != 0:
        return None
    try:
        re.compile(pattern)
    except re.error:
        return None
    return pattern


class PatternCheck:
    """One string property's regex, checked per value or, fast, for a whole batch.

    The batch check joins the values with newlines and counts MULTILINE matches of the
    anchored pattern: matches cannot overlap and each starts at a line start, so as many
    matches as values (and no newline inside a value) means every value matched whole.
    One regex pass in C instead of one Python call per value.
    """

    __slots__ = ("attr", "extra", "get", "good", "many", "one", "pattern", "prop")

    def __init__(self, prop: str, attr: str, pattern: str, *, fmt: str | None = None) -> None:
        self.prop = prop
        self.attr = attr
        self.pattern = pattern
        # What a pattern cannot say about an e-mail address (its IDNA domain), if any.
        self.extra = email_extra if fmt == "email" else None
        self.get = operator.attrgetter(attr)
        self.one = re.compile(ecma_end(pattern))
        self.many = re.compile(pattern, re.MULTILINE)
        # Values already known to match: codes, statuses and domains repeat, so most
        # batches need no regex at all. Bounded; a pattern never changes, so it stays true.
        self.good: set[str] = set()

    def all_match(self, objs: list[Any]) -> bool:
        """Whether the property's value in each record (where present) matches."""
        # Absent (UNSET) and null values are skipped: dropped from the set afterwards, as
        # filtering each value through a predicate cost more than the rest of the check.
        fresh = set(map(self.get, objs))
        fresh.discard(None)
        fresh.discard(msgspec.UNSET)
        return self.values_match(fresh)

    def first_failure(self, objs: list[Any]) -> int:
        """The index of the first record whose value does not match (one is known to)."""
        for i, value in enumerate(map(self.get, objs)):
            if isinstance(value, str) and not self.matches(value):
                return i
        return 0  # pragma: no cover - all_match said one fails

    def matches(self, value: str) -> bool:
        """Whether one value matches."""
        extra = self.extra
        return self.one.search(value) is not None and (extra is None or extra(value))

    def values_match(self, fresh: set[Any]) -> bool:
        """Whether every string of ``fresh`` matches (a record's values or a CSV column's)."""
        fresh -= self.good
        if not fresh:
            return True
        joined = "\n".join(fresh)
        if len(fresh) < 32:
            ok = all(map(self.one.search, fresh))
        else:
            # A value holding a newline: let the per-value check decide.
            ok = joined.count("\n") == len(fresh) - 1 and len(self.many.findall(joined)) == len(
                fresh
            )
        if ok and self.extra is not None and not joined.isascii():
            ok = all(map(self.extra, fresh))
        if ok and len(self.good) + len(fresh) <= _GOOD_VALUES:
            self.good |= fresh
        return ok


class DateTimeCheck(PatternCheck):
    """RFC 3339 date-times of a batch, checked in C without a regex.

    msgspec's datetime parser (one C call for all values) takes RFC 3339 except leap
    seconds, plus two spellings RFC 3339 does not: a space for the ``T`` and an offset
    without its colon (``+0530``). Both are ruled out with counts over the values joined
    by newlines: no space at all, and one colon per value beyond the two of its time for
    each value not ending in ``Z``. A batch refused here (a leap second included) goes
    to the exact check, the full RFC 3339 pattern.
    """

    __slots__ = ()

    def values_match(self, fresh: set[Any]) -> bool:
        """Whether every value of ``fresh`` (strings) is an RFC 3339 date-time."""
        if not fresh:
            return True
        values = list(fresh)
        joined = "\n".join(values) + "\n"
        if " " in joined:
            return False
        utc = joined.count("Z\n") + joined.count("z\n")
        if joined.count(":") != 3 * len(values) - utc:
            return False
        try:
            _AWARE_LIST(values, list[_AWARE_TYPE])
        except (msgspec.ValidationError, TypeError):
            return False
        return True


_AWARE_TYPE = Annotated[datetime, msgspec.Meta(tz=True)]
_AWARE_LIST: Callable[..., Any] = msgspec.convert
_GOOD_VALUES = 4096
# CSV cells msgspec's lax conversion would take but a JSON value of that type could not be.
_BOOLEANS = frozenset({"true", "false"})
# A CSV column of a typed property: every cell spells a JSON value of the type (the cell
# grammar in ``rules``), checked for a whole column in one match over its joined cells.
_CELL_COLUMN = {
    "integer": re.compile(rf"(?:{INTEGER_TEXT}\n)*+{INTEGER_TEXT}"),
    "number": re.compile(rf"(?:{NUMBER_TEXT}\n)*+{NUMBER_TEXT}"),
}


def _cells_fit(kind: str, values: list[str]) -> bool:
    """Whether every (non-empty) cell of a column spells a value of the column's type."""
    if kind == "boolean":
        return _BOOLEANS.issuperset(values)
    return _CELL_COLUMN[kind].fullmatch("\n".join(values)) is not None


def _cell_kinds(props: Any) -> dict[str, str]:
    """Properties whose CSV cells have a grammar (integer, number, boolean)."""
    kinds: dict[str, str] = {}
    for prop, sub in props.items() if isinstance(props, dict) else ():
        kind = sub.get("type") if isinstance(sub, dict) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind in ("boolean", "number", "integer") and "enum" not in sub:
            kinds[prop] = kind
    return kinds


#: A CSV column's check on its non-empty cells: None when one is invalid, else the
#: values they convert to (a date-time column's are the timestamps the summary needs).
type CellRule = Callable[[list[str]], list[Any] | None]


def _convert_rule(annotation: Any, *, strict: bool = False) -> CellRule:
    """Cells converted as the Struct's field converts each: the same type and Meta, the
    same lax mode, so the same cells pass; one C call for the column."""
    many = list[annotation]

    def rule(cells: list[str]) -> list[Any] | None:
        try:
            values: list[Any] = msgspec.convert(cells, many, strict=strict)
        except msgspec.ValidationError:
            return None
        return values

    return rule


def _csv_rule(sub: Any, kind: str | None) -> CellRule | None:
    """The column check of one property (``kind`` as in :func:`_cell_kinds`), or None
    when any string passes the Struct's field (patterns, date-time and e-mail are checked
    as :class:`PatternCheck`)."""
    annotation = _fast_type(sub, with_pattern=_bulk_pattern(sub) is None)
    if annotation is str:
        return None
    if "enum" in sub:  # a Literal of strings: membership is the whole check
        allowed = frozenset(sub["enum"])
        return lambda cells: cells if allowed.issuperset(cells) else None
    if kind == "boolean":  # only true/false; both convert
        return lambda cells: cells if _cells_fit("boolean", cells) else None
    if kind in ("integer", "number"):
        convert = _convert_rule(annotation)
        grammar = kind
        return lambda cells: convert(cells) if _cells_fit(grammar, cells) else None
    return _convert_rule(annotation)


class CsvColumns:
    """CSV rows of one header checked a column at a time, for batches of valid rows.

    The exact path builds a dict per row and converts it to the schema's Struct; this
    one transposes a batch (``zip(*rows)``) and converts each column in one C call with
    the field's own type, after the same cell checks. It accepts a batch only if the
    exact path takes every row, so a refused batch (an invalid row) goes to the exact
    path, which locates and words the errors. Built by :meth:`CompiledSchema.csv_columns`.
    """

    __slots__ = ("_key", "_patterns", "_required", "_rules", "_time", "_times")

    def __init__(
        self,
        rules: list[tuple[int, CellRule]],
        required: list[int],
        patterns: list[tuple[int, PatternCheck]],
        key: int | None,
        time: int | None,
        *,
        times: bool,
    ) -> None:
        self._rules = rules
        self._required = required
        self._patterns = patterns
        self._key = key
        self._time = time  # the column whose values are the timestamps, if one
        self._times = times  # whether the schema tracks time at all

    def check(
        self, columns: list[tuple[str, ...]]
    ) -> tuple[list[str | None] | None, list[datetime] | None] | None:
        """(keys, timestamps) of the rows whose columns these are, or None if any row
        may be invalid. Keys are None where the key cell is empty (absent)."""
        for i in self._required:
            if "" in columns[i]:
                return None
        times: list[datetime] | None = [] if self._times else None
        for i, rule in self._rules:
            column = columns[i]
            cells = list(filter(None, column)) if "" in column else list(column)
            if not cells:
                continue  # an empty cell is an absent value
            if rule(cells) is None:
                return None
        for i, pattern in self._patterns:
            if not pattern.values_match(set(columns[i]) - _EMPTY):
                return None
        if self._time is not None:
            column = columns[self._time]
            cells = list(filter(None, column)) if "" in column else list(column)
            times = to_datetimes(cells) if cells else []
        keys: list[str | None] | None = None
        if self._key is not None:
            column = columns[self._key]
            keys = list(column) if "" not in column else [c or None for c in column]
        return keys, times


_EMPTY = frozenset({""})


_NOT_NULL = functools.partial(operator.is_not, None)


def _struct_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name)
    return f"Record_{cleaned}"


def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, with date-time and email exactly as the engine's rules
    have them (and not silently skipped when an optional format package is missing)."""
    checker = jsonschema.FormatChecker()

    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or is_date_time(value)

    def _email(value: object) -> bool:
        return not isinstance(value, str) or is_email(value)

    checker.checks("date-time")(_date_time)
    checker.checks("email")(_email)
    return checker


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


def _coerce_cell(value: str, kind: str | None) -> Any:
    """CSV cell to the JSON value it spells, for the jsonschema fallback; a cell that spells
    no value of the declared type stays a string, which jsonschema then rejects, located."""
    if kind in ("integer", "number") and _CELL_COLUMN[kind].fullmatch(value):
        num = Num(value)
        if number_problem(num) is None:
            return num.exact()
    if kind == "boolean" and value in _BOOLEANS:
        return value == "true"
    return value
