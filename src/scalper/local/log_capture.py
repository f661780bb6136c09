"""Keep the AWS stand-in's own diagnostics out of the terminal, in a log file.

moto's Step Functions interpreter logs every failure it handles -- a Catch taken, a Fail
state reached -- at ERROR with the whole state tree, and werkzeug (moto's HTTP server)
prints a traceback for each request that breaks inside moto. Those are moto's internals: on
the terminal of ``scalper local up`` they bury the endpoints and the environment it prints,
and what they describe (an execution that FAILED, a refused request) is already visible
through the AWS APIs. While :func:`internal_logs_captured` is active they are written to one
file instead: every log record (moto, werkzeug, botocore, the interpreter), any exception a
background thread dies of, and anything written to ``sys.stderr`` by code in this process.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

#: The log file's name in the stack's log directory (beside one file per function).
AWS_ENDPOINT_LOG = "aws-endpoint.log"

_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"
_log = logging.getLogger("scalper.local")


@contextmanager
def internal_logs_captured(path: Path) -> Iterator[Path]:
    """Send log records, thread crashes and stderr writes to ``path`` until the block ends.

    Everything is restored on the way out -- before a caller reports an error of its own on
    the real stderr. Standard output is left alone: it is the command's own.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    stream: TextIO = path.open("a", encoding="utf-8", buffering=1)  # line-buffered
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(_FORMAT))
    root = logging.getLogger()
    saved_level, saved_stderr, saved_hook = root.level, sys.stderr, threading.excepthook
    # A handler on the root logger is what keeps werkzeug from adding its own stderr
    # handler, and Python's last-resort handler (WARNING and up to stderr) from running.
    root.addHandler(handler)
    root.setLevel(logging.INFO)

    def log_thread_crash(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "?"
        _log.error("thread %s died of %s", name, args.exc_type.__name__, exc_info=args.exc_value)

    threading.excepthook = log_thread_crash
    sys.stderr = stream
    try:
        yield path
    finally:
        sys.stderr = saved_stderr
        threading.excepthook = saved_hook
        root.removeHandler(handler)
        root.setLevel(saved_level)
        handler.close()
        stream.close()
