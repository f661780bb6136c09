"""Located errors do not keep the parser's frames (and their 1 MiB blocks) alive.

A record error that kept its traceback formed a cycle with the frame that caught it;
only a full garbage-collection pass freed it, and with it the input block that frame
held, so files with many invalid records grew peak memory by tens of MiB. With the
collector paused, no engine frame may outlive a validation.
"""

from __future__ import annotations

import gc
import types
from collections.abc import Iterator

import pytest
from engine_support import Validate, job

ENGINE = "silent_scalper/engine/"


def _currency(i: int) -> str:
    """Every 10th record has a currency its pattern refuses: pattern errors are raised
    inside the engine (a type error comes from msgspec without an engine frame)."""
    return "eur" if i % 10 == 0 else "EUR"


CSV_HEADER = "job_id,submitted_at,customer_id,status,currency\n"
FILES = {
    "a.ndjson": "".join(job(i, currency=_currency(i)) + "\n" for i in range(1, 301)),
    "a.json": "[" + ",\n".join(job(i, currency=_currency(i)) for i in range(1, 301)) + "]",
    "a.csv": CSV_HEADER
    + "".join(f"J-{i:04d},2026-01-05T09:30:00Z,7,queued,{_currency(i)}\n" for i in range(1, 301)),
}


@pytest.fixture
def collector_paused() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.parametrize("key", sorted(FILES))
def test_given_many_invalid_records_when_validated_then_no_engine_frame_stays_alive(
    key: str, validate: Validate, collector_paused: None
) -> None:
    s = validate(FILES[key], key)
    assert s.invalid_records == 30
    alive = [
        o.f_code.co_name
        for o in gc.get_objects()
        if isinstance(o, types.FrameType) and ENGINE in o.f_code.co_filename
    ]
    assert alive == []
