"""Cold starts forked from a process that has already imported the heavy libraries.

A Lambda worker started as a new interpreter spends most of its cold start importing
boto3, botocore, pydantic and the engine's libraries: about 0.5 of the 0.9-1.6 CPU-seconds
each start costs here, paid again by each of a stack's dozen workers and by every stack
a test suite starts. The fork server is one such interpreter, started once per stack, that
imports those libraries and then forks a worker per request. The fork becomes the worker
exactly as ``python -m scalper.local.worker`` would: the function's environment (replacing
the server's, not added to it), its code folder as working folder and first path entry,
stdout and stderr on the function's log, stdin on /dev/null, ``sys.argv`` as a started
worker's; then `scalper.local.worker.serve` imports the handler.

Only libraries that read little from the environment when imported are preloaded
(`PRELOAD`): boto3 and botocore read it mostly when a session or client is made, after
the fork. The server records every variable the preload reads (``HOME``,
``BOTO_DISABLE_CRT``...). Powertools reads ``AWS_EXECUTION_ENV`` and
``AWS_LAMBDA_INITIALIZATION_TYPE`` at import, which Lambda sets alike for every function:
the server runs with them (`scalper.local.lambda_runtime.RUNTIME_ENV`), so they match.
The X-Ray SDK (builds its recorder at import, from ``LAMBDA_TASK_ROOT``), pyarrow (starts
threads) and the functions' own code and layers are imported by the worker, as in a new
interpreter. What a fork cannot reproduce gets a started worker instead
(`ForkServer.can_fork`): a function environment that differs from the server's in a
variable the preload read or one the interpreter reads only at startup (``PYTHON*``,
``LANG``, ``LC_*``), or a code or layer folder holding a module of the name of one the
server has imported (a started worker would import that copy).

Protocol, over a ``SOCK_SEQPACKET`` socket pair (one message per packet): the stack sends
``{"config", "env", "cwd"}`` with three descriptors (the worker's inbox, its outbox, the
log); the server answers ``{"pid"}`` once it has forked, and ``{"exited", "code"}`` when a
worker has exited (``code`` as `subprocess.Popen.returncode`: negative for a signal).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any

#: Imported once by the server, from the same site-packages a started worker would use:
#: what the handlers import before their own modules (pydantic's lazily loaded parts
#: named, as ``import pydantic`` alone does not load them).
PRELOAD = (
    "boto3",
    "boto3.session",
    "botocore.client",
    "botocore.httpsession",
    "botocore.session",
    "jsonschema",
    "msgspec",
    "pydantic",
    "pydantic.main",
    "pydantic.fields",
    "pydantic_settings",
    "annotated_types",
    "wrapt",
    "asyncio",
    "aws_lambda_powertools.logging",
    "aws_lambda_powertools.metrics",
    "aws_lambda_powertools.tracing",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.parser.models",
    "s3transfer.manager",
)
#: Variables the interpreter reads at startup only: a fork cannot apply a different value.
_STARTUP_PREFIXES = ("PYTHON", "LC_")
_STARTUP_NAMES = frozenset({"LANG"})
_MAX_MESSAGE = 1 << 20
#: How long the stack waits for the server to preload and say it is ready.
START_TIMEOUT_SECONDS = 60.0
#: How long `ForkServer.close` waits for the workers' exits before killing the server.
DRAIN_SECONDS = 10.0
_POLL = 0.02
#: The status given to a worker that ended after the server was gone (unknowable).
_UNKNOWN_STATUS = 255


class ForkServerError(Exception):
    """The fork server could not start or is gone."""


# -- the stack's side ----------------------------------------------------------------
class ForkedProcess:
    """A forked worker, with the part of `subprocess.Popen` the runtime uses."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the server has reported it, else None."""
        return self.server.exit_code(self.pid)

    def poll(self) -> int | None:
        """The exit code, or None while the worker runs."""
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit code; raises `subprocess.TimeoutExpired` like Popen."""
        code = self.server.wait_exit(self.pid, timeout)
        if code is None:
            raise subprocess.TimeoutExpired(f"forked worker {self.pid}", timeout or 0.0)
        return code

    def kill(self) -> None:
        """SIGKILL, unless the worker has already exited (its pid may then be reused)."""
        if self.returncode is None:
            self.server.killed(self.pid)
            with contextlib.suppress(ProcessLookupError):  # exited: its report is on its way
                os.kill(self.pid, signal.SIGKILL)


class ForkServer:
    """The stack's handle on one fork server process (see the module docstring)."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = dict(env)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        # `python -m` puts its working folder first on the path: an empty one shadows
        # nothing while the server preloads, and each fork puts its code folder there.
        self._cwd = tempfile.mkdtemp(prefix="scalper-forkserver-")
        try:
            self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", "scalper.local.forkserver", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=self.env,
                cwd=self._cwd,
            )
        except BaseException:
            ours.close()
            os.rmdir(self._cwd)
            raise
        finally:
            theirs.close()
        self._lock = threading.Lock()  # one request at a time: answers come in order
        self._cond = threading.Condition()
        self._pids: list[int] = []
        self._exits: dict[int, int] = {}
        self._killed: set[int] = set()
        self._gone = False
        self.preloaded: list[str] = []
        self._held: frozenset[str] = frozenset()
        #: The variables the preload read: a forked worker's must be the server's.
        self.read: frozenset[str] = frozenset()
        self._sock.settimeout(START_TIMEOUT_SECONDS)
        try:
            hello = json.loads(self._sock.recv(_MAX_MESSAGE) or b"null")
        except (TimeoutError, OSError, ValueError):
            hello = None
        if not isinstance(hello, dict) or "ready" not in hello:
            self._process.kill()
            self._process.wait()
            self._release()
            raise ForkServerError("the fork server did not start")
        self.preloaded = list(hello["ready"])
        self._held = frozenset(hello["held"])
        self.read = frozenset(hello["read"])
        self._sock.settimeout(None)
        self._reader = threading.Thread(target=self._read, name="scalper-forkserver", daemon=True)
        self._reader.start()

    def can_fork(self, env: dict[str, str], folders: list[Path]) -> bool:
        """Whether a fork gives a worker with ``env`` and code in ``folders`` what a
        started worker gets (see the module docstring)."""
        if self._gone:
            return False
        for name in env.keys() | self.env.keys() | self.read:
            startup = name.startswith(_STARTUP_PREFIXES) or name in _STARTUP_NAMES
            if (startup or name in self.read) and env.get(name) != self.env.get(name):
                return False
        for folder in folders:
            try:
                names = {entry.partition(".")[0] for entry in os.listdir(folder)}
            except OSError:
                return False  # a started worker reports what is wrong with it
            if names & self._held:
                return False
        return True

    def spawn(
        self, config: dict[str, Any], env: dict[str, str], cwd: Path, fds: tuple[int, int, int]
    ) -> ForkedProcess:
        """Fork a worker with ``config``; ``fds``: its inbox, its outbox and the log."""
        request = json.dumps({"config": config, "env": env, "cwd": str(cwd)}).encode()
        with self._lock:
            try:
                socket.send_fds(self._sock, [request], list(fds))
            except OSError as exc:
                raise ForkServerError(f"the fork server is gone: {exc}") from None
            with self._cond:
                while not self._pids and not self._gone:
                    self._cond.wait()
                if not self._pids:
                    raise ForkServerError("the fork server is gone")
                pid = self._pids.pop(0)
        return ForkedProcess(self, pid)

    def exit_code(self, pid: int) -> int | None:
        """The worker's exit code once reported (None while it runs)."""
        with self._cond:
            return self._code(pid)

    def _code(self, pid: int) -> int | None:
        code = self._exits.get(pid)
        if code is None and self._gone and not _running(pid):
            # No report will come (the server is gone) and it has ended: by our SIGKILL,
            # or with a status no one can read any more.
            return -signal.SIGKILL if pid in self._killed else _UNKNOWN_STATUS
        return code

    def wait_exit(self, pid: int, timeout: float | None) -> int | None:
        """Wait up to ``timeout`` seconds (None: for as long as it takes) for the
        worker's exit code; None if it is still running then."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while (code := self._code(pid)) is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                # Once the server is gone nothing reports exits: look again shortly.
                self._cond.wait(min(left or _POLL, _POLL) if self._gone else left)
            return code

    def killed(self, pid: int) -> None:
        """Note that the stack sent ``pid`` SIGKILL (its status, if never reported)."""
        with self._cond:
            self._killed.add(pid)

    def _read(self) -> None:
        while True:
            try:
                data = self._sock.recv(_MAX_MESSAGE)
            except OSError:
                data = b""
            with self._cond:
                if not data:
                    self._gone = True
                    self._cond.notify_all()
                    return
                message = json.loads(data)
                if "pid" in message:
                    self._pids.append(int(message["pid"]))
                else:
                    self._exits[int(message["exited"])] = int(message["code"])
                self._cond.notify_all()

    def close(self) -> None:
        """Stop the server: it takes no more requests, reports its workers' exits until
        the last has exited (their inboxes close as the pools stop), then exits; after
        `DRAIN_SECONDS` it is killed and any worker left runs on until its inbox closes."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)
        self._reader.join(DRAIN_SECONDS)
        try:
            self._process.wait(timeout=1 if not self._reader.is_alive() else 0.01)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._reader.join()
        self._release()

    def _release(self) -> None:
        """Close the socket and remove the server's folder (its process has ended)."""
        self._sock.close()
        with contextlib.suppress(OSError):
            os.rmdir(self._cwd)


