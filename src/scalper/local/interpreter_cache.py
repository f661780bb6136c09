"""Make moto's Step Functions interpreter cheaper per execution (local stack speed).

Two costs are paid again by every execution of moto's interpreter, in pure Python, and
with hundreds of executions (a chaos test, a big ``scalper demo`` folder) they are most of
the local stack's CPU time:

- it parses the ASL definition with ANTLR at the start of every execution
  (``ExecutionWorker._get_evaluation_entrypoint``): a few hundred milliseconds for the
  pipeline's definition. The parsed program is a tree of components that keep their
  per-execution state in the execution's ``Environment``, so one tree can serve every
  execution of a definition -- except ``Map`` and ``Parallel`` states, whose workers keep
  state on the component; definitions with those are parsed per execution as before;
- it builds a new boto3 client for every Task (``boto_client_for``): several milliseconds
  each, several Tasks an execution. botocore clients are thread-safe, so one client per
  service and Region (made the same way, on first use) serves every Task;
- it compiles every JSONPath (``Parameters`` ``.$`` values, ``InputPath``, Choice
  variables, and each ``ResultPath`` it applies) from its text each time it evaluates one,
  and jsonpath-ng's parsers build their PLY parser tables anew on every call (a
  ``ResultPath`` about 3 ms). A compiled path is an immutable tree that ``find`` and
  ``update_or_create`` only read, so one compilation per distinct path text serves them all;
- it copies the state data with ``copy.deepcopy`` some hundred times an execution (every
  read of the input, every ``Parameters`` path, the result, the context). The data is
  JSON (it comes from the execution input and the services' JSON answers), and a JSON
  tree is copied three times faster by walking its dicts and lists (`json_copy`); any
  other value still goes to ``copy.deepcopy``.

`install` / `uninstall` patch those names (moto is pinned; each is named and checked
in :mod:`scalper.local.moto_internals`); `install` raises if any moves, so an upgrade fails
loudly instead of silently losing the speed-up. `LocalStack` installs it after it set
``AWS_ENDPOINT_URL_LAMBDA`` (clients read it when they are made).
"""

from __future__ import annotations

import copy
import functools
import json
import threading
from collections.abc import Callable
from types import ModuleType, SimpleNamespace
from typing import Any

from scalper.local import moto_internals

_USER = "scalper.local.interpreter_cache"

_ENTRYPOINT = "_get_evaluation_entrypoint"
_CLIENT_FUNCTION = "boto_client_for"
_JSON_PATH_PARSE = "parse"
#: States whose components hold per-execution state of their own.
_STATEFUL_TYPES = frozenset({"Map", "Parallel"})
_COPY_NAME = "copy"


