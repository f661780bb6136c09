"""`ThreadPool`: threads reused, never a job kept waiting by another."""

from __future__ import annotations

import contextvars
import threading
from typing import Any

import pytest

from scalper.local.reused_threads import ThreadPool

_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("_VAR", default="empty")


def _run_and_wait(pool: ThreadPool, job: Any) -> None:
    done = threading.Event()

    def wrapped() -> None:
        try:
            job()
        finally:
            done.set()

    pool.run(wrapped)
    assert done.wait(5)


def test_given_an_idle_thread_then_the_next_job_runs_on_it() -> None:
    # Given a pool that ran one job
    pool = ThreadPool("test-pool")
    seen: list[threading.Thread] = []
    _run_and_wait(pool, lambda: seen.append(threading.current_thread()))
    # When more jobs run one after another (each after the last thread went idle)
    for _ in range(3):
        threading.Event().wait(0.05)
        _run_and_wait(pool, lambda: seen.append(threading.current_thread()))
    pool.close()
    # Then one thread ran them all
    assert len(set(seen)) == 1


def test_given_a_busy_thread_then_a_job_that_it_waits_for_gets_a_new_one() -> None:
    # Given a job that waits for a second job to run
    pool = ThreadPool("test-pool")
    second_ran = threading.Event()

    def first() -> None:
        pool.run(second_ran.set)
        assert second_ran.wait(5)

    # When it runs, then the second runs meanwhile (nothing deadlocks)
    _run_and_wait(pool, first)
    assert second_ran.is_set()
    pool.close()


def test_each_job_starts_with_an_empty_context_as_in_a_new_thread() -> None:
    # Given a job that set a context variable on a thread
    pool = ThreadPool("test-pool")
    _run_and_wait(pool, lambda: _VAR.set("left behind"))
    threading.Event().wait(0.05)
    # When the next job reads it on the same thread
    read: list[str] = []
    _run_and_wait(pool, lambda: read.append(_VAR.get()))
    pool.close()
    # Then it sees the default, as a new thread would
    assert read == ["empty"]


def test_a_jobs_uncaught_exception_goes_to_threading_excepthook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a job that raises
    pool = ThreadPool("test-pool")
    hooked: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: hooked.append(args.exc_value))

    def boom() -> None:
        raise ValueError("boom")

    # When it runs, then the hook gets it and the thread serves the next job
    pool.run(boom)
    threading.Event().wait(0.1)
    _run_and_wait(pool, lambda: None)
    pool.close()
    assert [type(e) for e in hooked] == [ValueError]
