"""Shorten Retry waits of the local Step Functions interpreter, never the deployed ASL.

The ASL keeps its real ``IntervalSeconds`` / ``BackoffRate`` / ``MaxDelaySeconds`` /
``JitterStrategy``: they are what deploys, and they are integers of at least one second
by the ASL specification (moto's parser enforces it), so rewriting the definition could
not go below one second anyway. Instead the local stack scales the *wait itself*: every
wait the interpreter computes from a Retrier is multiplied by a factor (1.0 = real time,
0.01 = a 2 s backoff becomes 20 ms). The EventBridge bridge's target retries use the
same factor.

The knob: ``SCALPER_RETRY_SCALE`` in the environment, ``scalper local up --retry-scale``,
or ``LocalStack(retry_scale=...)``. The hook is one module attribute of moto's
interpreter (moto is pinned; named and checked in :mod:`scalper.local.moto_internals`);
`install` raises if that attribute moves, so an upgrade
fails loudly instead of silently waiting real seconds.
"""

from __future__ import annotations

import os
import threading
import time
from types import ModuleType, SimpleNamespace

from scalper.local import moto_internals

ENV_VAR = "SCALPER_RETRY_SCALE"
_USER = "scalper.local.retry"


class _State:
    """The factor in force and the patched module (one per process, like moto's mock)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.scale = 1.0
        self.installed: ModuleType | None = None


_state = _State()


def parse_scale(text: str | None, default: float = 1.0) -> float:
    """Read a scale factor; it must be a number in (0, 1]. ``None``/empty gives ``default``."""
    if text is None or not text.strip():
        return default
    try:
        value = float(text)
    except ValueError as exc:
        raise ValueError(f"{ENV_VAR} must be a number in (0, 1], got {text!r}") from exc
    if not 0 < value <= 1:
        raise ValueError(f"{ENV_VAR} must be a number in (0, 1], got {text!r}")
    return value


def scale_from_env(default: float = 1.0) -> float:
    """The factor from ``SCALPER_RETRY_SCALE`` (or ``default`` when unset)."""
    return parse_scale(os.environ.get(ENV_VAR), default)


def current_scale() -> float:
    """The factor in force (1.0 unless `install` set another)."""
    return _state.scale


def scaled_sleep(seconds: float) -> None:
    """Sleep ``seconds`` times the current factor (used by the bridge's retries too)."""
    time.sleep(max(0.0, seconds) * _state.scale)


def install(scale: float) -> None:
    """Make the interpreter's Retry waits ``scale`` times their computed length."""
    if not 0 < scale <= 1:
        raise ValueError(f"retry scale must be in (0, 1], got {scale}")
    with _state.lock:
        if _state.installed is None:
            moto_internals.require(_USER)
            module = moto_internals.retrier_module()
            # Only the retrier module sees the shim; every other use of time is untouched.
            module.time = SimpleNamespace(sleep=scaled_sleep)  # type: ignore[attr-defined]
            _state.installed = module
        _state.scale = scale


def uninstall() -> None:
    """Restore real-time Retry waits."""
    with _state.lock:
        if _state.installed is not None:
            _state.installed.time = time  # type: ignore[attr-defined]
            _state.installed = None
        _state.scale = 1.0
