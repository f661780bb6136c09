"""`scalper demo [FOLDER]`: the whole pipeline, offline, on a folder of files.

Starts the local stack in this process, uploads every file of FOLDER (default: the
bundled ``samples/``) through the presign API and a presigned POST over real HTTP, waits
for every execution, and prints one row per file: final status, reason, records, the
states the execution passed through, and where the file (or its quarantine report) now
is. A file the API refuses (an empty file, an unsupported type...) never enters the
pipeline and shows as REFUSED with the API's code.

A file under a folder named after a schema (``samples/invoice.v1/...``) is uploaded with
that schema (``POST /uploads`` ``schema``); every other file with the stack's default. So the
bundled samples exercise both ``job.v1`` and ``invoice.v1``.

Exit 0 when every file reached a terminal state, 1 otherwise.
"""

from __future__ import annotations

import argparse
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.credentials import Credentials
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn
from rich.table import Table
from rich.text import Text
from silent_scalper.engine import SchemaRegistry
from silent_scalper.records import item_key, plain_item

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.cli.local import add_stack_options, stack_config, start_stack
from scalper.cli.upload import Uploaded, UploadError, upload_file
from scalper.cognito import sign_in
from scalper.local import LocalStack
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from scalper.local.stack import REPO_ROOT

TERMINAL_ROWS = {"VALID", "QUARANTINED", "FAILED", "REFUSED"}
_STYLE = {"VALID": "green", "QUARANTINED": "yellow", "FAILED": "red", "REFUSED": "magenta"}


@dataclass
class Row:
    """One file's outcome."""

    path: Path
    status: str
    reason: str = ""
    records: str = ""
    states: str = ""
    where: str = ""
    schema: str = ""


def schema_for_file(path: Path, known: frozenset[str]) -> str | None:
    """The schema a demo file is uploaded with: the nearest enclosing folder named after a
    schema (but never the unchecked ``any``), else ``None`` (the stack's default)."""
    for part in reversed(path.parent.parts):
        if part in known and part != "any":
            return part
    return None


