"""A local endpoint speaking the Lambda Invoke API for the template's functions.

``POST /2015-03-31/functions/{FunctionName}/invocations`` (name, full or partial ARN,
optional ``:$LATEST`` / ``Qualifier``) runs the function in its warm worker
(`scalper.local.lambda_runtime`). Point boto3 at it with ``AWS_ENDPOINT_URL_LAMBDA``;
Amazon's Step Functions Local takes it unchanged as ``LAMBDA_ENDPOINT``.

Clients in the stack's own process (the Step Functions interpreter's Lambda tasks, the
DynamoDB Streams bridge) are answered in-process (`LambdaEndpoint.serve_in_process`): the
client still serialises the Invoke and parses the answer as from the network, only the
loopback HTTP hop is skipped (and, for a client that makes one attempt per call, building
and signing the HTTP request too).

Tests inject faults with `LambdaEndpoint.faults`: the next N invocations of a function
fail the way the service fails (``ServiceException`` / ``TooManyRequestsException``
HTTP errors, which Step Functions reports as ``Lambda.ServiceException`` /
``Lambda.TooManyRequestsException``), or the way a function fails (an ``Unhandled``
function error with a chosen ``errorType``, or a ``Sandbox.Timedout``).
"""

from __future__ import annotations

import functools
import io
import json
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.endpoint import convert_to_response_dict
from botocore.httpchecksum import handle_checksum_body
from botocore.parsers import ResponseParserFactory

from scalper.local import retry
from scalper.local._http import BackgroundHTTPServer
from scalper.local.forkserver import BackgroundForkServer
from scalper.local.lambda_runtime import RUNTIME_ENV, FunctionPool, FunctionSpec, InvokeResult

_INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations/?$")


class Fault(StrEnum):
    """How an injected failure looks to the caller."""

    SERVICE_EXCEPTION = "ServiceException"  # HTTP 500: Lambda.ServiceException in SFN
    TOO_MANY_REQUESTS = "TooManyRequestsException"  # HTTP 429: Lambda.TooManyRequestsException
    FUNCTION_ERROR = "Unhandled"  # HTTP 200 + X-Amz-Function-Error, errorType as given
    TIMEOUT = "Sandbox.Timedout"  # the function runs past its Timeout (the wait is retry-scaled)


_SERVICE_STATUS = {Fault.SERVICE_EXCEPTION: 500, Fault.TOO_MANY_REQUESTS: 429}


@dataclass
class _FaultRule:
    fault: Fault
    remaining: int | None  # None: every invocation until cleared
    error_type: str
    message: str
    #: How long a TIMEOUT fault holds its caller (None: the function's scaled Timeout).
    hold_seconds: float | None = None


@dataclass(frozen=True)
class Invocation:
    """One call the endpoint answered (tests read these to count retries)."""

    function: str  # the template's logical id
    request_id: str
    outcome: str  # "ok", an errorType, or a service error code
    injected: bool
    started_at: float
    duration_ms: float


