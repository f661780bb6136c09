"""``template.yaml`` as CloudFormation would deploy it, for the tests that read the template.

The SAM transform runs offline (``scalper.security.transform``), then CloudFormation's own
deploy-time step is imitated: conditions evaluated, ``Fn::If`` resolved, resources whose
condition is false dropped, so a test reads what would really be deployed in a mode.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from scalper.local.template import load_template
from scalper.security.transform import sam_to_cfn

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"


def source_template() -> dict[str, Any]:
    """template.yaml as a dict (long-form intrinsics, as the SAM transform takes it)."""
    return load_template(TEMPLATE)


def _condition(template: dict[str, Any], params: dict[str, str], node: Any) -> bool:
    if isinstance(node, dict):
        (name, args), *_ = node.items()
        if name == "Condition":
            return _condition(template, params, template["Conditions"][args])
        if name == "Fn::Equals":
            left, right = (_value(template, params, a) for a in args)
            return bool(left == right)
        if name == "Fn::Not":
            return not _condition(template, params, args[0])
        if name == "Fn::And":
            return all(_condition(template, params, a) for a in args)
        if name == "Fn::Or":
            return any(_condition(template, params, a) for a in args)
    raise AssertionError(f"unexpected condition {node!r}")


def _value(template: dict[str, Any], params: dict[str, str], node: Any) -> Any:
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in params:
        return params[node["Ref"]]
    if isinstance(node, dict) and "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(str(_value(template, params, p)) for p in parts)
    if isinstance(node, dict) and "Fn::Select" in node:
        index, items = node["Fn::Select"]
        return _value(template, params, items)[int(index)]
    if isinstance(node, dict) and "Fn::Split" in node:
        sep, text = node["Fn::Split"]
        return str(_value(template, params, text)).split(sep)
    if isinstance(node, dict) and "Fn::Sub" in node and isinstance(node["Fn::Sub"], list):
        text, names = node["Fn::Sub"]
        values = {k: _value(template, params, v) for k, v in names.items()}
        return re.sub(
            r"\$\{(\w+)\}", lambda m: str(values.get(m.group(1), params.get(m.group(1)))), text
        )
    return node


def _resolve_ifs(template: dict[str, Any], params: dict[str, str], node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            chosen = yes if _condition(template, params, {"Condition": name}) else no
            return _resolve_ifs(template, params, chosen)
        out = {k: _resolve_ifs(template, params, v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [
            _resolve_ifs(template, params, v)
            for v in node
            if _resolve_ifs(template, params, v) != {"Ref": "AWS::NoValue"}
        ]
    return node


@cache
def deployed(mode: str) -> dict[str, Any]:
    """The transformed template as CloudFormation would deploy it with AuthMode=mode."""
    source = source_template()
    out = sam_to_cfn(source, parameters={"AuthMode": mode})
    params = {k: str(v.get("Default", "")) for k, v in source["Parameters"].items()}
    params["AuthMode"] = mode
    out["Resources"] = {
        lid: res
        for lid, res in out["Resources"].items()
        if "Condition" not in res or _condition(out, params, {"Condition": res["Condition"]})
    }
    return dict(_resolve_ifs(out, params, out))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The resources of one type, by logical id."""
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}
