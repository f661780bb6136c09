"""A record type's value constraints taken out of msgspec and checked after it.

msgspec stops a batch at the first record that breaks a bound or an enum, so a block
holding a few such records is decoded in windows, each refusal costing the records
before it decoded twice and a Python step (``_ndjson._ndjson_sifted``). The *lenient
twin* of a record type has the same fields, names, types and configuration without
those constraints (integer and number bounds, string lengths, enums: a ``Literal``
becomes ``str``), so a block decodes whole whatever its values; :class:`ValueChecks`
then finds the records breaking one over the decoded records, in one compiled pass
that reads each field at its slot (``_native.value_failures``; without the module,
:func:`value_failures_python`, the definition). The twin is derived from the strict
type's own annotations, so the two cannot drift: a record the twin and the checks
accept is one the strict type accepts.

Patterns msgspec checks and ``multipleOf`` stay in the twin: they are rare, and a
record breaking one is refused by the twin as by the strict type.
"""

from __future__ import annotations

import math
import types
import typing
from collections.abc import Sequence
from typing import Annotated, Any, Literal, NamedTuple, Optional

import msgspec

from silent_scalper.engine._fields import slot_offsets

try:
    from silent_scalper.engine import _native
except ImportError:  # not built: the checks read fields by name
    _native = None  # type: ignore[assignment]

#: The kinds of check, as ``_native.value_failures`` numbers them.
INTEGER, NUMBER, LENGTH, ENUM = 0, 1, 2, 3
#: msgspec holds an int field's constraints to int64 (``_struct.clamp_int64``; and the
#: CSV integer grammar, 18 digits, never reaches either end).
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


class ValueCheck(NamedTuple):
    """One constraint taken out of the strict type: on field ``attr`` (property
    ``prop``), an integer within [low, high], a number strictly between low and high, a
    string of [low, high] characters, or a string among ``allowed``; None is no bound."""

    attr: str
    prop: str
    kind: int
    low: Any
    high: Any
    allowed: tuple[str, ...]

    def proves(self, value: Any) -> bool:
        """Whether ``value``, a decoded value that breaks this check, breaks the
        property's rule by that alone: an enum's or a length's always (the check is the
        rule's own: the schema's values, its bounds in characters); an integer's when
        within int64 (msgspec holds an integer's bounds to int64, so past it a bound
        broken may be a wider one clamped; within it, no clamped bound can be broken); a
        number's when it lies at least two doubles beyond its bound.

        A number's double is not its text's number, but msgspec rounds the text to the
        nearest double, so the text's number lies strictly between the doubles beside
        ``value``; and a number's bound here is the double nearest the rule's bound
        (``_struct._number_bounds``), so the double before it (after it, for an upper
        bound) is already beyond the rule's bound. A double at or next to the bound is
        left to the rule (``CompiledSchema.whole_refused``)."""
        if self.kind in (ENUM, LENGTH):
            return True
        if self.kind == NUMBER:
            return value.__class__ is float and (
                (
                    self.low is not None
                    and math.nextafter(value, math.inf) <= math.nextafter(self.low, -math.inf)
                )
                or (
                    self.high is not None
                    and math.nextafter(value, -math.inf) >= math.nextafter(self.high, math.inf)
                )
            )
        return self.kind == INTEGER and value.__class__ is int and INT64_MIN <= value <= INT64_MAX


def breaks(check: ValueCheck, value: Any) -> bool:
    """Whether a decoded value (not UNSET or None) breaks ``check``, as the strict type's
    constraint would refuse it. A value of another type than the check reads does."""
    if check.kind == INTEGER:
        if value.__class__ is not int:
            return True
        return (check.low is not None and value < check.low) or (
            check.high is not None and value > check.high
        )
    if check.kind == NUMBER:
        if value.__class__ is not float:
            return True
        return (check.low is not None and not value > check.low) or (
            check.high is not None and not value < check.high
        )
    if value.__class__ is not str:
        return True
    if check.kind == LENGTH:
        return (check.low is not None and len(value) < check.low) or (
            check.high is not None and len(value) > check.high
        )
    return value not in check.allowed


