"""Make moto's Step Functions engine run Step Functions Local mock configurations.

moto 5.2.5 executes real ASL (``mock_aws(config={"stepfunctions": {"execute_state_machine":
True}})``) with the interpreter LocalStack uses, and that interpreter already honours mocked
responses -- ``Return`` payloads, ``Throw`` errors, retries walking through the attempt ranges --
once a ``MockTestCase`` is attached to the execution's worker. What moto lacks is the wiring,
and :func:`mock_config_installed` supplies exactly that, nothing more:

1. ``StepFunctionsParserBackend.start_execution`` is wrapped: ``stateMachineArn#TestCase`` is
   split, the test case is looked up in the (typed, checked) mock configuration by the state
   machine's *name* -- as Step Functions Local does -- and the plain ARN goes on to moto.
   An unnamed execution gets a UUID name, as on AWS (moto's parser backend would name
   every unnamed execution "None", so the second one would collide with the first).
2. ``Execution._get_start_execution_worker`` is wrapped: the worker it builds gets the
   ``MockTestCase`` (``ExecutionWorker._mock_test_case``, which the worker hands to the
   interpreter's ``Environment``). The test case travels from (1) to (2) in a ``ContextVar``:
   both run in the thread that serves the StartExecution call, before the worker thread starts.
3. A mocked ``Throw`` keeps its error name on every integration: the interpreter raises it as
   a ``FailureEventException``, which ``ExecutionState._from_error`` passes through, but some
   service integrations override ``_from_error`` without doing so (DynamoDB's turns every
   non-``ClientError`` into ``DynamoDB.AmazonDynamoDBException`` with an empty cause, so a mocked
   ``DynamoDB.ConditionalCheckFailedException`` would miss its Catch). While installed, every
   ``StateTaskService`` subclass's ``_from_error`` returns the mocked failure unchanged, as
   Step Functions Local does; real errors still take moto's own mapping.
4. Waiting is scaled, never the definition (it runs exactly as deployed): with ``wait_scale``
   set, Retry backoffs go through the local stack's retry hook (:mod:`scalper.local.retry`,
   one implementation for the whole project: it scales the sleep of moto's retrier) and Wait
   states through ``WaitFunction._wait_interval``, each waiting ``wait_scale`` times what the
   definition asks for. The Wait-state seconds asked for are recorded in
   :attr:`MotoMockHook.waits`. ASL intervals are whole seconds of at least 1 by the
   specification, so rewriting the definition could not make retries fast anyway.

Every patched name is named and checked in :mod:`scalper.local.moto_internals`, before
anything is patched (:func:`verify_hook_points`); a moto release that moves one fails with
:class:`MotoHookMovedError` naming it, and the test suite runs the same check. moto is pinned
exactly in pyproject.toml for this reason.
"""

from __future__ import annotations

import contextvars
import importlib
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from scalper.local import moto_internals
from scalper.sfn_mock.model import MockConfig, MockConfigError, MockedResponse

#: The moto release whose internals the hook was reviewed against.
MOTO_VERSION = moto_internals.MOTO_VERSION
#: Raised when moto's internals no longer offer a hook point this module patches.
MotoHookMovedError = moto_internals.MotoInternalsMovedError
#: The name this module's hook points are registered under in moto_internals.
_USER = "scalper.sfn_mock"


@dataclass
class MotoMockHook:
    """The installed hook: where test cases come from, and the Wait-state seconds asked for."""

    source: MockConfig | Path
    wait_scale: float | None
    waits: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def config(self) -> MockConfig:
        """The mock configuration; a file is re-read on every start, so edits apply at once."""
        if isinstance(self.source, Path):
            return MockConfig.load(self.source)
        return self.source

    def _record_wait(self, seconds: int) -> None:
        with self._lock:
            self.waits.append(seconds)


class _StateMock(NamedTuple):
    state: str
    response_name: str
    response: MockedResponse


# The test case chosen by the StartExecution call being served, read when its worker is built.
_PENDING_TEST_CASE: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "scalper_sfn_mock_test_case", default=None
)
_INSTALL_LOCK = threading.Lock()
_installed: MotoMockHook | None = None


def verify_hook_points() -> list[str]:
    """Every hook point this module patches that moved, as ``"<dotted name>: <what
    changed>"``; empty when all fit (the checks live in :mod:`scalper.local.moto_internals`)."""
    return moto_internals.verify(_USER)


def _to_moto_test_case(machine: str, case: str, states: list[_StateMock]) -> Any:
    mock_config = moto_internals.mock_config_module()

    per_state = []
    for state_mock in states:
        attempts: list[Any] = []
        for attempt_range, attempt in state_mock.response.sequence():
            if attempt.Throw is not None:
                attempts.append(
                    mock_config.MockedResponseThrow(
                        attempt_range.first,
                        attempt_range.last,
                        error=attempt.Throw.Error,
                        cause=attempt.Throw.Cause,
                    )
                )
            else:
                attempts.append(
                    mock_config.MockedResponseReturn(
                        attempt_range.first, attempt_range.last, attempt.Return
                    )
                )
        per_state.append(
            mock_config.StateMockedResponses(state_mock.state, state_mock.response_name, attempts)
        )
    return mock_config.MockTestCase(machine, case, per_state)


