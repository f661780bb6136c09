"""The `scalper` command line.

Each sub-command lives in its own module of this package and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a callable
taking the parsed namespace and returning the process exit code.

Exit codes shared by every command: 0 success, 1 the work found a problem
(an invalid file, a failed execution), 2 a usage error (printed as one line).
"""

from __future__ import annotations

import argparse
import importlib
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
    words = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(command_module(words))
    args = parser.parse_args(words)
    func = cast(Callable[[argparse.Namespace], int], args.func)
    try:
        return func(args)
    except UsageError as exc:
        print(f"scalper {args.command}: error: {exc}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