def value_failures_python(
    objs: Sequence[Any], checks: Sequence[ValueCheck]
) -> tuple[list[int], list[int]]:
    """The records with a value breaking one of ``checks`` (UNSET and None values are not
    checked), and the first check each breaks: the definition of the compiled pass."""
    indices: list[int] = []
    which: list[int] = []
    unset = msgspec.UNSET
    for i, obj in enumerate(objs):
        for c, check in enumerate(checks):
            value = getattr(obj, check.attr)
            if value is unset or value is None or not breaks(check, value):
                continue
            indices.append(i)
            which.append(c)
            break
    return indices, which


#: The constraints of a ``msgspec.Meta`` the twin keeps, and those it takes out.
_KEPT = ("pattern", "multiple_of")
_MOVED = ("ge", "le", "gt", "lt", "min_length", "max_length")


def lenient_annotation(annotation: Any) -> tuple[Any, tuple[int, Any, Any, tuple[str, ...]] | None]:
    """The twin of one field's strict annotation (as ``_struct._fast_type`` makes them),
    and the check taken out of it: (kind, low, high, allowed), or None when none was.
    Raises ValueError for an annotation it does not know (the schema then keeps the
    strict type alone)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        if len(args) != 2 or type(None) not in args:
            raise ValueError(f"not an optional type: {annotation!r}")
        inner = next(a for a in args if a is not type(None))
        twin, taken = lenient_annotation(inner)
        return Optional[twin], taken  # noqa: UP045 - as _fast_type spells it
    if origin is Literal:
        allowed = typing.get_args(annotation)
        if not all(isinstance(v, str) for v in allowed):
            raise ValueError(f"not a string enum: {annotation!r}")
        return str, (ENUM, None, None, tuple(allowed))
    if origin is Annotated:
        base, *metas = typing.get_args(annotation)
        if len(metas) != 1 or not isinstance(metas[0], msgspec.Meta):
            raise ValueError(f"not one msgspec.Meta: {annotation!r}")
        meta = metas[0]
        kept = {k: getattr(meta, k) for k in _KEPT if getattr(meta, k) is not None}
        moved = {k: getattr(meta, k) for k in _MOVED if getattr(meta, k) is not None}
        if meta.tz is not None:
            raise ValueError(f"a constraint the twin does not take out: {annotation!r}")
        check: tuple[int, Any, Any, tuple[str, ...]] | None = None
        if base is int and moved.keys() <= {"ge", "le"}:
            check = (INTEGER, moved.get("ge"), moved.get("le"), ()) if moved else None
        elif base is float and moved.keys() <= {"gt", "lt"}:
            check = (NUMBER, moved.get("gt"), moved.get("lt"), ()) if moved else None
        elif base is str and moved.keys() <= {"min_length", "max_length"}:
            check = (
                (LENGTH, moved.get("min_length"), moved.get("max_length"), ()) if moved else None
            )
        else:
            raise ValueError(f"a constraint the twin does not take out: {annotation!r}")
        twin = Annotated[base, msgspec.Meta(**kept)] if kept else base
        return twin, check
    if annotation in (str, int, float, bool, type(None)):
        return annotation, None
    raise ValueError(f"not a field type of a flat record: {annotation!r}")


class ValueChecks:
    """The constraints taken out of a record type: its lenient twin (``lenient``, what a
    whole block is decoded into) and the checks (``checks``) that its records must then
    pass for the strict type to accept them."""

    __slots__ = ("_plan", "_size", "checks", "lenient")

    def __init__(self, lenient: Any, checks: Sequence[ValueCheck]) -> None:
        self.lenient = lenient
        self.checks = tuple(checks)
        offsets = slot_offsets(lenient, [c.attr for c in self.checks])
        self._size: int = lenient.__basicsize__
        self._plan = (
            None
            if offsets is None
            else [
                (at, c.kind, c.low, c.high, c.allowed)
                for at, c in zip(offsets, self.checks, strict=True)
            ]
        )

    def failures(self, objs: list[Any]) -> tuple[list[int], list[int]]:
        """The records (instances of the twin) with a value breaking a check, and the
        first check each breaks (an index into :attr:`checks`)."""
        if self._plan is not None:
            found: tuple[list[int], list[int]] = _native.value_failures(
                objs, self.lenient, self._size, self._plan, msgspec.UNSET
            )
            return found
        return value_failures_python(objs, self.checks)