def _running(pid: int) -> bool:
    """Whether ``pid`` is a process that has not ended (a zombie has ended: once the
    server is gone, no one may reap its workers)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        try:
            os.kill(pid, 0)  # no /proc: the process exists, or not
        except (ProcessLookupError, PermissionError):
            return False
        return True
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def start(env: dict[str, str]) -> ForkServer | None:
    """A fork server for workers whose environment starts from ``env``; None where
    fork servers cannot run (no ``fork`` or descriptor passing) or it failed to start."""
    if not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return None
    try:
        return ForkServer(env)
    except (ForkServerError, OSError):
        return None


class BackgroundForkServer:
    """A fork server started on a thread of its own, so that the stack does not wait
    for the preload; `get` waits for it (None if it could not start)."""

    def __init__(self, env: dict[str, str]) -> None:
        self._env = dict(env)
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._server: ForkServer | None = None
        self._started = False
        self._closed = False

    def start(self) -> None:
        """Start the server in the background."""
        self._started = True
        threading.Thread(target=self._start, name="scalper-forkserver-start", daemon=True).start()

    def _start(self) -> None:
        try:
            server = start(self._env)
            with self._lock:
                if self._closed and server is not None:
                    server.close()
                    server = None
                self._server = server
        finally:  # whatever happened, nobody waits for it any longer
            self._ready.set()

    def get(self) -> ForkServer | None:
        """The running server, once it has preloaded; None if it failed, was closed or
        was never started."""
        if not self._started:
            return None
        self._ready.wait(START_TIMEOUT_SECONDS)
        with self._lock:
            return self._server

    def close(self) -> None:
        """Stop the server (or have it stop as soon as it has started)."""
        with self._lock:
            self._closed = True
            server, self._server = self._server, None
        if server is not None:
            server.close()
        self._ready.set()


# -- the server's side ---------------------------------------------------------------
def main(argv: list[str]) -> int:
    """Preload, then fork a worker per request until the stack closes the socket."""
    sock = socket.socket(fileno=int(argv[0]))
    started_path = list(sys.path)
    preloaded, read = _preload()
    from scalper.local import worker  # noqa: PLC0415 - after the preload, like the rest

    # Every top-level name the server has imported: a function folder holding one of them
    # would shadow it in a started worker, so such a function is not forked.
    held = sorted({name.partition(".")[0] for name in sys.modules})

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)  # the wakeup fd is what is watched
    hello = {"ready": preloaded, "held": held, "read": sorted(read)}
    sock.send(json.dumps(hello).encode())
    children: set[int] = set()
    draining = False
    selector = selectors.DefaultSelector()
    selector.register(sock, selectors.EVENT_READ)
    selector.register(wake_r, selectors.EVENT_READ)
    while True:
        for key, _ in selector.select():
            if key.fileobj == wake_r:
                with contextlib.suppress(BlockingIOError):  # drained
                    while os.read(wake_r, 4096):
                        pass
                if not _reap(sock, children) and draining:
                    return 0
                continue
            try:
                data, fds, _, _ = socket.recv_fds(sock, _MAX_MESSAGE, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                # The stack is stopping: no more requests; report the workers' exits
                # (their inboxes are being closed) until the last, then leave.
                selector.unregister(sock)
                draining = True
                if not _reap(sock, children):
                    return 0
                continue
            request = json.loads(data)
            pid = os.fork()
            if pid == 0:
                # Only the worker's descriptors go on: the server's own are closed first.
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                selector.close()
                sock.close()
                os.close(wake_r)
                os.close(wake_w)
                _become_worker(worker.serve, worker.__file__, request, fds, started_path)
            children.add(pid)
            for fd in fds:
                os.close(fd)
            sock.send(json.dumps({"pid": pid}).encode())
            _reap(sock, children)


def _preload() -> tuple[list[str], set[str]]:
    """Import `PRELOAD`: the modules imported, and the variables they read doing so."""
    preloaded = []
    environ, recorder = os.environ, _ReadRecorder.install()
    try:
        for name in PRELOAD:
            try:
                importlib.import_module(name)
            except ImportError:
                continue  # not installed: the worker imports what it needs itself
            preloaded.append(name)
    finally:
        os.environ = environ  # noqa: B003 - the same mapping again, not a new environment
    return preloaded, recorder.names


class _ReadRecorder(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` that notes each name read (``os.getenv`` and ``[]`` both come here);
    it shares the real mapping's data, so writes go to both."""

    names: set[str]

    @classmethod
    def install(cls) -> _ReadRecorder:
        real = os.environ
        recorder = cls(
            real._data,  # type: ignore[attr-defined]
            real.encodekey,
            real.decodekey,
            real.encodevalue,
            real.decodevalue,
        )
        recorder.names = set()
        os.environ = recorder  # noqa: B003 - a view of the same environment
        return recorder

    def __getitem__(self, key: str) -> str:
        self.names.add(key)
        value: str = super().__getitem__(key)
        return value

    def __contains__(self, key: object) -> bool:
        if isinstance(key, str):
            self.names.add(key)
        return super().__contains__(key)


