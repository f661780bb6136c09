"""Every moto internal the local stack and the mock-configuration hook rely on, in one place.

moto's public surface (``mock_aws``, its server, the AWS APIs) runs the pipeline; a few
things the local stack does go below it, and each such use is named here and nowhere else:

- the Step Functions interpreter: where an execution starts and builds its worker, the
  mocked-response classes a worker hands to the interpreter, how a mocked ``Throw`` travels,
  the Wait-state and Retry sleeps, the ASL parser, the per-Task SDK client factory, the
  JSONPath compilers (paths and ``ResultPath``), the executions' statuses and the DynamoDB
  integration
  (:mod:`scalper.sfn_mock.moto_hook`, :mod:`scalper.local.retry`,
  :mod:`scalper.local.interpreter_cache`, :mod:`scalper.local.stack`,
  :mod:`scalper.local.faults`);
- DynamoDB's item operations, made atomic as DynamoDB's are (:mod:`scalper.local.atomic_items`);
- a table's stream shard and its records (:mod:`scalper.local.streams`);
- S3's EventBridge notification sender (:mod:`scalper.local.bridge`);
- EventBridge's event-pattern matcher (the bridge and the DynamoDB Streams filters);
- the server's WSGI application and request handler (:mod:`scalper.local.stack`);
- where an execution ends, its history, its state machine details, the program's timeout and
  the Step Functions responses (:mod:`scalper.local.execution_ends`: RedriveExecution, the
  execution's end delivered as AWS would, the Express cap).

moto is pinned exactly (``MOTO_VERSION``, the same as the pin in pyproject.toml; a test
holds the three equal). Upgrading moto is a review of this file: move the pin, run
`verify` (the test suite does), and fix what it names. Each user calls `require` with
the hook points it needs before it patches anything, so a moved one fails loudly, naming
itself, instead of half-patching moto or silently losing a behaviour.

moto is imported lazily: the mock-configuration model and ``scalper sfn-mock scaffold``
import this module without needing moto.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, cast

#: The moto release whose internals this module was reviewed against.
MOTO_VERSION = "5.2.5"

_SFN = "moto.stepfunctions.parser."
#: The interpreter's logger (quietened while the local stack stops).
SFN_LOGGER = "moto.stepfunctions.parser"
#: Every Step Functions logger of moto (quietened while mock test cases run).
STEPFUNCTIONS_LOGGER = "moto.stepfunctions"


class MotoInternalsMovedError(RuntimeError):
    """moto's internals no longer offer a hook point the local stack relies on."""


def installed_version() -> str:
    """The moto release installed."""
    return str(importlib.import_module("moto").__version__)


def _module(dotted: str) -> ModuleType:
    return importlib.import_module(dotted)


def _sfn(module: str, attribute: str = "") -> Any:
    """``moto.stepfunctions.parser.<module>``, then ``attribute`` (dotted) walked in it."""
    obj: Any = _module(f"{_SFN}{module}")
    for part in filter(None, attribute.split(".")):
        obj = getattr(obj, part)
    return obj


def _parameters(func: Any) -> list[str]:
    return list(inspect.signature(func).parameters)


# -- the Step Functions interpreter ------------------------------------------------------
_WAIT_MODULE = "asl.component.state.wait.wait_function.wait_function"
_MOCK_EVAL_MODULE = "asl.component.state.exec.state_task.mock_eval_utils"
_EXECUTE_STATE_MODULE = "asl.component.state.exec.execute_state"
_SERVICE_MODULE = "asl.component.state.exec.state_task.service.state_task_service"
_FAILURE_EVENT_MODULE = "asl.component.common.error_name.failure_event"
_RETRIER_MODULE = "asl.component.common.retry.retrier_decl"
_TASK = "asl.component.state.exec.state_task"
_DYNAMODB_TASK_MODULE = f"{_TASK}.service.state_task_service_dynamodb"
_CLIENT_MODULE = "asl.utils.boto_client"
_JSON_PATH_MODULE = "asl.utils.json_path"
_RESULT_PATH_MODULE = "asl.component.common.path.result_path"
#: Modules that imported ``boto_client_for`` by name (the pipeline's Task types).
_CLIENT_USERS = (
    f"{_TASK}.lambda_eval_utils",
    f"{_TASK}.service.state_task_service_dynamodb",
    f"{_TASK}.service.state_task_service_sns",
    f"{_TASK}.service.state_task_service_sqs",
    f"{_TASK}.service.state_task_service_events",
    f"{_TASK}.service.state_task_service_sfn",
    f"{_TASK}.service.state_task_service_aws_sdk",
)


