"""Small shared pieces for the local stack's HTTP servers (loopback only)."""

from __future__ import annotations

import errno
import functools
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

from scalper.local.reused_threads import ThreadPool

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
    request): the requests run on a `ThreadPool`, which starts a thread only when every one
    is busy, so requests never wait for each other (one may call back into this server
    while another is served). Threads are daemons; closing the server ends the idle ones.
    """

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve the request on an idle thread, or on a new one when none is idle."""
        self._request_threads().run(functools.partial(self._serve, request, client_address))

    def _request_threads(self) -> ThreadPool:
        pool: ThreadPool | None = self.__dict__.get("_request_pool")
        if pool is None:
            pool = self.__dict__.setdefault("_request_pool", ThreadPool("scalper-request"))
        return pool

    def _serve(self, request: Any, client_address: Any) -> None:
        # What socketserver.ThreadingMixIn.process_request_thread does.
        try:
            self.finish_request(request, client_address)  # type: ignore[attr-defined]
        except Exception:
            self.handle_error(request, client_address)  # type: ignore[attr-defined]
        finally:
            self.shutdown_request(request)  # type: ignore[attr-defined]

    def server_close(self) -> None:
        """Close the socket and end the idle threads (busy ones end after their request)."""
        super().server_close()  # type: ignore[misc]
        self._request_threads().close()


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
