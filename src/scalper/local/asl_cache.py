"""Parse each state machine definition once, not once per execution (local stack speed).

moto's Step Functions interpreter parses the ASL definition with ANTLR at the start of
every execution (``ExecutionWorker._get_evaluation_entrypoint``). For the pipeline's
definition that is a few hundred milliseconds of pure-Python CPU, paid again by every
execution: with hundreds of executions (a chaos test, a big ``scalper demo`` folder) it is
most of the local stack's CPU time. The parsed program is a tree of components that keep
their per-execution state in the execution's ``Environment``, so one tree can serve every
execution of a definition -- except for ``Map`` and ``Parallel`` states, whose workers keep
state on the component; definitions that use them are parsed per execution as before.

`install` / `uninstall` patch that one method (moto is pinned); `install` raises if the
method moves, so an upgrade fails loudly instead of silently losing the cache.
"""

from __future__ import annotations

import importlib
import json
import threading
from collections.abc import Callable
from typing import Any

_WORKER_MODULE = "moto.stepfunctions.parser.backend.execution_worker"
_WORKER_CLASS = "ExecutionWorker"
_METHOD = "_get_evaluation_entrypoint"
_PARSER_MODULE = "moto.stepfunctions.parser.asl.parse.asl_parser"
#: States whose components hold per-execution state of their own.
_STATEFUL_TYPES = frozenset({"Map", "Parallel"})


class AslCacheHookError(RuntimeError):
    """moto's interpreter no longer has the method this module wraps."""


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cache: dict[str, Any] = {}
        self.original: Callable[..., Any] | None = None
        self.cls: Any = None


_state = _State()


def shareable(definition: str) -> bool:
    """True when no state of ``definition`` keeps per-execution state on its component."""
    try:
        document = json.loads(definition)
    except ValueError:
        return False
    pending: list[Any] = [document]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("Type") in _STATEFUL_TYPES:
                return False
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return True


def install() -> None:
    """Serve every execution of a shareable definition from one parsed program."""
    module = importlib.import_module(_WORKER_MODULE)
    cls = getattr(module, _WORKER_CLASS, None)
    original = getattr(cls, _METHOD, None) if cls is not None else None
    if original is None:
        raise AslCacheHookError(
            f"{_WORKER_MODULE}.{_WORKER_CLASS}.{_METHOD} is gone: the moto version changed "
            "how executions parse their definition; update scalper.local.asl_cache"
        )
    parser = importlib.import_module(_PARSER_MODULE).AmazonStateLanguageParser

    def entrypoint(worker: Any) -> Any:
        definition = str(worker._evaluation_details.state_machine_details.definition)
        if not shareable(definition):
            return original(worker)
        with _state.lock:
            program = _state.cache.get(definition)
        if program is None:
            program = parser.parse(definition)[0]
            with _state.lock:
                program = _state.cache.setdefault(definition, program)
        return program

    with _state.lock:
        if _state.original is not None:
            return
        _state.cls, _state.original = cls, original
    setattr(cls, _METHOD, entrypoint)


def uninstall() -> None:
    """Parse per execution again and forget the cached programs."""
    with _state.lock:
        if _state.original is not None:
            setattr(_state.cls, _METHOD, _state.original)
        _state.cls = _state.original = None
        _state.cache.clear()