def json_copy(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """A deep copy of a JSON tree (dicts, lists, strings, numbers, booleans, None); any
    other value is handed to ``copy.deepcopy``. Equal to ``copy.deepcopy(value)``; a
    sub-tree that appears twice is copied twice (JSON has no shared references)."""
    kind = type(value)
    if kind is dict:
        return {key: json_copy(item) for key, item in value.items()}
    if kind is list:
        return [json_copy(item) for item in value]
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    return copy.deepcopy(value, memo)


#: What the interpreter modules see as ``copy`` while the cache is installed.
_FAST_COPY = SimpleNamespace(deepcopy=json_copy, copy=copy.copy)


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.programs: dict[str, Any] = {}
        self.parsing: dict[str, threading.Lock] = {}  # one parse at a time per definition
        self.clients: dict[tuple[str, str], Any] = {}
        self.worker_cls: Any = None
        self.entrypoint: Callable[..., Any] | None = None
        self.client_for: Callable[..., Any] | None = None
        self.client_users: list[ModuleType] = []
        # Each module whose ``parse`` compiles a JSONPath, with its own ``parse``.
        self.path_parsers: list[tuple[ModuleType, Callable[[str], Any]]] = []
        self.copy_users: list[ModuleType] = []


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


def _lookup() -> tuple[Any, Callable[..., Any], Any, Callable[..., Any], list[ModuleType]]:
    moto_internals.require(_USER)
    worker_cls = moto_internals.execution_worker_class()
    return (
        worker_cls,
        getattr(worker_cls, _ENTRYPOINT),
        moto_internals.asl_parser(),
        moto_internals.boto_client_for(),
        moto_internals.boto_client_users(),
    )


def install(prepare_client: Callable[[str, Any], None] | None = None) -> None:
    """Parse each definition and JSONPath once; reuse one SDK client per service and Region.

    ``prepare_client(service, client)`` is called once for each client made (the local
    stack answers the Lambda client's calls to its own endpoint in-process).
    """
    with _state.lock:
        if _state.entrypoint is not None:
            return
    worker_cls, entrypoint, parser, client_for, users = _lookup()
    copy_users = moto_internals.deepcopy_users()
    # ResultPath compiles with jsonpath-ng's plain parser, every other path with the extended
    # one: each module's own parse, cached.
    path_parsers: list[tuple[ModuleType, Callable[[str], Any]]] = [
        (module, getattr(module, _JSON_PATH_PARSE))
        for module in (moto_internals.json_path_module(), moto_internals.result_path_module())
    ]

    def cached_entrypoint(worker: Any) -> Any:
        definition = str(worker._evaluation_details.state_machine_details.definition)
        if not shareable(definition):
            return entrypoint(worker)
        with _state.lock:
            program = _state.programs.get(definition)
            parsing = _state.parsing.setdefault(definition, threading.Lock())
        if program is not None:
            return program
        # Executions that start together (a burst of uploads) wait for one parse instead
        # of each parsing the definition: dozens of parses at the start of a chaos run.
        with parsing:
            with _state.lock:
                program = _state.programs.get(definition)
            if program is None:
                program = parser.parse(definition)[0]
                with _state.lock:
                    _state.programs[definition] = program
        return program

    def cached_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        # moto signs every Task's calls with the same fixed keys whatever the role, so the
        # credentials do not change the client.
        with _state.lock:
            client = _state.clients.get((region, service))
            if client is None:
                client = _state.clients[(region, service)] = client_for(region, service)
                if prepare_client is not None:
                    prepare_client(service, client)
            return client

    with _state.lock:
        if _state.entrypoint is not None:
            return
        _state.worker_cls, _state.entrypoint = worker_cls, entrypoint
        _state.client_for, _state.client_users = client_for, users
        _state.path_parsers = path_parsers
        _state.copy_users = copy_users
    setattr(worker_cls, _ENTRYPOINT, cached_entrypoint)
    for module in copy_users:
        setattr(module, _COPY_NAME, _FAST_COPY)
    for module in users:
        setattr(module, _CLIENT_FUNCTION, cached_client_for)
    for module, compile_path in path_parsers:
        # Bounded: definitions have tens of distinct paths, tests a few hundred at most.
        setattr(module, _JSON_PATH_PARSE, functools.lru_cache(maxsize=1024)(compile_path))


def uninstall() -> None:
    """Parse per execution, compile paths per use, make clients per Task and copy with
    ``copy.deepcopy`` again; forget what was cached."""
    with _state.lock:
        for module in _state.copy_users:
            setattr(module, _COPY_NAME, copy)
        _state.copy_users = []
        for module, compile_path in _state.path_parsers:
            setattr(module, _JSON_PATH_PARSE, compile_path)
        _state.path_parsers = []
        if _state.entrypoint is not None:
            setattr(_state.worker_cls, _ENTRYPOINT, _state.entrypoint)
        if _state.client_for is not None:
            for module in _state.client_users:
                setattr(module, _CLIENT_FUNCTION, _state.client_for)
        _state.worker_cls = _state.entrypoint = _state.client_for = None
        _state.client_users = []
        _state.programs.clear()
        _state.parsing.clear()
        _state.clients.clear()