def parser_backend_class() -> Any:
    """``StepFunctionsParserBackend``: its ``start_execution`` takes a StartExecution call."""
    return _sfn("models", "StepFunctionsParserBackend")


def execution_class() -> Any:
    """``Execution``: its ``_get_start_execution_worker`` builds the execution's worker."""
    return _sfn("backend.execution", "Execution")


def execution_worker_class() -> Any:
    """``ExecutionWorker``: parses the definition (``_get_evaluation_entrypoint``) and hands
    its ``_mock_test_case`` to the interpreter."""
    return _sfn("backend.execution_worker", "ExecutionWorker")


def execution_module() -> ModuleType:
    """``backend.execution``: ``Execution`` and ``BaseExecutionWorkerCommunication``, whose
    ``terminated`` runs when an execution (or a redrive of it) ends."""
    return cast(ModuleType, _sfn("backend.execution"))


def program_class() -> Any:
    """``Program``: its ``eval`` joins the worker thread for ``timeout_seconds``."""
    return _sfn("asl.component.program.program", "Program")


def evaluation_details_module() -> ModuleType:
    """``EvaluationDetails`` and its parts: what an ``ExecutionWorker`` is built from."""
    return cast(ModuleType, _sfn("asl.eval.evaluation_details"))


def sfn_api_module() -> ModuleType:
    """The Step Functions API shapes (``ExecutionStatus``, ``StateMachineType``)."""
    return cast(ModuleType, _sfn("api"))


def step_functions_responses_class() -> Any:
    """``StepFunctionResponse``: one method per API action, dispatched by name."""
    return _module("moto.stepfunctions.responses").StepFunctionResponse


def json_error(code: str, message: str) -> Exception:
    """An AWS JSON-protocol error answer (``__type`` = ``code``)."""
    error: type[Exception] = _module("moto.core.exceptions").JsonRESTError
    return error(code, message)


def action_result(result: dict[str, Any]) -> Any:
    """A response method's result, serialised by the API's output shape."""
    return _module("moto.core.responses").ActionResult(result)


def mock_config_module() -> ModuleType:
    """Where ``MockTestCase`` and its parts (mocked returns and throws) live."""
    return cast(ModuleType, _sfn("mocking.mock_config"))


def failure_event_exception() -> type:
    """``FailureEventException``: how a Task's failure (a mocked ``Throw`` too) travels."""
    return cast(type, _sfn(_FAILURE_EVENT_MODULE, "FailureEventException"))


def service_task_classes() -> list[type]:
    """``StateTaskService`` and its subclasses (every integration) that define
    ``_from_error``, the method that maps an exception to the Task's error name."""
    _sfn(_SERVICE_MODULE + "_factory")  # imports every integration's class
    base: type = _sfn(_SERVICE_MODULE, "StateTaskService")
    found: list[type] = []
    pending = [base]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return [cls for cls in found if "_from_error" in vars(cls)]


def wait_function_class() -> Any:
    """``WaitFunction``: its ``_wait_interval`` sleeps a Wait state's seconds."""
    return _sfn(_WAIT_MODULE, "WaitFunction")


def invalid_name_error(message: str) -> Exception:
    """The ``InvalidName`` error StartExecution answers with."""
    invalid_name = _module("moto.stepfunctions.exceptions").InvalidName
    return cast(Exception, invalid_name(message))


def retrier_module() -> ModuleType:
    """The module whose ``time.sleep`` waits out every Retry backoff."""
    return cast(ModuleType, _sfn(_RETRIER_MODULE))


def asl_parser() -> Any:
    """``AmazonStateLanguageParser`` (``parse(definition)[0]`` is the program)."""
    return _sfn("asl.parse.asl_parser", "AmazonStateLanguageParser")


def boto_client_for() -> Callable[..., Any]:
    """``boto_client_for(region, service, credentials)``: a Task's SDK client factory."""
    return cast(Callable[..., Any], _sfn(_CLIENT_MODULE, "boto_client_for"))


