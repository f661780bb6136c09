"""Warm worker processes that run the template's functions as Lambda would.

Each function gets a small pool of `scalper.local.worker` processes (one execution
environment each, reused while warm, at most ``max_concurrency`` at once). An
invocation that outlives the function's ``Timeout`` kills its worker and reports
``Sandbox.Timedout``; a worker that dies mid-invocation reports ``Runtime.ExitError``;
an exception in the handler reports ``Unhandled`` with its ``errorType`` and
``errorMessage`` -- the shapes Step Functions sees from the real service.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import IO, Any, Protocol

from scalper.local.forkserver import BackgroundForkServer, ForkServerError

# Lambda's init phase gets 10 s; a cold import of boto3 + Powertools + pydantic on a busy
# two-core laptop can take longer, so the local allowance is wider (it is not the
# function's Timeout, which is honoured exactly).
INIT_TIMEOUT_SECONDS = 60.0
# How long an invocation waits for a busy environment before starting another one.
SCALE_OUT_AFTER_SECONDS = 0.5


@dataclass(frozen=True)
class FunctionSpec:
    """One function of the template, as the local runtime runs it."""

    logical_id: str
    name: str
    arn: str
    handler: str
    code_dir: Path
    layer_dirs: tuple[Path, ...]
    environment: dict[str, str]
    timeout: int = 3
    memory_size: int = 128


@dataclass
class InvokeResult:
    """What the Invoke API returns for one call."""

    payload: bytes
    function_error: str | None = None  # "Unhandled" like Lambda, None on success
    request_id: str = ""
    duration_ms: float = 0.0

    @property
    def error_type(self) -> str | None:
        """The ``errorType`` of a failed invocation (None on success)."""
        if self.function_error is None:
            return None
        try:
            return str(json.loads(self.payload).get("errorType"))
        except (ValueError, AttributeError):
            return None


class _Process(Protocol):
    """What a worker's process offers: a started `subprocess.Popen` or a forked one
    (`scalper.local.forkserver.ForkedProcess`)."""

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def kill(self) -> None: ...


#: Interpreter settings of every worker, started or forked (the fork server runs with
#: them too, since an interpreter reads them only when it starts).
INTERPRETER_ENV = {"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
#: What Lambda's runtime sets alike in every function's environment, and the interpreter
#: settings: the fork server runs with them too, as libraries it preloads read some of
#: them at import (Powertools: ``AWS_EXECUTION_ENV``, ``AWS_LAMBDA_INITIALIZATION_TYPE``).
RUNTIME_ENV = {
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    **INTERPRETER_ENV,
}


def _error_payload(error_type: str, message: str) -> bytes:
    return json.dumps({"errorType": error_type, "errorMessage": message}).encode()


class Worker:
    """One execution environment: a child process with the handler imported, forked
    from the fork server when there is one that can give this function what a started
    interpreter would, else started."""

    def __init__(
        self,
        spec: FunctionSpec,
        base_env: dict[str, str],
        log: IO[bytes],
        forks: BackgroundForkServer | None = None,
    ) -> None:
        self.spec = spec
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[$LATEST]{uuid.uuid4().hex}"
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        config = {
            "handler": spec.handler,
            "codeDir": str(spec.code_dir),
            "layerDirs": [str(p) for p in spec.layer_dirs],
            "functionName": spec.name,
            "functionArn": spec.arn,
            "memorySize": spec.memory_size,
            "logStream": self.log_stream,
        }
        env = {**base_env, **spec.environment, **_lambda_reserved_env(spec, self.log_stream)}
        self.forked = False
        try:
            self._process = self._fork(forks, config, env, (to_child_r, from_child_w, log))
        except BaseException:
            for fd in (to_child_r, to_child_w, from_child_r, from_child_w):
                os.close(fd)
            raise
        os.close(to_child_r)
        os.close(from_child_w)
        self._outbox = Connection(to_child_w, readable=False)
        self._inbox = Connection(from_child_r, writable=False)
        self.ready = False
        self.init_error: bytes | None = None

    def _fork(
        self,
        forks: BackgroundForkServer | None,
        config: dict[str, Any],
        env: dict[str, str],
        pipes: tuple[int, int, IO[bytes]],
    ) -> _Process:
        """The worker's process: forked if the fork server can, else started."""
        spec = self.spec
        to_child_r, from_child_w, log = pipes
        server = forks.get() if forks is not None else None
        if server is not None and server.can_fork(env, [spec.code_dir, *spec.layer_dirs]):
            try:
                process = server.spawn(
                    config, env, spec.code_dir, (to_child_r, from_child_w, log.fileno())
                )
            except ForkServerError:
                pass  # gone (stopped or killed): start this one
            else:
                self.forked = True
                return process
        return subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "scalper.local.worker",
                json.dumps(config),
                str(to_child_r),
                str(from_child_w),
            ],
            pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            env=env,
            cwd=str(spec.code_dir),
        )

    def wait_ready(self, timeout: float) -> InvokeResult | None:
        """Finish the cold start; an `InvokeResult` describes a failed init."""
        if self.ready:
            return None
        if not self._inbox.poll(timeout):
            self.kill()
            return InvokeResult(
                _error_payload(
                    "Sandbox.Timedout",
                    f"INIT_REPORT Init Duration: {timeout * 1000:.2f} ms "
                    "Phase: init Status: timeout",
                ),
                "Unhandled",
            )
        try:
            message = json.loads(self._inbox.recv_bytes())
        except EOFError:
            return self._exit_result("")
        if "initError" in message:
            self.kill()
            return InvokeResult(json.dumps(message["initError"]).encode(), "Unhandled")
        self.ready = True
        return None

    def invoke(self, payload: bytes, request_id: str) -> InvokeResult:
        """Run one invocation within the function's timeout."""
        timeout = float(self.spec.timeout)
        deadline_ms = int((time.time() + timeout) * 1000)
        started = time.monotonic()
        message = {"requestId": request_id, "payload": payload.decode(), "deadlineMs": deadline_ms}
        try:
            self._outbox.send_bytes(json.dumps(message).encode())
        except OSError:
            return self._exit_result(request_id)
        if not self._inbox.poll(timeout):
            self.kill()
            return InvokeResult(
                _error_payload(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {timeout:.2f} seconds",
                ),
                "Unhandled",
                request_id,
                (time.monotonic() - started) * 1000,
            )
        try:
            reply: dict[str, Any] = json.loads(self._inbox.recv_bytes())
        except (EOFError, OSError):
            return self._exit_result(request_id)
        elapsed = (time.monotonic() - started) * 1000
        if "error" in reply:
            return InvokeResult(
                json.dumps(reply["error"]).encode(), "Unhandled", request_id, elapsed
            )
        return InvokeResult(str(reply["payload"]).encode(), None, request_id, elapsed)

    def _exit_result(self, request_id: str) -> InvokeResult:
        try:
            code: int | str = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = "unknown (the process closed its pipe but did not exit)"
        self.kill()
        return InvokeResult(
            _error_payload(
                "Runtime.ExitError",
                f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            ),
            "Unhandled",
            request_id,
        )

    @property
    def alive(self) -> bool:
        """True while the process runs."""
        return self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        """The process's exit code once it has exited (negative: the signal)."""
        return self._process.poll()

    def kill(self) -> None:
        """Stop the process now (a timed-out environment is discarded, as in Lambda)."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.wait()
        for conn in (self._inbox, self._outbox):
            conn.close()

    def stop(self) -> None:
        """Ask the worker to exit (EOF on its inbox), then make sure it did."""
        self._outbox.close()
        try:
            self._process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._inbox.close()


def _lambda_reserved_env(spec: FunctionSpec, log_stream: str) -> dict[str, str]:
    """The reserved variables Lambda sets in every execution environment."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": spec.name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "LAMBDA_TASK_ROOT": str(spec.code_dir),
        "_HANDLER": spec.handler,
        **RUNTIME_ENV,
    }