def _reap(sock: socket.socket, children: set[int]) -> set[int]:
    """Collect every worker that has exited and report it; the workers still running."""
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            break
        if pid == 0:
            break
        children.discard(pid)
        message = {"exited": pid, "code": os.waitstatus_to_exitcode(status)}
        with contextlib.suppress(OSError):  # the stack is gone: nothing to tell
            sock.send(json.dumps(message).encode())
    return children


def _become_worker(
    serve: Any, worker_file: str, request: dict[str, Any], fds: list[int], path: list[str]
) -> None:
    """In the fork: become the worker a new interpreter would be; never returns."""
    code = 1
    try:
        inbox, outbox, log = fds
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        env = request["env"]
        # A started interpreter in the C locale sets LC_CTYPE (PEP 538) in its own
        # environment; the server did that once for the same locale variables.
        coerced = os.environ.get("LC_CTYPE")
        os.environ.clear()
        os.environ.update(env)
        if coerced is not None and "LC_CTYPE" not in env and "LC_ALL" not in env:
            os.environ["LC_CTYPE"] = coerced
        cwd = request["cwd"]
        os.chdir(cwd)
        # `python -m` puts the working folder first; the rest is the same interpreter,
        # site-packages and PYTHONPATH as a started worker's.
        sys.path[:] = [cwd, *path[1:]]
        config = request["config"]
        sys.argv[:] = [worker_file, json.dumps(config), str(inbox), str(outbox)]
        code = serve(config, inbox, outbox)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if isinstance(exc.code, str):
            sys.stderr.write(exc.code + "\n")
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
