"""What the operations commands (status, executions, redrive, replay, reprocess, sweep) share.

Target options, one-line errors with the documented exit codes, rich tables and progress
bars for people, ``--json`` for scripts. Not a command module itself.

Exit codes: 0 done and nothing wrong; 1 the command ran and found a problem (an unknown key,
a file not VALID, an execution that could not be redriven or replayed, stuck records);
2 a usage problem: bad arguments, no stack found, no credentials, endpoint unreachable.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from scalper.cli import EXIT_PROBLEM, UsageError
from scalper.ops.common import NotFoundError, OpsError, TargetError, parse_duration, parse_since
from scalper.ops.target import Clients, Target, describe_aws_error, make_clients, resolve

Handler = Callable[[argparse.Namespace, Clients, Target], int]

_CREDENTIAL_CODES = {
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
}


def add_command(
    subparsers: Any, name: str, summary: str, doc: str | None, handler: Handler | None = None
) -> argparse.ArgumentParser:
    """An operations command's parser: ``summary`` in the command list, the command module's
    docstring ``doc`` as its ``--help`` description (line breaks kept as written), and
    ``handler`` run through `run` (None for a command whose sub-commands have the handlers).
    The command adds its own arguments, then `add_target_arguments`."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        name,
        help=summary,
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if handler is not None:
        parser.set_defaults(func=run(handler))
    return parser


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """``--stack``, ``--endpoint``, ``--region``, ``--profile``, ``--template``, ``--json``."""
    group = parser.add_argument_group("which pipeline")
    group.add_argument(
        "--stack",
        metavar="NAME",
        help="CloudFormation stack of the deployed app (with --endpoint: the local stack's name,"
        " default scalper-local)",
    )
    group.add_argument(
        "--endpoint",
        metavar="URL",
        default=None,
        help="AWS endpoint of the local stack (default: $AWS_ENDPOINT_URL)",
    )
    group.add_argument("--region", help="AWS Region (default: $AWS_REGION / profile)")
    group.add_argument("--profile", help="AWS profile (default: $AWS_PROFILE)")
    group.add_argument(
        "--template",
        type=Path,
        help="template.yaml the local stack runs (default: ./template.yaml)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def duration(text: str) -> timedelta:
    """argparse type: ``30m``, ``24h``, ``14d``."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def since(text: str) -> str:
    """argparse type for --since: checked now, turned into a time when the command runs."""
    try:
        parse_since(text, now=datetime.now().astimezone())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def connect(args: argparse.Namespace) -> tuple[Clients, Target]:
    """The clients and the target the arguments name; usage errors (exit 2) otherwise."""
    endpoint = args.endpoint or os.environ.get("AWS_ENDPOINT_URL") or None
    if endpoint is None and not args.stack:
        raise UsageError(
            "say which pipeline: --stack NAME (deployed) or --endpoint URL (the local stack; "
            "or set AWS_ENDPOINT_URL)"
        )
    try:
        clients = make_clients(endpoint_url=endpoint, region=args.region, profile=args.profile)
        target = resolve(clients, stack=args.stack, template=args.template)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    except (BotoCoreError, ClientError) as exc:
        raise UsageError(describe_aws_error(exc)) from None
    return clients, target


def run(handler: Handler) -> Callable[[argparse.Namespace], int]:
    """Wrap a command: connect, run, and turn every expected failure into one line."""

    def func(args: argparse.Namespace) -> int:
        clients, target = connect(args)
        try:
            return handler(args, clients, target)
        except NotFoundError as exc:
            return fail(args, str(exc))
        except OpsError as exc:
            return fail(args, str(exc))
        except NoCredentialsError as exc:
            raise UsageError(describe_aws_error(exc)) from None
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _CREDENTIAL_CODES:
                raise UsageError(describe_aws_error(exc)) from None
            return fail(args, describe_aws_error(exc))
        except BotoCoreError as exc:
            raise UsageError(describe_aws_error(exc)) from None

    return func


def fail(args: argparse.Namespace, message: str) -> int:
    """Report a problem the command found (exit 1), as JSON with --json."""
    if getattr(args, "json", False):
        emit({"error": message})
    else:
        print(f"scalper {args.command}: {message}", file=sys.stderr)  # noqa: T201
    return EXIT_PROBLEM


def emit(data: Any) -> None:
    """Print JSON to stdout."""
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))  # noqa: T201


def console() -> Console:
    """Where tables go (stdout; plain text when piped). Keys, file names and error
    messages are shown as they are: no rich markup or emoji codes are read in them."""
    return Console(highlight=False, soft_wrap=False, markup=False, emoji=False)


@contextmanager
def progress(
    description: str, total: int | None, *, enabled: bool
) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr while long work runs; a no-op for --json or without a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda _: None
        return
    bar = Progress(
        # The description is drawn as written: it may name a key or a path.
        TextColumn("{task.description}", style="bold", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


def short_arn(arn: str) -> str:
    """The execution name part of an ARN (tables are narrow)."""
    return arn.rsplit(":", 1)[-1]


def when(value: datetime | None) -> str:
    """A compact UTC time for tables."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
