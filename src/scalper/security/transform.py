"""Transform a SAM template to plain CloudFormation offline, as CloudFormation would.

Scanners that read only the SAM file miss what SAM generates: the functions' execution
roles, the HTTP API's routes and stage, the state machine's logging and tracing, the
EventBridge rule and its dead-letter target. aws-sam-translator is the code CloudFormation's
``AWS::Serverless`` transform runs; driving it here needs two things it would otherwise fetch:

- a managed-policy map (normally listed from IAM): :class:`OfflineManagedPolicyLoader` knows
  the AWS managed policies SAM templates commonly name, and refuses any other by name;
- artifacts in S3: local ``CodeUri`` / ``ContentUri`` / ``DefinitionUri`` paths are replaced by
  ``s3://`` locations, as ``sam package`` would (:func:`with_s3_artifacts`).

No network, no AWS credentials.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

#: Bucket named in the stand-in artifact locations (never contacted).
ARTIFACT_BUCKET = "silent-scalper-artifacts-offline"

#: Pseudo parameters the translator resolves (it would otherwise ask boto3 for the region).
PSEUDO_PARAMETERS: dict[str, str] = {
    "AWS::Region": "us-east-1",
    "AWS::AccountId": "123456789012",
    "AWS::Partition": "aws",
    "AWS::StackName": "silent-scalper-scan",
    "AWS::URLSuffix": "amazonaws.com",
}

#: SAM resource types and the properties that name a local artifact.
ARTIFACT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "AWS::Serverless::Function": ("CodeUri",),
    "AWS::Serverless::LayerVersion": ("ContentUri",),
    "AWS::Serverless::StateMachine": ("DefinitionUri",),
    "AWS::Serverless::Api": ("DefinitionUri",),
    "AWS::Serverless::HttpApi": ("DefinitionUri",),
}

#: AWS managed policies by name (the ones SAM templates and SAM itself commonly attach).
MANAGED_POLICIES: dict[str, str] = {
    name: f"arn:aws:iam::aws:policy/{path}"
    for name, path in {
        "AWSLambdaBasicExecutionRole": "service-role/AWSLambdaBasicExecutionRole",
        "AWSLambdaVPCAccessExecutionRole": "service-role/AWSLambdaVPCAccessExecutionRole",
        "AWSXrayWriteOnlyAccess": "AWSXrayWriteOnlyAccess",
        "AWSXRayDaemonWriteAccess": "AWSXRayDaemonWriteAccess",
        "CloudWatchLambdaInsightsExecutionRolePolicy": (
            "CloudWatchLambdaInsightsExecutionRolePolicy"
        ),
    }.items()
}


class TransformError(ValueError):
    """The SAM template could not be transformed; the message lists SAM's own reasons."""


class OfflineManagedPolicyLoader:
    """Stands in for samtranslator's IAM-backed ``ManagedPolicyLoader`` (same ``load()``)."""

    def __init__(self, policies: Mapping[str, str] | None = None) -> None:
        self._policies = dict(MANAGED_POLICIES if policies is None else policies)

    def load(self) -> dict[str, str]:
        """Managed policy name -> ARN."""
        return dict(self._policies)


def s3_location(local_path: str) -> str:
    """The stand-in ``s3://`` URI of a local artifact path (stable, derived from the path)."""
    key = local_path.strip().strip("/").replace("\\", "/") or "root"
    return f"s3://{ARTIFACT_BUCKET}/{key}"


def with_s3_artifacts(template: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` whose local artifact paths are ``s3://`` URIs.

    Paths already in S3 (``s3://`` strings or ``{Bucket, Key}`` mappings) are left alone, as
    are inline definitions. ``Globals.Function.CodeUri`` is rewritten too.
    """
    out = copy.deepcopy(dict(template))
    for resource in out.get("Resources", {}).values():
        if not isinstance(resource, dict):
            continue
        props = resource.get("Properties")
        if not isinstance(props, dict):
            continue
        for prop in ARTIFACT_PROPERTIES.get(str(resource.get("Type")), ()):
            value = props.get(prop)
            if isinstance(value, str) and not value.startswith("s3://"):
                props[prop] = s3_location(value)
    function_globals = out.get("Globals", {}).get("Function", {})
    code_uri = function_globals.get("CodeUri") if isinstance(function_globals, dict) else None
    if isinstance(code_uri, str) and not code_uri.startswith("s3://"):
        function_globals["CodeUri"] = s3_location(code_uri)
    return out


def sam_to_cfn(
    template: Mapping[str, Any],
    *,
    parameters: Mapping[str, Any] | None = None,
    policy_loader: OfflineManagedPolicyLoader | None = None,
) -> dict[str, Any]:
    """Transform a SAM template (as loaded by :func:`scalper.local.template.load_template`).

    ``parameters`` override the template's defaults; pseudo parameters are fixed stand-ins.
    Each resource's ``Metadata`` (scanner skips included) is passed through to the resources
    SAM generates from it, as ``sam build`` and ``sam deploy`` do.
    """
    values: dict[str, Any] = dict(PSEUDO_PARAMETERS)
    values.update(parameters or {})
    loader = policy_loader or OfflineManagedPolicyLoader()
    fragment = with_s3_artifacts(template)
    # What samtranslator.translator.transform.transform does, but with a boto3 session that
    # names the region: the translator asks the session, never the network, for it.
    to_py27_compatible_template(fragment, values)
    translator = Translator(
        None, Parser(), boto_session=boto3.session.Session(region_name=values["AWS::Region"])
    )
    try:
        result = translator.translate(
            fragment,
            parameter_values=values,
            passthrough_metadata=True,
            get_managed_policy_map=loader.load,
        )
    except InvalidDocumentException as exc:
        reasons = "; ".join(str(cause) for cause in exc.causes)
        raise TransformError(f"SAM transform failed: {reasons}") from None
    result = undo_mark_unicode_str_in_template(result)
    if not isinstance(result, dict):
        raise TransformError("SAM transform returned no template")
    return result


def write_json(template: Mapping[str, Any], path: Path) -> Path:
    """Write a template as indented JSON (creating folders); returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(template, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return path
