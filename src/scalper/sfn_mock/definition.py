"""The state machine definition as the deployment renders it, for local test runs.

SAM deploys ``DefinitionUri: statemachine/pipeline.asl.json`` with its
``DefinitionSubstitutions`` resolved by CloudFormation (``!GetAtt TypeCheckFunction.Arn``,
``!Ref MetadataTable`` ...). :func:`load_definition` does the same offline with the local
stack's own code (one implementation for the project): its template reader and intrinsic
resolver (:mod:`scalper.local.template`) and its provisioner's naming pass, which gives each
resource the physical name and attributes CloudFormation would -- its explicit name property
when the template sets one, ``<stack>-<LogicalId>`` otherwise -- in moto's account and the
chosen region. So the definition the tests run is the deployed file with only the resource
names filled in, and its function ARNs are the ones the local Lambda endpoint serves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalper.local.provision import Provisioner
from scalper.local.template import (
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    Resolver,
    TemplateError,
    load_template,
    render_definition,
)

STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")


@dataclass(frozen=True)
class RenderedDefinition:
    """A state machine's ASL with its substitutions applied, and its name, as it would deploy."""

    logical_id: str
    name: str
    definition_path: Path
    definition: str
    substitutions: Mapping[str, Any]


def local_resolver(
    template: dict[str, Any],
    template_dir: Path,
    *,
    region: str = DEFAULT_REGION,
    stack_name: str = DEFAULT_STACK_NAME,
    overrides: Mapping[str, str] | None = None,
) -> Resolver:
    """A resolver that knows every resource under the name the local stack gives it.

    This is the local stack's own first provisioning pass (physical names, ``!Ref`` values
    and ``!GetAtt`` attributes, computed without any AWS call), so the function ARNs in a
    definition rendered here are the ones the local Lambda endpoint serves.
    """
    provisioner = Provisioner(
        template,
        template_dir,
        _NO_ENDPOINT,
        parameters=overrides,
        region=region,
        stack_name=stack_name,
    )
    return provisioner.name_resources()


# Never contacted: only the naming pass of the provisioner runs.
_NO_ENDPOINT = "http://127.0.0.1:9"


def state_machine_ids(template: dict[str, Any]) -> list[str]:
    """Logical ids of the template's state machines, in template order."""
    return [
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") in STATE_MACHINE_TYPES
    ]


def load_definition(
    template_path: Path,
    *,
    state_machine: str | None = None,
    region: str = DEFAULT_REGION,
    stack_name: str = DEFAULT_STACK_NAME,
    overrides: Mapping[str, str] | None = None,
) -> RenderedDefinition:
    """Render a state machine of ``template_path`` with its ``DefinitionSubstitutions``.

    ``state_machine`` is the logical id; None picks the template's only state machine.
    Raises ``TemplateError`` naming what is missing or unresolvable.
    """
    template = load_template(template_path)
    ids = state_machine_ids(template)
    if state_machine is None:
        if len(ids) != 1:
            raise TemplateError(
                f"{template_path}: expected one state machine, found {len(ids)} "
                f"({', '.join(ids) or 'none'}); name one"
            )
        state_machine = ids[0]
    elif state_machine not in ids:
        raise TemplateError(
            f"{template_path}: no state machine {state_machine!r} (found: {', '.join(ids)})"
        )
    properties: dict[str, Any] = template["Resources"][state_machine].get("Properties") or {}
    uri = properties.get("DefinitionUri")
    if not isinstance(uri, str):
        raise TemplateError(
            f"{template_path}: {state_machine}.DefinitionUri must be a local file path"
        )
    definition_path = (template_path.parent / uri).resolve()
    try:
        text = definition_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TemplateError(f"{definition_path}: cannot read definition: {exc.strerror}") from None
    resolver = local_resolver(
        template, template_path.parent, region=region, stack_name=stack_name, overrides=overrides
    )
    substitutions = resolver.resolve(
        properties.get("DefinitionSubstitutions") or {},
        f"{state_machine}.DefinitionSubstitutions",
    )
    return RenderedDefinition(
        logical_id=state_machine,
        name=str(resolver.resources[state_machine].attributes["Name"]),
        definition_path=definition_path,
        definition=render_definition(text, substitutions),
        substitutions=substitutions,
    )