def boto_client_users() -> list[ModuleType]:
    """The Task modules that imported ``boto_client_for`` by name (patched where used)."""
    return [cast(ModuleType, _sfn(name)) for name in _CLIENT_USERS]


#: Interpreter modules that copy state data with ``copy.deepcopy`` on every state: the
#: input read, each Parameters path, the result, the context, the program state.
_DEEPCOPY_USERS = (
    "asl.eval.states",
    "asl.eval.environment",
    "asl.eval.event.event_manager",
    "asl.component.common.string.string_expression",
    "asl.component.common.path.result_path",
    "asl.component.state.exec.execute_state",
    _SERVICE_MODULE,
)


def deepcopy_users() -> list[ModuleType]:
    """The interpreter modules that call ``copy.deepcopy`` through their ``copy`` name."""
    return [cast(ModuleType, _sfn(name)) for name in _DEEPCOPY_USERS]


def json_path_module() -> ModuleType:
    """The module whose ``parse(text)`` compiles each JSONPath ``extract_json`` evaluates."""
    return cast(ModuleType, _sfn(_JSON_PATH_MODULE))


def result_path_module() -> ModuleType:
    """The module whose ``parse(text)`` compiles a ``ResultPath`` each time one is applied."""
    return cast(ModuleType, _sfn(_RESULT_PATH_MODULE))


def execution_statuses(account_id: str, region: str, machine_arns: list[str]) -> dict[str, str]:
    """Every execution of these state machines -> its status, read from moto's Step
    Functions backend in this process (nothing serialised, whatever the count)."""
    backend = _sfn("models", "stepfunctions_parser_backends")[account_id][region]
    statuses: dict[str, str] = {}
    for arn in machine_arns:
        for execution in list(backend.describe_state_machine(arn).executions):
            statuses[str(execution.execution_arn)] = str(execution.status)
    return statuses


def dynamodb_task_class() -> Any:
    """``StateTaskServiceDynamoDB``: its ``_eval_service_task`` makes the DynamoDB call."""
    return _sfn(_DYNAMODB_TASK_MODULE, "StateTaskServiceDynamoDB")


# -- DynamoDB ------------------------------------------------------------------------
def dynamodb_backend_class() -> Any:
    """``DynamoDBBackend``: its item operations check a condition, then write, unlocked."""
    return _module("moto.dynamodb.models").DynamoDBBackend


@dataclass(frozen=True)
class TableStream:
    """A table's stream as moto keeps it: the shard and the stream's ARN."""

    shard: Any  # StreamShard: its ``items`` are the stream's records, oldest first
    arn: str


def table_stream(account_id: str, region: str, table_name: str) -> TableStream | None:
    """The table's current stream (``None`` when it has none), read from moto's DynamoDB
    backend in this process. Raises moto's ``ResourceNotFoundException`` for no table."""
    backend = _module("moto.dynamodb.models").dynamodb_backends[account_id][region]
    table = backend.get_table(table_name)
    if table.stream_shard is None:
        return None
    arn = str(table.describe(base_key="Table")["Table"]["LatestStreamArn"])
    return TableStream(table.stream_shard, arn)


