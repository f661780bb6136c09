"""Reading one field of many decoded records at once (``engine._fields.FieldReader``):
the batch checks, the key store and the times read every record's field this way, and
must get what ``operator.attrgetter`` mapped over the records gives."""

from __future__ import annotations

import operator
from datetime import datetime
from typing import Any

import msgspec
import pytest
from engine_support import job
from silent_scalper.engine import SchemaRegistry, _patterns
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
        # More refused values than are looked for one scan each: one pass with a set.
        [f"u{k:02d}" for k in range(_patterns._SCANS + 5)],
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