def _resolve(config: MockConfig, machine: str, case: str) -> list[_StateMock]:
    states = config.StateMachines[machine].TestCases[case]
    return [_StateMock(state, name, config.MockedResponses[name]) for state, name in states.items()]


def _invalid_test_case(message: str) -> Exception:
    return moto_internals.invalid_name_error(message)


@contextmanager
def mock_config_installed(
    source: MockConfig | Path, *, wait_scale: float | None = None
) -> Iterator[MotoMockHook]:
    """Let moto's engine run ``stateMachineArn#TestCase`` executions from a mock configuration.

    ``source`` is a loaded :class:`MockConfig`, or the path of a ``MockConfigFile.json`` that
    is re-read at every test-case start. ``wait_scale`` (in (0, 1]) shortens every Retry
    backoff and Wait state to that fraction of its length while installed; None keeps real
    time, as Step Functions Local does. Executions started without ``#TestCase`` run
    unmocked, as on Step Functions Local. Works for in-process ``mock_aws`` and for a moto
    server in this process alike (the patches are on moto's classes). One hook at a time.
    """
    global _installed  # noqa: PLW0603 -- one process-wide patch, guarded by _INSTALL_LOCK
    if wait_scale is not None and not 0 < wait_scale <= 1:
        raise ValueError(f"wait_scale must be in (0, 1], got {wait_scale}")
    if _installed is not None:
        raise RuntimeError("a mock configuration hook is already installed in this process")
    moto_internals.require(_USER)  # before patching: a moved hook point must not half-patch moto

    wait_function_class = moto_internals.wait_function_class()
    execution_class = moto_internals.execution_class()
    backend_class = moto_internals.parser_backend_class()

    failure_exception = moto_internals.failure_event_exception()
    original_from_error = {
        cls: vars(cls)["_from_error"] for cls in moto_internals.service_task_classes()
    }
    hook = MotoMockHook(source=source, wait_scale=wait_scale)
    original_start = backend_class.start_execution
    original_worker = execution_class._get_start_execution_worker
    original_wait = wait_function_class._wait_interval

    def start_execution(
        backend: Any,
        state_machine_arn: str,
        name: str | None = None,
        execution_input: str | None = None,
        trace_header: str | None = None,
    ) -> Any:
        base_arn, _, case = state_machine_arn.partition("#")
        test_case = None
        if case:
            machine = backend.describe_state_machine(base_arn).name
            try:
                config = hook.config()
                test_case = _to_moto_test_case(machine, case, _resolve(config, machine, case))
            except MockConfigError as exc:
                raise _invalid_test_case(f"mock configuration unusable: {exc}") from None
            except KeyError:
                raise _invalid_test_case(
                    f"Invalid mock test case name '{case}' for state machine '{machine}': "
                    "not defined in the mock configuration"
                ) from None
        token = _PENDING_TEST_CASE.set(test_case)
        try:
            return original_start(
                backend, base_arn, name or str(uuid.uuid4()), execution_input, trace_header
            )
        finally:
            _PENDING_TEST_CASE.reset(token)

    def get_start_execution_worker(execution: Any) -> Any:
        worker = original_worker(execution)
        test_case = _PENDING_TEST_CASE.get()
        if test_case is not None:
            worker._mock_test_case = test_case
        return worker

    def wait_interval(wait_function: Any, env: Any, wait_seconds: int) -> None:
        hook._record_wait(wait_seconds)
        scaled = wait_seconds if wait_scale is None else round(wait_seconds * wait_scale)
        original_wait(wait_function, env, scaled)

    def keeping_mocked_failures(original: Callable[..., Any]) -> Callable[..., Any]:
        def from_error(task: Any, env: Any, ex: Exception) -> Any:
            if isinstance(ex, failure_exception) and env.is_mocked_mode():
                return ex.failure_event  # type: ignore[attr-defined]
            return original(task, env, ex)

        return from_error

    with _INSTALL_LOCK:
        if _installed is not None:
            raise RuntimeError("a mock configuration hook is already installed in this process")
        _installed = hook
        for cls, original in original_from_error.items():
            cls._from_error = keeping_mocked_failures(original)  # type: ignore[attr-defined]
        backend_class.start_execution = start_execution
        execution_class._get_start_execution_worker = get_start_execution_worker
        wait_function_class._wait_interval = wait_interval
    try:
        with _retry_waits_scaled(wait_scale):
            yield hook
    finally:
        with _INSTALL_LOCK:
            backend_class.start_execution = original_start
            execution_class._get_start_execution_worker = original_worker
            wait_function_class._wait_interval = original_wait
            for cls, original in original_from_error.items():
                cls._from_error = original  # type: ignore[attr-defined]
            _installed = None


@contextmanager
def _retry_waits_scaled(scale: float | None) -> Iterator[None]:
    """Scale Retry backoffs through the local stack's retry hook, restoring what was there."""
    if scale is None:
        yield
        return
    retry = importlib.import_module("scalper.local.retry")
    previous: float = retry.current_scale()
    retry.install(scale)
    try:
        yield
    finally:
        if previous == 1.0:
            retry.uninstall()
        else:
            retry.install(previous)
