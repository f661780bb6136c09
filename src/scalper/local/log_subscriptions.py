"""CloudWatch Logs pieces the local stack needs for Step Functions execution logs.

- :class:`ExecutionLogging`: where and how a state machine logs (its ``Logging`` property).
- :class:`LogSubscription`: one ``AWS::Logs::SubscriptionFilter`` with a Lambda destination:
  which log events its filter pattern matches, and the payload CloudWatch Logs delivers
  (``{"awslogs": {"data": base64(gzip(json))}}`` with ``messageType``, ``owner``,
  ``logGroup``, ``logStream``, ``subscriptionFilters`` and ``logEvents``).

moto evaluates no JSON filter patterns (it treats them as match-all), so the patterns are
evaluated here. The supported form is what subscriptions on JSON logs use: ``{ <term> }``
with terms ``$.field = "value"``, ``$.field != "value"``, ``$.field = value`` (an unquoted
word, ``*`` as a wildcard at its end), joined by ``||`` or ``&&`` (no parentheses). Anything
else is refused with the pattern named, never silently matched.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from dataclasses import dataclass
from typing import Any

_TERM = re.compile(r'^\$\.(?P<path>[A-Za-z0-9_.]+)\s*(?P<op>!?=)\s*(?P<value>"[^"]*"|[^\s"]+)$')


class FilterPatternError(ValueError):
    """A filter pattern the local stack cannot evaluate."""


@dataclass(frozen=True)
class ExecutionLogging:
    """A state machine's logging configuration: its log group (name), level, execution data."""

    group: str
    level: str
    include_data: bool


def _field(message: dict[str, Any], path: str) -> Any:
    value: Any = message
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _term_matches(term: str, message: dict[str, Any]) -> bool:
    found = _TERM.match(term.strip())
    if found is None:
        raise FilterPatternError(f"unsupported filter pattern term {term.strip()!r}")
    actual = _field(message, found["path"])
    expected = found["value"]
    if expected.startswith('"'):
        equal = actual == expected[1:-1]
    elif expected.endswith("*"):
        equal = isinstance(actual, str) and actual.startswith(expected[:-1])
    else:
        equal = str(actual) == expected
    return equal if found["op"] == "=" else not equal


def pattern_matches(pattern: str, message: dict[str, Any]) -> bool:
    """Whether a JSON log event matches a subscription filter pattern (see module doc)."""
    text = pattern.strip()
    if not text:
        return True
    if not (text.startswith("{") and text.endswith("}")):
        raise FilterPatternError(f"only JSON filter patterns {{ ... }} are evaluated: {pattern!r}")
    body = text[1:-1].strip()
    if "(" in body or ("||" in body and "&&" in body):
        raise FilterPatternError(f"parentheses and mixed ||/&& are not evaluated: {pattern!r}")
    if "&&" in body:
        return all(_term_matches(t, message) for t in body.split("&&"))
    return any(_term_matches(t, message) for t in body.split("||"))


@dataclass(frozen=True)
class LogSubscription:
    """A subscription filter on a log group, delivering to a Lambda function."""

    logical_id: str
    name: str
    log_group: str
    pattern: str
    destination_arn: str

    def matches(self, message: dict[str, Any]) -> bool:
        """Whether this filter passes the log event ``message`` (a JSON object)."""
        return pattern_matches(self.pattern, message)

    def payload(
        self, events: list[dict[str, Any]], *, owner: str, log_group: str, log_stream: str
    ) -> dict[str, Any]:
        """The Lambda event CloudWatch Logs sends for ``events`` (``timestamp``/``message``)."""
        data = {
            "messageType": "DATA_MESSAGE",
            "owner": owner,
            "logGroup": log_group,
            "logStream": log_stream,
            "subscriptionFilters": [self.name],
            "logEvents": [
                {"id": str(index), "timestamp": e["timestamp"], "message": e["message"]}
                for index, e in enumerate(events)
            ],
        }
        encoded = base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()
        return {"awslogs": {"data": encoded}}
