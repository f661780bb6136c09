"""Read template.yaml the way CloudFormation does, so tests build resources from it.

PyYAML's safe loader rejects CloudFormation's short-form tags (``!Ref``, ``!GetAtt``,
``!Sub`` ...); this loader turns each into its long form (``{"Ref": ...}``,
``{"Fn::GetAtt": [...]}``) so the template is plain data. A tiny resolver then evaluates the
intrinsic functions the tests need against a name table, e.g. to turn the state machine's
``DefinitionSubstitutions`` into real test ARNs.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
ASL = REPO / "statemachine" / "pipeline.asl.json"


class CfnLoader(yaml.SafeLoader):
    """A safe YAML loader that understands CloudFormation's short-form tags."""


def _construct_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """template.yaml as plain data, tags in long form."""
    with path.open(encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=CfnLoader)
    assert isinstance(data, dict)
    return data


def resource(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """One resource's ``Properties`` (fails the test with the id when missing)."""
    resources = template["Resources"]
    assert logical_id in resources, f"template.yaml has no resource {logical_id}"
    props = resources[logical_id].get("Properties", {})
    assert isinstance(props, dict)
    return props


def resolve(value: Any, names: Mapping[str, str]) -> Any:
    """Evaluate ``Ref``/``Fn::GetAtt``/``Fn::Sub``/``Fn::Join`` against ``names``.

    ``names`` maps a logical id (``Ref``), ``"Id.Attr"`` (``GetAtt``) or a parameter name to
    the value the test uses. Anything else is returned unchanged.
    """
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return names[arg]
        if fn == "Fn::GetAtt":
            return names[".".join(arg)]
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            table = {**names, **{k: resolve(v, names) for k, v in extra.items()}}
            for key, val in table.items():
                text = text.replace("${" + key + "}", str(val))
            return text
        if fn == "Fn::Join":
            sep, items = arg
            return sep.join(str(resolve(i, names)) for i in resolve(items, names))
    if isinstance(value, dict):
        return {k: resolve(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, names) for v in value]
    return value
