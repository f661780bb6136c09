"""The `scalper` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed namespace and returning the process exit code.

Exit codes shared by every command: 0 success, 1 the work found a problem
(an invalid file, a failed execution), 2 a usage error (printed as one line), 130 when
interrupted (Ctrl-C) and 141 when the reader of its output went away (``| head``), the
codes a shell gives a program killed by SIGINT or SIGPIPE.
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn, cast

# Sub-command modules, in the order `scalper --help` lists them.
COMMAND_MODULES: tuple[str, ...] = (
    "validate",
    "upload",
    "login",
    "demo",
    "local",
    "sfn_mock",
    "status",
    "executions",
    "redrive",
    "replay",
    "reprocess",
    "sweep",
    "dlq",
    "report",
)

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: 128 + SIGPIPE: what a shell reports for a program whose output pipe closed.
EXIT_BROKEN_PIPE = 141


class UsageError(Exception):
    """A mistake in how the command was called; reported as one line, exit code 2."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line and exit code 2.

    argparse's default prints the whole usage block; scripts and people both read a
    single ``scalper CMD: error: ...`` line more easily, and every command then reports
    argument mistakes the same way as the usage errors it raises itself.
    """

    def error(self, message: str) -> NoReturn:
        """Print one line naming the command and how to get help, then exit 2."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def command_module(argv: Sequence[str]) -> str | None:
    """The sub-command module the first word of ``argv`` names, if it names one.

    A command's name is its module's with ``-`` for ``_`` (``sfn-mock``). Anything else
    (a top-level option such as ``--help``, a typo, nothing) gets None: the full parser
    then lists or suggests every command.
    """
    if not argv or argv[0].startswith("-"):
        return None
    module = argv[0].replace("-", "_")
    if module in COMMAND_MODULES and argv[0] == module.replace("_", "-"):
        return module
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Build the top-level parser with every registered sub-command, or just ``only``.

    Each command module imports what its command needs (boto3, moto, DuckDB, rich...);
    running one command imports that module alone, so ``scalper validate`` starts about
    as fast as the engine it runs and carries none of the others' libraries.
    """
    parser = OneLineParser(
        prog="scalper",
        description="Silent Scalper: validate job files and run the pipeline locally or on AWS.",
    )
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    for name in COMMAND_MODULES if only is None else (only,):
        module = importlib.import_module(f"{__name__}.{name}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `scalper` console script."""
    stdout_was_devnull = _stdout_is_devnull()
    try:
        return _run(argv)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        if not stdout_reader_gone():
            raise  # another pipe or socket broke: not ours to hide
        discard_stdout()
        return EXIT_BROKEN_PIPE
    except SystemExit as exc:
        # rich handles a closed stdout itself (Console.on_broken_pipe: stdout to /dev/null,
        # then SystemExit(1)); read as "the work found a problem" that would be wrong, so a
        # table cut short by `| head` ends like JSON cut short. rich is imported only by the
        # commands that draw tables, so it is recognised here rather than patched up front.
        if exc.code == EXIT_PROBLEM and not stdout_was_devnull and _stdout_is_devnull():
            return EXIT_BROKEN_PIPE
        raise


def _run(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_module(words))
    args = parser.parse_args(words)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        code = func(args)
    except UsageError as exc:
        print(f"scalper {args.command}: error: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    # Flush now, not at interpreter exit, so that a closed pipe is handled by `main`.
    sys.stdout.flush()
    return code


def _stdout_is_devnull() -> bool:
    """Whether stdout is /dev/null (where rich points it when its reader went away)."""
    try:
        fd = sys.stdout.fileno()
        return os.path.samestat(os.fstat(fd), os.stat(os.devnull))
    except (AttributeError, OSError, ValueError):
        return False


def stdout_reader_gone() -> bool:
    """Whether standard output is a pipe (or socket) whose reader has closed it.

    A BrokenPipeError may come from any pipe or socket the command writes to (an HTTP
    upload, a worker process); only the one on stdout means "the reader has seen enough".
    The write end of a pipe with no reader left polls as an error (POLLERR) on Linux,
    a hang-up (POLLHUP) elsewhere.
    """
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # pragma: no cover -- Windows: no poll on pipes
        return True
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))


def discard_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush has nowhere to fail.

    Python's documented way to exit quietly after EPIPE (the "Note on SIGPIPE" in the
    `signal` module's documentation), instead of restoring SIGPIPE's default action, which
    would also kill the process when any socket's peer goes away.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