class FaultInjector:
    """Per-function failure rules, applied before the worker is reached."""

    def __init__(self, resolve: Iterable[tuple[str, str]]) -> None:
        self._aliases = dict(resolve)  # any accepted name -> logical id
        self._rules: dict[str, list[_FaultRule]] = {}
        #: Per function, what its held callers wait on; clear() sets it and starts anew.
        self._releases: dict[str, threading.Event] = {}
        self._held: Counter[str] = Counter()  # callers held right now, by logical id
        self._lock = threading.Lock()

    def _logical(self, function: str) -> str:
        try:
            return self._aliases[function]
        except KeyError:
            raise KeyError(f"no function {function!r} in the template") from None

    def inject(
        self,
        function: str,
        fault: Fault = Fault.SERVICE_EXCEPTION,
        *,
        times: int | None = 1,
        error_type: str = "RuntimeError",
        message: str = "fault injected by the local stack",
        hold_seconds: float | None = None,
    ) -> None:
        """Fail the next ``times`` invocations of ``function`` (None = until `clear`).

        ``hold_seconds``: how long a `Fault.TIMEOUT` keeps the caller waiting (default: the
        function's ``Timeout`` times the retry scale).

        ``function`` is the logical id or the function name. Rules queue up: a
        second `inject` applies after the first is used up.
        """
        if times is not None and times < 1:
            raise ValueError("times must be at least 1 (or None for every invocation)")
        rule = _FaultRule(fault, times, error_type, message, hold_seconds)
        with self._lock:
            self._rules.setdefault(self._logical(function), []).append(rule)

    def clear(self, function: str | None = None) -> None:
        """Remove the rules of one function, or of all. Callers a `Fault.TIMEOUT` holds
        get their timeout error now: a test that has seen what it waited for need not wait
        out the hold."""
        logical = None if function is None else self._logical(function)
        with self._lock:
            if logical is None:
                self._rules.clear()
                released = list(self._releases.values())
                self._releases.clear()
            else:
                self._rules.pop(logical, None)
                event = self._releases.pop(logical, None)
                released = [] if event is None else [event]
        for event in released:
            event.set()

    def hold(self, logical_id: str, seconds: float) -> None:
        """Keep a caller of ``logical_id`` waiting ``seconds`` (a `Fault.TIMEOUT`), or until
        its faults are cleared."""
        with self._lock:
            self._held[logical_id] += 1
            release = self._releases.setdefault(logical_id, threading.Event())
        try:
            release.wait(seconds)
        finally:
            with self._lock:
                self._held[logical_id] -= 1

    def held(self, function: str) -> int:
        """How many callers of ``function`` a `Fault.TIMEOUT` holds right now."""
        logical = self._logical(function)
        with self._lock:
            return self._held[logical]

    def take(self, logical_id: str) -> _FaultRule | None:
        """The rule that applies to this invocation, if any (consumes one use)."""
        with self._lock:
            rules = self._rules.get(logical_id)
            if not rules:
                return None
            rule = rules[0]
            if rule.remaining is not None:
                rule.remaining -= 1
                if rule.remaining == 0:
                    rules.pop(0)
            return rule


