"""The local stack's HTTP servers reuse their request threads (`ReusedThreadsMixIn`).

Each test serves a tiny handler from a real `BackgroundHTTPServer` on 127.0.0.1 and calls it
with urllib: requests one after another run on the same thread, requests that wait for each
other still each get a thread of their own, and closing the server ends the idle threads.
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

import pytest

from scalper.local._http import LOOPBACK, BackgroundHTTPServer

_serial = itertools.count()
_names = threading.local()
#: Every thread that served a request here (thread objects: an ended thread's id is reused).
_serving: list[threading.Thread] = []


def _thread_name() -> str:
    """A name for the current thread, never given to another (thread ids are reused)."""
    if not hasattr(_names, "name"):
        _names.name = f"t{next(_serial)}"
    return str(_names.name)


class _Handler(BaseHTTPRequestHandler):
    """``GET /name`` answers the serving thread's name; ``GET /call?PORT`` first calls
    ``/name`` on that port (a request that waits for another request to be served)."""

    def do_GET(self) -> None:
        _serving.append(threading.current_thread())
        if self.path.startswith("/call?"):
            port = self.path.split("?", 1)[1]
            inner = _get(f"http://{LOOPBACK}:{port}/name")
            body = f"{_thread_name()} {inner}".encode()
        else:
            body = _thread_name().encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return str(response.read().decode())


@pytest.fixture
def server() -> Iterator[BackgroundHTTPServer]:
    served = BackgroundHTTPServer(LOOPBACK, 0, _Handler, "test", "--port")
    served.start()
    yield served
    served.stop()


def _wait_until(condition: object, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.01)
    return False


def test_requests_one_after_another_run_on_the_same_thread(
    server: BackgroundHTTPServer,
) -> None:
    # Given a server that has answered one request
    first = _get(f"{server.url}/name")
    # When more requests arrive one after another (each once the last thread is idle again:
    # it answers before it goes back to waiting)
    later = set()
    for _ in range(5):
        time.sleep(0.05)
        later.add(_get(f"{server.url}/name"))
    # Then the thread that served the first serves them all: none was started for them
    assert later == {first}


def test_a_request_waiting_for_another_gets_a_thread_of_its_own(
    server: BackgroundHTTPServer,
) -> None:
    # Given a request whose handler calls the same server and waits for the answer
    url = f"{server.url}/call?{server.port}"
    # When it is served
    outer, inner = _get(url).split()
    # Then the inner request ran on another thread (the one thread busy did not block it)
    assert outer != inner


def test_closing_the_server_ends_its_idle_threads() -> None:
    # Given a server with two request threads left idle by earlier requests
    served = BackgroundHTTPServer(LOOPBACK, 0, _Handler, "test", "--port")
    served.start()
    first = len(_serving)
    _get(f"{served.url}/call?{served.port}")
    threads = set(_serving[first:])
    time.sleep(0.1)
    assert len(threads) == 2
    assert all(t.is_alive() for t in threads), "idle, waiting for the next request"
    # When the server stops
    served.stop()
    # Then they end
    assert _wait_until(lambda: not any(t.is_alive() for t in threads))
