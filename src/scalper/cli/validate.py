"""`scalper validate`: run the pipeline's validation engine on local files and folders.

The same engine (``silent_scalper.engine``) the TypeCheck and ValidateSchema Lambdas run:
the size limit and type sniffing first, then one streaming pass per file. A folder stands
for every file under it, at any depth, whose extension the pipeline accepts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from silent_scalper.engine import (
    EXTENSIONS,
    SNIFF_BYTES,
    Limits,
    LocatedError,
    SchemaLoadError,
    SchemaRegistry,
    UnknownSchemaError,
    ValidationSummary,
    sniff,
    validate_stream,
)
from silent_scalper.engine.heap import keep_freed_heap

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError

DEFAULT_SCHEMA = "job.v1"
#: The CLI validates local files, so its default ceiling is generous; the pipeline's
#: own limit comes from its settings (MAX_UPLOAD_BYTES).
DEFAULT_MAX_BYTES = 10 * 1024**3
ERRORS_SHOWN = 5


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `validate` sub-command."""
    parser = subparsers.add_parser(
        "validate",
        help="validate job files (CSV, JSON, NDJSON) against a schema",
        description=(
            "Validate files with the pipeline's engine. A folder stands for every "
            f"{_extension_list()} file under it (subfolders included, hidden ones skipped). "
            "Exit 0 when every file is valid, 1 when any is invalid, 2 on a usage error "
            "(a missing path, a folder without such files)."
        ),
    )
    parser.add_argument(
        "paths", nargs="+", metavar="PATH", type=Path, help="files or folders to validate"
    )
    parser.add_argument(
        "--schema", default=DEFAULT_SCHEMA, help=f"schema name (default {DEFAULT_SCHEMA})"
    )
    parser.add_argument(
        "--schemas-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="load schemas from DIR instead of the bundled schemas/",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per file per line (machine output)"
    )
    parser.add_argument(
        "--max-errors",
        type=_positive_int,
        default=100,
        metavar="N",
        help="located errors kept per file (default 100)",
    )
    parser.add_argument(
        "--max-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BYTES,
        metavar="N",
        help=f"files larger than N bytes are TOO_LARGE (default {DEFAULT_MAX_BYTES})",
    )
    parser.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Validate every PATH; print a table or JSON lines; return the exit code."""
    try:
        registry = SchemaRegistry.load(args.schemas_dir)
        registry.get(args.schema)  # an unknown name is a usage error before any file
    except (SchemaLoadError, UnknownSchemaError) as exc:
        raise UsageError(str(exc)) from None
    paths = expand_paths(args.paths)
    keep_freed_heap()  # this process validates files and ends: see engine/heap.py
    limits = Limits(max_bytes=args.max_bytes, max_errors=args.max_errors)
    results: list[tuple[Path, ValidationSummary]] = []
    for path in paths:
        try:
            summary = validate_file(path, schema_name=args.schema, registry=registry, limits=limits)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        results.append((path, summary))
        if args.json:
            sys.stdout.write(json.dumps(result_dict(path, summary), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    if not args.json:
        _print_table(results)
    return EXIT_OK if all(s.valid for _, s in results) else EXIT_PROBLEM


def _extension_list() -> str:
    """``.csv, .json, .ndjson or .jsonl``: the extensions the pipeline accepts."""
    names = sorted(EXTENSIONS, key=list(EXTENSIONS).index)
    return ", ".join(names[:-1]) + " or " + names[-1]


def expand_paths(paths: list[Path]) -> list[Path]:
    """The files to validate, in order: each file as named, each folder's accepted files.

    A file named on the command line is validated whatever its extension (the engine says
    ``UNSUPPORTED_TYPE``, as the pipeline would). A folder contributes the files under it,
    at any depth and sorted, whose extension the pipeline accepts, skipping hidden files
    and folders (``.git``). A file reached twice is validated once. A missing path, or a
    folder without one such file, is a usage error: a typo must not pass as "all valid".
    """
    files: list[Path] = []
    for path in paths:
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            found = [
                child
                for child in sorted(path.rglob("*"))
                if child.suffix.lower() in EXTENSIONS
                and child.is_file()
                and not any(part.startswith(".") for part in child.relative_to(path).parts)
            ]
            if not found:
                raise UsageError(f"no {_extension_list()} files under {path}")
            files.extend(found)
        elif path.exists():
            raise UsageError(f"not a file or folder: {path}")
        else:
            raise UsageError(f"no such file or folder: {path}")
    return list(dict.fromkeys(files))


def validate_file(
    path: Path, *, schema_name: str, registry: SchemaRegistry, limits: Limits
) -> ValidationSummary:
    """Validate one local file as the pipeline would: size first, then one pass."""
    schema = registry.get(schema_name)
    size = path.stat().st_size
    if size > limits.max_bytes:
        # Like TypeCheck: a file over the limit is not read at all.
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
        checked = sniff(head, key=path.name, size=size, limits=limits)
        error = LocatedError(checked.message or "too large", "file")
        return ValidationSummary(
            valid=False,
            reason=checked.reason,
            format=checked.format,
            encoding=None,
            size=size,
            sha256="",
            records=0,
            invalid_records=0,
            errors=[error],
            errors_truncated=False,
            columns=None,
            schema=schema.name,
            job_ids=0,
            first_submitted_at=None,
            last_submitted_at=None,
            formula_cells=0,
        )
    with path.open("rb") as fh:
        return validate_stream(fh, key=path.name, schema=schema, limits=limits)


def result_dict(path: Path, summary: ValidationSummary) -> dict[str, Any]:
    """The `--json` line for one file: the summary with the file's path first."""
    return {"file": str(path), **summary.to_dict()}


