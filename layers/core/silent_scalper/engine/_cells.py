"""CSV cells: the grammar of each typed column checked a column at a time, and the column
checks that accept a batch of rows without building a dict per row."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from silent_scalper.engine._patterns import PatternCheck, _bulk_pattern
from silent_scalper.engine._struct import _fast_type
from silent_scalper.engine.rules import (
    INTEGER_TEXT,
    NUMBER_TEXT,
    Num,
    number_problem,
    to_datetimes,
)


def _csv_rules(props: dict[str, Any], unique: tuple[str, ...]) -> dict[str, CellRule | None] | None:
    """Every property's column check (None: any string passes), or None when CSV rows
    must take the exact path (see :class:`CsvColumns`)."""
    if unique and props[unique[0]].get("type") != "string":
        return None  # non-string keys are compared as canonical JSON of the converted value
    kinds = _cell_kinds(props)
    return {prop: _csv_rule(sub, kinds.get(prop)) for prop, sub in props.items()}


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


def _cell_number_problem(value: str, kind: str | None) -> str | None:
    """The engine's number limit a numeric cell breaks (worded as for a JSON record), or
    None: checked before the jsonschema fallback, as the JSON paths check it first."""
    if kind in ("integer", "number") and _CELL_COLUMN[kind].fullmatch(value):
        return number_problem(Num(value))
    return None


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
