"""The template the additions tests run: template.yaml, with the additions merged in if absent.

The additions (issue 8) are written in /work/team/additions-template.yaml until template.yaml
is free to edit; once they are in template.yaml this returns template.yaml unchanged.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from scalper.security.cfn import load_template

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
ADDITIONS = Path("/work/team/additions-template.yaml")
_PATH_PROPS = {"CodeUri", "ContentUri", "DefinitionUri"}


def merged_template() -> dict[str, Any]:
    """template.yaml as a dict, with the additions when template.yaml lacks them."""
    body = load_template(TEMPLATE)
    if "ResultsBucket" in body["Resources"] or not ADDITIONS.is_file():
        return body
    add = load_template(ADDITIONS)
    for section in ("Parameters", "Conditions", "Resources", "Outputs"):
        body.setdefault(section, {}).update(copy.deepcopy(add.get(section) or {}))
    for lid, patch in (add.get("Patches") or {}).items():
        body["Resources"][lid]["Properties"].update(copy.deepcopy(patch))
    for lid, statement in (add.get("PolicyPatches") or {}).items():
        body["Resources"][lid]["Properties"]["Policies"][0]["Statement"].append(
            copy.deepcopy(statement)
        )
    return body


def template_file(tmp: Path) -> Path:
    """A template file the local stack can start from (template.yaml itself when complete)."""
    body = merged_template()
    if "ResultsBucket" in load_template(TEMPLATE)["Resources"]:
        return TEMPLATE
    for resource in body["Resources"].values():
        for key, value in (resource.get("Properties") or {}).items():
            if key in _PATH_PROPS and isinstance(value, str):
                resource["Properties"][key] = str((REPO / value).resolve())
    path = tmp / "template.json"
    path.write_text(json.dumps(body, indent=1), encoding="utf-8")
    return path
