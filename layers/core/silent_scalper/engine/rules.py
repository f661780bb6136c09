"""The engine's value rules, each defined once and used by every format and path.

A record is valid when its exact check (:class:`RecordRules` over the record's JSON
values, or over CSV cells read by the cell grammar) finds no problem. The batch paths in
``schemas`` are filters that only ever accept what this check accepts; whatever they do
not accept is checked here, which also words and locates every problem of the record.

- **Numbers** are compared exactly, from their text (``Decimal`` or ``int``), never
  through a float. A ``number`` must round to a finite IEEE 754 double (magnitude up to
  about 1.8e308); an ``integer`` is written ``-?(0|[1-9][0-9]*)`` (no fraction, no
  exponent) with at most 4,300 digits.
- **date-time** is RFC 3339 section 5.6 ``date-time``: ``T`` and ``Z`` in either case,
  a numeric offset with its colon, a real calendar day, seconds up to 60 (the grammar's
  leap second). Years 0001-9999.
- **email** is an RFC 5321 mailbox without DNS: a dot-atom local part of at most 64
  octets, ``@``, a host name of two or more labels (letters, digits, inner hyphens, at
  most 63 octets each; a label with other characters must be a valid IDNA 2008
  U-label), the address at most 254 octets with its domain in ASCII form.
- **CSV cells** spell the JSON value of their column's type: an integer column takes
  the integer grammar above, a number column JSON's number grammar, a boolean column
  ``true`` or ``false``, a string column any text; ``null`` in a nullable non-string
  column is null; an empty cell is an absent value.
- **Duplicate keys** make a record invalid, located at the repeated key.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import operator
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, DivisionByZero, InvalidOperation
from typing import Any

import idna
import msgspec

#: The JSON number grammar (RFC 8259 section 6), and its integer subset.
NUMBER_TEXT = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
INTEGER_TEXT = r"-?(?:0|[1-9][0-9]*)"
#: msgspec's and Python's limit on integer digits (``sys.get_int_max_str_digits``).
MAX_INTEGER_DIGITS = 4300

#: The decimal context of every exact check (the rules' and jsonschema's, which computes
#: ``multipleOf`` in the current context). Python's default context (28 digits, exponents
#: within ±999,999) raises on a remainder whose quotient has more digits than that, such as
#: ``1e30 % 0.01``, and rounds a result past its exponents. Here the quotient of any number
#: the engine accepts (up to 4,300 integer digits, or a double's range) by any bound a schema
#: can hold (a double, down to 5e-324, or an integer) fits, and exponents go as far as
#: Decimal's own.
EXACT_CONTEXT = Context(
    prec=MAX_INTEGER_DIGITS + 1_000,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero],
)

_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
_DATE = (
    r"(?:(?!0000)[0-9]{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)|02-(?:0[1-9]|1[0-9]|2[0-8]))"
    rf"|{_LEAP_YEAR}-02-29)"
)
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
_OFFSET = r"(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"
#: RFC 3339 section 5.6 ``date-time``, with the day checked against its month and year.
DATE_TIME_PATTERN = rf"^{_DATE}[Tt]{_TIME}{_OFFSET}$"

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A label with a non-ASCII character: its exact check is IDNA's (see _idna_ok).
_IDN_LABEL = r"[A-Za-z0-9-]*[^\x00-\x7f][^\x00-\x2c\x2e\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]*"
_LABEL = rf"(?:{_ASCII_LABEL}|{_IDN_LABEL})"
#: The structure of an address; a value with non-ASCII characters is also IDNA-checked.
#: The lookaheads bound the local part (64) and the domain (253) without an end anchor,
#: so the pattern can be checked for many values joined by newlines at once.
EMAIL_PATTERN = (
    rf"^(?=[^@\n]{{1,64}}@){_ATEXT}+(?:\.{_ATEXT}+)*@(?![^\n]{{254}}){_LABEL}(?:\.{_LABEL})+$"
)

_DATE_TIME = re.compile(DATE_TIME_PATTERN[:-1] + r"\Z")
_EMAIL = re.compile(EMAIL_PATTERN[:-1] + r"\Z")
_INTEGER = re.compile(INTEGER_TEXT + r"\Z")
_NUMBER = re.compile(NUMBER_TEXT + r"\Z")
_LEAP_SECOND = re.compile(r"(?<=:)60(?=[.Zz+-])")
_AWARE = msgspec.json.Decoder(datetime)
_DATETIMES: Callable[..., Any] = msgspec.convert


def ecma_end(pattern: str) -> str:
    """``pattern`` with a final ``$`` meaning the end of input, as in ECMA-262 (JSON
    Schema's regex dialect); Python's ``$`` also matches before a final newline."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        return pattern[:-1] + r"\Z"
    return pattern


def is_date_time(value: str) -> bool:
    """Whether ``value`` is an RFC 3339 ``date-time``."""
    return _DATE_TIME.match(value) is not None


def email_extra(value: str) -> bool:
    """The part of the e-mail rule a pattern cannot say: a value with non-ASCII
    characters (which the pattern allows only in domain labels) must have a domain that
    is valid IDNA 2008 and an address of at most 254 octets with that domain in ASCII."""
    if value.isascii():
        return True
    local, _, domain = value.rpartition("@")
    try:
        ascii_domain = idna.encode(domain.lower(), uts46=False)
    except (idna.IDNAError, UnicodeError, ValueError):
        return False
    return len(local) + 1 + len(ascii_domain) <= 254 and len(ascii_domain) <= 253


#: The longest address (RFC 5321's path limit less its angle brackets). Counted in
#: characters of the value; :func:`email_extra` counts a non-ASCII domain's ASCII form.
EMAIL_MAX_LENGTH = 254


def is_email(value: str) -> bool:
    """Whether ``value`` is an e-mail address under the engine's rule (module docstring)."""
    return _EMAIL.match(value) is not None and email_extra(value) and len(value) <= EMAIL_MAX_LENGTH


def to_datetimes(values: list[str]) -> list[datetime]:
    """The instants of valid date-time texts (for the summary's first and last times).

    One C call for the usual case; a leap second (``:60``) is read as ``:59`` here only,
    as no datetime type holds it.
    """
    try:
        out: list[datetime] = _DATETIMES(values, list[datetime])
    except msgspec.ValidationError:
        out = [_AWARE.decode(json.dumps(_LEAP_SECOND.sub("59", v, count=1))) for v in values]
    return out


class Num:
    """A JSON number kept as its text, so that checks are exact."""

    __slots__ = ("is_integer", "text")

    def __init__(self, text: str, *, integer: bool | None = None) -> None:
        self.text = text
        #: Written as an integer (no fraction, no exponent).
        self.is_integer = _INTEGER.match(text) is not None if integer is None else integer

    def exact(self) -> int | Decimal:
        """The exact value (an int for integer text)."""
        return int(self.text) if self.is_integer else exact_decimal(self.text)

    def __repr__(self) -> str:
        return self.text


class Obj:
    """A JSON object as its (key, value) pairs in order, duplicates kept."""

    __slots__ = ("pairs",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


_TREE = json.JSONDecoder(
    object_pairs_hook=Obj,
    parse_float=lambda text: Num(text, integer=False),
    parse_int=lambda text: Num(text, integer=True),
)


def parse_tree(text: str) -> Any:
    """Parse well-formed JSON keeping number texts and every object's pairs."""
    return _TREE.decode(text)


def duplicate_keys(tree: Any, path: str = "$") -> list[tuple[str, str]]:
    """(path of the repeated key, key) for each key repeated within one object."""
    out: list[tuple[str, str]] = []
    if isinstance(tree, Obj):
        seen: set[str] = set()
        for key, value in tree.pairs:
            if key in seen:
                out.append((f"{path}.{key}", key))
            seen.add(key)
            # Only containers can hold objects: a flat record costs no call per value.
            if isinstance(value, (Obj, list)):
                out += duplicate_keys(value, f"{path}.{key}")
    elif isinstance(tree, list):
        for i, item in enumerate(tree):
            if isinstance(item, (Obj, list)):
                out += duplicate_keys(item, f"{path}[{i}]")
    return out


def exact_decimal(text: str) -> Decimal:
    """The Decimal of a JSON number's text (not an integer's), exact where Decimal can be.

    Decimal holds exponents within ±999,999,999,999,999,999 only. A text past them is far
    beyond a double's range: too large (then infinite, refused as out of range by
    :func:`number_problem`), or too small to be told from the nearest value Decimal holds
    by any bound a schema can hold (a double or an integer), which stands in for it with its
    sign (or zero, if its digits are all zeros).
    """
    try:
        return Decimal(text)
    except InvalidOperation:
        digits, _, exponent = text.lower().partition("e")
        negative = digits.startswith("-")
        if not digits.strip("-0."):
            return Decimal(0)
        if not exponent.startswith("-"):
            return Decimal("-Infinity" if negative else "Infinity")
        return Decimal(f"{'-' if negative else ''}1e{MIN_EMIN}")


def number_problem(num: Num | int | Decimal) -> str | None:
    """The engine's limits on any JSON number (module docstring), or None: a tree's
    number, or one read exactly (an int is written as an integer, a Decimal is not)."""
    if isinstance(num, int):
        # Below 2**14284 (under 10**4300) for all but integers of 4,300 digits or so.
        if num.bit_length() > 14_284 and abs(num) >= _too_many_digits():
            return _TOO_LONG
        return None
    if isinstance(num, Decimal):
        # float() of the Decimal rounds its exact value, as float() of its text does.
        return None if math.isfinite(float(num)) else _OUT_OF_RANGE
    if num.is_integer:
        if len(num.text.lstrip("-")) > MAX_INTEGER_DIGITS:
            return _TOO_LONG
        return None
    if not math.isfinite(float(num.text)):
        return _OUT_OF_RANGE
    return None


@functools.cache
def _too_many_digits() -> int:
    """The least integer of more than MAX_INTEGER_DIGITS digits (made when first needed:
    not on every cold start)."""
    return int(10**MAX_INTEGER_DIGITS)


_TOO_LONG = f"Expected an integer of at most {MAX_INTEGER_DIGITS} digits"
_OUT_OF_RANGE = "Number out of range (beyond ±1.7976931348623157e308, the largest double)"

#: A reader of JSON text that keeps every number exact: integers as int (msgspec reads
#: at most 4,300 digits, as the limit above), other numbers as the Decimal of their
#: text. For a flat record it gives what :func:`parse_tree` gives, less the repeated
#: keys (a dict keeps one of each) and the number texts (exact values instead).
EXACT_VALUES: msgspec.json.Decoder[Any] = msgspec.json.Decoder(float_hook=exact_decimal)


def plain(tree: Any) -> Any:
    """The tree as plain Python values (numbers exact: int or Decimal)."""
    if isinstance(tree, Obj):
        return {k: plain(v) for k, v in tree.pairs}
    if isinstance(tree, list):
        return [plain(v) for v in tree]
    if isinstance(tree, Num):
        return tree.exact()
    return tree


def json_type(value: Any) -> str:
    """msgspec's name for the JSON type of a tree value or an exactly read value (see
    :data:`EXACT_VALUES`: integers as int, other numbers as Decimal)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Num):
        return "int" if value.is_integer else "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, int):
        return "int"
    if isinstance(value, Decimal):
        return "float"
    if isinstance(value, Obj | dict):
        return "object"
    return "array"


_TYPE_NAMES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "null",
}
_BOOLEAN_CELLS = {"true": True, "false": False}


def _bound(value: Any) -> int | Decimal:
    """A schema bound as an exact number: the decimal its JSON text spelled."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(value)
    return value if isinstance(value, int) else Decimal(repr(value))


@dataclass(frozen=True, slots=True)
class PropertyRule:
    """Everything one property's value must satisfy, checked exactly."""

    name: str
    kind: str  # the JSON type (string, integer, number, boolean), or "enum"
    nullable: bool
    enum: frozenset[str] | None = None
    pattern: re.Pattern[str] | None = None
    pattern_text: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    fmt: str | None = None
    bounds: tuple[tuple[str, int | Decimal, Any], ...] = ()
    multiple_of: int | Decimal | None = None
    #: :meth:`check`'s verdict for the values a record usually holds, in one call and
    #: without wording anything: True means :meth:`check` finds no problem; False means
    #: ask :meth:`check` (a problem, or a value this cannot judge). See :func:`quick_accept`.
    quick: Callable[[Any], bool] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "quick", quick_accept(self))

    @classmethod
    def of(cls, name: str, sub: Mapping[str, Any]) -> PropertyRule:
        """The rule of a property the fast path compiles (see ``schemas._fast_type``)."""
        kind = sub.get("type")
        nullable = False
        if isinstance(kind, list):
            nullable = "null" in kind
            kind = next(k for k in kind if k != "null")
        if "enum" in sub:
            return cls(name, "enum", nullable, enum=frozenset(sub["enum"]))
        pattern = sub.get("pattern")
        bounds = tuple(
            (op, _bound(sub[keyword]), sub[keyword])
            for keyword, op in (
                ("minimum", ">="),
                ("maximum", "<="),
                ("exclusiveMinimum", ">"),
                ("exclusiveMaximum", "<"),
            )
            if keyword in sub
        )
        return cls(
            name,
            str(kind),
            nullable,
            pattern=None if pattern is None else re.compile(ecma_end(pattern)),
            pattern_text=pattern,
            min_length=sub.get("minLength"),
            max_length=sub.get("maxLength"),
            fmt=sub.get("format"),
            bounds=bounds,
            multiple_of=_bound(sub["multipleOf"]) if "multipleOf" in sub else None,
        )

    @property
    def type_name(self) -> str:
        """msgspec's name of the expected type (``int | null`` when nullable)."""
        base = "str" if self.kind == "enum" else _TYPE_NAMES.get(self.kind, self.kind)
        return f"{base} | null" if self.nullable else base

    def check(self, value: Any) -> str | None:
        """The problem with ``value`` (a tree value, see :func:`parse_tree`, or a value
        read by :data:`EXACT_VALUES`), or None."""
        if value is None:
            return None if self.nullable else f"Expected `{self.type_name}`, got `null`"
        got = json_type(value)
        kind = self.kind
        if kind == "enum":
            if got != "str":
                return f"Expected `{self.type_name}`, got `{got}`"
            return None if value in (self.enum or ()) else f"Invalid enum value {value!r}"
        if kind == "string":
            return self._string(value) if got == "str" else self._wrong(got)
        if kind == "boolean":
            return None if got == "bool" else self._wrong(got)
        if kind == "integer" and got != "int":
            return self._wrong(got)
        if kind == "number" and got not in ("int", "float"):
            return self._wrong(got)
        if kind not in ("integer", "number"):
            return self._wrong(got)
        return self._number(value)

    def _wrong(self, got: str) -> str:
        return f"Expected `{self.type_name}`, got `{got}`"

    def _string(self, value: str) -> str | None:
        if self.fmt == "date-time" and not is_date_time(value):
            return f"Expected an RFC 3339 date-time (format date-time), got {_clip(value)!r}"
        if self.fmt == "email" and not is_email(value):
            return "Expected an e-mail address (format email)"
        if self.pattern is not None and self.pattern.search(value) is None:
            return f"Expected `str` matching regex {self.pattern_text!r}"
        if self.min_length is not None and len(value) < self.min_length:
            return f"Expected `str` of length >= {self.min_length}"
        if self.max_length is not None and len(value) > self.max_length:
            return f"Expected `str` of length <= {self.max_length}"
        return None

    def _number(self, num: Num | int | Decimal) -> str | None:
        limit = number_problem(num)
        if limit is not None:
            return limit
        exact = num.exact() if isinstance(num, Num) else num
        name = "int" if self.kind == "integer" else "float"
        for op, bound, spelled in self.bounds:
            ok = (
                exact >= bound
                if op == ">="
                else exact <= bound
                if op == "<="
                else exact > bound
                if op == ">"
                else exact < bound
            )
            if not ok:
                shown = spelled if self.kind == "integer" else float(spelled)
                return f"Expected `{name}` {op} {shown!r}"
        if self.multiple_of is not None and EXACT_CONTEXT.remainder(exact, self.multiple_of) != 0:
            return f"Expected `{name}` that's a multiple of {self.multiple_of}"
        return None

    def from_cell(self, cell: str) -> tuple[Any, str | None]:
        """The JSON value a non-empty CSV cell spells for this column (cell grammar in the
        module docstring), or (None, the problem)."""
        kind = self.kind
        if kind in ("string", "enum"):
            return cell, None
        if self.nullable and cell == "null":
            return None, None
        if kind == "integer":
            if _INTEGER.match(cell):
                return Num(cell, integer=True), None
            return None, f"Expected `int`, got {_clip(cell)!r}"
        if kind == "number":
            if _NUMBER.match(cell):
                return Num(cell), None
            return None, f"Expected a finite `number`, got {_clip(cell)!r}"
        if cell in _BOOLEAN_CELLS:
            return _BOOLEAN_CELLS[cell], None
        return None, f"Expected `bool` (true or false), got {_clip(cell)!r}"


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_Step = tuple[str, Callable[[Any], bool], Callable[[Any], str | None], str | None]


def _missing(name: str) -> str:
    return f"Object missing required field `{name}`"


@dataclass(frozen=True, slots=True)
class RecordRules:
    """A flat object schema's exact check: every problem of one record, in property order."""

    rules: tuple[PropertyRule, ...]
    required: frozenset[str]
    closed: bool
    by_name: Mapping[str, PropertyRule]
    #: Each property's place in ``rules``: the order problems are listed in.
    position: Mapping[str, int]
    #: Per rule, in order, what :meth:`_every_problem` reads: (name, quick verdict, check,
    #: the problem of its absence or None when it may be absent).
    _steps: tuple[_Step, ...] = field(init=False, compare=False, repr=False)
    _step_of: Mapping[str, _Step] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        required = self.required
        steps = tuple(
            (r.name, r.quick, r.check, _missing(r.name) if r.name in required else None)
            for r in self.rules
        )
        object.__setattr__(self, "_steps", steps)
        object.__setattr__(self, "_step_of", {step[0]: step for step in steps})

    @classmethod
    def of(cls, props: Mapping[str, Any], required: frozenset[str], *, closed: bool) -> RecordRules:
        """The rules of a flat object schema's properties."""
        rules = tuple(PropertyRule.of(name, sub) for name, sub in props.items())
        by_name = {r.name: r for r in rules}
        return cls(rules, required, closed, by_name, {r.name: i for i, r in enumerate(rules)})

    def problems(
        self,
        values: Mapping[str, Any],
        earlier: Mapping[str, str] | None = None,
        *,
        only: frozenset[str] | None = None,
    ) -> list[tuple[str, str]]:
        """(path, message) of each problem of an object's values (tree values, see
        :func:`parse_tree`); ``earlier`` holds problems already found for some properties
        (a CSV cell that spells no value of its column's type), reported in their place.
        ``only``: the properties looked at (``values`` holds no others); None: all."""
        if earlier is None and only is None:
            return self._every_problem(values)
        out: list[tuple[str, str]] = []
        earlier = earlier or {}
        known = self.by_name
        if self.closed:
            out += [
                (f"$.{k}", f"Object contains unknown field `{k}`") for k in values if k not in known
            ]
        for rule in self.rules:
            if only is not None and rule.name not in only:
                continue
            if rule.name in earlier:
                out.append((f"$.{rule.name}", earlier[rule.name]))
                continue
            if rule.name not in values:
                if rule.name in self.required:
                    out.append(("$", _missing(rule.name)))
                continue
            message = rule.check(values[rule.name])
            if message is not None:
                out.append((f"$.{rule.name}", message))
        return out

    def _every_problem(self, values: Mapping[str, Any]) -> list[tuple[str, str]]:
        """:meth:`problems` of every property, with nothing found before: the same
        loop without the two lookups a record's exact check never needs, and each value
        first put to its property's :attr:`PropertyRule.quick` verdict (an invalid
        record's other values are mostly valid: only its problems are worded)."""
        out: list[tuple[str, str]] = []
        known = self.by_name
        if self.closed and not values.keys() <= known.keys():
            out += [
                (f"$.{k}", f"Object contains unknown field `{k}`") for k in values if k not in known
            ]
        get = values.get
        for name, quick, check, missing in self._steps:
            value = get(name, ABSENT)
            if value is ABSENT:
                if missing is not None:
                    out.append(("$", missing))
            elif not quick(value):
                message = check(value)
                if message is not None:
                    out.append((f"$.{name}", message))
        return out

    def breaks(self, values: Mapping[str, Any], name: str) -> bool:
        """Whether :meth:`problems` lists a problem of the property ``name`` of an
        object's values (its value, its absence, or in a closed schema its being
        unknown), found by looking at that property alone."""
        step = self._step_of.get(name)
        if step is None:
            return self.closed and name in values
        _, quick, check, missing = step
        value = values.get(name, ABSENT)
        if value is ABSENT:
            return missing is not None
        return not quick(value) and check(value) is not None

    def problem_counts(
        self,
        records: Sequence[Mapping[str, Any]],
        columns: Mapping[str, ColumnVerdict] | None = None,
    ) -> list[int]:
        """``len(self.problems(r))`` of each record (values read exactly, as
        :meth:`problems` takes them), found a property at a time and worded nowhere: for
        records only counted, past the errors a summary keeps.

        A property's values are first judged as a column (``columns``, from
        :func:`quick_column`): when every one is accepted, only its absences are looked
        for. Otherwise each value is put to its quick verdict in one ``map``; only those it
        does not accept are looked at one by one, and a value refused before in the same
        call is not checked again (a value's verdict depends on its type and value alone,
        as :meth:`PropertyRule.check` reads them).
        """
        known = self.by_name.keys()
        if self.closed:
            counts = [0 if r.keys() <= known else len(r.keys() - known) for r in records]
        else:
            counts = [0] * len(records)
        columns = columns or {}
        for name, quick, check, missing in self._steps:
            column = [r.get(name, ABSENT) for r in records]
            whole = columns.get(name)
            if whole is not None:
                types = set(map(type, column))
                if whole(column, types):
                    if missing is not None and object in types:
                        for i, value in enumerate(column):
                            counts[i] += value is ABSENT
                    continue
            refused: dict[tuple[type, Any], bool] = {}
            for i in itertools.compress(itertools.count(), map(operator.not_, map(quick, column))):
                value = column[i]
                if value is ABSENT:
                    counts[i] += missing is not None
                    continue
                cls = value.__class__
                if cls not in _SCALARS:  # a container: judged alone, never remembered
                    counts[i] += check(value) is not None
                    continue
                known_verdict = refused.get((cls, value))
                if known_verdict is None:
                    known_verdict = refused[cls, value] = check(value) is not None
                counts[i] += known_verdict
        return counts


#: The classes of exactly read values a verdict can be remembered by (hashable, and equal
#: only when :meth:`PropertyRule.check` says the same of both).
_SCALARS = frozenset({str, int, bool, Decimal, type(None)})

#: A property no record holds (``values.get``'s default: a record's value may be None).
ABSENT = object()

#: Integers strictly between these are within the engine's limit on integer digits
#: (:func:`number_problem` refuses none of them: they have at most 14,284 bits).
_INT_FLOOR = -(1 << 14_284)
_INT_CEILING = 1 << 14_284
#: The largest double, exactly: a Decimal no larger in magnitude rounds to a finite one.
_DOUBLE_MAX = Decimal(sys.float_info.max)
_NEG_MAX = -_DOUBLE_MAX
#: A finite Decimal whose adjusted exponent is below this is under 10**308 in magnitude,
#: so within a double's range without comparing it with the 309-digit bound.
_DOUBLE_DIGITS = 308


def _never(value: Any) -> bool:
    """The quick verdict of a rule with no quick reading: always ask the check."""
    return False


def quick_accept(rule: PropertyRule) -> Callable[[Any], bool]:
    """A predicate true only of values ``rule.check`` finds no problem with.

    It judges the values a record read exactly holds (:data:`EXACT_VALUES`: ``str``,
    ``int``, ``bool``, ``Decimal``, None) as :meth:`PropertyRule.check` does, without
    the type-name dispatch or any wording, and is false for anything else (a tree's
    ``Num``, a container, an integer of over 14,284 bits, a Decimal beyond a double's
    range, a ``multipleOf`` of a non-integer), which the check then judges. So the check
    stays the definition, and a wrong False can only cost time.
    """
    kind = rule.kind
    ok: Callable[[Any], bool]
    if kind == "enum":
        enum = rule.enum or frozenset()

        def ok(v: Any) -> bool:
            return v.__class__ is str and v in enum

    elif kind == "boolean":

        def ok(v: Any) -> bool:
            return v.__class__ is bool

    elif kind == "string":
        ok = _quick_string(rule)
    elif kind in ("integer", "number"):
        ok = _quick_number(rule)
    else:
        return _never
    if not rule.nullable:
        return ok
    inner = ok

    def ok_or_null(v: Any) -> bool:
        return v is None or inner(v)

    return ok_or_null


def _quick_string(rule: PropertyRule) -> Callable[[Any], bool]:
    """:func:`quick_accept` of a string rule: the same tests as ``_string``, in one list."""
    tests: list[Callable[[str], object]] = []
    if rule.fmt == "date-time":
        tests.append(is_date_time)
    elif rule.fmt == "email":
        tests.append(is_email)
    if rule.pattern is not None:
        tests.append(rule.pattern.search)
    low, high = rule.min_length, rule.max_length
    if low is not None or high is not None:
        lo = 0 if low is None else low
        hi = math.inf if high is None else high
        tests.append(lambda v: lo <= len(v) <= hi)
    if not tests:
        return lambda v: v.__class__ is str
    if len(tests) == 1:
        (test,) = tests
        return lambda v: v.__class__ is str and bool(test(v))
    return lambda v: v.__class__ is str and all(test(v) for test in tests)


def _quick_number(rule: PropertyRule) -> Callable[[Any], bool]:
    """:func:`quick_accept` of an integer or number rule: within the engine's number
    limits (conservatively, see above), the bounds, and an integer ``multipleOf``."""
    (lo_op, lo), (hi_op, hi) = _comparisons(rule)
    step = rule.multiple_of
    if step is not None and (not isinstance(step, int) or step <= 0):
        return _never  # a fractional step's remainder: the check computes it
    integer = rule.kind == "integer"

    def ok(v: Any) -> bool:
        cls = v.__class__
        if cls is int:
            if not _INT_FLOOR < v < _INT_CEILING:
                return False
        elif cls is Decimal and not integer:
            if not (
                v.is_finite() and (v.adjusted() < _DOUBLE_DIGITS or _NEG_MAX <= v <= _DOUBLE_MAX)
            ):
                return False
            if step is not None:
                return False  # a Decimal's remainder: the check computes it
        else:
            return False
        return lo_op(lo, v) and hi_op(v, hi) and (step is None or v % step == 0)

    return ok


#: Whether every value of a property's column is one its quick verdict accepts, given the
#: column (values read exactly, :data:`ABSENT` where a record has none) and the set of
#: its values' types. See :func:`quick_column`.
ColumnVerdict = Callable[[list[Any], set[type]], bool]


def quick_column(
    rule: PropertyRule, strings_match: Callable[[list[str]], bool] | None = None
) -> ColumnVerdict | None:
    """A predicate true only of columns whose every present value ``rule.quick`` accepts
    (absent values, :data:`ABSENT`, are left out: their problem is the record's), in a
    few passes at C speed rather than a call a value: the types seen, the extremes of the
    numbers and lengths, the set of an enum's values. ``strings_match``: whether every
    one of a list of strings matches the rule's pattern or format (an e-mail's IDNA
    domain included), a batch check that accepts only what :func:`is_date_time`,
    :func:`is_email` and the pattern accept. None when no such predicate is worth having
    (a ``multipleOf``; a pattern or format with no ``strings_match``): the caller asks
    the quick verdict of each value. A False only sends the column to those verdicts.
    """
    kind = rule.kind
    allowed = {object} | ({type(None)} if rule.nullable else set())
    if kind == "enum":
        enum = rule.enum or frozenset()
        allowed.add(str)

        def enum_ok(column: list[Any], types: set[type]) -> bool:
            if not types <= allowed:
                return False
            distinct = set(column)
            distinct.discard(ABSENT)
            distinct.discard(None)
            return distinct <= enum

        return enum_ok
    if kind == "boolean":
        allowed.add(bool)
        return lambda column, types: types <= allowed
    if kind == "string":
        return _string_column(rule, allowed | {str}, strings_match)
    if kind in ("integer", "number") and rule.multiple_of is None:
        return _number_column(rule, allowed | ({int} if kind == "integer" else {int, Decimal}))
    return None


def _of_present(allowed: set[type], test: Callable[[list[Any]], bool]) -> ColumnVerdict:
    """The column verdict: every value's type in ``allowed``, and ``test`` true of the
    values less the absent and null ones (true when none is left)."""

    def ok(column: list[Any], types: set[type]) -> bool:
        if not types <= allowed:
            return False
        values = column
        if object in types or type(None) in types:
            values = [v for v in column if v is not ABSENT and v is not None]
        return not values or test(values)

    return ok


def _string_column(
    rule: PropertyRule, allowed: set[type], strings_match: Callable[[list[str]], bool] | None
) -> ColumnVerdict | None:
    """:func:`quick_column` of a string rule: its lengths (an e-mail's whole length
    too) from the shortest and longest value, then its pattern or format in one batch."""
    shaped = rule.fmt in ("date-time", "email") or rule.pattern is not None
    if shaped and strings_match is None:
        return None
    low = rule.min_length or 0
    high = EMAIL_MAX_LENGTH if rule.fmt == "email" else rule.max_length
    if rule.fmt == "email" and rule.max_length is not None:
        high = min(EMAIL_MAX_LENGTH, rule.max_length)

    def ok(values: list[str]) -> bool:
        if low or high is not None:
            lengths = list(map(len, values))
            if min(lengths) < low or (high is not None and max(lengths) > high):
                return False
        return strings_match is None or strings_match(values)

    return _of_present(allowed, ok)


def _number_column(rule: PropertyRule, allowed: set[type]) -> ColumnVerdict:
    """:func:`quick_column` of an integer or number rule without ``multipleOf``: the
    least and greatest value within the bounds and within a double's range (which also
    keeps integers within the engine's limit on digits). ``min`` and ``max`` compare
    ints and Decimals exactly."""
    (lo_op, lo), (hi_op, hi) = _comparisons(rule)

    def ok(values: list[Any]) -> bool:
        least, greatest = min(values), max(values)
        return (
            least >= _NEG_MAX
            and greatest <= _DOUBLE_MAX
            and lo_op(lo, least)
            and hi_op(greatest, hi)
        )

    return _of_present(allowed, ok)


_Comparison = tuple[Callable[[Any, Any], bool], int | Decimal | float]


def _comparisons(rule: PropertyRule) -> tuple[_Comparison, _Comparison]:
    """A number rule's bounds as one comparison a side: ``lo_op(lo, v)`` and
    ``hi_op(v, hi)`` hold exactly when ``v`` is within every bound."""
    lower: list[tuple[Callable[[Any, Any], bool], int | Decimal]] = []
    upper: list[tuple[Callable[[Any, Any], bool], int | Decimal]] = []
    for op, bound, _ in rule.bounds:
        if op in (">=", ">"):
            lower.append((operator.le if op == ">=" else operator.lt, bound))
        else:
            upper.append((operator.le if op == "<=" else operator.lt, bound))
    return _tightest(lower, low=True), _tightest(upper, low=False)


def _tightest(
    bounds: list[tuple[Callable[[Any, Any], bool], int | Decimal]], *, low: bool
) -> _Comparison:
    """One comparison for a side's bounds (``minimum`` and ``exclusiveMinimum`` may both
    be given): the tighter bound, exclusive on a tie; no bound compares with infinity."""
    if not bounds:
        return operator.le, -math.inf if low else math.inf
    best = bounds[0]
    for op, bound in bounds[1:]:
        tighter = bound > best[1] if low else bound < best[1]
        if tighter or (bound == best[1] and op is operator.lt):
            best = (op, bound)
    return best
