"""``scalper report [--since 7d] [--out report.html]``: an HTML report of the pipeline's outcomes.

Reads the result lines of the period from the results bucket (``results/dt=YYYY-MM-DD/``,
one JSON line per file outcome) of the deployed stack or the local stack, queries them with
DuckDB and writes one self-contained HTML page: files per day by outcome, throughput, top
quarantine reasons, the latest problems and the uploaders. ``--json`` prints the numbers
instead. Exit 0 when the report was written, 1 when the results could not be read.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scalper.cli import EXIT_OK
from scalper.cli._ops import add_command, add_target_arguments, emit, since
from scalper.ops.common import parse_since
from scalper.ops.report import build_report, to_json
from scalper.ops.report_html import render
from scalper.ops.target import Clients, Target


def register(subparsers: Any) -> None:
    """Add ``report``."""
    parser = add_command(
        subparsers,
        "report",
        "write an HTML report of outcomes, reasons and throughput",
        __doc__,
        _report,
    )
    parser.add_argument(
        "--since", type=since, default="7d", help="period start: 24h, 7d, 30d or an ISO time"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("report.html"), help="HTML file (default report.html)"
    )
    add_target_arguments(parser)


def _report(args: argparse.Namespace, clients: Clients, target: Target) -> int:
    now = datetime.now(UTC)
    data = build_report(clients.s3, target, since=parse_since(args.since, now=now), until=now)
    if args.json:
        emit(to_json(data))
        return EXIT_OK
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(render(data, generated=now), encoding="utf-8")
    t = data.totals
    print(  # noqa: T201
        f"wrote {args.out}: {t.files} files ({t.valid} valid, {t.quarantined} quarantined, "
        f"{t.failed} failed) since {data.since:%Y-%m-%d %H:%M} UTC",
        file=sys.stderr,
    )
    return EXIT_OK