def collect(folder: Path) -> list[Path]:
    """Every regular file under ``folder`` (READMEs and hidden files aside), sorted."""
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder")
    files = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file()
        and not any(part.startswith(".") for part in p.relative_to(folder).parts)
        and not p.name.upper().startswith("README")
    )
    if not files:
        raise UsageError(f"{folder} has no files to upload")
    return files


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="run the pipeline offline on a folder of files (default: samples/)",
        description=(
            "Start the local stack, upload every file of FOLDER through the presign API and "
            "a presigned POST, wait for every execution and print the outcome per file."
        ),
    )
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=REPO_ROOT / "samples",
        metavar="FOLDER",
        help="files to upload (default: the bundled samples/)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=180.0,
        help="seconds to wait for every execution to end (default 180)",
    )
    add_stack_options(parser, ports=False)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the stack, upload, wait, report."""
    files = collect(args.folder)
    config = stack_config(args, ports=False)
    console = Console()
    if not console.is_terminal:
        # Piped or in CI: no terminal width to fit, so keep each row on one line.
        console = Console(width=200)
    started = time.monotonic()
    with console.status("starting the local stack (moto, Lambda workers, HTTP API)..."):
        stack = start_stack(config)
    try:
        console.print(
            f"local stack up in {time.monotonic() - started:.1f}s: API {stack.api_url}, "
            f"AWS {stack.aws_url}; {len(stack.gaps)} template features are not provided "
            "locally (`scalper local up` lists them)",
            highlight=False,
        )
        rows = run_files(stack, files, console, timeout=args.timeout)
    finally:
        with console.status("stopping the local stack..."):
            stack.stop()
    return report(rows, args.folder, console)


def run_files(
    stack: LocalStack, files: list[Path], console: Console, *, timeout: float
) -> dict[Path, Row]:
    """Upload ``files`` to a running stack and wait for their outcomes (the demo's core)."""
    rows, uploaded = _upload_all(stack, files, console)
    _wait(stack, uploaded, rows, console, timeout)
    return rows


def report(rows: dict[Path, Row], folder: Path, console: Console) -> int:
    """Print the table and the counts; the exit code (0: every file reached an end)."""
    console.print(_table(rows, folder))
    counts: dict[str, int] = {}
    for row in rows.values():
        counts[row.status] = counts.get(row.status, 0) + 1
    console.print(
        "  ".join(f"{status}: {n}" for status, n in sorted(counts.items())), highlight=False
    )
    return EXIT_OK if all(r.status in TERMINAL_ROWS for r in rows.values()) else EXIT_PROBLEM


def demo_token(stack: LocalStack) -> str | None:
    """With ``AuthMode=COGNITO`` (a JWT route), a demo user's ID token from the local
    pool, signed in with SRP as `scalper login` does; None when the API uses IAM."""
    provisioned = stack.provisioned
    if provisioned is None or not any(r.auth == "JWT" for r in provisioned.routes):
        return None
    # A fresh user each time; the password meets the pool's policy (12+ characters, upper,
    # lower, digit, symbol) and is used once.
    username = f"demo-{secrets.token_hex(4)}@example.com"
    password = secrets.token_urlsafe(12) + "Aa1!"
    stack.add_user(username, password)
    tokens = sign_in(
        stack.client("cognito-idp"),
        user_pool_id=str(provisioned.outputs["UserPoolId"]),
        client_id=str(provisioned.outputs["UserPoolClientId"]),
        username=username,
        password=password,
    )
    return tokens.id_token


def _upload_all(
    stack: LocalStack, files: list[Path], console: Console
) -> tuple[dict[Path, Row], dict[Path, Uploaded]]:
    credentials = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
    token = demo_token(stack)
    known = frozenset(SchemaRegistry.load().names)
    rows: dict[Path, Row] = {}
    uploaded: dict[Path, Uploaded] = {}
    total = sum(p.stat().st_size for p in files)
    with Progress(
        TextColumn("uploading"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files  {task.fields[bytes]} bytes"),
        console=console,
    ) as progress:
        task = progress.add_task("upload", total=len(files), bytes=f"0/{total}")
        sent = 0
        lock = threading.Lock()  # four uploads at a time add to one byte count

        def one(path: Path) -> None:
            def advance(n: int) -> None:
                nonlocal sent
                with lock:
                    sent += n
                    progress.update(task, bytes=f"{sent}/{total}")

            try:
                uploaded[path] = upload_file(
                    stack.api_url,
                    path,
                    credentials=credentials,
                    region=stack.config.region,
                    progress=advance,
                    token=token,
                    schema=schema_for_file(path, known),
                )
            except UploadError as exc:
                rows[path] = Row(path, "REFUSED", exc.code, where=f"{exc.stage}: {exc.message}")
            progress.advance(task)

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(one, files))
    return rows, uploaded


def _wait(
    stack: LocalStack,
    uploaded: dict[Path, Uploaded],
    rows: dict[Path, Row],
    console: Console,
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(uploaded)
    with Progress(
        SpinnerColumn(),
        TextColumn("executions"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("wait", total=len(uploaded))
        while pending and time.monotonic() < deadline:
            bridge_idle = stack.bridge is not None and stack.bridge.idle
            latest = {
                p: arns[-1]
                for p, up in pending.items()
                if (arns := stack.execution_arns_for(up.key))
            }
            ended = stack.ended(latest.values())
            for path, landed in list(pending.items()):
                if path not in latest:
                    if bridge_idle and not _delivered(stack, landed.key):
                        rows[path] = Row(path, "NOT STARTED", where="no rule matched the object")
                        del pending[path]
                        progress.advance(task)
                    continue
                if latest[path] in ended:
                    rows[path] = _row(stack, path, landed, latest[path])
                    del pending[path]
                    progress.advance(task)
            time.sleep(0.2)
    for path, landed in pending.items():
        rows[path] = Row(path, "RUNNING", where=f"s3://{landed.bucket}/{landed.key}")


def _delivered(stack: LocalStack, key: str) -> bool:
    bridge = stack.bridge
    return bridge is not None and any(d.key == key for d in list(bridge.deliveries))


def _row(stack: LocalStack, path: Path, landed: Uploaded, arn: str) -> Row:
    report = stack.report(arn)
    record = _record(stack, landed)
    status = str(record.get("status") or "")
    if not status:
        status = "FAILED" if report.status != "SUCCEEDED" else report.status
    where = f"s3://{landed.bucket}/{landed.key}"
    if record.get("report_location"):
        where = str(record["report_location"])
    reason = str(record.get("reason") or "")
    if status == "FAILED" and not reason:
        reason = str(report.error or record.get("error") or "")
    records = record.get("records")
    return Row(
        path,
        status,
        reason,
        "" if records is None else str(records),
        " → ".join(report.states),
        where,
        str(record.get("schema_name") or landed.schema),
    )


def _record(stack: LocalStack, landed: Uploaded) -> dict[str, Any]:
    table = (stack.provisioned.outputs if stack.provisioned else {}).get("MetadataTableName")
    if not table:
        return {}
    item = stack.client("dynamodb").get_item(
        TableName=str(table), Key={"pk": {"S": item_key(landed.bucket, landed.key)}}
    )
    return plain_item(item.get("Item") or {})


def _table(rows: dict[Path, Row], folder: Path) -> Table:
    table = Table(title="Silent Scalper demo", show_lines=False)
    for column in ("file", "schema", "status", "reason", "records", "states", "now at"):
        table.add_column(column, overflow="fold")
    for path in sorted(rows):
        row = rows[path]
        style = _STYLE.get(row.status, "bold red")
        # Text cells: a file name or a message is shown as it is, never read as markup.
        table.add_row(
            *(Text(cell) for cell in (str(path.relative_to(folder)), row.schema)),
            Text(row.status, style=style),
            *(Text(cell) for cell in (row.reason, row.records, row.states, row.where)),
        )
    return table
