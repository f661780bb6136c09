"""The local Lambda Invoke API: handlers in warm workers, failures shaped as Lambda's.

The functions here are tiny handlers written to a temporary folder; every call goes
through a real boto3 Lambda client, so the wire format is the one botocore (and so Step
Functions' interpreter) parses. Every test runs over HTTP and with the client answered
in-process (`LambdaEndpoint.serve_in_process`, how the local stack's own clients reach
it), so both answer alike; and with workers forked from the fork server and started as
new interpreters (`scalper.local.forkserver`), so both behave alike.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from scalper.local import lambda_runtime
from scalper.local.lambda_endpoint import Fault, LambdaEndpoint
from scalper.local.lambda_runtime import FunctionPool, FunctionSpec

HANDLERS = """
import json, os, time

def ok(event, context):
    return {"echo": event, "greeting": os.environ.get("GREETING"),
            "function": context.function_name, "left": context.get_remaining_time_in_millis() > 0}

def boom(event, context):
    raise ValueError("bad input")

def slow(event, context):
    time.sleep(event.get("sleep", 0))
    return "woke"

def crash(event, context):
    os._exit(3)

def unmarshalable(event, context):
    return {1, 2}

def chatty(event, context):
    print("hello from the handler")
    return "done"
"""

ACCOUNT = "123456789012"


def spec(code: Path, name: str, handler: str, timeout: int = 3) -> FunctionSpec:
    return FunctionSpec(
        logical_id=name,
        name=f"local-{name}",
        arn=f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:local-{name}",
        handler=handler,
        code_dir=code,
        layer_dirs=(),
        environment={"GREETING": "hi"},
        timeout=timeout,
    )


@pytest.fixture(scope="module", params=["forked", "started"])
def endpoint(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LambdaEndpoint]:
    code = tmp_path_factory.mktemp("function")
    (code / "app.py").write_text(HANDLERS)
    specs = [
        spec(code, "Ok", "app.ok"),
        spec(code, "Boom", "app.boom"),
        spec(code, "Slow", "app.slow", timeout=1),
        spec(code, "Crash", "app.crash"),
        spec(code, "Unmarshalable", "app.unmarshalable"),
        spec(code, "Chatty", "app.chatty"),
        spec(code, "NoModule", "missing_module.handler"),
        spec(code, "NoHandler", "app.nope"),
    ]
    base_env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    forks = request.param == "forked"
    server = LambdaEndpoint(specs, base_env, tmp_path_factory.mktemp("logs"), forks=forks)
    server.start(prewarm=False)
    try:
        yield server
    finally:
        server.stop()


def lambda_client(url: str, **config: Any) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 0, "total_max_attempts": 1}, **config),
    )


@pytest.fixture(scope="module", params=["over HTTP", "in-process"])
def client(endpoint: LambdaEndpoint, request: pytest.FixtureRequest) -> Any:
    made = lambda_client(endpoint.url)
    if request.param == "in-process":
        endpoint.serve_in_process(made)
    return made


def invoke(client: Any, name: str, event: Any = None) -> tuple[str | None, Any]:
    response = client.invoke(FunctionName=name, Payload=json.dumps(event or {}).encode())
    return response.get("FunctionError"), json.loads(response["Payload"].read())


def test_a_handler_runs_with_its_environment_and_context(client: Any) -> None:
    """Given the Ok function, then it returns its result with the template's environment
    and a Lambda context."""
    error, payload = invoke(client, "local-Ok", {"a": 1})
    assert error is None
    assert payload == {"echo": {"a": 1}, "greeting": "hi", "function": "local-Ok", "left": True}


def test_a_function_is_addressed_by_name_or_arn_with_qualifier(client: Any) -> None:
    """Given the function's ARN with :$LATEST (as Step Functions passes it), or an ARN of
    another account and Region (a caller configured differently), then it runs."""
    arn = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:local-Ok:$LATEST"
    assert invoke(client, arn)[0] is None
    elsewhere = "arn:aws:lambda:eu-west-1:000000000000:function:local-Ok"
    assert invoke(client, elsewhere)[0] is None


def test_an_exception_is_an_unhandled_function_error(client: Any) -> None:
    """Given a handler that raises, then Invoke reports FunctionError Unhandled with the
    exception's type and message, as Lambda does."""
    error, payload = invoke(client, "local-Boom")
    assert error == "Unhandled"
    assert (payload["errorType"], payload["errorMessage"]) == ("ValueError", "bad input")


