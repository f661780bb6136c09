"""Read the SAM template the way CloudFormation does, for the local stack.

`load_template` parses ``template.yaml`` (CloudFormation's short-form tags such as
``!Ref`` and ``!Sub`` included) into plain data; `Resolver` evaluates the intrinsic
functions against parameter values, conditions and the physical names and attributes
the local provisioner assigned. The same resolver renders the state machine's
``DefinitionSubstitutions``, so the local stack and the tests run the definition the
deployment would run.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACCOUNT_ID = "123456789012"  # moto's default account: ARNs built here match moto's
DEFAULT_REGION = "us-east-1"
DEFAULT_STACK_NAME = "scalper-local"

# Pseudo parameter that removes a property when an !If branch chooses it.
NO_VALUE = object()


class TemplateError(Exception):
    """The template cannot be read or resolved; the message names the place."""


def _cfn_loader(base: type[yaml.SafeLoader]) -> type[yaml.SafeLoader]:
    """``base`` turning CloudFormation short-form tags into long form."""

    class CfnLoader(base):  # type: ignore[valid-type,misc]
        """A YAML loader that turns CloudFormation short-form tags into long form."""

    CfnLoader.add_multi_constructor("!", _construct_tag)
    return CfnLoader


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else ("Condition" if suffix == "Condition" else f"Fn::{suffix}")
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt":
            # !GetAtt Resource.Attribute.Path -> [Resource, "Attribute.Path"]
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - yaml has no other node kinds
        raise TemplateError(f"unsupported YAML node for !{suffix}")
    return {name: value}


#: PyYAML's loader on libyaml, in C, when PyYAML was built with it (the wheels are): the
#: template is parsed at every stack start, scan and many tests, 0.33 CPU-s a time with
#: PyYAML's parser in Python. Both build the same data (a test holds them equal).
_CfnLoader = _cfn_loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load_template(path: Path) -> dict[str, Any]:
    """Parse a CloudFormation/SAM template (YAML or JSON) into plain data."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{path}: cannot read template: {exc.strerror}") from exc
    try:
        data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise TemplateError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("Resources"), dict):
        raise TemplateError(f"{path}: not a CloudFormation template (no Resources mapping)")
    return data


