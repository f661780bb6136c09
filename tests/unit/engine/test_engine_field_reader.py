"""Reading one field of many decoded records at once (``engine._fields.FieldReader``):
the batch checks, the key store and the times read every record's field this way, and
must get what ``operator.attrgetter`` mapped over the records gives."""

from __future__ import annotations

import ctypes
import operator
from datetime import datetime
from typing import Any

import msgspec
import pytest
from engine_support import job
from silent_scalper.engine import SchemaRegistry, _fields
from silent_scalper.engine._fields import FieldReader

# Values a field of a decoded record can hold, some equal across types (1, 1.0, True)
# or equal but distinct objects (two "usd" strings).
_VALUES: list[Any] = [
    "usd",
    "".join(["u", "sd"]),
    "USD",
    "",
    None,
    msgspec.UNSET,
    1,
    1.0,
    True,
    0,
    False,
    -2.5,
    "é",
]


def _records() -> list[Any]:
    record = msgspec.defstruct(
        "Record",
        [("f0", Any), ("f1", Any, msgspec.UNSET), ("f12", Any, None)],
        kw_only=True,
        gc=False,
    )
    return [
        record(f0=_VALUES[i % len(_VALUES)], f12=_VALUES[(i * 7) % len(_VALUES)])
        if i % 3
        else record(f0=_VALUES[i % len(_VALUES)], f1=_VALUES[(i * 5) % len(_VALUES)])
        for i in range(200)
    ]


@pytest.mark.parametrize("attr", ["f0", "f1", "f12"])
def test_given_records_of_every_kind_of_value_when_a_field_is_read_then_it_is_attrgetters(
    attr: str,
) -> None:
    """Given records whose field holds strings, numbers, booleans, null and absent
    values, when the field is read in order and as a set, then each is what mapping
    ``operator.attrgetter`` over the records gives (the same objects, in order)."""
    objs = _records()
    get = operator.attrgetter(attr)
    reader = FieldReader(attr)

    values = reader.values(objs)
    assert values == list(map(get, objs))
    assert all(a is b for a, b in zip(values, map(get, objs), strict=True))
    assert reader.distinct(objs) == set(map(get, objs))
    assert reader.values([]) == []
    assert reader.distinct([]) == set()


class _Plain:
    """A record that is not a Struct: its field is read by name."""

    def __init__(self, value: Any) -> None:
        self.f0 = value


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("attr", ["f0", "f1", "f12"])
def test_given_records_of_every_kind_of_value_when_members_are_found_then_they_hold_one(
    monkeypatch: pytest.MonkeyPatch, attr: str, compiled: bool
) -> None:
    """Given records whose field holds strings (some equal but distinct objects),
    numbers, booleans, null and absent values, when the records holding one of a set of
    strings are found (by the compiled pass reading each record's slot, or by name),
    then they are those whose ``attrgetter`` value is in the set, in order."""
    if not compiled:
        monkeypatch.setattr(_fields, "_native", None)
    objs = _records()
    get = operator.attrgetter(attr)
    reader = FieldReader(attr)

    kind = type(objs[0])
    offsets = _fields.slot_offsets(kind, [attr])
    assert (offsets is not None) == compiled

    for wanted in ({"usd"}, {"usd", "é", ""}, {"EUR"}, set()):
        expected = [i for i, value in enumerate(map(get, objs)) if value in wanted]
        assert reader.members(objs, wanted) == expected
        if offsets is not None:
            found = _fields._native.field_members(objs, kind, kind.__basicsize__, *offsets, wanted)
            assert found == expected
    assert reader.members([], {"usd"}) == []


