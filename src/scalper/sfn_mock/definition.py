"""The state machine definition as the deployment renders it, for local test runs.

SAM deploys ``DefinitionUri: statemachine/pipeline.asl.json`` with its
``DefinitionSubstitutions`` resolved by CloudFormation (``!GetAtt TypeCheckFunction.Arn``,
``!Ref MetadataTable`` ...). :func:`load_definition` does the same offline, with the local
stack's template reader and intrinsic resolver (:mod:`scalper.local.template`, one
implementation for the project): each resource gets the physical name and attributes
CloudFormation would give it -- its explicit name property when the template sets one,
``<stack>-<LogicalId>`` otherwise -- in moto's account and the chosen region. So the
definition the tests run is the deployed file with only the resource names filled in.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalper.local.template import (
    ACCOUNT_ID,
    DEFAULT_REGION,
    DEFAULT_STACK_NAME,
    Resolver,
    ResourceRef,
    TemplateError,
    load_template,
    render_definition,
)

STATE_MACHINE_TYPES = ("AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine")

# The property that names a resource explicitly, per type (CloudFormation's physical name).
_NAME_PROPERTY = {
    "AWS::Serverless::Function": "FunctionName",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::Serverless::SimpleTable": "TableName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SQS::Queue": "QueueName",
    "AWS::Serverless::StateMachine": "Name",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::Role": "RoleName",
}


@dataclass(frozen=True)
class RenderedDefinition:
    """A state machine's ASL with its substitutions applied, and its name, as it would deploy."""

    logical_id: str
    name: str
    definition_path: Path
    definition: str
    substitutions: Mapping[str, Any]


def _ref_for(type_: str, logical_id: str, name: str, *, region: str, account: str) -> ResourceRef:
    """What ``!Ref`` and ``!GetAtt`` give for a resource of ``type_`` named ``name``."""
    if type_ in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
        arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
        return ResourceRef(name, {"Arn": arn})
    if type_ in ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable"):
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        return ResourceRef(name, {"Arn": arn, "StreamArn": f"{arn}/stream/1970-01-01T00:00:00"})
    if type_ == "AWS::SNS::Topic":
        arn = f"arn:aws:sns:{region}:{account}:{name}"
        return ResourceRef(arn, {"TopicArn": arn, "TopicName": name})
    if type_ == "AWS::S3::Bucket":
        return ResourceRef(
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
            },
        )
    if type_ == "AWS::SQS::Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        arn = f"arn:aws:sqs:{region}:{account}:{name}"
        return ResourceRef(url, {"Arn": arn, "QueueName": name, "QueueUrl": url})
    if type_ in STATE_MACHINE_TYPES:
        arn = f"arn:aws:states:{region}:{account}:stateMachine:{name}"
        return ResourceRef(arn, {"Arn": arn, "Name": name})
    if type_ == "AWS::Logs::LogGroup":
        return ResourceRef(name, {"Arn": f"arn:aws:logs:{region}:{account}:log-group:{name}:*"})
    if type_ == "AWS::IAM::Role":
        return ResourceRef(name, {"Arn": f"arn:aws:iam::{account}:role/{name}"})
    if type_ == "AWS::KMS::Key":
        key_id = f"00000000-0000-0000-0000-{zlib.crc32(logical_id.encode()):012d}"
        return ResourceRef(key_id, {"Arn": f"arn:aws:kms:{region}:{account}:key/{key_id}"})
    return ResourceRef(name)


def local_resolver(
    template: dict[str, Any],
    *,
    region: str = DEFAULT_REGION,
    account_id: str = ACCOUNT_ID,
    stack_name: str = DEFAULT_STACK_NAME,
    overrides: Mapping[str, str] | None = None,
) -> Resolver:
    """A resolver that knows every resource under the name CloudFormation would give it."""
    resolver = Resolver(
        template,
        region=region,
        account_id=account_id,
        stack_name=stack_name,
        overrides=dict(overrides or {}),
    )
    resources: dict[str, Any] = template["Resources"]

    def default_name(logical_id: str, type_: str) -> str:
        name = f"{stack_name}-{logical_id}"
        return name.lower() if type_ == "AWS::S3::Bucket" else name

    for logical_id, resource in resources.items():
        type_ = str(resource.get("Type", ""))
        resolver.resources[logical_id] = _ref_for(
            type_, logical_id, default_name(logical_id, type_), region=region, account=account_id
        )
    # Explicit names may refer to parameters or other resources: resolve them once every
    # resource has its default, and let the explicit name win.
    for logical_id, resource in resources.items():
        type_ = str(resource.get("Type", ""))
        name_property = _NAME_PROPERTY.get(type_)
        properties = resource.get("Properties") or {}
        if name_property and name_property in properties:
            name = resolver.resolve(properties[name_property], f"{logical_id}.{name_property}")
            if name is not None:
                resolver.resources[logical_id] = _ref_for(
                    type_, logical_id, str(name), region=region, account=account_id
                )
    return resolver


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
    account_id: str = ACCOUNT_ID,
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
        template,
        region=region,
        account_id=account_id,
        stack_name=stack_name,
        overrides=overrides,
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
