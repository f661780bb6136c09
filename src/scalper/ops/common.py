"""Small shared pieces of the operations commands: errors, durations, times, a token bucket."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta


class OpsError(Exception):
    """A problem an operator can act on, reported as one line (never a traceback)."""


class TargetError(OpsError):
    """The pipeline to operate on could not be found or reached (no stack, no credentials)."""


class NotFoundError(OpsError):
    """The thing asked about does not exist (an unknown key, an unknown execution)."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", re.IGNORECASE)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """``"30m"``, ``"24h"``, ``"14d"``, ``"90s"``, ``"2w"`` -> a positive ``timedelta``.

    Raises ``ValueError`` with a message naming the accepted form.
    """
    match = _DURATION.match(text)
    if not match:
        msg = f"{text!r} is not a duration such as 30m, 24h or 14d"
        raise ValueError(msg)
    seconds = float(match.group(1)) * _UNITS[match.group(2).lower()]
    if seconds <= 0:
        msg = f"{text!r} must be longer than zero"
        raise ValueError(msg)
    return timedelta(seconds=seconds)


def parse_since(text: str, *, now: datetime) -> datetime:
    """A point in time: a duration back from ``now`` (``24h``) or an ISO 8601 timestamp."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        msg = f"{text!r} is neither a duration (24h, 30m, 7d) nor an ISO 8601 time"
        raise ValueError(msg) from None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def iso(value: datetime) -> str:
    """UTC ISO 8601 with a ``Z``, the form the records' ``updated_at`` uses."""
    text = value.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


@dataclass
class TokenBucket:
    """A client-side token bucket: at most ``burst`` calls at once, ``rate`` a second after.

    Step Functions throttles its control-plane APIs with a token bucket per account and
    Region; spending our own tokens at or below its refill rate keeps bulk work from being
    throttled (botocore still retries the odd ``ThrottlingException``). ``clock`` and
    ``sleep`` are injectable so tests run without waiting.
    """

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _stamp: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.burst < 1:
            msg = "the rate must be positive and the burst at least 1"
            raise ValueError(msg)
        self._tokens = float(self.burst)
        self._stamp = self.clock()

    def acquire(self) -> float:
        """Take one token, waiting for it if needed; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            wait = 0.0
            if self._tokens < 1:
                wait = (1 - self._tokens) / self.rate
                self.sleep(wait)
                self._stamp = self.clock()
                self._tokens = 1.0
            self._tokens -= 1
            return wait