@dataclass
class ResourceRef:
    """What the provisioner knows about one resource: its !Ref value and attributes."""

    ref: str
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Resolver:
    """Evaluates intrinsic functions for one template.

    ``parameters`` start at the template defaults and take ``overrides``;
    ``resources`` fill in as the provisioner creates each resource (a reference
    to a resource not yet known raises `TemplateError` naming it).
    """

    template: dict[str, Any]
    region: str = DEFAULT_REGION
    account_id: str = ACCOUNT_ID
    stack_name: str = DEFAULT_STACK_NAME
    overrides: Mapping[str, str] = field(default_factory=dict)
    resources: dict[str, ResourceRef] = field(default_factory=dict)
    parameters: dict[str, Any] = field(init=False)
    _conditions: dict[str, bool] = field(init=False, default_factory=dict)

    @property
    def _stack_uuid(self) -> str:
        return str(
            uuid.uuid5(uuid.NAMESPACE_URL, f"{self.account_id}/{self.region}/{self.stack_name}")
        )

    def __post_init__(self) -> None:
        self.parameters = {}
        declared: dict[str, Any] = self.template.get("Parameters") or {}
        unknown = sorted(set(self.overrides) - set(declared))
        if unknown:
            raise TemplateError(f"unknown template parameter(s): {', '.join(unknown)}")
        for name, spec in declared.items():
            if name in self.overrides:
                value: Any = self.overrides[name]
            elif "Default" in spec:
                value = spec["Default"]
            else:
                raise TemplateError(f"parameter {name} has no Default: pass a value for it")
            pattern = spec.get("AllowedPattern")
            if pattern is not None and not re.fullmatch(str(pattern), str(value)):
                raise TemplateError(f"parameter {name}={value!r} does not match {pattern}")
            if spec.get("Type") == "Number":
                try:
                    number = float(value)
                except (TypeError, ValueError):
                    raise TemplateError(f"parameter {name}={value!r} is not a number") from None
                low, high = spec.get("MinValue"), spec.get("MaxValue")
                if (low is not None and number < float(low)) or (
                    high is not None and number > float(high)
                ):
                    raise TemplateError(f"parameter {name}={value!r} is outside {low}..{high}")
            allowed = spec.get("AllowedValues")
            if allowed is not None and str(value) not in [str(a) for a in allowed]:
                raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
            if spec.get("Type", "String") == "CommaDelimitedList" and isinstance(value, str):
                value = [part.strip() for part in value.split(",")] if value else []
            elif spec.get("Type") == "Number":
                value = str(value)
            self.parameters[name] = value
        self._check_rules()

    def _check_rules(self) -> None:
        """Refuse parameter combinations the template's ``Rules`` section rejects, as
        CloudFormation does before it creates anything (the first failed assertion's
        ``AssertDescription`` is the message)."""
        for name, rule in (self.template.get("Rules") or {}).items():
            where = f"Rules.{name}"
            if "RuleCondition" in rule and not self.resolve(rule["RuleCondition"], where):
                continue
            for index, assertion in enumerate(rule.get("Assertions") or []):
                if not self.resolve(assertion["Assert"], f"{where}.Assertions[{index}]"):
                    why = assertion.get("AssertDescription") or "its assertion failed"
                    raise TemplateError(f"rule {name}: {' '.join(str(why).split())}")

    # -- pseudo parameters -------------------------------------------------
    def _pseudo(self, name: str) -> Any:
        return {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack_name,
            # A UUID per stack, as CloudFormation gives each stack its own: names built from
            # it differ between two local stacks as they do between two deployed ones.
            "AWS::StackId": (
                f"arn:aws:cloudformation:{self.region}:{self.account_id}:stack/"
                f"{self.stack_name}/{self._stack_uuid}"
            ),
            "AWS::NotificationARNs": [],
            "AWS::NoValue": NO_VALUE,
        }.get(name, _MISSING)

    # -- conditions ----------------------------------------------------------
    def condition(self, name: str) -> bool:
        """The value of a named condition from the template's Conditions section."""
        if name not in self._conditions:
            conditions: dict[str, Any] = self.template.get("Conditions") or {}
            if name not in conditions:
                raise TemplateError(f"condition {name!r} is not defined in Conditions")
            self._conditions[name] = bool(self.resolve(conditions[name], f"Conditions.{name}"))
        return self._conditions[name]

    def resource_enabled(self, logical_id: str) -> bool:
        """False when the resource carries a Condition that evaluates to false."""
        resource = self.template["Resources"][logical_id]
        cond = resource.get("Condition")
        return cond is None or self.condition(str(cond))

    # -- evaluation ----------------------------------------------------------
    def resolve(self, value: Any, where: str = "") -> Any:
        """Evaluate every intrinsic function inside ``value``; ``where`` locates errors."""
        result = self._resolve(value, where)
        return None if result is NO_VALUE else result

    def _resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, list):
            items = [self._resolve(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return [v for v in items if v is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = _INTRINSICS.get(key)
            if handler is not None:
                return handler(self, arg, f"{where}.{key}" if where else key)
        out: dict[str, Any] = {}
        for k, v in value.items():
            resolved = self._resolve(v, f"{where}.{k}" if where else str(k))
            if resolved is not NO_VALUE:
                out[k] = resolved
        return out

    def _ref(self, arg: Any, where: str) -> Any:
        name = str(arg)
        pseudo = self._pseudo(name)
        if pseudo is not _MISSING:
            return pseudo
        if name in self.parameters:
            return self.parameters[name]
        if name in self.resources:
            return self.resources[name].ref
        if name in self.template["Resources"]:
            raise TemplateError(f"{where}: resource {name} is not provisioned locally")
        raise TemplateError(f"{where}: !Ref to unknown name {name!r}")

    def _get_att(self, arg: Any, where: str) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        logical_id, attribute = str(arg[0]), str(self._resolve(arg[1], where))
        known = self.resources.get(logical_id)
        if known is None:
            raise TemplateError(f"{where}: resource {logical_id} is not provisioned locally")
        if attribute not in known.attributes:
            raise TemplateError(
                f"{where}: {logical_id} has no attribute {attribute!r} locally "
                f"(known: {', '.join(sorted(known.attributes)) or 'none'})"
            )
        return known.attributes[attribute]

    def _sub(self, arg: Any, where: str) -> str:
        if isinstance(arg, list):
            text, variables = str(arg[0]), dict(arg[1])
        else:
            text, variables = str(arg), {}
        local = {k: self._resolve(v, f"{where}.{k}") for k, v in variables.items()}

        def replace(match: re.Match[str]) -> str:
            token = match.group(1)
            if token.startswith("!"):
                return "${" + token[1:] + "}"  # ${!Literal} is written out as ${Literal}
            if token in local:
                return _to_text(local[token])
            if "." in token and not token.startswith("AWS::"):
                logical_id, attribute = token.split(".", 1)
                return _to_text(self._get_att([logical_id, attribute], where))
            return _to_text(self._ref(token, where))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def _join(self, arg: Any, where: str) -> str:
        sep, items = arg
        parts = self._resolve(items, where)
        return str(sep).join(_to_text(p) for p in parts)

    def _if(self, arg: Any, where: str) -> Any:
        cond, when_true, when_false = arg
        chosen = when_true if self.condition(str(cond)) else when_false
        return self._resolve(chosen, where)

    def _equals(self, arg: Any, where: str) -> bool:
        left, right = (self._resolve(a, where) for a in arg)
        return _to_text(left) == _to_text(right)

    def _not(self, arg: Any, where: str) -> bool:
        return not bool(self._resolve(arg[0], where))

    def _and(self, arg: Any, where: str) -> bool:
        return all(bool(self._resolve(a, where)) for a in arg)

    def _or(self, arg: Any, where: str) -> bool:
        return any(bool(self._resolve(a, where)) for a in arg)

    def _contains(self, arg: Any, where: str) -> bool:
        """``Fn::Contains`` (Rules only): whether the list holds the string."""
        items, value = (self._resolve(a, where) for a in arg)
        return _to_text(value) in [_to_text(i) for i in items]

    def _condition_ref(self, arg: Any, where: str) -> bool:
        return self.condition(str(arg))

    def _select(self, arg: Any, where: str) -> Any:
        index, items = arg
        items = self._resolve(items, where)
        return items[int(self._resolve(index, where))]

    def _split(self, arg: Any, where: str) -> list[str]:
        sep, text = arg
        return str(self._resolve(text, where)).split(str(sep))

    def _find_in_map(self, arg: Any, where: str) -> Any:
        map_name, top, second = (self._resolve(a, where) for a in arg)
        try:
            return self.template["Mappings"][map_name][top][second]
        except (KeyError, TypeError) as exc:
            raise TemplateError(f"{where}: no mapping {map_name}.{top}.{second}") from exc

    def _get_azs(self, arg: Any, where: str) -> list[str]:
        return [f"{self.region}{suffix}" for suffix in "abc"]

    def _base64(self, arg: Any, where: str) -> str:
        return base64.b64encode(_to_text(self._resolve(arg, where)).encode()).decode()

    def _to_json_string(self, arg: Any, where: str) -> str:
        return json.dumps(self._resolve(arg, where), separators=(",", ":"))

    def _import_value(self, arg: Any, where: str) -> Any:
        raise TemplateError(f"{where}: Fn::ImportValue needs another stack; not available locally")


_MISSING = object()

_INTRINSICS: dict[str, Callable[[Resolver, Any, str], Any]] = {
    "Ref": Resolver._ref,
    "Fn::GetAtt": Resolver._get_att,
    "Fn::Sub": Resolver._sub,
    "Fn::Join": Resolver._join,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": Resolver._not,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
    "Fn::Contains": Resolver._contains,
    "Condition": Resolver._condition_ref,
    "Fn::Select": Resolver._select,
    "Fn::Split": Resolver._split,
    "Fn::FindInMap": Resolver._find_in_map,
    "Fn::GetAZs": Resolver._get_azs,
    "Fn::Base64": Resolver._base64,
    "Fn::ToJsonString": Resolver._to_json_string,
    "Fn::ImportValue": Resolver._import_value,
}


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_.:-]+)\}")


