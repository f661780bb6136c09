"""Make moto's DynamoDB item operations atomic, as DynamoDB's are.

DynamoDB evaluates a write's ``ConditionExpression`` and applies the write as one atomic
step per item ("Condition expressions", DynamoDB developer guide; docs/aws-behaviour.md),
and a strongly consistent read sees a whole write or none of it. The pipeline's ownership
rule rests on that: Claim takes a record with ``sequencer < :seq``, and a final write lands
only while ``execution_arn = :me``. moto's backend checks the condition and then writes,
with no lock, while its server answers requests on many threads and the Step Functions
interpreter writes from its own: a newer execution's Claim could land between an older
execution's check and its write, and the older write then erased the newer claim. Locally
that showed as a stale VALID record for a key whose newer version was invalid.

`install` wraps moto's item operations in one re-entrant lock (a transaction calls the
single-item operations inside it), so the local stack has DynamoDB's atomicity and no
more: the conditions themselves are moto's, unchanged. The hook point is named and
checked in :mod:`scalper.local.moto_internals`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

from scalper.local import moto_internals

_USER = "scalper.local.atomic_items"
#: The backend methods that read or write items (moto's ``batch_*`` responses call these).
OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "get_item",
    "query",
    "scan",
)


class _State:
    """The lock, the original methods and how many stacks use the wrapping."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.item_lock = threading.RLock()
        self.originals: dict[str, Callable[..., Any]] = {}
        self.users = 0


_state = _State()


def _atomic(method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with _state.item_lock:
            return method(*args, **kwargs)

    return wrapper


def install() -> None:
    """Wrap the item operations (counted: each `install` needs its `uninstall`)."""
    with _state.lock:
        if _state.users == 0:
            moto_internals.require(_USER)
            backend = moto_internals.dynamodb_backend_class()
            for name in OPERATIONS:
                original = getattr(backend, name)
                _state.originals[name] = original
                setattr(backend, name, _atomic(original))
        _state.users += 1


def uninstall() -> None:
    """Put moto's methods back once the last user is gone."""
    with _state.lock:
        if _state.users == 0:
            return
        _state.users -= 1
        if _state.users == 0:
            backend = moto_internals.dynamodb_backend_class()
            for name, original in _state.originals.items():
                setattr(backend, name, original)
            _state.originals.clear()


def installed() -> bool:
    """True while at least one local stack has the item operations wrapped."""
    with _state.lock:
        return _state.users > 0