def _print_table(results: list[tuple[Path, ValidationSummary]]) -> None:
    # rich only for the table: ``--json`` output (scripts, CI) never pays for importing it.
    from rich.console import Console  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    # Paths and messages are the user's text: printed as they are, never read as rich
    # markup ("a[/]b.csv" would raise, "jobs[draft].csv" would lose its "[draft]") or
    # emoji codes.
    console = Console(highlight=False, markup=False, emoji=False)
    table = Table(title="scalper validate", title_justify="left")
    table.add_column("file", overflow="fold", ratio=1)
    table.add_column("result", no_wrap=True)
    table.add_column("format", no_wrap=True)
    table.add_column("records", justify="right", no_wrap=True)
    table.add_column("invalid", justify="right", no_wrap=True)
    table.add_column("sha256", no_wrap=True)
    for path, s in results:
        result = Text("VALID", style="bold green") if s.valid else Text(str(s.reason), "bold red")
        table.add_row(
            str(path),
            result,
            "-" if s.format is None else str(s.format),
            str(s.records),
            str(s.invalid_records),
            s.sha256[:12] or "-",
        )
    console.print(table)
    if len(results) > 1:
        invalid = sum(not s.valid for _, s in results)
        console.print(
            f"{len(results)} files: {len(results) - invalid} valid, {invalid} invalid",
            style="bold red" if invalid else "bold green",
        )
    for path, s in results:
        if s.valid or not s.errors:
            continue
        console.print(Text(f"{path}: {s.reason}", style="bold"))
        for error in s.errors[:ERRORS_SHOWN]:
            line = Text("  ")
            line.append(error.location, style="cyan")
            line.append(f": {error.message}")
            console.print(line)
        more = s.invalid_records - min(len(s.errors), ERRORS_SHOWN)
        if len(s.errors) > ERRORS_SHOWN or s.errors_truncated:
            console.print(f"  … and more ({s.invalid_records} invalid records in all)")
        elif more > 0 and s.invalid_records > len(s.errors):
            console.print(f"  … {s.invalid_records} invalid records in all")
