"""A flat object schema compiled into a ``msgspec.Struct`` type: the batch filter that
msgspec decodes JSON bytes straight into, many records per call."""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NamedTuple, Optional

import msgspec

from silent_scalper.engine._constraints import (
    INT64_MAX,
    INT64_MIN,
    ValueCheck,
    ValueChecks,
    lenient_annotation,
)
from silent_scalper.engine._patterns import (
    _FORMAT_PATTERNS,
    DateTimeCheck,
    PatternCheck,
    _bulk_pattern,
    _string_pattern,
)
from silent_scalper.engine.rules import EMAIL_MAX_LENGTH, ecma_end

_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "number": float,
    "boolean": bool,
    "null": type(None),
}
# Keywords the fast path understands; anything else sends the schema to jsonschema.
ANNOTATIONS = frozenset(
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
_TOP_KEYWORDS = ANNOTATIONS | {
    "$schema",
    "$id",
    "type",
    "properties",
    "required",
    "additionalProperties",
    "x-unique",
    "x-timestamp",
}
_PROPERTY_KEYWORDS = ANNOTATIONS | {
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


class FastStruct(NamedTuple):
    """What a flat schema compiles into: the record type msgspec decodes into, the field
    name of each property, the batch string checks, and the constraints the record
    type's lenient twin leaves out (None when it has none, or no twin can be made)."""

    record_type: Any
    fields: dict[str, str]
    patterns: tuple[PatternCheck, ...]
    values: ValueChecks | None


def _fast_struct(name: str, document: dict[str, Any]) -> FastStruct | None:
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
    fields: dict[str, str] = {}
    patterns: list[PatternCheck] = []
    declared: list[tuple[str, Any, bool]] = []  # each field's annotation, and if required
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
        declared.append((attr, annotation, prop in required))
    closed = additional is False
    struct = _defstruct(_struct_name(name), declared, fields, closed=closed)
    twin = _value_checks(_struct_name(name) + "_lenient", declared, fields, closed=closed)
    return FastStruct(struct, fields, tuple(patterns), twin)


def _defstruct(
    name: str, declared: list[tuple[str, Any, bool]], fields: dict[str, str], *, closed: bool
) -> Any:
    """The Struct of the fields ``declared`` (each field's name, annotation, and whether
    it is required): required ones first, an optional one ``T | UnsetType`` defaulting to
    UNSET, each renamed to its property."""
    required = [(attr, annotation) for attr, annotation, is_required in declared if is_required]
    optional = [
        (attr, annotation | msgspec.UnsetType, msgspec.UNSET)
        for attr, annotation, is_required in declared
        if not is_required
    ]
    return msgspec.defstruct(
        name,
        [*required, *optional],
        rename={attr: prop for prop, attr in fields.items()},
        forbid_unknown_fields=closed,
        kw_only=True,
        # Its fields hold strings, numbers, booleans and None only, so a record can be in
        # no reference cycle: the collector need not track thousands of them a batch.
        gc=False,
    )


def _value_checks(
    name: str, declared: list[tuple[str, Any, bool]], fields: dict[str, str], *, closed: bool
) -> ValueChecks | None:
    """The lenient twin of the record type whose fields are ``declared`` (each field's
    annotation as ``_fast_type`` made it, and whether it is required; an optional one is
    ``T | UnsetType`` in both types, default UNSET), in the same order and configuration,
    with the checks taken out of it; None when there is nothing to take out, or an
    annotation is not one the twin knows."""
    prop_of = {attr: prop for prop, attr in fields.items()}
    twin: list[tuple[str, Any, bool]] = []
    checks: list[ValueCheck] = []
    try:
        for attr, annotation, is_required in declared:
            lenient, check = lenient_annotation(annotation)
            twin.append((attr, lenient, is_required))
            if check is not None:
                checks.append(ValueCheck(attr, prop_of[attr], *check))
    except ValueError:
        return None
    if not checks:
        return None
    return ValueChecks(_defstruct(name, twin, fields, closed=closed), checks)


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
        if fmt == "email":
            # The pattern bounds the local part and the domain, not the whole address.
            meta["max_length"] = EMAIL_MAX_LENGTH
        if "minLength" in sub:
            meta["min_length"] = sub["minLength"]
        if "maxLength" in sub:
            meta["max_length"] = sub["maxLength"]
    elif kind in ("integer", "number"):
        if fmt is not None or (kind == "number" and "multipleOf" in sub):
            return None  # a float remainder is not exact: jsonschema on Decimals decides
        bounds = _integer_bounds(sub) if kind == "integer" else _number_bounds(sub)
        if bounds is None:
            return None
        meta.update(bounds)
    elif set(sub) - ANNOTATIONS - {"type"}:
        return None
    return Annotated[base, msgspec.Meta(**meta)] if meta else base


def clamp_int64(value: int) -> int:
    """``value`` held to int64's range."""
    return min(max(value, INT64_MIN), INT64_MAX)


_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def integer_range(sub: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """The lowest and highest integer an integer property's bounds allow (None: that side
    is unbounded). On integers ``> a`` is ``>= a + 1``: each side's bounds, inclusive or
    exclusive, become one inclusive bound, the stricter (JSON Schema allows both kinds on
    one side)."""
    lows = [sub["minimum"]] if "minimum" in sub else []
    lows += [sub["exclusiveMinimum"] + 1] if "exclusiveMinimum" in sub else []
    highs = [sub["maximum"]] if "maximum" in sub else []
    highs += [sub["exclusiveMaximum"] - 1] if "exclusiveMaximum" in sub else []
    return (max(lows) if lows else None), (min(highs) if highs else None)


def _integer_bounds(sub: dict[str, Any]) -> dict[str, int] | None:
    """msgspec constraints for an integer property's bounds, or None (the exact check
    alone, through jsonschema) when they cannot be said to msgspec.

    The Struct is a filter: it may refuse what the exact check accepts (that record
    takes the exact check), never the reverse. msgspec takes one bound per side, so the
    bounds are :func:`integer_range`'s. A bound past int64 is clamped to it when that
    only refuses more (a value past int64 then takes the exact check); a lower bound
    above int64, an upper one below it, or a ``multipleOf`` past it cannot be, and leave
    the property to the exact check.
    """
    values = [sub[k] for k in (*_BOUNDS, "multipleOf") if k in sub]
    if any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        return None  # msgspec wants integer bounds for int fields
    low, high = integer_range(sub)
    out: dict[str, int] = {}
    if low is not None:
        if low > INT64_MAX:
            return None
        out["ge"] = clamp_int64(low)
    if high is not None:
        if high < INT64_MIN:
            return None
        out["le"] = clamp_int64(high)
    if "multipleOf" in sub:
        if sub["multipleOf"] > INT64_MAX:
            return None
        out["multiple_of"] = sub["multipleOf"]
    return out


def _number_bounds(sub: dict[str, Any]) -> dict[str, float] | None:
    """msgspec constraints for a number property's bounds, or None (the exact check
    alone) when they cannot be said to msgspec.

    A value is decoded as a float, so every bound becomes exclusive: a value equal to
    one after rounding (4.9999999999999999 for 5, -1e-400 for 0) is refused and left to
    the exact check, which compares the decimal text. Each side keeps its stricter bound
    (msgspec takes one per side). A bound past a double's range is clamped to the
    largest finite double when that only refuses more (msgspec refuses an infinite
    bound, which the CSV columns' ``_double`` uses instead); a lower bound above that
    range, or an upper one below it, leaves the property to the exact check.
    """
    if any(isinstance(sub[k], bool) for k in _BOUNDS if k in sub):
        return None
    lows = [sub[k] for k in ("minimum", "exclusiveMinimum") if k in sub]
    highs = [sub[k] for k in ("maximum", "exclusiveMaximum") if k in sub]
    out: dict[str, float] = {}
    if lows:
        low = max(lows)
        if low > sys.float_info.max:
            return None
        out["gt"] = -sys.float_info.max if low < -sys.float_info.max else float(low)
    if highs:
        high = min(highs)
        if high < -sys.float_info.max:
            return None
        out["lt"] = sys.float_info.max if high > sys.float_info.max else float(high)
    return out


def _struct_name(name: str) -> str:
    cleaned = re.sub(r"\W", "_", name)
    return f"Record_{cleaned}"
