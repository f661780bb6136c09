"""Load CloudFormation/SAM YAML into plain JSON-compatible data.

PyYAML does not know the short-form intrinsics (``!Ref``, ``!Sub``, ``!GetAtt`` ...); this
loader turns each into its long form (``{"Ref": ...}``, ``{"Fn::Sub": ...}``,
``{"Fn::GetAtt": [resource, attribute]}``), which is what aws-sam-translator, cfn-lint and
checkov expect. A loader subclass is used so PyYAML's global SafeLoader stays untouched.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

#: Short-form tags that keep their name without the ``Fn::`` prefix.
_NO_PREFIX = frozenset({"Ref", "Condition"})


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic tags."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = tag_suffix if tag_suffix in _NO_PREFIX else f"Fn::{tag_suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            # !GetAtt Resource.Attribute is shorthand for [Resource, Attribute].
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


class TemplateError(ValueError):
    """A template that cannot be read: names the file and the reason."""


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON) into long-form intrinsics."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=CfnLoader)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise TemplateError(f"{path}: cannot read the template: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources mapping)")
    return data
