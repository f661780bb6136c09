"""JSON Schema loading and compilation into the fastest validator that fits.

A schema file is checked once at load (``Draft202012Validator.check_schema``) and then
compiled. The fast path turns a flat object schema into a ``msgspec.Struct`` type built
with ``msgspec.defstruct``: types, ``pattern``, bounds, lengths, string enums as
``Literal``, ``format: date-time`` as a timezone-aware ``datetime`` (RFC 3339 with an
offset), ``format: email`` as a pattern and ``additionalProperties: false`` as
``forbid_unknown_fields``. msgspec then decodes JSON bytes straight into it in C and its
error messages already carry a JSON path (``$.priority``). A schema using anything else
(nested objects, ``oneOf``, ``$ref``...) falls back to ``jsonschema`` on records decoded
by msgspec: slower, complete.

Two annotation keywords (JSON Schema ignores unknown keywords) carry what a record
schema cannot say: ``x-unique`` lists properties whose values must be unique within a
file, ``x-timestamp`` names the property whose first/last values the summary reports.
"""

from __future__ import annotations

import contextlib
import functools
import json
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import jsonschema
import msgspec

from silent_scalper.engine.types import Reason, clip

ANY_SCHEMA = "any"
#: Deliberately loose, like most validators' "email" format: one @, no spaces, a dot in
#: the domain. Mailbox existence is not a file-validation question.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"

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
_FAST_FORMATS = frozenset({"date-time", "email"})
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

    def line_in(self, data: bytes, first_line: int) -> int:
        """The line of a syntax error, given the line the decoded bytes start on."""
        if self.offset is None:
            return first_line
        return first_line + data.count(b"\n", 0, self.offset)


def split_msgspec_message(text: str) -> tuple[str, str | None]:
    """Split msgspec's "Expected `int` - at `$.a`" into ("Expected `int`", "$.a")."""
    m = _AT_PATH.match(text)
    if m is None:  # pragma: no cover - the pattern matches every string
        return text, None
    return m.group("msg"), m.group("path")


def to_record_error(exc: BaseException) -> RecordError:
    """Map what msgspec (or the recursion guard) raises on one record to a RecordError."""
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


