"""``scalper replay ARN...``: a new execution with the original input, for any execution.

Works for Standard and Express, on AWS and on the local stack. The pipeline's Claim lets the
replay in once the file's record is FAILED (a claim left PROCESSING by an execution that
was aborted or timed out is released to FAILED first). A file whose record already holds
VALID or QUARANTINED for the same event is not replayed ("already-final"): the same bytes
get the same verdict and Claim would stop the execution at AlreadyProcessed, so none is
started; `reprocess` validates quarantined files again after a schema fix. Exit 0 when
every execution was replayed (or would be, with --dry-run), 1 otherwise.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from scalper.cli import EXIT_OK, EXIT_PROBLEM
from scalper.cli._ops import add_command, add_target_arguments, console, emit, progress, short_arn
from scalper.ops.executions import replay
from scalper.ops.target import Clients, Target


def register(subparsers: Any) -> None:
    """Add ``replay``."""
    parser = add_command(
        subparsers, "replay", "start new executions with the original input", __doc__, _replay
    )
    parser.add_argument("arns", nargs="+", metavar="EXECUTION_ARN")
    parser.add_argument("--dry-run", action="store_true", help="show what would be replayed")
    add_target_arguments(parser)


def _replay(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    with progress("replaying", len(args.arns), enabled=not args.json) as advance:
        results = replay(
            clients.sfn,
            target,
            args.arns,
            dynamodb=clients.dynamodb,
            dry_run=args.dry_run,
            progress=advance,
        )
    if args.json:
        emit({"dry_run": args.dry_run, "results": [r.to_json() for r in results]})
    else:
        table = Table(title="replay" + (" (dry run)" if args.dry_run else ""), title_justify="left")
        for column in ("execution", "file", "result", "new execution"):
            table.add_column(column, overflow="fold")
        for r in results:
            new = (r.console_url or r.new_arn) if r.new_arn else ""
            table.add_row(short_arn(r.source_arn), r.key or "", r.status, new)
        out = console()
        out.print(table)
        # Details are sentences (why not, what instead): full lines read better than a column.
        for r in results:
            if r.detail:
                out.print(f"{short_arn(r.source_arn)}: {r.detail}", soft_wrap=True)
    ok = {"would-replay"} if args.dry_run else {"replayed"}
    return EXIT_OK if all(r.status in ok for r in results) else EXIT_PROBLEM
