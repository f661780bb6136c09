"""``scalper status KEY``: a file's metadata record, its execution's states and console link.

Exit 0 when the file is VALID, 1 when it is anything else (QUARANTINED, FAILED, still
PROCESSING) or unknown, 2 for usage problems.
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table

from scalper.cli import EXIT_OK, EXIT_PROBLEM
from scalper.cli._ops import add_command, add_target_arguments, console, emit, when
from scalper.ops.status import StatusReport, status
from scalper.ops.target import Clients, Target

#: Record fields shown first, in this order; the rest follow.
_FIRST = ("status", "reason", "message", "bucket", "key", "version_id", "size", "records")
_HIDDEN = {"pk", "errors", "columns"}


def register(subparsers: Any) -> None:
    """Add ``status``."""
    parser = add_command(
        subparsers,
        "status",
        "a file's record, its execution's states and console link",
        __doc__,
        _status,
    )
    parser.add_argument("key", metavar="KEY", help="object key, bucket/key or s3://bucket/key")
    add_target_arguments(parser)


def _status(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    report = status(clients.dynamodb, clients.sfn, target, args.key)
    if args.json:
        emit(report.to_json())
    else:
        _print(report)
    return EXIT_OK if report.status == "VALID" else EXIT_PROBLEM


def _print(report: StatusReport) -> None:
    out = console()
    record = report.record
    table = Table(title=f"{report.pk}", show_header=False, title_justify="left")
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    keys = [k for k in _FIRST if k in record] + sorted(
        k for k in record if k not in _FIRST and k not in _HIDDEN
    )
    for key in keys:
        table.add_row(key, str(record[key]))
    errors = record.get("errors") or []
    for error in errors[:5]:
        if isinstance(error, dict):
            table.add_row("error", f"{error.get('location', '')}: {error.get('message', '')}")
    out.print(table)
    if report.states:
        states = Table(title="execution states", title_justify="left")
        for column in ("state", "entered (UTC)", "seconds", "failed attempts"):
            states.add_column(column)
        for visit in report.states:
            seconds = "" if visit.seconds is None else f"{visit.seconds:.2f}"
            states.add_row(visit.name, when(visit.entered), seconds, str(visit.failures or ""))
        out.print(states)
    if report.execution is not None:
        out.print(f"execution: {report.execution.arn} ({report.execution.status})")
        if report.execution.console_url:
            out.print(f"console:   {report.execution.console_url}")
    if report.execution_note:
        out.print(f"note: {report.execution_note}")
