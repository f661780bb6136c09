"""``scalper sweep``: records stuck in PROCESSING past the state machine's timeout, replayed.

A record stays PROCESSING only while its execution runs; one older than the state machine's
TimeoutSeconds belongs to an execution that died without recording an outcome (aborted, or
its failure path failed too). Each is replayed with its original input (or, when the
execution is gone, with the Object Created event rebuilt from the record).
Exit 0 when nothing is stuck or everything stuck was replayed, 1 otherwise (with --dry-run:
1 when anything is stuck), 2 for usage problems.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from rich.table import Table

from scalper.cli import EXIT_OK, EXIT_PROBLEM
from scalper.cli._ops import add_command, add_target_arguments, console, duration, emit, short_arn
from scalper.ops.common import utcnow
from scalper.ops.sweep import sweep, threshold
from scalper.ops.target import Clients, Target


def register(subparsers: Any) -> None:
    """Add ``sweep``."""
    parser = add_command(subparsers, "sweep", "replay records stuck in PROCESSING", __doc__, _sweep)
    parser.add_argument(
        "--older-than",
        type=duration,
        default=timedelta(minutes=30),
        help="claimed longer ago than this (default 30m; at least the state machine's timeout)",
    )
    parser.add_argument("--dry-run", action="store_true", help="only list stuck records")
    add_target_arguments(parser)


def _sweep(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    older_than, note = threshold(target, args.older_than)
    results = sweep(
        clients.dynamodb,
        clients.sfn,
        clients.s3,
        target,
        older_than=older_than,
        now=utcnow(),
        dry_run=args.dry_run,
    )
    if args.json:
        emit(
            {
                "older_than_seconds": older_than.total_seconds(),
                "note": note,
                "dry_run": args.dry_run,
                "stuck": [r.to_json() for r in results],
            }
        )
    else:
        out = console()
        if note:
            out.print(note)
        table = Table(title=f"stuck in PROCESSING for over {older_than}", title_justify="left")
        for column in ("file", "claimed at", "execution", "its status", "action", "new execution"):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(
                r.key,
                r.claimed_at,
                short_arn(r.execution_arn or ""),
                r.execution_status or "",
                r.action + (f" ({r.detail})" if r.detail else ""),
                r.console_url or r.new_arn or "",
            )
        out.print(table if results else "nothing stuck")
    if args.dry_run:
        return EXIT_PROBLEM if results else EXIT_OK
    return EXIT_OK if all(r.action == "replayed" for r in results) else EXIT_PROBLEM
