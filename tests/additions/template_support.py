"""The template the additions tests read and the local stack runs: template.yaml itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scalper.local.template import load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"


def source_template() -> dict[str, Any]:
    """template.yaml as a dict (long-form intrinsics, as the SAM transform takes it)."""
    return load_template(TEMPLATE)
