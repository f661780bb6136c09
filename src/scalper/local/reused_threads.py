"""Threads that serve one job after another instead of one thread per job (local stack speed).

The local stack's HTTP servers took a new thread for every request (about seven a file
for moto's server), and starting one costs its starter a wait until the new thread runs:
hand-offs of the GIL in the one interpreter that bounds the stack's rate. `ThreadPool`
hands a job to an idle thread when there is one and starts a thread only when every one is
busy, so jobs never wait for each other (a job may wait for another job, as a request
may call back into its own server) -- the difference from a fixed-size pool.
"""

from __future__ import annotations

import contextvars
import queue
import sys
import threading
from collections.abc import Callable

Job = Callable[[], None]


class ThreadPool:
    """Daemon threads that each run a job, then wait for the next while fewer than
    ``max_idle`` are idle. Each job runs in an empty `contextvars` context, as it would
    in a new thread."""

    def __init__(self, name: str, max_idle: int = 32) -> None:
        self.name = name
        self.max_idle = max_idle
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._idle = 0
        self._closed = False

    def run(self, job: Job) -> None:
        """Run ``job`` on an idle thread, or on a new one when none is idle."""
        with self._lock:
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return
        threading.Thread(target=self._serve, args=(job,), name=self.name, daemon=True).start()

    def _serve(self, first: Job) -> None:
        job: Job | None = first
        while job is not None:
            try:
                contextvars.Context().run(job)
            except Exception:
                # Where a thread's uncaught exception goes (threading.excepthook).
                threading.excepthook(
                    threading.ExceptHookArgs([*sys.exc_info(), threading.current_thread()])
                )
            with self._lock:
                if self._closed or self._idle >= self.max_idle:
                    return
                self._idle += 1
            job = self._jobs.get()

    def close(self) -> None:
        """End the idle threads; busy ones end after their job. Jobs run after it still run,
        each on a thread that then ends."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)
