"""``scalper executions``: recent executions of the pipeline with the file each one handled.

Beside each execution's status, its file's outcome from the metadata record: VALID,
QUARANTINED with its reason, FAILED, PROCESSING or "no record"; marked "other execution"
when the record holds what another execution decided (a duplicate event, a replay, a newer
upload). An execution that failed, timed out or was aborted also shows the state it ended
in, its error, and whether it can be redriven (Standard, within 14 days, its file not taken
over by a newer execution) or why not (then `scalper replay` is the way out).

Exit 0 when none of the listed executions failed, 1 when some did (FAILED, TIMED_OUT,
ABORTED), 2 for usage problems.
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
    short_arn,
    since,
    when,
)
from scalper.ops.common import parse_since, utcnow
from scalper.ops.executions import STATUSES, UNSUCCESSFUL, ExecutionInfo, list_executions
from scalper.ops.outcome import FileOutcome, file_outcomes
from scalper.ops.redrive import redrivability
from scalper.ops.target import Clients, Target


def register(subparsers: Any) -> None:
    """Add ``executions``."""
    parser = add_command(
        subparsers,
        "executions",
        "recent executions with the file each one handled",
        __doc__,
        _executions,
    )
    parser.add_argument("--status", choices=STATUSES, help="only executions in this status")
    parser.add_argument(
        "--since", type=since, default="24h", help="started after: 24h, 30m, 7d or ISO time"
    )
    parser.add_argument("--limit", type=int, default=50, help="at most N rows (default 50)")
    add_target_arguments(parser)


def _redrive_cell(row: ExecutionInfo, target: Target, clients: Clients) -> tuple[bool, str]:
    return redrivability(row, target, now=utcnow(), dynamodb=clients.dynamodb)


def _executions(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    start = parse_since(args.since, now=utcnow())
    with progress("reading executions", args.limit, enabled=not args.json) as advance:
        rows = list_executions(
            clients.sfn,
            target,
            status=args.status,
            since=start,
            limit=max(1, args.limit),
            progress=advance,
        )
    with progress("reading outcomes", len(rows), enabled=not args.json) as advance:
        outcomes = file_outcomes(clients.dynamodb, target.table, rows, progress=advance)
    redrive = {r.arn: _redrive_cell(r, target, clients) for r in rows if r.status in UNSUCCESSFUL}
    if args.json:
        emit(
            {
                "state_machine_arn": target.state_machine_arn,
                "executions": [
                    {
                        **r.to_json(),
                        "outcome": outcomes.get(r.arn, FileOutcome(None)).to_json(),
                        "redrivable": redrive[r.arn][0] if r.arn in redrive else None,
                        "not_redrivable_because": redrive[r.arn][1] if r.arn in redrive else None,
                    }
                    for r in rows
                ],
            }
        )
    else:
        table = Table(title=f"{target.state_machine_arn} since {args.since}", title_justify="left")
        columns = ("execution", "status", "outcome", "started (UTC)", "stopped", "file", "redrives")
        for column in (*columns, "failed at", "error", "redrive?"):
            # Status and outcome are what the rows are read for: never split inside a word.
            table.add_column(column, overflow="fold", no_wrap=column in ("status", "outcome"))
        if not target.local:
            table.add_column("console", overflow="fold")
        for row in rows:
            cells = [
                short_arn(row.arn),
                row.status,
                outcomes.get(row.arn, FileOutcome(None)).label,
                when(row.start),
                when(row.stop),
                row.key or "",
                str(row.redrive_count or ""),
                row.failed_state or "",
                row.error or "",
                _redrive_text(redrive.get(row.arn)),
            ]
            if not target.local:
                cells.append(row.console_url or "")
            table.add_row(*cells)
        console().print(table)
        if not rows:
            console().print("no executions")
    return EXIT_PROBLEM if any(r.status in UNSUCCESSFUL for r in rows) else EXIT_OK


def _redrive_text(verdict: tuple[bool, str] | None) -> str:
    if verdict is None:
        return ""
    can, why = verdict
    return "yes: scalper redrive" if can else f"no ({why}): scalper replay"