@dataclass
class FunctionPool:
    """The warm environments of one function."""

    spec: FunctionSpec
    base_env: dict[str, str]
    log_path: Path
    max_concurrency: int = 2
    forks: BackgroundForkServer | None = None
    #: Cold starts so far, by how the worker's process came to be: "forked" or "started".
    cold_starts: Counter[str] = field(default_factory=Counter)
    _idle: list[Worker] = field(default_factory=list)
    _busy: int = 0
    _starting: int = 0
    _making: int = 0  # workers being constructed: they hold the log file
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _log: IO[bytes] | None = None
    _closed: bool = False

    def _log_file(self) -> IO[bytes]:
        if self._log is None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab", buffering=0)
        return self._log

    def idle_workers(self) -> list[Worker]:
        """The warm environments waiting for an invocation."""
        with self._cond:
            return list(self._idle)

    def _new_worker(self) -> Worker | None:
        """A new environment, or None once the pool is closed (`close` closes the log
        the worker writes to only after every worker being made has it)."""
        with self._cond:
            if self._closed:
                return None
            self._making += 1
        try:
            worker = Worker(self.spec, self.base_env, self._log_file(), self.forks)
        finally:
            with self._cond:
                self._making -= 1
                self._cond.notify_all()
        with self._cond:
            self.cold_starts["forked" if worker.forked else "started"] += 1
        return worker

    def prewarm(self) -> None:
        """Start one environment ahead of the first invocation (so tests see warm starts)."""
        with self._cond:
            if self._closed or self._idle:
                return
            self._starting += 1
        try:
            worker = self._new_worker()
            failure = None if worker is None else worker.wait_ready(INIT_TIMEOUT_SECONDS)
        finally:
            with self._cond:
                self._starting -= 1
                self._cond.notify_all()
        if worker is None:
            return
        if failure is None:
            with self._cond:
                if not self._closed:
                    self._idle.append(worker)
                    self._cond.notify()
                    return
            worker.stop()

    def invoke(self, payload: bytes, request_id: str) -> InvokeResult:
        """Invoke on a warm environment, starting one when none is free."""
        with self._cond:
            # Scale out like Lambda, but lazily: most invocations take milliseconds, and on a
            # small machine a second cold start costs seconds of everyone's CPU. So wait for
            # an environment being prewarmed, and for a busy one for a moment, before
            # starting another (up to max_concurrency).
            scale_out_at = time.monotonic() + SCALE_OUT_AFTER_SECONDS
            while not self._idle and not self._closed:
                now = time.monotonic()
                if self._starting or self._busy >= self.max_concurrency:
                    self._cond.wait()
                elif self._busy == 0 or now >= scale_out_at:
                    break
                else:
                    self._cond.wait(scale_out_at - now)
            if self._closed:
                return InvokeResult(
                    _error_payload("ServiceException", "stack stopped"), "Unhandled"
                )
            worker = self._idle.pop() if self._idle else None
            self._busy += 1
        try:
            if worker is None:
                worker = self._new_worker()
                if worker is None:
                    return InvokeResult(
                        _error_payload("ServiceException", "stack stopped"), "Unhandled"
                    )
                failure = worker.wait_ready(INIT_TIMEOUT_SECONDS)
                if failure is not None:
                    failure.request_id = request_id
                    return failure
            result = worker.invoke(payload, request_id)
        finally:
            with self._cond:
                self._busy -= 1
                if worker is not None and worker.alive and worker.ready:
                    if self._closed:
                        worker.stop()
                    else:
                        self._idle.append(worker)
                self._cond.notify()
        return result

    def close(self) -> None:
        """Stop every idle environment (busy ones stop when their invocation returns)."""
        with self._cond:
            self._closed = True
            workers, self._idle = self._idle, []
            self._cond.notify_all()
            while self._making:
                self._cond.wait()
        for worker in workers:
            worker.stop()
        if self._log is not None:
            self._log.close()
