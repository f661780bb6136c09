"""``scalper redrive``: resume failed Standard executions from the state that failed.

RedriveExecution keeps the execution's ARN and input and skips the states that succeeded;
it works for FAILED, TIMED_OUT and ABORTED Standard executions up to 14 days after they
stopped. Each row shows the state the execution failed at (where the redrive resumes) and
its error. `--all-failed` redrives every one since --since (default 14d) at a pace under the
RedriveExecution throttling quota (a client-side token bucket: --rate per second, --burst at
once). What cannot be redriven (Express, beyond the window) is listed with
`scalper replay ARN...` as the way out; the local stack redrives its own executions.
An execution whose file a newer execution (a replay, a newer upload) now owns is left alone.
Exit 0 when everything asked for was redriven (or would be, with --dry-run) or needs nothing,
1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.cli._ops import (
    add_command,
    add_target_arguments,
    console,
    emit,
    progress,
    short_arn,
    since,
    when,
)
from scalper.ops.common import TokenBucket, parse_since, utcnow
from scalper.ops.redrive import DEFAULT_BURST, DEFAULT_RATE, Outcome, candidates, redrive_each
from scalper.ops.target import Clients, Target


def register(subparsers: Any) -> None:
    """Add ``redrive``."""
    parser = add_command(
        subparsers,
        "redrive",
        "redrive failed Standard executions (14-day window)",
        __doc__,
        _redrive,
    )
    parser.add_argument("arns", nargs="*", metavar="EXECUTION_ARN")
    parser.add_argument(
        "--all-failed",
        action="store_true",
        help="every FAILED, TIMED_OUT and ABORTED execution since --since",
    )
    parser.add_argument(
        "--since", type=since, default="14d", help="with --all-failed: stopped after (default 14d)"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would be redriven")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"redrives per second (default {DEFAULT_RATE:g})",
    )
    parser.add_argument(
        "--burst",
        type=int,
        default=DEFAULT_BURST,
        help=f"redrives at once (default {DEFAULT_BURST})",
    )
    add_target_arguments(parser)


def _redrive(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    if bool(args.arns) == bool(args.all_failed):
        raise UsageError("give EXECUTION_ARN... or --all-failed (not both)")
    if args.rate <= 0 or args.burst < 1:
        raise UsageError("--rate must be positive and --burst at least 1")
    now = utcnow()
    arns = candidates(
        clients.sfn,
        target,
        arns=args.arns,
        all_failed=args.all_failed,
        since=parse_since(args.since, now=now),
    )
    items = []
    with progress("redriving", len(arns), enabled=not args.json) as advance:
        for item in redrive_each(
            clients.sfn,
            target,
            arns,
            now=now,
            dynamodb=clients.dynamodb,
            dry_run=args.dry_run,
            bucket=TokenBucket(args.rate, args.burst),
        ):
            items.append(item)
            advance(1)
    replays = [i.arn for i in items if i.replay_hint]
    if args.json:
        emit(
            {
                "dry_run": args.dry_run,
                "local": target.local,
                "results": [i.to_json() for i in items],
                "replay": replays,
            }
        )
    else:
        out = console()
        table = Table(
            title="redrive" + (" (dry run)" if args.dry_run else ""), title_justify="left"
        )
        columns = ("execution", "status", "stopped", "file", "failed at", "error", "result", "why")
        for column in columns:
            table.add_column(column, overflow="fold")
        for i in items:
            why = "; ".join(x for x in (i.reason, i.note) if x)
            table.add_row(
                short_arn(i.arn),
                i.status or "",
                when(i.stopped),
                i.key or "",
                i.failed_state or "",
                i.error or "",
                i.outcome,
                why,
            )
        out.print(table)
        if not items:
            out.print("nothing to redrive")
        if replays:
            out.print("Not redriven; to run these again from the start:")
            out.print("  scalper replay " + " ".join(replays), soft_wrap=True)
    # A superseded execution needs nothing: its file was handled by a newer one.
    ok = {Outcome.WOULD_REDRIVE if args.dry_run else Outcome.REDRIVEN, Outcome.SUPERSEDED}
    return EXIT_OK if all(i.outcome in ok for i in items) else EXIT_PROBLEM
