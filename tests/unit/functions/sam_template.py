"""Read template.yaml the way CloudFormation does, so tests build resources from it.

The template is loaded by the local stack's CloudFormation-aware loader (short-form tags in
long form), and its intrinsic functions are evaluated by the local stack's `Resolver`
(``handler_support.resolver`` tells it the names the tests use), e.g. to turn the state
machine's ``DefinitionSubstitutions`` into real test ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from handler_support import REPO, TEMPLATE, resolver

from scalper.local.template import load_template as _load_template
from scalper.local.template import render_definition

ASL = REPO / "statemachine" / "pipeline.asl.json"


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml as plain data, tags in long form (the local stack's loader: one
    implementation for the stack, the scanners and the tests)."""
    return _load_template(path)


def resource(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource's ``Properties`` (fails the test with the id when missing)."""
    resources = template["Resources"]
    assert logical_id in resources, f"template.yaml has no resource {logical_id}"
    props = resources[logical_id].get("Properties", {})
    assert isinstance(props, dict)
    return props


def pipeline_definition(template: dict[str, Any], names: Mapping[str, Any]) -> str:
    """statemachine/pipeline.asl.json with the state machine's ``DefinitionSubstitutions``
    resolved against ``names`` and applied, as SAM renders it on deploy."""
    substitutions = resolver(template, names).resolve(
        resource(template, "PipelineStateMachine")["DefinitionSubstitutions"],
        "PipelineStateMachine.DefinitionSubstitutions",
    )
    return render_definition(ASL.read_text(encoding="utf-8"), substitutions)
