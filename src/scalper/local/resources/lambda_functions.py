"""SAM functions (served by the local Lambda endpoint) and their layers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalper.local.lambda_runtime import FunctionSpec
from scalper.local.resources import http_api
from scalper.local.resources.base import ResourceProvisioner, role_ref
from scalper.local.template import ResourceRef, TemplateError, merged_function_properties

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

LAYER_TYPE = "AWS::Serverless::LayerVersion"


class Function(ResourceProvisioner):
    """``AWS::Serverless::Function``: a `FunctionSpec` for the local Lambda endpoint (local
    Python code only), and its HTTP API routes."""

    resource_type = "AWS::Serverless::Function"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``FunctionName`` or ``<stack>-<LogicalId>``, its ARN, and the role SAM adds."""
        name = stack.physical_name(logical_id, "FunctionName", limit=64)
        arn = f"arn:aws:lambda:{stack.region}:{stack.account_id}:function:{name}"
        stack.refs[logical_id] = ResourceRef(name, {"Arn": arn})
        role = f"{logical_id}Role"
        stack.refs.setdefault(role, role_ref(stack, role))

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Check the code is local Python and record how the endpoint runs it."""
        props = stack.resolve(merged_function_properties(stack.template, logical_id), logical_id)
        code_dir = _code_dir(stack, logical_id, props)
        runtime = str(props.get("Runtime", ""))
        if not runtime.startswith("python3"):
            raise TemplateError(
                f"{logical_id}.Runtime: the local stack runs Python functions only, got {runtime!r}"
            )
        layer_dirs = tuple(_layer_dir(stack, logical_id, str(a)) for a in props.get("Layers") or [])
        env = {
            k: _env_text(v)
            for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        _note_settings_not_applied(stack, props)
        ref = stack.refs[logical_id]
        stack.result.functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            name=ref.ref,
            arn=ref.attributes["Arn"],
            handler=str(props["Handler"]),
            code_dir=code_dir,
            layer_dirs=layer_dirs,
            environment={**env, **stack.function_env},
            timeout=int(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
        )

    def wire(self, stack: Provisioner, logical_id: str) -> None:
        """Its events: HTTP API routes for the local API; the others noted as gaps."""
        events = merged_function_properties(stack.template, logical_id).get("Events") or {}
        for event_id, event in events.items():
            kind = event.get("Type")
            where = f"{logical_id}.Events.{event_id}"
            props = stack.resolve(event.get("Properties") or {}, where)
            if kind == "HttpApi":
                http_api.add_route(stack, logical_id, event.get("Properties") or {}, props)
            elif kind == "DynamoDB":
                stack.gap(
                    f"{logical_id}.Events.{event_id}: DynamoDB stream records are polled and "
                    "delivered by the local streams bridge"
                )
            else:
                stack.gap(
                    f"{logical_id}.Events.{event_id} ({kind}): not provided by the local stack"
                )


class LayerVersion(ResourceProvisioner):
    """``AWS::Serverless::LayerVersion``: a folder on the functions' path, nothing created."""

    resource_type = LAYER_TYPE

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``!Ref`` is the layer version ARN (version 1)."""
        name = stack.physical_name(logical_id, "LayerName", limit=64)
        stack.refs[logical_id] = ResourceRef(
            f"arn:aws:lambda:{stack.region}:{stack.account_id}:layer:{name}:1", {}
        )


def _code_dir(stack: Provisioner, logical_id: str, props: dict[str, Any]) -> Path:
    code_uri = props.get("CodeUri", ".")
    if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
        raise TemplateError(
            f"{logical_id}.CodeUri: the local stack runs local code only, got {code_uri!r}"
        )
    code_dir = (stack.template_dir / code_uri).resolve()
    if not code_dir.is_dir():
        raise TemplateError(f"{logical_id}.CodeUri: {code_dir} is not a directory")
    return code_dir


def _note_settings_not_applied(stack: Provisioner, props: dict[str, Any]) -> None:
    stack.gap("Lambda logs go to one file per function in the log directory, not CloudWatch Logs")
    if "MemorySize" in props:
        stack.gap("Lambda MemorySize is not enforced (and CPU does not scale with it)")
    if props.get("Tracing") == "Active":
        stack.gap("X-Ray tracing: no daemon locally, Tracer is disabled in the workers")
    if "ReservedConcurrentExecutions" in props or "ProvisionedConcurrencyConfig" in props:
        stack.gap("Lambda concurrency settings are not applied (two warm workers per function)")
    if props.get("Architectures") and props["Architectures"] != ["x86_64"]:
        stack.gap(
            f"Lambda architecture {props['Architectures'][0]}: functions run on this machine's CPU"
        )


def _layer_dir(stack: Provisioner, logical_id: str, arn: str) -> Path:
    for layer_id in stack.result.of_type(LAYER_TYPE):
        if stack.refs[layer_id].ref == arn:
            props = stack.properties(layer_id)
            content = stack.template_dir / str(
                stack.resolve(props.get("ContentUri", "."), layer_id)
            )
            # A built layer keeps packages under python/ (what Lambda puts on sys.path
            # from /opt/python); a source layer with BuildMethod is the folder itself.
            return (content / "python") if (content / "python").is_dir() else content.resolve()
    raise TemplateError(
        f"{logical_id}.Layers: {arn} is not a layer of this template "
        "(external layers are not available locally)"
    )


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)
