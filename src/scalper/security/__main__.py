"""``python -m scalper.security``: transform the SAM template offline and run our own checks.

Writes the transformed template (for checkov) and exits 1 when any check fails, 2 when the
template cannot be read or transformed. ``make scan`` runs it between cfn-lint and checkov.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scalper.local.template import TemplateError, load_template
from scalper.security.checks import CHECKS, Templates, run_checks
from scalper.security.transform import TransformError, sam_to_cfn, write_json


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m scalper.security", description=__doc__)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("build/security/template.cfn.json"),
        help="where the transformed template is written (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        sam = load_template(args.template)
        cfn = sam_to_cfn(sam)
    except (TemplateError, TransformError) as exc:
        print(f"scan: error: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    write_json(cfn, args.out)
    findings = run_checks(Templates(sam=sam, cfn=cfn))
    for finding in findings:
        print(f"FAILED {finding}")  # noqa: T201
    print(  # noqa: T201
        f"custom checks: {len(CHECKS)} run on {args.template} and {args.out}, "
        f"{len(findings)} finding(s)"
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main())