def test_given_records_of_two_types_or_no_struct_when_members_are_found_then_by_name() -> None:
    """Given records that are not all of one Struct type (a record of another type
    among them, or plain objects), when the records holding a string are found, then
    the compiled pass declines and each record's field is read by name."""
    objs = _records()
    # Its f0 lies where the records' f0 does not, and its other fields hold the string.
    other = msgspec.defstruct("Other", [(name, Any) for name in ("a", "b", "c", "f0")], gc=False)
    assert _fields.slot_offsets(other, ["f0"]) != _fields.slot_offsets(type(objs[0]), ["f0"])
    mixed = [*objs[:50], other(a="usd", b="usd", c="usd", f0="EUR"), *objs[50:]]
    reader = FieldReader("f0")

    assert reader.members(mixed, {"usd"}) == [i for i, o in enumerate(mixed) if o.f0 == "usd"]
    plain = [_Plain(v) for v in ("usd", 1, "USD", "usd")]
    assert reader.members(plain, {"usd"}) == [0, 3]
    assert _fields.slot_offsets(_Plain, ["f0"]) is None


def test_given_an_offset_outside_the_fields_when_the_compiled_passes_read_then_refused() -> None:
    """Given offsets that are not a field's slot (in the header, past the object, not a
    whole word), when the compiled passes are asked to read there, then they refuse
    before reading anything."""
    if _fields._native is None:
        pytest.skip("the compiled module is not built")
    objs = _records()
    kind = type(objs[0])
    size, word = kind.__basicsize__, ctypes.sizeof(ctypes.c_void_p)
    for offset in (0, word, size, size + word, 2 * word + 1):
        with pytest.raises(ValueError, match="not a field's slot"):
            _fields._native.field_members(objs, kind, size, offset, {"usd"})
        with pytest.raises(ValueError, match="offset or kind is out of range"):
            _fields._native.value_failures(
                objs, kind, size, [(offset, 3, None, None, ("usd",))], msgspec.UNSET
            )


@pytest.mark.parametrize("name", ["x", "f", "f1.f2", "f1 or 1", "__class__", "f1\n", "F1"])
def test_given_a_name_no_struct_field_has_when_a_reader_is_made_then_it_is_refused(
    name: str,
) -> None:
    """Given a name the Struct compiler never gives a field, when a reader is asked
    for, then it is refused (the name becomes part of the reader's code)."""
    with pytest.raises(ValueError, match="not a field name"):
        FieldReader(name)


@pytest.mark.parametrize(
    "refused",
    [
        ["usd", "EURO"],
        # Many refused values, each at a few places.
        [f"u{k:02d}" for k in range(13)],
    ],
)
def test_given_a_refused_batch_when_the_pattern_names_its_records_then_every_place_is(
    refused: list[str],
) -> None:
    """Given decoded job records where refused currencies appear at several places each
    (and others are absent), when the pattern check names the records it refuses, then
    they are every record holding a refused value, in order, as reading the field with
    ``attrgetter`` and looking each refused value up finds them."""
    schema = SchemaRegistry.load().get("job.v1")
    lines = []
    for n in range(300):
        fields: dict[str, Any] = {}
        if n % 11 == 5:
            fields["currency"] = refused[n % len(refused)]
        elif n % 53 == 9:
            fields["currency"] = refused[-1]
        lines.append(job(n, **fields))
    objs = schema.decode_lines(("\n".join(lines) + "\n").encode())[0]
    assert objs is not None
    check = next(c for c in schema._patterns if c.prop == "currency")
    get = operator.attrgetter(check.attr)

    found = check.failures(objs)

    expected = [i for i, value in enumerate(map(get, objs)) if value in refused]
    assert found == expected
    assert {get(objs[i]) for i in expected} == set(refused)


def test_given_job_records_when_keys_and_times_are_taken_then_they_are_the_fields() -> None:
    """Given decoded job records (some without the optional fields), when the key store
    and the first/last times take their values, then the keys are every record's
    ``job_id`` in order and the times span every ``submitted_at`` read as a date-time."""
    schema = SchemaRegistry.load().get("job.v1")
    lines = [job(n, **({"priority": 2} if n % 2 else {})) for n in range(50)]
    objs = schema.decode_lines(("\n".join(lines) + "\n").encode())[0]
    assert objs is not None
    decoded = [msgspec.json.decode(line) for line in lines]

    assert schema.keys_of(objs) == [d["job_id"] for d in decoded]
    times = schema.times_of(objs)
    every = [datetime.fromisoformat(d["submitted_at"]) for d in decoded]
    assert (min(times), max(times)) == (min(every), max(every))
