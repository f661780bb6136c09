"""A minimal Lambda Invoke endpoint that runs handlers in this process (tests and benchmarks).

`LambdaEndpoint` is the local stack's full endpoint: a worker process per function, timeouts,
fault injection. Some harnesses need less and something else: moto's Step Functions engine
reaching the real handlers while every AWS call those handlers make lands on the *same*
in-process moto backends (a worker process would have backends of its own). `serve_in_process`
is that: ``POST /2015-03-31/functions/<name or ARN>/invocations`` calls the handler registered
under the function's name in a thread of this process; an exception becomes the error payload
with ``X-Amz-Function-Error: Unhandled``, as Lambda reports an unhandled error.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import unquote

from scalper.local._http import LOOPBACK, BackgroundHTTPServer

#: A Lambda handler: ``handler(event, context)``.
Handler = Callable[[Any, Any], Any]


@dataclass
class InProcessContext:
    """The parts of the Lambda context Powertools reads."""

    function_name: str
    invoked_function_arn: str = ""
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def serve_in_process(
    handlers: Mapping[str, Handler],
    *,
    on_invoked: Callable[[str, float], None] | None = None,
) -> BackgroundHTTPServer:
    """Serve the Invoke API for ``handlers`` (function name -> handler) on a free loopback port.

    ``on_invoked(name, milliseconds)`` is told each invocation's wall time. The server is
    running when this returns: point ``AWS_ENDPOINT_URL_LAMBDA`` at its ``url``, and `stop`
    it when done.
    """

    class Invoke(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            """One line per invocation would drown the harness's own output."""

        def do_POST(self) -> None:
            function = unquote(self.path.split("/")[3])
            name = function.rsplit(":", 1)[-1]
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            context = InProcessContext(function_name=name, invoked_function_arn=function)
            headers: dict[str, str] = {}
            started = time.perf_counter()
            try:
                result = handlers[name](event, context)
            except Exception as exc:
                result = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
                headers["X-Amz-Function-Error"] = "Unhandled"
            if on_invoked is not None:
                on_invoked(name, (time.perf_counter() - started) * 1000)
            body = json.dumps(result).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    server = BackgroundHTTPServer(LOOPBACK, 0, Invoke, "in-process-lambda", "(port 0)")
    server.start()
    return server
