"""``scalper dlq list|redrive``: events EventBridge could not deliver to the state machine.

``list`` shows the dead-lettered Object Created events and why EventBridge gave up on them
(they stay in the queue). ``redrive`` starts one execution per event (named with a UUID, the
event as input) and deletes each message only after its execution started; what could not
be started stays in the queue and is reported. Exit 0 when everything listed or redriven
went well, 1 when a message could not be redriven.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from scalper.cli import EXIT_OK, EXIT_PROBLEM
from scalper.cli._ops import (
    add_command,
    add_target_arguments,
    console,
    emit,
    progress,
    run,
    short_arn,
    when,
)
from scalper.ops.dlq import list_dead_letters, redrive_dead_letters
from scalper.ops.target import Clients, Target


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def register(subparsers: Any) -> None:
    """Add ``dlq list`` and ``dlq redrive``."""
    parser = add_command(
        subparsers, "dlq", "list or redrive events that could not start an execution", __doc__
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show the dead-lettered events (left in the queue)")
    listing.add_argument("--limit", type=_positive, default=100, help="at most N (default 100)")
    add_target_arguments(listing)
    listing.set_defaults(func=run(_list))
    redrive = actions.add_parser(
        "redrive", help="start an execution per event, then delete its message"
    )
    redrive.add_argument("--limit", type=_positive, default=100, help="at most N (default 100)")
    redrive.add_argument("--dry-run", action="store_true", help="show what would be started")
    add_target_arguments(redrive)
    redrive.set_defaults(func=run(_redrive))


def _list(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    letters = list_dead_letters(clients.sqs, target, limit=args.limit)
    if args.json:
        emit({"count": len(letters), "dead_letters": [d.to_json() for d in letters]})
        return EXIT_OK
    table = Table(title=f"dead-letter queue: {len(letters)} event(s)", title_justify="left")
    for column in ("sent", "file", "error", "why", "retries"):
        table.add_column(column, overflow="fold")
    for d in letters:
        why = d.exhausted or d.error_message or ""
        table.add_row(
            when(d.sent_at),
            d.key or "(not an S3 event)",
            d.error_code or "",
            why,
            "" if d.retry_attempts is None else str(d.retry_attempts),
        )
    console().print(table)
    return EXIT_OK


def _redrive(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    with progress("redriving", None, enabled=not args.json) as advance:
        results = redrive_dead_letters(
            clients.sqs,
            clients.sfn,
            target,
            limit=args.limit,
            dry_run=args.dry_run,
            progress=advance,
        )
    if args.json:
        emit({"dry_run": args.dry_run, "results": [r.to_json() for r in results]})
    else:
        title = "dlq redrive" + (" (dry run)" if args.dry_run else "")
        table = Table(title=f"{title}: {len(results)} message(s)", title_justify="left")
        for column in ("file", "result", "execution", "detail"):
            table.add_column(column, overflow="fold")
        for r in results:
            execution = ""
            if r.execution_arn:
                execution = target.console_url(r.execution_arn) or short_arn(r.execution_arn)
            table.add_row(r.key or "", r.status, execution, r.detail)
        console().print(table)
    ok = {"would-start"} if args.dry_run else {"started"}
    return EXIT_OK if all(r.status in ok for r in results) else EXIT_PROBLEM
