"""Durations and times the operations commands accept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scalper.ops.common import iso, parse_duration, parse_since

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", timedelta(minutes=30)),
        ("24h", timedelta(hours=24)),
        ("14d", timedelta(days=14)),
        ("90s", timedelta(seconds=90)),
        ("2w", timedelta(weeks=2)),
        (" 1.5H ", timedelta(minutes=90)),
    ],
)
def test_durations_use_one_unit_letter(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "30", "m30", "1y", "-5m", "0h"])
def test_a_bad_duration_names_the_accepted_form(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|longer than zero"):
        parse_duration(text)


def test_since_is_a_duration_back_from_now_or_an_iso_time() -> None:
    assert parse_since("24h", now=NOW) == NOW - timedelta(hours=24)
    assert parse_since("2026-11-20T08:00:00Z", now=NOW) == datetime(2026, 11, 20, 8, tzinfo=UTC)
    assert parse_since("2026-11-20", now=NOW) == datetime(2026, 11, 20, tzinfo=UTC)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday", now=NOW)


def test_iso_times_sort_like_the_records_updated_at() -> None:
    """Records carry Step Functions' EnteredTime form; string order must be time order."""
    assert iso(NOW) == "2026-11-25T12:00:00.000Z"
    assert iso(NOW - timedelta(seconds=1)) < "2026-11-25T12:00:00.000Z" < iso(NOW + timedelta(1))
