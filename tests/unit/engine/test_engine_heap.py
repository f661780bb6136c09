"""The processes that run the engine keep its freed blocks in the heap for reuse.

The engine's blocks are buffers of about a megabyte, freed when each block is done; glibc
gives the heap's free top back past a threshold those buffers set, and the next block's
pages are faulted in again. ``keep_freed_heap`` raises that threshold, for the processes
that run the engine and nothing else.
"""

from __future__ import annotations

import builtins
import platform
import subprocess
import sys
from typing import Any

import pytest
from silent_scalper.engine import heap

_GLIBC = platform.libc_ver()[0] == "glibc"
native = pytest.importorskip(
    "silent_scalper.engine._native",
    reason="the compiled module is not built (a C compiler at install: docs/performance.md)",
)

#: A process that frees three 1 MiB buffers at a time, 40 times, and prints the page
#: faults of the last 30 rounds (the first ones settle the heap).
_ROUNDS = """
import resource, sys
from silent_scalper.engine.heap import keep_freed_heap
if sys.argv[1] == "kept":
    assert keep_freed_heap()
def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for n in range(40):
    if n == 10:
        before = faults()
    blocks = [bytearray(1 << 20) for _ in range(3)]
    del blocks
print(faults() - before)
"""


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _ROUNDS, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout)


@pytest.mark.skipif(not _GLIBC, reason="the setting is glibc's (Lambda's Amazon Linux 2023)")
def test_given_blocks_freed_again_and_again_when_the_heap_is_kept_then_pages_are_reused() -> None:
    # Given a process that allocates and frees three 1 MiB buffers a round, as the engine
    # does a block at a time
    # When it runs with glibc's defaults, and with the freed heap kept
    default, kept = _faults("default"), _faults("kept")
    # Then by default each round faults its buffers' pages in again (768 pages a round),
    # and with the heap kept they are reused: next to no page faults
    assert default > 30 * 256
    assert kept < 30 * 16


@pytest.mark.skipif(not _GLIBC, reason="the setting is glibc's (Lambda's Amazon Linux 2023)")
def test_given_glibc_and_the_compiled_module_then_the_setting_is_taken() -> None:
    assert heap.keep_freed_heap() is True


def test_given_no_compiled_module_then_nothing_is_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def without_native(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "silent_scalper.engine._native":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_native)
    assert heap.keep_freed_heap() is False
