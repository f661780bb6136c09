"""Cold starts: the functions' handlers imported from the core layer, as Lambda does.

Lambda's file system is read-only but for ``/tmp``, so a cold start cannot keep the
bytecode it compiles: whatever the layer does not ship compiled is compiled again each
time. ``sam build`` makes an arm64 layer this host cannot import, so the same layer is
made for this host (``pip install --target`` of ``layers/core/requirements.txt``, then
the core package), copied once per step ``layers/core/finish_layer.py`` takes, and each
copy finished up to its step: as installed, with the schemas' checked list, then with the
bytecode. Every handler is imported from every copy in rounds (``benchmarks.cli.rounds``),
each import a fresh interpreter that sees the standard library and that copy only
(``-S``), writes no bytecode (``-B``) and has the template's environment; CPU seconds of
each process from ``wait4``.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from benchmarks.cli import rounds
from benchmarks.pipeline_worker import REPO_ROOT, TEMPLATE, globals_environment

CORE = REPO_ROOT / "layers" / "core"
#: The handlers measured: the heaviest import (the engine) and a light one.
HANDLERS = ("validate_schema", "presign")
#: The layer after each step (cumulative), in the order finish_layer.py takes them.
VARIANTS: tuple[tuple[str, str | None], ...] = (
    ("as installed", None),
    ("schemas checked at build", "schemas"),
    ("and bytecode shipped", "bytecode"),
)

_IMPORT = """
import sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
"""

#: What a handler's first file of a kind adds to its cold start, measured on the layer as
#: shipped as the handler's import followed by that code: the ValidateSchema function
#: imports pyarrow on its first CSV file (the engine's benchmark loads it before timing
#: a file, so it is counted here, once).
FIRST_FILES: dict[str, tuple[str, str]] = {
    "validate_schema, then a first CSV file's reader": (
        "validate_schema",
        "from silent_scalper.engine import FileFormat, load_readers\n"
        "load_readers(FileFormat.CSV)\n",
    ),
}

type LayerMaker = Callable[[Path], None]


def make_layer(python_dir: Path) -> None:
    """The core layer for this host, as the layer's recipe installs it: requirements
    without bytecode, then the core package (its schemas resolved, no caches)."""
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--target",
            str(python_dir),
            "-r",
            str(CORE / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if install.returncode != 0:
        lines = install.stderr.strip().splitlines()
        raise RuntimeError(f"pip install of the layer failed: {lines[-1] if lines else ''}")
    shutil.copytree(
        CORE / "silent_scalper",
        python_dir / "silent_scalper",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.c"),
    )


def handler_environment() -> dict[str, str]:
    """The functions' environment from ``template.yaml`` (its globals resolved for a
    local stack), plus what Lambda sets, so handlers read their settings at import."""
    from scalper.local.template import load_template  # noqa: PLC0415 - bench-only imports
    from scalper.sfn_mock.definition import local_resolver  # noqa: PLC0415

    template = load_template(TEMPLATE)
    env = globals_environment(template, local_resolver(template, REPO_ROOT))
    env.update(
        {
            "PATH": os.environ.get("PATH", ""),
            "AWS_REGION": "us-east-1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_FUNCTION_NAME": "cold-start-bench",
            "LAMBDA_TASK_ROOT": "/var/task",
        }
    )
    return env


def _finish(python_dir: Path, step: str) -> None:
    subprocess.run(
        [sys.executable, str(CORE / "finish_layer.py"), str(python_dir), "--step", step],
        check=True,
        stdout=subprocess.DEVNULL,
    )


def cold_start_section(
    workdir: Path,
    *,
    repeats: int = 5,
    handlers: Sequence[str] = HANDLERS,
    layer: LayerMaker = make_layer,
    functions_dir: Path = REPO_ROOT / "functions",
    first_files: Mapping[str, tuple[str, str]] = FIRST_FILES,
) -> dict[str, Any]:
    """Each handler's import CPU seconds (median of ``repeats`` fresh processes) from the
    layer as installed and after each of finish_layer.py's steps, and on the last layer
    each of ``first_files`` (a label: the handler, and the code its first file of a kind
    runs after the import) whose handler is measured. ``layer`` makes the layer's
    ``python/`` folder; ``functions_dir`` holds one folder per handler.

    Each step's layer is its own copy, finished up to that step, and the imports run in
    rounds: every layer and handler once a round, the layers' order turned every other
    round, so a slow phase of a shared host weighs on every step alike (as the command
    line's forms are measured, ``benchmarks/cli.py``)."""
    first = workdir / VARIANTS[0][0].replace(" ", "-") / "python"
    layer(first)
    dirs = [first]
    for name, step in VARIANTS[1:]:
        here = workdir / name.replace(" ", "-") / "python"
        shutil.copytree(dirs[-1], here, symlinks=True)
        assert step is not None
        _finish(here, step)
        dirs.append(here)
    # One form per step's layer and handler: a fresh interpreter that sees the standard
    # library and that layer only (-S) and writes no bytecode (-B), importing the handler.
    forms: dict[str, list[str]] = {}
    measured_as: dict[str, tuple[str, str]] = {}  # form -> (layer, handler)
    after: dict[str, str] = {}  # a first file's form -> its handler's form
    for (name, _), python_dir in zip(VARIANTS, dirs, strict=True):
        for handler in handlers:
            form = f"{name}: importing {handler}"
            code = functions_dir / handler
            argv = [sys.executable, "-S", "-B", "-c", _IMPORT, str(python_dir), str(code)]
            forms[form] = argv
            measured_as[form] = (name, handler)
            if python_dir != dirs[-1]:
                continue
            # On the shipped layer, each first file right after its handler, so that a
            # round's two runs are neighbours (their difference is the first file's cost).
            for label, (owner, then) in first_files.items():
                if owner == handler:
                    extra = f"{name}: {label}"
                    forms[extra] = [*argv[:4], _IMPORT + then, *argv[5:]]
                    measured_as[extra] = (name, label)
                    after[extra] = form
    runs = rounds(forms, repeats, handler_environment())
    rows: list[dict[str, Any]] = []
    for form, measured in runs.items():
        row: dict[str, Any] = {
            "layer": measured_as[form][0],
            "handler": measured_as[form][1],
            "cpu_seconds": statistics.median(cpu for cpu, _ in measured),
            "runs": [cpu for cpu, _ in measured],
        }
        if form in after:
            # As the command line's extras: the median of each round's own difference.
            base = runs[after[form]]
            row["extra_cpu_seconds"] = statistics.median(
                cpu - first for (cpu, _), (first, _) in zip(measured, base, strict=True)
            )
        rows.append(row)
    return {"repeats": repeats, "rows": rows}
