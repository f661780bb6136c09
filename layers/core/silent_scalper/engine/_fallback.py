"""The jsonschema fallback's format checks: the engine's date-time and email rules."""

from __future__ import annotations

import jsonschema

from silent_scalper.engine.rules import is_date_time, is_email


def _format_checker() -> jsonschema.FormatChecker:
    """jsonschema's format checks, with date-time and email exactly as the engine's rules
    have them (and not silently skipped when an optional format package is missing)."""
    checker = jsonschema.FormatChecker()

    def _date_time(value: object) -> bool:
        return not isinstance(value, str) or is_date_time(value)

    def _email(value: object) -> bool:
        return not isinstance(value, str) or is_email(value)

    checker.checks("date-time")(_date_time)
    checker.checks("email")(_email)
    return checker
