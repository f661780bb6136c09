"""The jsonschema fallback's format checks: the engine's date-time and email rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silent_scalper.engine.rules import is_date_time, is_email

if TYPE_CHECKING:
    import jsonschema


def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, with date-time and email exactly as the engine's rules
    have them (and not silently skipped when an optional format package is missing)."""
    import jsonschema  # noqa: PLC0415 - only schemas the fast path cannot take need it

    checker = jsonschema.FormatChecker()

    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or is_date_time(value)

    def _email(value: object) -> bool:
        return not isinstance(value, str) or is_email(value)

    checker.checks("date-time")(_date_time)
    checker.checks("email")(_email)
    return checker
