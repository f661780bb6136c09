"""Small shared pieces for the local stack's HTTP servers (loopback only)."""

from __future__ import annotations

import errno
import queue
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


class PortInUseError(OSError):
    """A port the local stack needs is taken; the message is one line naming the flag."""


class LocalOnlyError(ValueError):
    """The local stack only listens on 127.0.0.1 (it has no authentication worth the name)."""


def check_host(host: str) -> str:
    """Accept only the loopback address."""
    if host not in (LOOPBACK, "localhost"):
        raise LocalOnlyError(f"the local stack listens on {LOOPBACK} only, not {host!r}")
    return LOOPBACK


def port_error(what: str, host: str, port: int, flag: str) -> PortInUseError:
    """The one-line error for a taken port."""
    return PortInUseError(
        errno.EADDRINUSE, f"{what}: {host}:{port} is already in use (choose another with {flag})"
    )


class ReusedThreadsMixIn:
    """Handle each request in a thread of its own, reusing the threads of ended requests.

    For `socketserver` servers, in place of ``ThreadingMixIn`` (a new thread for every
    request). Starting a thread is the accept loop's work, and ``Thread.start`` waits until
    the new thread runs: two hand-offs of the GIL a request, in a process whose one
    interpreter is the local stack's bottleneck. A request finds an idle thread when there
    is one and starts a new one only when every thread is busy, so requests never wait for
    each other (one may call back into this server while another is served). Threads are
    daemons; past ``max_idle`` idle ones, a thread that ends a request ends too.
    """

    max_idle = 32

    def process_request(self, request: Any, client_address: Any) -> None:
        """Hand the request to an idle thread, or to a new one when none is idle."""
        pool = self._pool()
        with pool.lock:
            if pool.idle:
                pool.idle -= 1
                pool.requests.put((request, client_address))
                return
            pool.threads += 1
        thread = threading.Thread(
            target=self._serve_requests, args=(pool, (request, client_address)), daemon=True
        )
        thread.start()

    def _pool(self) -> _ThreadPool:
        pool: _ThreadPool | None = self.__dict__.get("_request_threads")
        if pool is None:
            pool = self.__dict__.setdefault("_request_threads", _ThreadPool())
        return pool

    def _serve_requests(self, pool: _ThreadPool, first: tuple[Any, Any] | None) -> None:
        item = first
        while item is not None:
            request, client_address = item
            try:
                self.finish_request(request, client_address)  # type: ignore[attr-defined]
            except Exception:
                self.handle_error(request, client_address)  # type: ignore[attr-defined]
            finally:
                self.shutdown_request(request)  # type: ignore[attr-defined]
            with pool.lock:
                if pool.closed or pool.idle >= self.max_idle:
                    pool.threads -= 1
                    return
                pool.idle += 1
            item = pool.requests.get()
        with pool.lock:
            pool.threads -= 1

    def server_close(self) -> None:
        """Close the socket and end the idle threads (busy ones end after their request)."""
        super().server_close()  # type: ignore[misc]
        pool = self._pool()
        with pool.lock:
            pool.closed = True
            idle, pool.idle = pool.idle, 0
        for _ in range(idle):
            pool.requests.put(None)


class _ThreadPool:
    """A `ReusedThreadsMixIn` server's threads: how many, how many idle, their queue."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self.idle = 0
        self.threads = 0
        self.closed = False


class _Server(ReusedThreadsMixIn, HTTPServer):
    # SO_REUSEADDR lets a restart bind through TIME_WAIT; on Linux it never lets two
    # listeners share a port, so a second stack still fails with EADDRINUSE.
    allow_reuse_address = True


class BackgroundHTTPServer:
    """A threading HTTP server bound at construction (so a taken port fails early)."""

    def __init__(
        self, host: str, port: int, handler: type[BaseHTTPRequestHandler], what: str, flag: str
    ) -> None:
        try:
            self.server = _Server((host, port), handler)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise port_error(what, host, port, flag) from exc
            raise
        self.host = host
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=f"scalper-{what}", daemon=True
        )

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving (if started) and release the port."""
        if self._thread.is_alive():
            self.server.shutdown()
            self._thread.join(timeout=5)
        self.server.server_close()


def port_is_free(host: str, port: int) -> bool:
    """True when ``port`` can be bound on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True
