"""``scalper reprocess``: quarantined files back through the pipeline, after a schema fix.

Each selected QUARANTINED file is released: its quarantined version is copied onto its own
key in the input bucket, which S3 announces as a new Object Created event, so the normal
pipeline validates it again (a plain replay would stop at Claim: the file already has an
outcome). Nothing is lost on the way: a pending marker is written first, and the quarantine
copy and its report are deleted only once the new record is VALID; a file that is still
invalid gets a fresh copy and report from the Quarantine step. With --check each file is
revalidated here first against the current schema and only those that now pass are released.
A key whose newer version exists is skipped (never overwritten).

Exit 0 when every released file ended VALID (with --dry-run: when something would be
released), 1 otherwise (still invalid, FAILED, skipped, or no outcome before --wait ran out).
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.table import Table
from silent_scalper.engine import SchemaLoadError, SchemaRegistry, UnknownSchemaError
from silent_scalper.pipeline.reprocess_quarantined import SettleOutcome

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.cli._ops import add_command, add_target_arguments, console, emit, progress, since
from scalper.ops.common import parse_since, utcnow
from scalper.ops.reprocess import Revalidation, release_all, select, settle_released
from scalper.ops.target import Clients, Target

#: What became of the quarantine copy, by settle outcome.
_COPY = {
    str(SettleOutcome.CLEARED_VALID): "deleted",
    str(SettleOutcome.CLEARED_QUARANTINED): "replaced",
}


def register(subparsers: Any) -> None:
    """Add ``reprocess``."""
    parser = add_command(
        subparsers,
        "reprocess",
        "put quarantined files back through the pipeline",
        __doc__,
        _reprocess,
    )
    parser.add_argument("--prefix", help="only object keys starting with this")
    parser.add_argument("--since", type=since, help="quarantined after: 7d, 24h or ISO time")
    parser.add_argument(
        "--reason",
        action="append",
        metavar="REASON",
        help="only this reason code (repeatable), e.g. SCHEMA_VIOLATION",
    )
    parser.add_argument("--limit", type=int, help="at most N files")
    parser.add_argument(
        "--check",
        action="store_true",
        help="revalidate here first (current schema) and release only files that now pass",
    )
    parser.add_argument("--schema", default=None, help="schema for --check (default: the record's)")
    parser.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="wait this long for the new outcomes, then settle (default 300; 0: do not wait)",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be released")
    add_target_arguments(parser)


def _reprocess(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    now = utcnow()
    files = select(
        clients,
        target,
        prefix=args.prefix,
        since=None if args.since is None else parse_since(args.since, now=now),
        reasons=tuple(r.upper() for r in args.reason) if args.reason else None,
        limit=args.limit,
    )
    registry = None
    if args.check:
        try:
            registry = SchemaRegistry.load()
            if args.schema:
                registry.get(args.schema)
        except (SchemaLoadError, UnknownSchemaError) as exc:
            raise UsageError(str(exc)) from None
    with progress("releasing", len(files), enabled=not args.json) as advance:
        items = release_all(
            clients,
            target,
            files,
            now=now,
            dry_run=args.dry_run,
            revalidation=None if registry is None else Revalidation(registry, args.schema),
            progress=advance,
        )
    if not args.dry_run and args.wait > 0:
        with progress("waiting for outcomes", len(items), enabled=not args.json) as advance:
            settle_released(clients, target, items, timeout=args.wait, progress=advance)
    if args.json:
        emit({"dry_run": args.dry_run, "files": [i.to_json() for i in items]})
    else:
        table = Table(
            title="reprocess" + (" (dry run)" if args.dry_run else ""), title_justify="left"
        )
        for column in ("file", "was", "release", "now", "quarantine copy", "detail"):
            table.add_column(column, overflow="fold")
        for i in items:
            copy = _COPY.get(i.settled or "", "kept")
            table.add_row(
                i.file.key, i.file.reason or "", i.release, i.outcome or "", copy, i.detail
            )
        console().print(table if items else "no quarantined files match")
    if args.dry_run:
        return EXIT_OK if any(i.release == "would-release" for i in items) else EXIT_PROBLEM
    if not items:
        return EXIT_OK
    return EXIT_OK if all(i.outcome == "VALID" for i in items) else EXIT_PROBLEM
