"""Create the template's resources on moto, from ``template.yaml`` itself.

`Provisioner` runs the passes CloudFormation's view of a stack needs over the resources
whose ``Condition`` holds (a resource whose condition is false is simply not part of the
stack): every resource is named first, then created in dependency order, then wired to the
rest of the local stack. What each resource type needs is its own class in
:mod:`scalper.local.resources`, looked up by type; this module only runs the passes and
offers those classes the stack they build into (clients, resolver, gaps). What the local
stack cannot provide is collected in `Provisioned.gaps` (printed at start), never skipped
silently.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from scalper.local.provisioned import (
    BridgeRule,
    BridgeTarget,
    Provisioned,
    Route,
    StateMachineInfo,
)
from scalper.local.resources import creation_rank, provisioner_for
from scalper.local.template import Resolver, ResourceRef, TemplateError

LOCAL_ACCESS_KEY = "testing"  # moto's documented dummy credentials
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - not a secret: the local stack's fixed test key

__all__ = [
    "LOCAL_ACCESS_KEY",
    "LOCAL_SECRET_KEY",
    "BridgeRule",
    "BridgeTarget",
    "Provisioned",
    "Provisioner",
    "Route",
    "StateMachineInfo",
]


class Provisioner:
    """Provision one template on the moto endpoint at ``endpoint_url``.

    The attributes and methods below are what a resource provisioner builds with.
    """

    def __init__(
        self,
        template: dict[str, Any],
        template_dir: Path,
        endpoint_url: str,
        *,
        parameters: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        stack_name: str = "scalper-local",
        api_url: Callable[[str], str] | None = None,
        function_env: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.template_dir = template_dir
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack = stack_name
        self.api_url = api_url or (
            lambda api_id: f"https://{api_id}.execute-api.{region}.amazonaws.com"
        )
        self.function_env = dict(function_env or {})
        self.resolver = Resolver(
            template, region=region, stack_name=stack_name, overrides=dict(parameters or {})
        )
        self.result = Provisioned(self.resolver)
        self._config = Config(retries={"max_attempts": 1}, parameter_validation=True)

    # -- what resource provisioners build with ------------------------------------------
    @property
    def account_id(self) -> str:
        """The stack's account id."""
        return self.resolver.account_id

    @property
    def refs(self) -> dict[str, ResourceRef]:
        """Every named resource's ``!Ref`` value and attributes, by logical id."""
        return self.resolver.resources

    def client(self, service: str) -> Any:
        """A boto3 client on the moto endpoint (no retries: a failure is reported at once)."""
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
            config=self._config,
        )

    def gap(self, text: str) -> None:
        """Record something the template asks for that the local stack does not provide."""
        if text not in self.result.gaps:
            self.result.gaps.append(text)

    def properties(self, logical_id: str) -> dict[str, Any]:
        """A resource's ``Properties`` as written (unresolved)."""
        props: dict[str, Any] = self._resources[logical_id].get("Properties") or {}
        return props

    def resolve(self, value: Any, where: str) -> Any:
        """``value`` with its intrinsic functions resolved (``where`` names it in errors)."""
        return self.resolver.resolve(value, where)

    def physical_name(
        self, logical_id: str, prop: str | None, *, lower: bool = False, limit: int = 64
    ) -> str:
        """The name property ``prop`` when the template sets it, else the name
        CloudFormation would generate, ``<stack>-<LogicalId>`` cut to ``limit``."""
        if prop is not None and prop in self.properties(logical_id):
            return str(self.resolve(self.properties(logical_id)[prop], f"{logical_id}.{prop}"))
        name = f"{self.stack}-{logical_id}"
        if lower:
            name = name.lower()
        return name[:limit]

    # -- the passes ------------------------------------------------------------------------
    @property
    def _resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def _type(self, logical_id: str) -> str:
        return str(self._resources[logical_id].get("Type"))

    def _enabled(self) -> list[str]:
        return [lid for lid in self._resources if self.resolver.resource_enabled(lid)]

    def name_resources(self) -> Resolver:
        """Pass 1 alone: every enabled resource's name, ``!Ref`` and attributes, no AWS call."""
        for lid in self._enabled():
            provisioner_for(self._type(lid)).assign_names(self, lid)
        return self.resolver

    def provision(self) -> Provisioned:
        """Run every pass; returns what was provisioned and the list of gaps."""
        self.name_resources()
        enabled = sorted(self._enabled(), key=lambda lid: creation_rank(self._type(lid)))
        for lid in enabled:
            kind = self._type(lid)
            try:
                provisioner_for(kind).create(self, lid)
            except TemplateError:
                raise
            except (ClientError, ParamValidationError, KeyError, OSError) as exc:
                raise TemplateError(f"cannot provision {lid} ({kind}) locally: {exc}") from exc
        for lid in enabled:
            provisioner_for(self._type(lid)).wire(self, lid)
        self._resolve_outputs()
        return self.result

    def _resolve_outputs(self) -> None:
        for name, output in (self.template.get("Outputs") or {}).items():
            if "Condition" in output and not self.resolver.condition(str(output["Condition"])):
                continue
            try:
                self.result.outputs[name] = self.resolve(output.get("Value"), f"Outputs.{name}")
            except TemplateError as exc:
                self.gap(f"output {name}: {exc}")