def stream_records(stream: TableStream, start: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` records of the stream from position ``start`` (0: its oldest), in
    moto's form: the dicts its GetRecords serialises, owned by moto (never to be changed).
    Records are only ever appended, so a position stays valid."""
    return [record.to_json() for record in stream.shard.items[start : start + limit]]


# -- S3, EventBridge and the server ------------------------------------------------------
def s3_notifications_module() -> ModuleType:
    """The module whose ``_send_event_bridge_message`` sends S3's EventBridge events."""
    return _module("moto.s3.notifications")


def event_pattern(pattern: str) -> Callable[[dict[str, Any]], bool]:
    """A matcher for one EventBridge event pattern (JSON), by moto's own ``EventPattern``
    (its TestEventPattern API is a stub in 5.2.5, so the class is used directly)."""
    compiled = _module("moto.events.models").EventPattern.load(pattern)
    return lambda event: bool(compiled.matches_event(event))


#: Distinct hosts whose backend the server remembers (a handful are ever seen locally).
_BACKEND_CACHE_LIMIT = 1024


def server_application() -> Any:
    """moto server's WSGI application (every service, dispatched by host and path).

    moto finds each request's backend from its host by listing its own package folder and
    trying its URL patterns one by one: about 0.7 ms a request, under a lock every request
    shares. The answer depends on the host alone (the folder and the patterns do not change
    while the server runs), so it is remembered per host.
    """
    app = _module("moto.moto_server.werkzeug_app")
    dispatcher = app.DomainDispatcherApplication(app.create_backend_app)
    find = dispatcher.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(host: str | None) -> Any:
        if host in known:
            return known[host]
        backend = find(host)
        if len(known) < _BACKEND_CACHE_LIMIT:
            known[host] = backend
        return backend

    dispatcher.get_backend_for_host = get_backend_for_host
    return dispatcher


def server_request_class() -> Any:
    """The request class of moto server's Flask applications (``BackendRequest``)."""
    return _module("moto.moto_server.werkzeug_app").BackendRequest


def server_form_parsing() -> dict[str, Any]:
    """How moto server's requests parse a form, as werkzeug's ``parse_form_data`` takes it:
    the limits (``max_content_length``, ``max_form_memory_size``, ``max_form_parts``) and
    the form's class (``cls``). Read from a ``BackendRequest`` in a Flask application made
    as ``create_backend_app`` makes its own (Flask's default configuration, which it leaves
    as it is: checked), so moto's own setting (``MOTO_MAX_FORM_MEMORY_SIZE``) counts."""
    flask = importlib.import_module("flask")
    environ = importlib.import_module("werkzeug.test").create_environ()
    with flask.Flask("moto").app_context():
        request = server_request_class()(environ)
        return {
            "max_content_length": request.max_content_length,
            "max_form_memory_size": request.max_form_memory_size,
            "max_form_parts": request.max_form_parts,
            "cls": request.parameter_storage_class,
        }


def quiet_request_handler() -> type:
    """moto's request handler without one access-log line per AWS call."""
    handler: type = _module("moto.moto_server.werkzeug_app").MotoRequestHandler

    class QuietMotoHandler(handler):  # type: ignore[misc]
        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Errors are still logged by werkzeug; successful calls are not."""

    return QuietMotoHandler


# -- the checks ------------------------------------------------------------------------
def _check_start_execution() -> str | None:
    params = _parameters(parser_backend_class().start_execution)
    expected = ["self", "state_machine_arn", "name", "execution_input", "trace_header"]
    return None if params == expected else f"parameters are {params}, expected {expected}"


def _check_start_execution_worker() -> str | None:
    execution = execution_class()
    if not callable(getattr(execution, "_get_start_execution_worker", None)):
        return "method is gone"
    if "self._get_start_execution_worker()" not in inspect.getsource(execution.start):
        return "Execution.start no longer builds its worker through it"
    return None


def _check_worker_mock_test_case() -> str | None:
    worker = execution_worker_class()
    if "mock_test_case" not in _parameters(worker.__init__):
        return "ExecutionWorker() takes no mock_test_case"
    if "mock_test_case=self._mock_test_case" not in inspect.getsource(
        worker._get_evaluation_environment
    ):
        return "the worker no longer hands _mock_test_case to the interpreter's Environment"
    return None


def _check_mock_config_classes() -> str | None:
    expected = {
        "MockTestCase": ["self", "state_machine_name", "test_case_name",
                         "state_mocked_responses_list"],
        "StateMockedResponses": ["self", "state_name", "mocked_response_name",
                                 "mocked_responses"],
        "MockedResponseReturn": ["self", "range_start", "range_end", "payload"],
        "MockedResponseThrow": ["self", "range_start", "range_end", "error", "cause"],
    }  # fmt: skip
    module = mock_config_module()
    for name, params in expected.items():
        actual = _parameters(getattr(module, name).__init__)
        if actual != params:
            return f"{name}() parameters are {actual}, expected {params}"
    return None


def _check_interpreter_honours_mocks() -> str | None:
    environment = _sfn("asl.eval.environment", "Environment")
    for method in ("is_mocked_mode", "get_current_mocked_response"):
        if not callable(getattr(environment, method, None)):
            return f"Environment.{method} is gone"
    return None


def _check_mocked_throw() -> str | None:
    if not isinstance(getattr(_sfn(_FAILURE_EVENT_MODULE), "FailureEventException", None), type):
        return "FailureEventException is gone"
    throw_source = inspect.getsource(_sfn(_MOCK_EVAL_MODULE, "_eval_mocked_response_throw"))
    if "raise FailureEventException(" not in throw_source:
        return "a mocked Throw no longer raises FailureEventException"
    base_source = inspect.getsource(_sfn(_EXECUTE_STATE_MODULE, "ExecutionState._from_error"))
    if "isinstance(ex, FailureEventException)" not in base_source:
        return "ExecutionState._from_error no longer passes FailureEventException through"
    if not service_task_classes():
        return "no StateTaskService subclass defines _from_error"
    return None


def _check_wait_interval() -> str | None:
    params = _parameters(wait_function_class()._wait_interval)
    expected = ["self", "env", "wait_seconds"]
    return None if params == expected else f"parameters are {params}, expected {expected}"


def _check_retrier_sleep() -> str | None:
    # Read from the source, so the check also holds while scalper.local.retry is installed.
    module = retrier_module()
    if not hasattr(module, "time") or "time.sleep(" not in inspect.getsource(module):
        return "the retrier no longer waits with time.sleep of the time module it imported"
    return None


def _check_evaluation_entrypoint() -> str | None:
    if not callable(getattr(execution_worker_class(), "_get_evaluation_entrypoint", None)):
        return "method is gone"
    if not callable(getattr(asl_parser(), "parse", None)):
        return "AmazonStateLanguageParser.parse is gone"
    return None


def _check_client_factory() -> str | None:
    # Read from the source, so the check also holds while the interpreter cache is installed.
    if _parameters(boto_client_for())[:2] != ["region", "service"]:
        return "boto_client_for no longer takes (region, service, ...)"
    importing = f"from {_SFN}{_CLIENT_MODULE} import boto_client_for"
    stale = [m.__name__ for m in boto_client_users() if importing not in inspect.getsource(m)]
    return f"no longer imported by name in {stale}" if stale else None


def _check_json_path() -> str | None:
    # Read from the source, so the check also holds while the interpreter cache is installed.
    module = json_path_module()
    if not callable(getattr(module, "parse", None)):
        return "parse is gone"
    if "parse(path)" not in inspect.getsource(module.extract_json):
        return "extract_json no longer compiles its path with the module's parse()"
    return None


def _check_result_path() -> str | None:
    # Read from the source, so the check also holds while the interpreter cache is installed.
    module = result_path_module()
    if not callable(getattr(module, "parse", None)):
        return "parse is gone"
    if "parse(self.result_path_src)" not in inspect.getsource(module.ResultPath._eval_body):
        return "ResultPath no longer compiles its path with the module's parse()"
    return None


def _check_deepcopy_users() -> str | None:
    # Read from the source, so the check also holds while the interpreter cache is installed.
    stale = [
        m.__name__
        for m in deepcopy_users()
        if "import copy\n" not in (source := inspect.getsource(m)) or "copy.deepcopy(" not in source
    ]
    return f"no longer copy with copy.deepcopy in {stale}" if stale else None


def _check_execution_statuses() -> str | None:
    backends = getattr(_sfn("models"), "stepfunctions_parser_backends", None)
    if backends is None:
        return "stepfunctions_parser_backends is gone"
    execution = execution_class()
    if not isinstance(getattr(execution, "status", None), property):
        return "Execution.status is no longer a property"
    if "self.execution_arn = " not in inspect.getsource(execution.__init__):
        return "Execution no longer keeps its ARN in execution_arn"
    return None


def _check_dynamodb_task() -> str | None:
    if not callable(getattr(dynamodb_task_class(), "_eval_service_task", None)):
        return "method is gone"
    return None


def _check_dynamodb_backend() -> str | None:
    from scalper.local.atomic_items import OPERATIONS  # noqa: PLC0415 - its one user

    backend = dynamodb_backend_class()
    missing = [name for name in OPERATIONS if not callable(getattr(backend, name, None))]
    return f"DynamoDBBackend has no {', '.join(missing)}" if missing else None


def _check_table_stream() -> str | None:
    table_module = _module("moto.dynamodb.models.table")
    if "self.stream_shard = StreamShard(" not in inspect.getsource(
        table_module.Table.set_stream_specification
    ):
        return "Table.set_stream_specification no longer makes a StreamShard"
    shard_source = inspect.getsource(table_module.StreamShard)
    if "self.items.append(StreamRecord(" not in shard_source:
        return "StreamShard.add no longer appends its StreamRecord to items"
    if not callable(getattr(table_module.StreamRecord, "to_json", None)):
        return "StreamRecord.to_json is gone"
    return None


def _check_s3_sender() -> str | None:
    module = s3_notifications_module()
    if not callable(getattr(module, "_send_event_bridge_message", None)):
        return "function is gone"
    if not callable(getattr(module, "send_event", None)):
        return "send_event no longer calls it"
    return None


def _check_event_pattern() -> str | None:
    matches = event_pattern('{"source": ["aws.s3"]}')
    if not matches({"source": "aws.s3"}) or matches({"source": "other"}):
        return "EventPattern no longer matches a plain source pattern"
    return None


def _check_server() -> str | None:
    app = _module("moto.moto_server.werkzeug_app")
    for name in ("DomainDispatcherApplication", "create_backend_app", "MotoRequestHandler"):
        if getattr(app, name, None) is None:
            return f"{name} is gone"
    if _parameters(app.DomainDispatcherApplication.get_backend_for_host) != ["self", "host"]:
        return "DomainDispatcherApplication.get_backend_for_host(host) changed"
    return None


def _check_server_forms() -> str | None:
    app = _module("moto.moto_server.werkzeug_app")
    request_class = getattr(app, "BackendRequest", None)
    base = importlib.import_module("werkzeug.wrappers.request").Request
    if not isinstance(request_class, type) or not issubclass(request_class, base):
        return "BackendRequest is no longer a werkzeug Request"
    factory = inspect.getsource(app.create_backend_app)
    loader = inspect.getsource(base._load_form_data)
    setup = inspect.getsource(_module("moto.core.responses").BaseResponse.setup_class)
    problems = [
        ("request_class = BackendRequest" not in factory,
         "create_backend_app no longer makes its requests with BackendRequest"),
        ("MAX_" in factory, "create_backend_app now sets request limits of its own"),
        (not all(f in loader for f in ('"form" in self.__dict__', 'd["form"], d["files"]')),
         "werkzeug's Request._load_form_data no longer keeps the form in __dict__"),
        ("request.form" not in setup or "request.files" not in setup,
         "BaseResponse.setup_class no longer reads the request's form and files"),
    ]  # fmt: skip
    return next((message for failed, message in problems if failed), None)


def _check_execution_ends() -> str | None:
    execution = execution_module()
    for owner, names in (
        (execution.BaseExecutionWorkerCommunication, ("terminated",)),
        (
            execution.Execution,
            (
                "to_history_output",
                "get_start_state_machine_details",
                "_get_start_aws_execution_details",
                "_get_start_execution_worker_comm",
            ),
        ),
        (program_class(), ("eval",)),
        (
            step_functions_responses_class(),
            ("describe_execution", "get_execution_history", "stop_execution"),
        ),
    ):
        missing = [n for n in names if not callable(getattr(owner, n, None))]
        if missing:
            return f"{owner.__name__} has no {', '.join(missing)}"
    details = evaluation_details_module()
    for name in ("EvaluationDetails", "ExecutionDetails", "StateMachineDetails"):
        if getattr(details, name, None) is None:
            return f"{name} is gone"
    if _parameters(execution_worker_class())[:4] != [
        "evaluation_details",
        "exec_comm",
        "cloud_watch_logging_session",
        "activity_store",
    ]:
        return "ExecutionWorker no longer takes (evaluation_details, exec_comm, ...)"
    return None


@dataclass(frozen=True)
class HookPoint:
    """One moto internal: its dotted name, who relies on it, and the check that it is there."""

    name: str
    user: str
    check: Callable[[], str | None]


_SFN_MOCK = "scalper.sfn_mock"
HOOK_POINTS: tuple[HookPoint, ...] = (
    HookPoint(
        f"{_SFN}models.StepFunctionsParserBackend.start_execution",
        _SFN_MOCK,
        _check_start_execution,
    ),
    HookPoint(
        f"{_SFN}backend.execution.Execution._get_start_execution_worker",
        _SFN_MOCK,
        _check_start_execution_worker,
    ),
    HookPoint(
        f"{_SFN}backend.execution_worker.ExecutionWorker._mock_test_case",
        _SFN_MOCK,
        _check_worker_mock_test_case,
    ),
    HookPoint(
        f"{_SFN}mocking.mock_config (MockTestCase and its parts)",
        _SFN_MOCK,
        _check_mock_config_classes,
    ),
    HookPoint(
        f"{_SFN}asl.eval.environment.Environment.get_current_mocked_response",
        _SFN_MOCK,
        _check_interpreter_honours_mocks,
    ),
    HookPoint(
        f"{_SFN}{_SERVICE_MODULE}.StateTaskService._from_error (mocked Throw)",
        _SFN_MOCK,
        _check_mocked_throw,
    ),
    HookPoint(f"{_SFN}{_WAIT_MODULE}.WaitFunction._wait_interval", _SFN_MOCK, _check_wait_interval),
    HookPoint(f"{_SFN}{_RETRIER_MODULE}.time", "scalper.local.retry", _check_retrier_sleep),
    HookPoint(
        f"{_SFN}backend.execution_worker.ExecutionWorker._get_evaluation_entrypoint",
        "scalper.local.interpreter_cache",
        _check_evaluation_entrypoint,
    ),
    HookPoint(
        f"{_SFN}{_CLIENT_MODULE}.boto_client_for",
        "scalper.local.interpreter_cache",
        _check_client_factory,
    ),
    HookPoint(
        f"{_SFN}{_JSON_PATH_MODULE}.parse",
        "scalper.local.interpreter_cache",
        _check_json_path,
    ),
    HookPoint(
        f"{_SFN}{_RESULT_PATH_MODULE}.parse",
        "scalper.local.interpreter_cache",
        _check_result_path,
    ),
    HookPoint(
        f"{_SFN}asl (copy.deepcopy of state data)",
        "scalper.local.interpreter_cache",
        _check_deepcopy_users,
    ),
    HookPoint(
        f"{_SFN}models.stepfunctions_parser_backends (execution statuses)",
        "scalper.local.stack",
        _check_execution_statuses,
    ),
    HookPoint(
        f"{_SFN}{_DYNAMODB_TASK_MODULE}.StateTaskServiceDynamoDB._eval_service_task",
        "scalper.local.faults",
        _check_dynamodb_task,
    ),
    HookPoint(
        "moto.dynamodb.models.DynamoDBBackend (item operations)",
        "scalper.local.atomic_items",
        _check_dynamodb_backend,
    ),
    HookPoint(
        "moto.dynamodb.models.table (Table.stream_shard, StreamShard.items, StreamRecord)",
        "scalper.local.streams",
        _check_table_stream,
    ),
    HookPoint(
        "moto.s3.notifications._send_event_bridge_message", "scalper.local.bridge", _check_s3_sender
    ),
    HookPoint(
        "moto.events.models.EventPattern",
        "scalper.local.bridge, scalper.local.streams",
        _check_event_pattern,
    ),
    HookPoint(
        "moto.moto_server.werkzeug_app (the application, its handler, get_backend_for_host)",
        "scalper.local.stack",
        _check_server,
    ),
    HookPoint(
        "moto.moto_server.werkzeug_app.BackendRequest (its form, Flask's limits)",
        "scalper.local.s3_policy",
        _check_server_forms,
    ),
    HookPoint(
        f"{_SFN}backend.execution (terminated, history, details), Program.eval, "
        "moto.stepfunctions.responses.StepFunctionResponse",
        "scalper.local.execution_ends",
        _check_execution_ends,
    ),
)


def verify(user: str | None = None) -> list[str]:
    """Every hook point that moved (those ``user`` relies on, or all), as
    ``"<dotted name>: <what changed>"``; empty when all are in place."""
    problems = []
    for point in HOOK_POINTS:
        if user is not None and point.user != user and user not in point.user.split(", "):
            continue
        try:
            problem = point.check()
        except (ImportError, AttributeError, TypeError, OSError) as exc:
            problem = f"cannot inspect it: {exc!r}"
        if problem is not None:
            problems.append(f"{point.name}: {problem}")
    return problems


def require(user: str) -> None:
    """Raise `MotoInternalsMovedError` naming each hook point ``user`` relies on that moved."""
    problems = verify(user)
    if problems:
        raise MotoInternalsMovedError(
            f"moto {installed_version()} moved internals that {user} relies on "
            f"(reviewed for moto {MOTO_VERSION}; see scalper.local.moto_internals): "
            + "; ".join(problems)
        )
