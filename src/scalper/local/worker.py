"""One warm Lambda execution environment: a child process running one function's handler.

Started by `scalper.local.lambda_runtime` as ``python -m scalper.local.worker CONFIG
READ_FD WRITE_FD``. It sets up ``sys.path`` as the Lambda runtime does (the function's
code first, then each layer), imports the handler once (the cold start), then serves
invocations one at a time over a private pipe. The handler's stdout and stderr both go
to the function's log file, like CloudWatch Logs; the protocol never shares a stream
with the handler.

Messages are JSON. Parent -> worker: ``{"requestId", "payload", "deadlineMs"}``.
Worker -> parent: ``{"ready": true}`` once, or ``{"initError": {...}}``; then per
invocation ``{"payload": "..."}`` or ``{"error": {errorType, errorMessage, ...}}``.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any


@dataclass
class LambdaContext:
    """The context object handlers receive (the attributes Powertools and handlers read)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_ms: int
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the function's timeout, as in Lambda."""
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _error(exc: BaseException, request_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }
    if request_id is not None:
        body["requestId"] = request_id
    return body


def _log(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _load_handler(spec: str, outbox: Connection) -> Any:
    """Import ``module.function``; on failure, send Lambda's init error and return None."""
    module_name, _, attr = spec.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        err = {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "stackTrace": traceback.format_tb(exc.__traceback__),
        }
        _log(f"[ERROR] {err['errorType']}: {err['errorMessage']}")
        outbox.send_bytes(json.dumps({"initError": err}).encode())
        return None
    except Exception as exc:
        _log("".join(traceback.format_exception(exc)))
        outbox.send_bytes(json.dumps({"initError": _error(exc)}).encode())
        return None
    handler = getattr(module, attr, None)
    if not callable(handler):
        err = {
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{attr}' missing on module '{module_name}'",
        }
        outbox.send_bytes(json.dumps({"initError": err}).encode())
        return None
    return handler


def main(argv: list[str]) -> int:
    """Run the worker loop; returns the process exit code."""
    return serve(json.loads(argv[0]), int(argv[1]), int(argv[2]))


def serve(config: dict[str, Any], inbox_fd: int, outbox_fd: int) -> int:
    """Import the handler and answer invocations until the parent closes the inbox.

    Called by `main` in a process started for it, or by `scalper.local.forkserver` in a
    process forked for it (environment, working folder and log already in place)."""
    inbox = Connection(inbox_fd, writable=False)
    outbox = Connection(outbox_fd, readable=False)
    # The handler's prints must never reach the protocol: fd 1 becomes the log.
    os.dup2(2, 1)

    for layer_dir in reversed(config["layerDirs"]):
        sys.path.insert(0, layer_dir)
    sys.path.insert(0, config["codeDir"])
    os.chdir(config["codeDir"])

    started = time.monotonic()
    handler = _load_handler(str(config["handler"]), outbox)
    if handler is None:
        return 1
    init_ms = (time.monotonic() - started) * 1000
    outbox.send_bytes(json.dumps({"ready": True, "initMs": init_ms}).encode())

    while True:
        try:
            message = json.loads(inbox.recv_bytes())
        except EOFError:
            # The stack is stopping: like a Lambda environment being reclaimed, leave at
            # once (a full interpreter teardown costs a second of CPU per worker).
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0)
        request_id = str(message["requestId"])
        context = LambdaContext(
            function_name=config["functionName"],
            function_version="$LATEST",
            invoked_function_arn=config["functionArn"],
            memory_limit_in_mb=int(config["memorySize"]),
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{config['functionName']}",
            log_stream_name=config["logStream"],
            deadline_ms=int(message["deadlineMs"]),
        )
        _log(f"START RequestId: {request_id} Version: $LATEST")
        began = time.monotonic()
        reply: dict[str, Any]
        try:
            event = json.loads(message["payload"])
            result = handler(event, context)
            try:
                reply = {"payload": json.dumps(result)}
            except (TypeError, ValueError) as exc:
                reply = {
                    "error": {
                        "errorType": "Runtime.MarshalError",
                        "errorMessage": f"Unable to marshal response: {exc}",
                        "requestId": request_id,
                    }
                }
        except Exception as exc:
            _log(
                f"[ERROR] {type(exc).__name__}: {exc}\n"
                + "".join(traceback.format_tb(exc.__traceback__))
            )
            reply = {"error": _error(exc, request_id)}
        elapsed = (time.monotonic() - began) * 1000
        _log(f"END RequestId: {request_id}")
        _log(f"REPORT RequestId: {request_id}\tDuration: {elapsed:.2f} ms")
        outbox.send_bytes(json.dumps(reply).encode())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
