"""One local stack for the reliability tests, and their counts in pytest's terminal summary.

The stack runs the real template, ASL and handlers (tests/e2e use the same `LocalStack`),
configured for these tests: Retry waits scaled down (``retry_scale``, the local stack's
documented knob; the deployed ASL keeps its intervals) and a small ``MaxUploadBytes`` so
``TOO_LARGE`` files stay a few KiB.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scalper.local import LocalStack, StackConfig

from .reliability_support import MAX_UPLOAD_BYTES

#: Lines the tests want shown in the terminal summary (e.g. the chaos test's counts).
SUMMARY = pytest.StashKey[list[str]]()
#: 2 s Retry intervals become 20 ms, capped at 0.3 s: fault-heavy runs stay fast.
RETRY_SCALE = 0.01


@pytest.fixture(scope="package")
def stack() -> Iterator[LocalStack]:
    """The local stack shared by this package's tests (each test uses its own key prefix)."""
    config = StackConfig(
        retry_scale=RETRY_SCALE,
        parameters={"MaxUploadBytes": str(MAX_UPLOAD_BYTES)},
        max_concurrency=3,
    )
    with LocalStack(config) as local:
        yield local


@pytest.fixture
def summary(request: pytest.FixtureRequest) -> list[str]:
    """A list whose lines end up in the terminal summary under "reliability"."""
    return request.config.stash.setdefault(SUMMARY, [])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Show what the reliability tests counted (pytest -q keeps it; no print in tests)."""
    lines = terminalreporter.config.stash.get(SUMMARY, [])
    if lines:
        terminalreporter.section("reliability")
        for line in lines:
            terminalreporter.write_line(line)
