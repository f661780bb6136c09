"""Small shared pieces for the local stack's HTTP servers (loopback only)."""

from __future__ import annotations

import errno
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
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
