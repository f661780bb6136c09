"""``python -m silent_scalper.engine.checked_schemas DIR``: check every schema in DIR
against the 2020-12 meta-schema, compile it, and write DIR's ``checked.sha256``, so that
loading those schemas later skips the check and the import of ``jsonschema`` it needs.
``sam build`` runs it on the core layer's schemas: an invalid schema fails the build
instead of every cold start."""

from __future__ import annotations

import sys
from pathlib import Path

from silent_scalper.engine.schemas import SchemaLoadError, write_checked


def main(argv: list[str] | None = None) -> int:
    """Write the list; 1 with the loader's message when a schema fails, 2 on bad usage."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write("usage: python -m silent_scalper.engine.checked_schemas DIR\n")
        return 2
    try:
        target = write_checked(Path(args[0]))
    except SchemaLoadError as exc:
        sys.stderr.write(f"schema check failed: {exc}\n")
        return 1
    sys.stdout.write(f"wrote {target}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