@dataclass
class _Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class LambdaEndpoint:
    """The template's functions behind the Lambda Invoke API on 127.0.0.1."""

    def __init__(
        self,
        functions: Iterable[FunctionSpec],
        base_env: dict[str, str],
        log_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        max_concurrency: int = 2,
        forks: bool = True,
    ) -> None:
        specs = list(functions)
        # Workers fork from one interpreter that has imported the heavy libraries once
        # (scalper.local.forkserver); with ``forks=False`` each is a new interpreter.
        self.forks = BackgroundForkServer({**base_env, **RUNTIME_ENV}) if forks else None
        self.pools: dict[str, FunctionPool] = {
            s.logical_id: FunctionPool(
                s, base_env, log_dir / f"{s.logical_id}.log", max_concurrency, self.forks
            )
            for s in specs
        }
        aliases: list[tuple[str, str]] = []
        for s in specs:
            aliases += [(s.logical_id, s.logical_id), (s.name, s.logical_id), (s.arn, s.logical_id)]
        self._aliases = dict(aliases)
        self.faults = FaultInjector(aliases)
        self.log_dir = log_dir
        self._invocations: list[Invocation] = []
        self._stopping = False
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                try:
                    reply = endpoint.handle(
                        self.path,
                        body,
                        self.headers.get("X-Amz-Invocation-Type", "RequestResponse"),
                    )
                except Exception as exc:  # a bug here must still answer like the service
                    reply = _service_error(500, "ServiceException", repr(exc), "local")
                self._send(reply)

            def do_GET(self) -> None:
                self._send(endpoint.describe(self.path))

            def _send(self, reply: _Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the functions' own logs are in the log directory."""

        self._server = BackgroundHTTPServer(host, port, Handler, "lambda endpoint", "--lambda-port")

    @property
    def url(self) -> str:
        """The URL for ``AWS_ENDPOINT_URL_LAMBDA`` (Step Functions Local: ``LAMBDA_ENDPOINT``)."""
        return self._server.url

    def start(self, *, prewarm: bool = True) -> None:
        """Serve; with ``prewarm`` start one environment per function in the background."""
        self._server.start()
        if self.forks is not None:
            self.forks.start()
        if prewarm:
            # One at a time, in template order: on two cores, six cold starts at once take
            # several times longer each, and the first function (the API's) waits longest.
            threading.Thread(target=self._prewarm, name="scalper-prewarm", daemon=True).start()

    def _prewarm(self) -> None:
        for pool in list(self.pools.values()):
            if self._stopping:
                return
            pool.prewarm()

    def stop(self) -> None:
        """Stop serving and stop every worker process."""
        self._stopping = True
        self.faults.clear()  # no caller stays held
        self._server.stop()
        for pool in self.pools.values():
            pool.close()
        if self.forks is not None:  # after the pools: it reports their workers' exits
            self.forks.close()

    def logical_id(self, function: str) -> str:
        """The template logical id for a name, ARN (with or without qualifier) or logical id."""
        name = function
        candidates = [name]
        if name.startswith("arn:"):
            parts = name.split(":")
            # Drop a :$LATEST / alias qualifier; then, as a fallback, the bare name: a
            # caller configured with another account or Region (Step Functions Local's
            # defaults, say) still reaches the function of that name.
            candidates = [":".join(parts[:7]), parts[6] if len(parts) > 6 else name]
        elif ":" in name:
            candidates = [name.split(":", 1)[0]]
        for candidate in candidates:
            if candidate in self._aliases:
                return self._aliases[candidate]
        raise KeyError(function)

    def serve_in_process(self, client: Any) -> None:
        """Answer a botocore Lambda ``client``'s requests to this endpoint in this process.

        The client still serialises each Invoke and parses the answer exactly as it would
        from the network (status, ``FunctionError``, service errors, its retries); only the
        loopback HTTP hop is skipped: a socket, a server thread and both ends' HTTP parsing,
        about 3 ms of this process's CPU per call (measured), for a client in the same
        process as the endpoint (the interpreter's Lambda tasks, the streams bridge).
        Requests to any other URL go on as before.

        A client that makes one attempt per call (no retries: the Step Functions
        interpreter's) is answered earlier still, from botocore's ``before-call`` event,
        the hook botocore's own ``Stubber`` uses: the request is serialised by botocore as
        before, and the answer parsed by the client's own parser, with its retry handler
        consulted and its errors raised as from the network; what is skipped is what only
        a real connection needs (building and signing the HTTP request, the user agent,
        the send hooks). That is about half of botocore's CPU per Invoke.
        """
        client.meta.events.register("before-send.lambda", self._answer_in_process)
        if _single_attempt(client):
            client.meta.events.register(
                "before-call.lambda.Invoke", functools.partial(self._invoke_before_call, client)
            )

    def _answer(self, url: str, method: str, body: Any, headers: Any) -> AWSResponse:
        """The endpoint's answer to one request, as the HTTP response botocore reads."""
        split = urlsplit(url)
        path = f"{split.path}?{split.query}" if split.query else split.path
        if method == "GET":
            reply = self.describe(path)
        else:
            body = body or b""
            if isinstance(body, str):
                body = body.encode()
            elif not isinstance(body, bytes):  # a file-like payload
                body = body.read()
            try:
                reply = self.handle(
                    path, body, headers.get("X-Amz-Invocation-Type", "RequestResponse")
                )
            except Exception as exc:  # as over HTTP: a bug here answers like the service
                reply = _service_error(500, "ServiceException", repr(exc), "local")
        answer_headers = HTTPHeaders()
        for name, value in reply.headers.items():
            answer_headers[name] = value
        answer_headers["Content-Length"] = str(len(reply.body))
        return AWSResponse(url, reply.status, answer_headers, _RawBody(reply.body))

    def _answer_in_process(self, request: Any, **_: Any) -> AWSResponse | None:
        """botocore's ``before-send`` hook: a response ends the request there."""
        url = str(request.url)
        if not url.startswith(self.url + "/"):
            return None
        return self._answer(url, str(request.method), request.body, request.headers)

    def _invoke_before_call(
        self, client: Any, model: Any, params: dict[str, Any], **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        """botocore's ``before-call`` hook for Invoke: ``(http response, parsed)`` ends
        the call there; botocore then raises a modeled error as after any response.

        The answer goes through what botocore's endpoint does with every response of one
        attempt (``Endpoint._send_request`` and ``_do_get_response``): the retries context,
        the checksum check, ``before-parse``, the client's parser with the modeled error
        fields, the client's retry handler (``needs-retry``, which marks an error it
        would retry as ``MaxAttemptsReached``) and ``RetryAttempts``.
        """
        url = str(params.get("url", ""))
        if not url.startswith(self.url + "/"):
            return None
        context = params.setdefault("context", {})
        retries = context.setdefault("retries", {})
        retries["attempt"] = 1
        retries.setdefault("invocation-id", str(uuid.uuid4()))
        response = self._answer(
            url, str(params.get("method", "POST")), params.get("body"), params.get("headers") or {}
        )
        response_dict = convert_to_response_dict(response, model)
        # botocore passes the AWSResponse here too; its stubs name the urllib3 one.
        handle_checksum_body(response, response_dict, context, model)  # type: ignore[arg-type]
        service = model.service_model
        event_suffix = f"{service.service_id.hyphenize()}.{model.name}"
        customized: dict[str, Any] = {}
        client.meta.events.emit(
            f"before-parse.{event_suffix}",
            operation_model=model,
            response_dict=response_dict,
            customized_response_dict=customized,
        )
        parser = _PARSERS.create_parser(
            getattr(service, "resolved_protocol", None) or service.metadata["protocol"]
        )
        parsed: dict[str, Any] = parser.parse(response_dict, model.output_shape)
        parsed.update(customized)
        code = parsed.get("Error", {}).get("Code") if response.status_code >= 300 else None
        error_shape = service.shape_for_error_code(code) if code else None
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
        client.meta.events.emit(
            f"needs-retry.{event_suffix}",
            response=(response, parsed),
            endpoint=client._endpoint,
            operation=model,
            attempts=1,
            caught_exception=None,
            request_dict=params,
        )
        if "ResponseMetadata" in parsed:
            parsed["ResponseMetadata"]["RetryAttempts"] = 0
        return response, parsed

    def invoke(self, function: str, payload: bytes | dict[str, object]) -> InvokeResult:
        """Invoke a function directly (no HTTP); faults apply as they do over HTTP."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        reply = self.handle(
            f"/2015-03-31/functions/{function}/invocations", body, "RequestResponse"
        )
        error = reply.headers.get("X-Amz-Function-Error")
        if reply.status >= 400:
            error = reply.headers.get("x-amzn-ErrorType", "ServiceException")
        return InvokeResult(reply.body, error, reply.headers.get("x-amzn-RequestId", ""))

    def invocations(self, function: str | None = None) -> list[Invocation]:
        """The calls answered so far, oldest first (of one function, or all)."""
        with self._lock:
            calls = list(self._invocations)
        if function is None:
            return calls
        logical = self.logical_id(function)
        return [c for c in calls if c.function == logical]

    # -- request handling --------------------------------------------------
    def configuration(self, logical_id: str) -> dict[str, object]:
        """A function's FunctionConfiguration, as GetFunction / ListFunctions return it."""
        spec = self.pools[logical_id].spec
        return {
            "FunctionName": spec.name,
            "FunctionArn": spec.arn,
            "Runtime": "python3.13",
            "Handler": spec.handler,
            "Timeout": spec.timeout,
            "MemorySize": spec.memory_size,
            "Version": "$LATEST",
            "State": "Active",
            "PackageType": "Zip",
            "Environment": {"Variables": dict(spec.environment)},
        }

    def describe(self, path: str) -> _Reply:
        """ListFunctions (``GET /2015-03-31/functions/``) and GetFunction, so that
        ``aws lambda list-functions`` shows what the local endpoint runs."""
        request_id = str(uuid.uuid4())
        route = urlsplit(path).path.rstrip("/")
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": request_id}
        if route == "/2015-03-31/functions":
            functions = [self.configuration(lid) for lid in self.pools]
            return _Reply(200, json.dumps({"Functions": functions}).encode(), headers)
        prefix = "/2015-03-31/functions/"
        if route.startswith(prefix) and "/" not in route[len(prefix) :]:
            name = unquote(route[len(prefix) :])
            try:
                logical = self.logical_id(name)
            except KeyError:
                return _service_error(
                    404, "ResourceNotFoundException", f"Function not found: {name}", request_id
                )
            body = {
                "Configuration": self.configuration(logical),
                "Code": {
                    "RepositoryType": "Local",
                    "Location": str(self.pools[logical].spec.code_dir),
                },
            }
            return _Reply(200, json.dumps(body).encode(), headers)
        return _service_error(404, "UnknownOperationException", f"no route {route}", request_id)

    def handle(self, path: str, body: bytes, invocation_type: str) -> _Reply:
        """Answer one Invoke request."""
        request_id = str(uuid.uuid4())
        logical = self._function_invoked(path, body, request_id)
        if isinstance(logical, _Reply):
            return logical
        if invocation_type == "DryRun":
            return _Reply(204, b"", {"x-amzn-RequestId": request_id})
        if invocation_type == "Event":
            threading.Thread(
                target=self._run, args=(logical, body or b"{}", request_id), daemon=True
            ).start()
            return _Reply(202, b"", {"x-amzn-RequestId": request_id})
        return self._run(logical, body or b"{}", request_id)

    def _function_invoked(self, path: str, body: bytes, request_id: str) -> str | _Reply:
        """The logical id of the function an Invoke request names, or Lambda's error reply
        (an unknown route, function or qualifier, or a body that is not JSON)."""
        split = urlsplit(path)
        match = _INVOKE_PATH.match(split.path)
        if match is None:
            return _service_error(
                404, "UnknownOperationException", f"no route {split.path}", request_id
            )
        name = unquote(match.group("name"))
        qualifier = parse_qs(split.query).get("Qualifier", ["$LATEST"])[0]
        if qualifier not in ("$LATEST", ""):
            return _service_error(
                404,
                "ResourceNotFoundException",
                f"Function not found: {name}:{qualifier} (the local stack runs $LATEST only)",
                request_id,
            )
        try:
            logical = self.logical_id(name)
        except KeyError:
            return _service_error(
                404, "ResourceNotFoundException", f"Function not found: {name}", request_id
            )
        try:
            json.loads((body or b"{}").decode("utf-8"))
        except ValueError:  # UnicodeDecodeError included: Lambda reads UTF-8 JSON only
            return _service_error(
                400,
                "InvalidRequestContentException",
                "Could not parse request body into json",
                request_id,
            )
        return logical

    def _run(self, logical: str, body: bytes, request_id: str) -> _Reply:
        started = time.time()
        rule = self.faults.take(logical)
        if rule is not None:
            reply = self._fault_reply(rule, logical, request_id)
            outcome = rule.error_type if rule.fault is Fault.FUNCTION_ERROR else rule.fault.value
            self._record(logical, request_id, outcome, True, started)
            return reply
        result = self.pools[logical].invoke(body, request_id)
        self._record(logical, request_id, result.error_type or "ok", False, started)
        headers = {
            "Content-Type": "application/json",
            "X-Amz-Executed-Version": "$LATEST",
            "x-amzn-RequestId": request_id,
        }
        if result.function_error:
            headers["X-Amz-Function-Error"] = result.function_error
        return _Reply(200, result.payload, headers)

    def _fault_reply(self, rule: _FaultRule, logical: str, request_id: str) -> _Reply:
        if rule.fault in _SERVICE_STATUS:
            return _service_error(
                _SERVICE_STATUS[rule.fault], rule.fault.value, rule.message, request_id
            )
        if rule.fault is Fault.TIMEOUT:
            timeout = self.pools[logical].spec.timeout
            # A hung function holds its caller for its whole Timeout; the local stack's
            # retry scale shortens real waits, this one too. Clearing the fault or stopping
            # the stack ends it.
            hold = rule.hold_seconds
            if hold is None:
                hold = timeout * retry.current_scale()
            self.faults.hold(logical, hold)
            payload = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": (
                    f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds"
                ),
            }
        else:
            payload = {
                "errorType": rule.error_type,
                "errorMessage": rule.message,
                "requestId": request_id,
            }
        return _Reply(
            200,
            json.dumps(payload).encode(),
            {
                "Content-Type": "application/json",
                "X-Amz-Executed-Version": "$LATEST",
                "X-Amz-Function-Error": "Unhandled",
                "x-amzn-RequestId": request_id,
            },
        )

    def _record(
        self, logical: str, request_id: str, outcome: str, injected: bool, started: float
    ) -> None:
        call = Invocation(
            logical, request_id, outcome, injected, started, (time.time() - started) * 1000
        )
        with self._lock:
            self._invocations.append(call)


def _single_attempt(client: Any) -> bool:
    """True when ``client`` makes one attempt per call (its retry handler never retries)."""
    retries = client.meta.config.retries or {}
    return retries.get("total_max_attempts") == 1 or (
        "total_max_attempts" not in retries and retries.get("max_attempts") == 0
    )


_PARSERS = ResponseParserFactory()


class _RawBody(io.BytesIO):
    """A response body as botocore reads one from urllib3 (``read`` and ``stream``)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        """The whole body, in one piece."""
        chunk = self.read()
        if chunk:
            yield chunk


def _service_error(status: int, code: str, message: str, request_id: str) -> _Reply:
    """A Lambda API error as botocore parses it (x-amzn-ErrorType + JSON body)."""
    body = json.dumps({"Type": "Service" if status >= 500 else "User", "message": message}).encode()
    return _Reply(
        status,
        body,
        {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": code,
            "x-amzn-RequestId": request_id,
        },
    )
