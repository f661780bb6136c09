"""What provisioning the template hands to the rest of the local stack.

The records here are what the HTTP API (`Route`), the EventBridge bridge (`BridgeRule`,
`BridgeTarget`), the Lambda endpoint (`FunctionSpec`) and the Step Functions side
(`StateMachineInfo`) are built from; `Provisioned` holds them with the resolver that knows
every resource's ``!Ref`` value and attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scalper.local.jwt_auth import JwtAuthorizer
from scalper.local.lambda_runtime import FunctionSpec
from scalper.local.template import Resolver


@dataclass(frozen=True)
class Route:
    """One HTTP API route served by a function."""

    api: str  # logical id of the HttpApi
    method: str  # upper case, or "ANY"
    path: str  # e.g. /uploads, may hold {param} segments
    function: str  # logical id
    auth: str  # "NONE", "AWS_IAM" or "JWT"
    payload_format: str = "2.0"
    authorizer: JwtAuthorizer | None = None  # the JWT authoriser of a "JWT" route
    scopes: tuple[str, ...] = ()  # its authorisation scopes (any one is enough)


@dataclass(frozen=True)
class BridgeTarget:
    """A rule target the local EventBridge bridge delivers to."""

    target_id: str
    arn: str
    max_retry_attempts: int = 185
    max_event_age_seconds: int = 86400
    dead_letter_arn: str | None = None
    input_path: str | None = None
    input: str | None = None


@dataclass(frozen=True)
class BridgeRule:
    """An EventBridge rule with its pattern (resolved JSON) and targets."""

    logical_id: str
    name: str
    arn: str
    event_bus: str
    pattern: str
    enabled: bool
    targets: tuple[BridgeTarget, ...]


@dataclass(frozen=True)
class StateMachineInfo:
    """One state machine as created locally."""

    logical_id: str
    name: str
    arn: str
    definition: str
    type: str


@dataclass
class Provisioned:
    """Everything the rest of the local stack needs from the template."""

    resolver: Resolver
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    rules: list[BridgeRule] = field(default_factory=list)
    state_machines: dict[str, StateMachineInfo] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> str:
        """The ``!Ref`` value of a resource (bucket name, table name, topic ARN, ...)."""
        return self.resolver.resources[logical_id].ref

    def attr(self, logical_id: str, attribute: str) -> Any:
        """A ``!GetAtt`` attribute of a resource."""
        return self.resolver.resources[logical_id].attributes[attribute]

    def of_type(self, resource_type: str) -> list[str]:
        """Logical ids of the provisioned resources of one CloudFormation type."""
        resources: dict[str, Any] = self.resolver.template["Resources"]
        return [
            lid
            for lid, res in resources.items()
            if res.get("Type") == resource_type and lid in self.resolver.resources
        ]