@dataclass(frozen=True, eq=False)
class CompiledSchema:
    """A loaded schema, compiled once, applied to every record of many files.

    ``properties`` (in file order) are the CSV columns; ``required`` must be present;
    ``closed`` means no other property is allowed. ``fast`` tells whether msgspec alone
    validates records (else jsonschema checks each decoded record).
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
    _check: Callable[[Any], None] | None = field(repr=False)
    _property_types: Mapping[str, str] = field(repr=False)
    _patterns: tuple[PatternCheck, ...] = field(repr=False, default=())
    _cell_kinds: Mapping[str, str] = field(repr=False, default_factory=dict)
    _csv_rules: Mapping[str, CellRule | None] | None = field(repr=False, default=None)
    _time_required: bool = field(repr=False, default=False)

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

    # -- decoding, one record or many -------------------------------------------------
    def decode_record(self, data: bytes | memoryview) -> Any:
        """Decode and validate one JSON record; raises RecordError (or msgspec errors).

        msgspec reports a type mismatch as soon as it sees it, before reading the rest
        of the value; so a schema error is re-checked for well-formedness, and a value
        that is also broken JSON is reported as malformed (the more fundamental problem).
        """
        try:
            obj = self._one.decode(data)
        except msgspec.ValidationError:
            # Well-formed but e.g. a number out of range: the schema error stands.
            with contextlib.suppress(msgspec.ValidationError):
                _WELL_FORMED.decode(data)
            raise
        if self._patterns:
            self._check_patterns(obj)
        if self._check is not None:
            self._check(obj)
        return obj

    def _check_patterns(self, obj: Any) -> None:
        for check in self._patterns:
            value = check.get(obj)
            if isinstance(value, str) and check.one.search(value) is None:
                raise RecordError(
                    Reason.SCHEMA_VIOLATION,
                    check.message,
                    f"$.{check.prop}",
                )

    def _check_all(self, objs: list[Any]) -> None:
        """The fallback check on a batch; the error's path names the record's index."""
        assert self._check is not None
        for i, obj in enumerate(objs):
            try:
                self._check(obj)
            except RecordError as exc:
                path = f"$[{i}]{(exc.path or '$')[1:]}"
                raise RecordError(exc.reason, exc.message, path) from None

    def _bulk_patterns(self, objs: list[Any]) -> None:
        for check in self._patterns:
            if not check.all_match(objs):
                # Rare path: find the first record that fails, for its index.
                for i, obj in enumerate(objs):
                    try:
                        self._check_patterns(obj)
                    except RecordError as exc:
                        path = f"$[{i}]{(exc.path or '$')[1:]}"
                        raise RecordError(exc.reason, exc.message, path) from None
                raise RecordError(Reason.SCHEMA_VIOLATION, "a pattern does not match", "$[0]")

    def decode_array(self, data: bytes) -> list[Any]:
        """Decode ``[rec, rec, ...]`` in one C call; raises on the first bad record."""
        objs: list[Any] = self._many.decode(data)
        if self._patterns:
            self._bulk_patterns(objs)
        if self._check is not None:
            self._check_all(objs)
        return objs

    def decode_lines(self, data: bytes | memoryview) -> list[Any]:
        """Decode newline-delimited records (blank lines skipped) in one C call."""
        objs: list[Any] = self._one.decode_lines(data)
        if self._patterns:
            self._bulk_patterns(objs)
        if self._check is not None:
            self._check_all(objs)
        return objs

    def cells_batch(self, rows: list[dict[str, str]]) -> list[Any]:
        """Validate many CSV rows in one msgspec call (fast path only); raises on any error."""
        if not self._cells_plausible(rows):
            raise RecordError(Reason.SCHEMA_VIOLATION, "a cell is not of its column's type")
        objs: list[Any] = msgspec.convert(rows, self._list_type, strict=False)
        if self._patterns:
            self._bulk_patterns(objs)
        return objs

    def from_cells(self, cells: dict[str, str]) -> Any:
        """Validate one CSV row (empty cells already removed), coercing by schema type."""
        if self.fast:
            for prop, kind in self._cell_kinds.items():
                value = cells.get(prop)
                if value is not None and not _cell_fits(kind, value):
                    raise RecordError(
                        Reason.SCHEMA_VIOLATION,
                        f"Expected {_KIND_NAMES[kind]}, got {clip(value, 60)!r}",
                        f"$.{prop}",
                    )
            # strict=False parses "3" as int and "2.5" as float; the checks above refuse
            # what it would also take but JSON would not (inf, nan, "1" as true, and
            # numbers as Unix timestamps for a date-time).
            obj = msgspec.convert(cells, self._record_type, strict=False)
            if self._patterns:
                self._check_patterns(obj)
            return obj
        obj = {k: _coerce_cell(v, self._property_types.get(k)) for k, v in cells.items()}
        if self._check is not None:
            self._check(obj)
        return obj

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
            time=at.get(time) if time and self._cell_kinds.get(time) == "date-time" else None,
            times=self.tracks_time,
        )

    def _cells_plausible(self, rows: list[dict[str, str]]) -> bool:
        """The checks of :meth:`from_cells` for a whole batch, a column at a time."""
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
        if self._time_required:
            # A required, non-null date-time field of the Struct: every value is one.
            return list(map(self._time, objs))
        return [t for t in map(self._time, objs) if isinstance(t, datetime)]


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
    if name == ANY_SCHEMA:
        record_type: Any = dict[str, Any]
        check: Callable[[Any], None] | None = None
        key: Callable[[Any], Any] | None = None
        time: Callable[[Any], Any] | None = None
    elif struct is not None:
        record_type, fields, patterns = struct
        check = None
        key = (
            _key_getter(operator.attrgetter(fields[unique[0]]), props_doc, unique)
            if unique
            else None
        )
        time = operator.attrgetter(fields[timestamp]) if timestamp else None
    else:
        record_type = dict[str, Any]
        check = _jsonschema_check(document)
        key = _key_getter(_dict_getter(unique[0]), props_doc, unique) if unique else None
        time = _time_getter(timestamp) if timestamp else None
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
        _check=check,
        _property_types=property_types,
        _patterns=patterns,
        _cell_kinds=_cell_kinds(props_doc) if struct is not None else {},
        _csv_rules=_csv_rules(props_doc, unique) if struct is not None else None,
        _time_required=struct is not None
        and timestamp in required
        and props_doc[timestamp].get("type") == "string"
        and props_doc[timestamp].get("format") == "date-time",
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
            email = isinstance(sub, dict) and sub.get("format") == "email"
            patterns.append(PatternCheck(prop, attr, bulk, email=email))
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
        if fmt is not None and fmt not in _FAST_FORMATS:
            return None
        if fmt == "date-time":
            if set(sub) & {"pattern", "minLength", "maxLength"}:
                return None
            return Annotated[datetime, msgspec.Meta(tz=True)]
        pattern = sub.get("pattern")
        if fmt == "email":
            if pattern is not None:
                return None
            pattern = EMAIL_PATTERN
        if pattern is not None and with_pattern:
            meta["pattern"] = pattern
        if "minLength" in sub:
            meta["min_length"] = sub["minLength"]
        if "maxLength" in sub:
            meta["max_length"] = sub["maxLength"]
    elif kind in ("integer", "number"):
        if fmt is not None:
            return None
        for keyword, arg in (
            ("minimum", "ge"),
            ("maximum", "le"),
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
    if sub.get("format") == "email":
        return None if "pattern" in sub else EMAIL_PATTERN
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

    __slots__ = ("attr", "get", "good", "many", "message", "one", "pattern", "prop")

    def __init__(self, prop: str, attr: str, pattern: str, *, email: bool = False) -> None:
        self.prop = prop
        self.attr = attr
        self.pattern = pattern
        # msgspec's wording for its own pattern checks, or what an e-mail check means.
        self.message = (
            "Expected an e-mail address (format email)"
            if email
            else f"Expected `str` matching regex {pattern!r}"
        )
        self.get = operator.attrgetter(attr)
        # ECMA-262's "$" is the end of input; Python's also matches before a final "\n".
        self.one = re.compile(pattern[:-1] + r"\Z")
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

    def values_match(self, fresh: set[Any]) -> bool:
        """Whether every string of ``fresh`` matches (a record's values or a CSV column's)."""
        fresh -= self.good
        if not fresh:
            return True
        if len(fresh) < 32:
            ok = all(map(self.one.search, fresh))
        else:
            joined = "\n".join(fresh)
            # A value holding a newline: let the per-value check decide.
            ok = joined.count("\n") == len(fresh) - 1 and len(self.many.findall(joined)) == len(
                fresh
            )
        if ok and len(self.good) + len(fresh) <= _GOOD_VALUES:
            self.good |= fresh
        return ok


_GOOD_VALUES = 4096
# CSV cells msgspec's lax conversion would take but a JSON value of that type could not be.
_BOOLEANS = frozenset({"true", "false"})
_NOT_A_NUMBER = re.compile(r"[a-df-zA-DF-Z]")  # inf, nan, Infinity (e/E are exponents)
_NOT_A_DATETIME = re.compile(r"(?m)^[^:]*$")  # every RFC 3339 date-time has a colon
_KIND_NAMES = {
    "boolean": "`bool` (true or false)",
    "number": "a finite `number`",
    "date-time": "an RFC 3339 `datetime`",
}


def _cell_fits(kind: str, value: str) -> bool:
    if kind == "boolean":
        return value in _BOOLEANS
    bad = _NOT_A_NUMBER if kind == "number" else _NOT_A_DATETIME
    return bad.search(value) is None


def _cells_fit(kind: str, values: list[str]) -> bool:
    """:func:`_cell_fits` for a whole column at once (one regex pass over the joined cells;
    the patterns are per line, so joining with newlines keeps each cell's verdict)."""
    if kind == "boolean":
        return _BOOLEANS.issuperset(values)
    bad = _NOT_A_NUMBER if kind == "number" else _NOT_A_DATETIME
    return bad.search("\n".join(values)) is None


def _cell_kinds(props: Any) -> dict[str, str]:
    """Properties whose CSV cells need a check beyond msgspec's lax conversion."""
    kinds: dict[str, str] = {}
    for prop, sub in props.items() if isinstance(props, dict) else ():
        kind = sub.get("type") if isinstance(sub, dict) else None
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind in ("boolean", "number"):
            kinds[prop] = kind
        elif kind == "string" and sub.get("format") == "date-time":
            kinds[prop] = "date-time"
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
    when any string passes (an unconstrained string column needs no work)."""
    annotation = _fast_type(sub, with_pattern=_bulk_pattern(sub) is None)
    if annotation is str:
        return None
    if "enum" in sub:  # a Literal of strings: membership is the whole check
        allowed = frozenset(sub["enum"])
        return lambda cells: cells if allowed.issuperset(cells) else None
    if kind == "boolean":  # only true/false, as from_cells asks; both convert
        return lambda cells: cells if _cells_fit("boolean", cells) else None
    if kind == "date-time":
        # Strict conversion takes RFC 3339 text only, which always has the colon that
        # from_cells asks for before its lax conversion (which also reads numbers as Unix
        # times); for such text both give the same datetime.
        return _convert_rule(annotation, strict=True)
    if kind == "number":
        convert = _convert_rule(annotation)
        return lambda cells: convert(cells) if _cells_fit("number", cells) else None
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
            values = rule(cells)
            if values is None:
                return None
            if i == self._time:
                times = values
        for i, pattern in self._patterns:
            if not pattern.values_match(set(columns[i]) - _EMPTY):
                return None
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


def _jsonschema_check(document: dict[str, Any]) -> Callable[[Any], None]:
    validator = jsonschema.Draft202012Validator(document, format_checker=_format_checker())

    def check(obj: Any) -> None:
        error = jsonschema.exceptions.best_match(validator.iter_errors(obj))
        if error is not None:
            path = "$" + "".join(
                f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
            )
            raise RecordError(Reason.SCHEMA_VIOLATION, error.message, path)

    return check


def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, with date-time and email exactly as the fast path has
    them (and not silently skipped when an optional format package is missing)."""
    checker = jsonschema.FormatChecker()
    aware = Annotated[datetime, msgspec.Meta(tz=True)]
    email = re.compile(EMAIL_PATTERN)

    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        try:
            msgspec.convert(value, aware)
        except msgspec.ValidationError:
            return False
        return True

    def _email(value: object) -> bool:
        return not isinstance(value, str) or email.search(value) is not None

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


def _time_getter(prop: str) -> Callable[[Any], Any]:
    def get(obj: Any) -> Any:
        value = obj.get(prop) if isinstance(obj, dict) else None
        if isinstance(value, str):
            try:
                parsed = msgspec.convert(value, datetime)
            except msgspec.ValidationError:
                return None
            return parsed if parsed.tzinfo is not None else None
        return None

    return get


_INT = re.compile(r"-?[0-9]+\Z")
_NUMBER = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?\Z")


def _coerce_cell(value: str, kind: str | None) -> Any:
    """CSV cell to the JSON value it spells, for the jsonschema fallback; a cell that spells
    no value of the declared type stays a string, which jsonschema then rejects, located."""
    if kind == "integer" and _INT.match(value):
        return int(value)
    if kind == "number" and _NUMBER.match(value):
        number = float(value)
        return int(number) if number.is_integer() and _INT.match(value) else number
    if kind == "boolean" and value in _BOOLEANS:
        return value == "true"
    return value
