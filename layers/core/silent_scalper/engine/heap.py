"""Keep the memory the engine frees for the next block, instead of giving it back.

The engine reads a file a block at a time (about 1 MiB, ``_source.CHUNK``): each block's
text is a few buffers of a megabyte, freed when the block is done. glibc's malloc gives
the free top of its heap back to the system once it passes a threshold that the first
freed buffers set to about twice their size, and serves the next block's buffers from
fresh pages: each page is then faulted in again, and clearing it is kernel time (a sixth
of a valid NDJSON file's CPU in one process measured: docs/performance-log.md).

:func:`keep_freed_heap` tells glibc to serve blocks under 8 MiB from the heap and to
give back its free top only past 64 MiB, so the blocks' pages are reused while warm. It
changes the whole process's allocator, so the engine never calls it itself: the
processes that run the engine and nothing else call it once, at start (the
ValidateSchema function's cold start, ``scalper validate``, the benchmark's engine
worker). What stays allocated is bounded by the process's own peak, and a process that
frees more than 64 MiB at once still gives it back.
"""

from __future__ import annotations

#: Blocks under this many bytes come from the heap (the engine's largest buffers are a
#: block and the record limit: a few MiB).
MMAP_THRESHOLD = 8 << 20
#: The heap's free top is given back to the system only past this many bytes.
TRIM_THRESHOLD = 64 << 20


def keep_freed_heap() -> bool:
    """Keep freed memory in the process's heap for reuse (see the module's doc). True
    when the C library took the setting: glibc, with the compiled module built; False
    (nothing changed) on another C library or without the module."""
    try:
        from silent_scalper.engine._native import keep_heap  # noqa: PLC0415 - optional
    except ImportError:
        return False
    return keep_heap(MMAP_THRESHOLD, TRIM_THRESHOLD)