def test_running_past_the_timeout_reports_sandbox_timedout_and_recovers(client: Any) -> None:
    """Given a 1 s timeout, when the handler sleeps 3 s, then the call ends as
    Sandbox.Timedout, and the next call runs in a fresh environment."""
    error, payload = invoke(client, "local-Slow", {"sleep": 3})
    assert error == "Unhandled"
    assert payload["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in payload["errorMessage"]
    assert invoke(client, "local-Slow", {"sleep": 0}) == (None, "woke")


def test_a_crashed_runtime_reports_its_exit_status(client: Any) -> None:
    """Given a handler that kills its process, then the call ends as Runtime.ExitError."""
    error, payload = invoke(client, "local-Crash")
    assert error == "Unhandled"
    assert payload["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in payload["errorMessage"]


def test_a_result_that_is_not_json_is_a_marshal_error(client: Any) -> None:
    """Given a handler returning a set, then the call ends as Runtime.MarshalError."""
    assert invoke(client, "local-Unmarshalable")[1]["errorType"] == "Runtime.MarshalError"


def test_prints_go_to_the_log_not_into_the_response(client: Any, endpoint: LambdaEndpoint) -> None:
    """Given a handler that prints, then the response is intact and the print is in the
    function's log file with START/END/REPORT lines."""
    assert invoke(client, "local-Chatty") == (None, "done")
    log = (endpoint.log_dir / "Chatty.log").read_text()
    assert "hello from the handler" in log
    assert "REPORT RequestId:" in log


@pytest.mark.parametrize(
    ("name", "error_type"),
    [
        ("local-NoModule", "Runtime.ImportModuleError"),
        ("local-NoHandler", "Runtime.HandlerNotFound"),
    ],
)
def test_an_init_failure_is_reported_as_lambda_reports_it(
    client: Any, name: str, error_type: str
) -> None:
    """Given a handler that cannot be imported or found, then the init error comes back."""
    error, payload = invoke(client, name)
    assert (error, payload["errorType"]) == ("Unhandled", error_type)


def test_an_unknown_function_is_resource_not_found(client: Any) -> None:
    """Given a name the template does not define, then Invoke fails with Lambda's code."""
    with pytest.raises(ClientError) as refused:
        invoke(client, "no-such-function")
    assert refused.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize(
    ("fault", "status"), [(Fault.SERVICE_EXCEPTION, 500), (Fault.TOO_MANY_REQUESTS, 429)]
)
def test_injected_service_faults_fail_the_next_calls_then_stop(
    client: Any, endpoint: LambdaEndpoint, fault: Fault, status: int
) -> None:
    """Given a fault injected twice, then the next two calls fail with the service's
    error code and HTTP status, and the third reaches the handler."""
    endpoint.faults.inject("Ok", fault, times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as failed:
            invoke(client, "local-Ok")
        assert failed.value.response["Error"]["Code"] == fault.value
        assert failed.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    assert invoke(client, "local-Ok")[0] is None
    outcomes = [(c.outcome, c.injected) for c in endpoint.invocations("Ok")[-3:]]
    assert outcomes == [(fault.value, True), (fault.value, True), ("ok", False)]


def test_an_injected_function_error_has_the_chosen_type_until_cleared(
    client: Any, endpoint: LambdaEndpoint
) -> None:
    """Given a permanent function-error fault, then every call fails with that errorType
    until the fault is cleared."""
    endpoint.faults.inject("local-Ok", Fault.FUNCTION_ERROR, times=None, error_type="KeyError")
    try:
        assert [invoke(client, "local-Ok")[1]["errorType"] for _ in range(3)] == ["KeyError"] * 3
    finally:
        endpoint.faults.clear("Ok")
    assert invoke(client, "local-Ok")[0] is None


def test_a_held_timeout_is_let_go_when_its_fault_is_cleared(
    client: Any, endpoint: LambdaEndpoint
) -> None:
    """Given a timeout fault holding its one caller for a minute (so the rule is used up),
    when another function's faults are cleared, then the caller is still held; when its
    own are, then it gets the timeout error at once."""
    endpoint.faults.inject("Ok", Fault.TIMEOUT, hold_seconds=60.0)
    with ThreadPoolExecutor(max_workers=1) as pool:
        held = pool.submit(invoke, client, "local-Ok")
        try:
            while not endpoint.faults.held("Ok"):
                assert not held.done()
                time.sleep(0.01)
            endpoint.faults.clear("Slow")
            with pytest.raises(TimeoutError):
                held.result(timeout=0.5)
        finally:
            endpoint.faults.clear("Ok")
        error, payload = held.result(timeout=10)
    assert endpoint.faults.held("Ok") == 0
    assert (error, payload["errorType"]) == ("Unhandled", "Sandbox.Timedout")


def test_list_and_get_function_show_what_the_endpoint_runs(client: Any) -> None:
    """Given the template's functions, then ListFunctions and GetFunction describe them
    (so `aws lambda list-functions` works against the local endpoint)."""
    names = {f["FunctionName"] for f in client.list_functions()["Functions"]}
    assert {"local-Ok", "local-Slow"} <= names
    slow = client.get_function(FunctionName="local-Slow")["Configuration"]
    assert (slow["Handler"], slow["Timeout"]) == ("app.slow", 1)
    with pytest.raises(ClientError) as missing:
        client.get_function(FunctionName="nope")
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_a_client_served_in_process_never_needs_the_http_server(
    tmp_path: Path, endpoint: LambdaEndpoint
) -> None:
    """Given an endpoint whose HTTP server was never started, when a client it serves
    in-process invokes a function, then the call is answered (over HTTP it would time out),
    and requests to any other URL still leave the process."""
    code = tmp_path / "function"
    code.mkdir()
    (code / "app.py").write_text(HANDLERS)
    idle = LambdaEndpoint([spec(code, "Ok", "app.ok")], dict(os.environ), tmp_path / "logs")
    try:
        served = lambda_client(idle.url, connect_timeout=1, read_timeout=1)
        idle.serve_in_process(served)
        assert invoke(served, "local-Ok", {"a": 1})[1]["echo"] == {"a": 1}
        elsewhere = lambda_client(endpoint.url)
        idle.serve_in_process(elsewhere)  # its URL is another endpoint's: it goes there
        assert invoke(elsewhere, "local-Ok", {"b": 2})[1]["echo"] == {"b": 2}
        assert [c.function for c in idle.invocations()] == ["Ok"]
    finally:
        idle.stop()


def _comparable(outcome: dict[str, Any]) -> dict[str, Any]:
    """A response (or an error's response) without what differs per call or per hop: the
    request ids, and the headers only an HTTP server adds (``Date``, ``Server``...)."""
    meta = dict(outcome.get("ResponseMetadata", {}))
    meta.pop("RequestId", None)
    headers = {
        k: v
        for k, v in meta.pop("HTTPHeaders", {}).items()
        if k not in ("date", "server", "x-amzn-requestid", "connection")
    }
    rest = {k: v for k, v in outcome.items() if k != "ResponseMetadata"}
    if "Payload" in rest:
        payload = json.loads(rest["Payload"].read())
        if isinstance(payload, dict):
            payload.pop("requestId", None)
        rest["Payload"] = payload
    return {**rest, "ResponseMetadata": {**meta, "HTTPHeaders": headers}}


def _outcome(client: Any, name: str) -> tuple[str, dict[str, Any]]:
    try:
        return "answer", _comparable(client.invoke(FunctionName=name, Payload=b'{"a": 1}'))
    except ClientError as exc:
        message = str(exc).replace(exc.response["ResponseMetadata"].get("RequestId", "-"), "id")
        return message, _comparable(dict(exc.response))


@pytest.mark.parametrize(
    ("function", "fault"),
    [
        ("local-Ok", None),
        ("local-Boom", None),
        ("local-Ok", Fault.SERVICE_EXCEPTION),
        ("local-Ok", Fault.TOO_MANY_REQUESTS),
        ("local-Ok", Fault.FUNCTION_ERROR),
        ("nope", None),
    ],
)
def test_a_one_attempt_client_answered_in_process_gets_the_http_answer(
    endpoint: LambdaEndpoint, function: str, fault: Fault | None
) -> None:
    """Given a client that makes one attempt per call (as Step Functions' interpreter's),
    answered in-process before botocore builds the HTTP request, when it invokes a function
    that answers, fails, is throttled or does not exist, then what it returns or raises is
    what the same client gets over HTTP: the parsed response, the modeled error fields,
    ``MaxAttemptsReached``, ``RetryAttempts`` and the error's message."""
    over_http = lambda_client(endpoint.url)
    in_process = lambda_client(endpoint.url)
    endpoint.serve_in_process(in_process)
    sent: list[object] = []
    in_process.meta.events.register("before-send.lambda", lambda **_: sent.append(1))
    outcomes = []
    for client in (over_http, in_process):
        if fault is not None:
            endpoint.faults.inject("Ok", fault)
        outcomes.append(_outcome(client, function))
    assert outcomes[0] == outcomes[1]
    assert sent == []  # answered before botocore built an HTTP request
    if fault in (Fault.SERVICE_EXCEPTION, Fault.TOO_MANY_REQUESTS):
        assert outcomes[1][1]["ResponseMetadata"]["MaxAttemptsReached"] is True


def test_a_retrying_client_answered_in_process_still_retries(
    tmp_path: Path, endpoint: LambdaEndpoint
) -> None:
    """Given a client with retries, answered in-process, when the function's first call
    fails with a service error, then botocore retries it as over HTTP and the second call's
    answer is returned (the one-attempt shortcut is not taken)."""
    retrying = boto3.client(
        "lambda",
        endpoint_url=endpoint.url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 2, "mode": "standard"}),
    )
    endpoint.serve_in_process(retrying)
    endpoint.faults.inject("Ok", Fault.SERVICE_EXCEPTION)
    response = retrying.invoke(FunctionName="local-Ok", Payload=b"{}")
    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert json.loads(response["Payload"].read())["echo"] == {}


def test_given_a_pool_closed_while_a_worker_is_being_made_then_the_worker_still_has_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a prewarm whose worker takes a moment to make, when the pool is closed
    meanwhile, then the worker is made with the log still open (and stopped at once), the
    log is closed after it, and an invocation after the close is refused as the stack's."""
    code = tmp_path / "function"
    code.mkdir()
    (code / "app.py").write_text(HANDLERS)
    pool = FunctionPool(spec(code, "Ok", "app.ok"), {}, tmp_path / "Ok.log")
    making = threading.Event()
    real_worker = lambda_runtime.Worker

    def slow_worker(*args: Any) -> Any:
        making.set()
        time.sleep(0.3)
        return real_worker(*args)

    monkeypatch.setattr(lambda_runtime, "Worker", slow_worker)
    failures: list[BaseException] = []

    def prewarm() -> None:
        try:
            pool.prewarm()
        except BaseException as exc:  # reported below, where the test can fail on it
            failures.append(exc)

    warming = threading.Thread(target=prewarm)
    warming.start()
    assert making.wait(10)
    pool.close()
    warming.join(30)

    assert failures == []
    assert pool.idle_workers() == []
    assert pool.cold_starts == {"started": 1}
    result = pool.invoke(b"{}", "after-close")
    assert (result.function_error, json.loads(result.payload)["errorType"]) == (
        "Unhandled",
        "ServiceException",
    )
