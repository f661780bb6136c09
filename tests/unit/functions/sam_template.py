"""Read template.yaml the way CloudFormation does, so tests build resources from it.

The template is loaded by the local stack's CloudFormation-aware loader (short-form tags in
long form). A tiny resolver then evaluates the intrinsic functions the tests need against a
name table, e.g. to turn the state machine's ``DefinitionSubstitutions`` into real test ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from scalper.local.template import load_template as _load_template

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
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


_NO_VALUE = object()


def resolve(
    value: Any, names: Mapping[str, Any], conditions: Mapping[str, Any] | None = None
) -> Any:
    """Evaluate ``Ref``, ``Fn::GetAtt``, ``Fn::Sub``, ``Fn::Join``, ``Fn::Split``,
    ``Fn::Select`` and ``Fn::If`` (with the template's ``Conditions``) against ``names``.

    ``names`` maps a logical id (``Ref``), ``"Id.Attr"`` (``GetAtt``) or a parameter name to
    the value the test uses. ``AWS::NoValue`` drops the list item or key, as in CloudFormation.
    """
    conditions = conditions or {}
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return _NO_VALUE if arg == "AWS::NoValue" else names[arg]
        if fn == "Fn::If":
            name, then, otherwise = arg
            chosen = then if condition(conditions[name], names, conditions) else otherwise
            return resolve(chosen, names, conditions)
        if fn == "Fn::Split":
            sep, text = arg
            return str(resolve(text, names, conditions)).split(sep)
        if fn == "Fn::Select":
            index, items = arg
            return resolve(items, names, conditions)[int(index)]
        if fn == "Fn::GetAtt":
            return names[".".join(arg)]
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            table = {**names, **{k: resolve(v, names, conditions) for k, v in extra.items()}}
            for key, val in table.items():
                text = text.replace("${" + key + "}", str(val))
            return text
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(
                str(resolve(i, names, conditions)) for i in resolve(items, names, conditions)
            )
    if isinstance(value, dict):
        resolved = {k: resolve(v, names, conditions) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        items = [resolve(v, names, conditions) for v in value]
        return [v for v in items if v is not _NO_VALUE]
    return value


def condition(expr: Any, names: Mapping[str, Any], conditions: Mapping[str, Any]) -> bool:
    """Evaluate a template condition (``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``)."""
    ((fn, arg),) = expr.items()
    if fn == "Fn::Equals":
        left, right = (resolve(a, names, conditions) for a in arg)
        return bool(left == right)
    if fn == "Fn::Not":
        return not condition(arg[0], names, conditions)
    if fn == "Fn::And":
        return all(condition(a, names, conditions) for a in arg)
    if fn == "Fn::Or":
        return any(condition(a, names, conditions) for a in arg)
    if fn == "Condition":
        return condition(conditions[arg], names, conditions)
    msg = f"unsupported condition function {fn}"
    raise ValueError(msg)


def parameter_defaults(template: Mapping[str, Any]) -> dict[str, Any]:
    """Each parameter's default (a list for ``CommaDelimitedList``), as a deployment without
    overrides would resolve it."""
    out: dict[str, Any] = {}
    for name, param in template["Parameters"].items():
        default = param.get("Default", "")
        out[name] = default.split(",") if param["Type"] == "CommaDelimitedList" else default
    return out
