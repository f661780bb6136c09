"""Finish a built core layer for Lambda's read-only file system.

``sam build`` runs this on the layer it made (``layers/core/Makefile``); the cold-start
benchmark runs the same steps on a layer made for its own host. Two steps, in order:

- ``schemas``: every schema in ``silent_scalper/schemas`` checked against the 2020-12
  meta-schema and compiled, and their digests written to ``checked.sha256`` there, so a
  cold start neither checks them again nor imports ``jsonschema`` to (an invalid schema
  fails here instead);
- ``bytecode``: every module compiled to ``__pycache__``, hash-based and unchecked (a
  built layer never changes, and a zip need not keep the source timestamps a default
  ``.pyc`` is checked against), test folders left out, tracebacks naming the module's
  path under ``/opt/python``. Lambda's file system is read-only but for ``/tmp``, so
  without this every cold start compiles each module it imports again.

``python finish_layer.py PYTHON_DIR [--step schemas|bytecode]`` (both steps by default).
"""

from __future__ import annotations

import argparse
import compileall
import py_compile
import re
import sys
from pathlib import Path

# The package beside this script (the layer's source; sam build runs it from a copy of
# layers/core), with the build environment's dependencies: never the built layer's own,
# whose compiled modules are for Lambda's arm64.
from silent_scalper.engine import checked_schemas

#: Where Lambda extracts a layer's ``python/`` folder (the paths tracebacks show).
LAMBDA_PYTHON_DIR = "/opt/python"
STEPS = ("schemas", "bytecode")
_TESTS = re.compile(r"[/\\]tests?[/\\]")


def compile_modules(python_dir: Path) -> bool:
    """Compile every module of the layer but its tests; False if one did not compile."""
    return compileall.compile_dir(
        python_dir,
        quiet=1,
        workers=0,
        rx=_TESTS,
        stripdir=str(python_dir),
        prependdir=LAMBDA_PYTHON_DIR,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the steps asked for; 1 with the reason when one fails."""
    parser = argparse.ArgumentParser(prog="finish_layer.py", description=__doc__)
    parser.add_argument("python_dir", type=Path, help="the layer's python/ folder")
    parser.add_argument("--step", choices=STEPS, action="append", help="default: both")
    args = parser.parse_args(argv)
    for step in args.step or STEPS:
        if step == "schemas":
            schemas = args.python_dir / "silent_scalper" / "schemas"
            if checked_schemas.main([str(schemas)]) != 0:
                return 1
        elif not compile_modules(args.python_dir):
            sys.stderr.write(f"a module in {args.python_dir} did not compile\n")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
