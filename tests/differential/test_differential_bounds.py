"""The engine against JSON Schema on numeric bounds of every shape a schema may give.

The bundled schemas bound each number on one side with one keyword and within int64;
JSON Schema also allows both an inclusive and an exclusive bound on one side, bounds past
int64 or past a double's range, and a ``multipleOf`` past int64. The batch filters hold
such bounds in their own ways (msgspec's constraints, the CSV column checks), so each
shape is checked here: the schema compiles, and every edge value around its bounds gets
the oracle's verdict in every format, alone and amid valid records.
"""

from __future__ import annotations

from typing import Any

import pytest
from differential_support import (
    Case,
    assert_the_oracles_verdict,
    number_edges,
    one_property_document,
    oracle,
)
from silent_scalper.engine.schemas import compile_schema

INT64 = 1 << 63
BIG = 10**400  # past a double's range

BOUNDS: list[dict[str, Any]] = [
    # Both kinds of bound on one side, the stricter first and last.
    {"type": "number", "minimum": 5, "exclusiveMinimum": 1},
    {"type": "number", "exclusiveMinimum": 5, "minimum": 1},
    {"type": "number", "maximum": 5, "exclusiveMaximum": 9},
    {"type": "number", "exclusiveMaximum": 5, "maximum": 9},
    {"type": "number", "minimum": 2.5, "exclusiveMinimum": 2.5, "maximum": 7},
    {"type": "integer", "minimum": 5, "exclusiveMinimum": 1},
    {"type": "integer", "exclusiveMinimum": 5, "minimum": 1},
    {"type": "integer", "maximum": 5, "exclusiveMaximum": 9},
    {"type": "integer", "exclusiveMaximum": 5, "maximum": 9},
    {"type": ["integer", "null"], "minimum": 0, "exclusiveMinimum": 3, "exclusiveMaximum": 8},
    # Integers past int64, on the side that can be clamped and on the side that cannot.
    {"type": "integer", "maximum": 10**30},
    {"type": "integer", "minimum": -(10**30)},
    {"type": "integer", "minimum": 10**30},
    {"type": "integer", "maximum": -(10**30)},
    {"type": "integer", "exclusiveMaximum": INT64},
    {"type": "integer", "exclusiveMinimum": -INT64 - 1},
    {"type": "integer", "minimum": INT64 - 1},
    {"type": "integer", "maximum": -INT64},
    {"type": "integer", "multipleOf": 10**30},
    {"type": "integer", "multipleOf": INT64},
    # Numbers past a double's range.
    {"type": "number", "maximum": BIG},
    {"type": "number", "minimum": -BIG},
    {"type": "number", "minimum": BIG},
    {"type": "number", "exclusiveMaximum": -BIG},
    {"type": "number", "minimum": 2**53 + 1},
]


@pytest.mark.parametrize("sub", BOUNDS, ids=[str(sorted(b.items()))[:60] for b in BOUNDS])
def test_given_bounds_of_any_shape_then_each_edge_value_gets_the_oracles_verdict(
    sub: dict[str, Any],
) -> None:
    """Given a property bounded in one of the shapes above, when a record holding each
    value around its bounds is validated in every format, then the schema compiled, the
    formats agree, and the verdict is JSON Schema's (or a documented difference)."""
    document = one_property_document("n", sub)
    schema = compile_schema("bounds", document, None)
    verdict = oracle(document)
    kind = "integer" if "integer" in sub["type"] else "number"
    values = [*number_edges(sub, kind), "0", "5", "7", "-3", "3.5", str(INT64), str(-INT64 - 1)]
    for value in dict.fromkeys(values):
        case = Case((("k", '"a"'), ("n", value)), "set", "n", value)
        assert_the_oracles_verdict(schema, document, case, verdict)
