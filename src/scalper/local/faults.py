"""Random, seeded faults for chaos tests on the local stack (tests only).

`LambdaEndpoint.faults` fails the *next N* invocations of a function: exact, for tests that
count retries. A chaos test wants something else: every invocation fails with some
probability, reproducibly. Two injectors here give that, each installed for the duration of
a ``with`` block:

- `LambdaChaos`: a fraction of Lambda invocations fail the way the service fails
  (``ServiceException`` / ``TooManyRequestsException``, which the ASL retries). It decides
  per invocation and then uses the endpoint's own `FaultInjector.inject`, so the failure
  looks exactly like a deterministic injected fault to the state machine.
- `DynamoDBThrottles`: a fraction of the Step Functions interpreter's direct DynamoDB
  integrations (``arn:aws:states:::dynamodb:putItem`` / ``updateItem``: Claim and
  RecordFailure) fail with ``ProvisionedThroughputExceededException`` before reaching the
  table, as a throttled request does. The state machine sees
  ``DynamoDB.ProvisionedThroughputExceededException``. The hook is one method of moto's
  interpreter (moto is pinned; named and checked in :mod:`scalper.local.moto_internals`);
  `install` raises if it moves, so an upgrade fails loudly.
"""

from __future__ import annotations

import random
import threading
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self

from botocore.exceptions import ClientError

from scalper.local import moto_internals
from scalper.local.lambda_endpoint import Fault, LambdaEndpoint

_DYNAMODB_TASK_METHOD = "_eval_service_task"

#: What a transient Lambda failure looks like by default: both are in every Task's Retry.
TRANSIENT_LAMBDA_FAULTS: tuple[Fault, ...] = (Fault.SERVICE_EXCEPTION, Fault.TOO_MANY_REQUESTS)


def _check_rate(rate: float) -> float:
    if not 0 <= rate <= 1:
        raise ValueError(f"a fault rate must be in [0, 1], got {rate}")
    return rate


class _Injector(ABC):
    """A fault injector: in effect between `install` and `uninstall`, or for a ``with`` block."""

    @abstractmethod
    def install(self) -> None:
        """Start injecting faults."""

    @abstractmethod
    def uninstall(self) -> None:
        """Stop injecting faults (also when the ``with`` block raised)."""

    def __enter__(self) -> Self:
        self.install()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.uninstall()


class LambdaChaos(_Injector):
    """Fail a seeded random fraction of one endpoint's invocations, transiently.

    ``functions`` limits the chaos to some functions (logical ids or names; default all).
    `injected` counts the failures per logical id.
    """

    def __init__(
        self,
        endpoint: LambdaEndpoint,
        rate: float,
        *,
        seed: int = 0,
        faults: Sequence[Fault] = TRANSIENT_LAMBDA_FAULTS,
        functions: Iterable[str] | None = None,
    ) -> None:
        if not faults:
            raise ValueError("at least one fault kind is needed")
        self.rate = _check_rate(rate)
        self._endpoint = endpoint
        self._faults = tuple(faults)
        self._functions = None if functions is None else {endpoint.logical_id(f) for f in functions}
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()
        self._original: Callable[[str], Any] | None = None
        self.injected: Counter[str] = Counter()

    def install(self) -> None:
        """Start failing invocations (decided when each one arrives)."""
        injector = self._endpoint.faults
        if self._original is not None:
            return
        original: Callable[[str], Any] = injector.take

        def take(logical_id: str) -> Any:
            if self._functions is None or logical_id in self._functions:
                with self._lock:
                    fail = self._random.random() < self.rate
                    fault = self._random.choice(self._faults)
                if fail:
                    self.injected[logical_id] += 1
                    injector.inject(
                        logical_id, fault, times=1, message="transient fault (chaos test)"
                    )
            return original(logical_id)

        self._original = original
        # An instance attribute shadows the method for this endpoint only.
        setattr(injector, "take", take)  # noqa: B010

    def uninstall(self) -> None:
        """Stop failing invocations; faults already queued by `inject` stay queued."""
        if self._original is not None:
            delattr(self._endpoint.faults, "take")
            self._original = None


class DynamoDBThrottles(_Injector):
    """Throttle a seeded random fraction of the interpreter's direct DynamoDB calls.

    Process-wide while installed (moto's interpreter is); `throttled` counts the calls
    refused, per SDK operation (``put_item``, ``update_item``...).
    """

    _active_lock = threading.Lock()
    _active: DynamoDBThrottles | None = None

    def __init__(self, rate: float, *, seed: int = 0) -> None:
        self.rate = _check_rate(rate)
        self._random = random.Random(seed)  # noqa: S311 - reproducible faults, not secrets
        self._lock = threading.Lock()
        self._cls: Any = None
        self._original: Callable[..., Any] | None = None
        self.throttled: Counter[str] = Counter()

    def install(self) -> None:
        """Wrap the interpreter's DynamoDB integration (one installation at a time)."""
        moto_internals.require("scalper.local.faults")
        cls = moto_internals.dynamodb_task_class()
        original = getattr(cls, _DYNAMODB_TASK_METHOD)
        with DynamoDBThrottles._active_lock:
            if DynamoDBThrottles._active is not None:
                raise RuntimeError("DynamoDB throttles are already installed in this process")
            DynamoDBThrottles._active = self
        throttles = self

        def eval_service_task(task: Any, *args: Any, **kwargs: Any) -> Any:
            action = str(task._get_boto_service_action())
            with throttles._lock:
                throttle = throttles._random.random() < throttles.rate
            if throttle:
                throttles.throttled[action] += 1
                raise ClientError(
                    {
                        "Error": {
                            "Code": "ProvisionedThroughputExceededException",
                            "Message": "The level of configured provisioned throughput for "
                            "the table was exceeded (injected by the local stack)",
                        },
                        "ResponseMetadata": {
                            "HTTPStatusCode": 400,
                            "RequestId": uuid.uuid4().hex.upper(),
                            "HTTPHeaders": {},
                            "HostId": "",
                            "RetryAttempts": 0,
                        },
                    },
                    action,
                )
            return original(task, *args, **kwargs)

        self._cls, self._original = cls, original
        setattr(cls, _DYNAMODB_TASK_METHOD, eval_service_task)

    def uninstall(self) -> None:
        """Put moto's method back."""
        if self._cls is not None and self._original is not None:
            setattr(self._cls, _DYNAMODB_TASK_METHOD, self._original)
            self._cls = self._original = None
        with DynamoDBThrottles._active_lock:
            if DynamoDBThrottles._active is self:
                DynamoDBThrottles._active = None