def render_definition(definition: str, substitutions: Mapping[str, Any]) -> str:
    """Apply SAM ``DefinitionSubstitutions`` to an ASL document, as SAM does on deploy.

    Every ``${Name}`` must be a key of ``substitutions``; a leftover placeholder would
    reach Step Functions as a literal, so it is an error naming the placeholder.
    """
    missing: set[str] = set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in substitutions:
            missing.add(name)
            return match.group(0)
        return _to_text(substitutions[name])

    rendered = _PLACEHOLDER.sub(replace, definition)
    if missing:
        raise TemplateError(
            "DefinitionSubstitutions has no value for "
            + ", ".join(f"${{{m}}}" for m in sorted(missing))
        )
    return rendered


def merged_function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's properties with the template's Globals.Function merged in, as SAM does.

    Maps merge key by key (Environment.Variables included); any other value set on the
    function replaces the global one.
    """
    globals_: dict[str, Any] = (template.get("Globals") or {}).get("Function") or {}
    own: dict[str, Any] = template["Resources"][logical_id].get("Properties") or {}
    return _merge(globals_, own)


def merged_properties(template: dict[str, Any], logical_id: str, section: str) -> dict[str, Any]:
    """Properties of a resource merged with ``Globals.<section>`` (Function, HttpApi ...)."""
    globals_: dict[str, Any] = (template.get("Globals") or {}).get(section) or {}
    own: dict[str, Any] = template["Resources"][logical_id].get("Properties") or {}
    return _merge(globals_, own)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and not _is_intrinsic(value):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in _INTRINSICS
