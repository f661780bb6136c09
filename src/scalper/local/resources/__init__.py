"""How the local stack provisions each CloudFormation resource type: one class per type.

`CREATED_IN_ORDER` is the registry and the creation order at once: a resource is created
after the types listed before its own (keys and log groups first, user pools before what
resolves their ids, queues before the rules that name them as dead-letter queues, functions
before the state machines that call them). Types in `NAMED_ONLY` are named for the
references to them but never created (IAM, resource policies, alarms); they keep template
order after the rest. A type in neither gets the default name and a gap.

To change how the local stack provisions a type, change its class; to support a new type,
write a `ResourceProvisioner` in the module of its service and list it here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalper.local.resources.base import ResourceProvisioner
from scalper.local.resources.cognito import UserPool, UserPoolClient
from scalper.local.resources.dynamodb import Table
from scalper.local.resources.eventbridge import Rule
from scalper.local.resources.http_api import HttpApi
from scalper.local.resources.kms import KmsAlias, KmsKey
from scalper.local.resources.lambda_functions import Function, LayerVersion
from scalper.local.resources.observability import Alarm, LogGroup
from scalper.local.resources.policies import (
    BucketPolicy,
    IamManagedPolicy,
    IamPolicy,
    IamRole,
    LambdaPermission,
    QueuePolicy,
    TopicPolicy,
)
from scalper.local.resources.s3 import Bucket
from scalper.local.resources.sns import Subscription, Topic
from scalper.local.resources.sqs import Queue
from scalper.local.resources.step_functions import StateMachine

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

CREATED_IN_ORDER: tuple[ResourceProvisioner, ...] = (
    KmsKey(),
    KmsAlias(),
    LogGroup(),
    UserPool(),
    UserPoolClient(),
    Queue(),
    Topic(),
    Bucket(),
    Table(),
    LayerVersion(),
    Function(),
    HttpApi(),
    StateMachine(),
    Rule(),
    Subscription(),
)
NAMED_ONLY: tuple[ResourceProvisioner, ...] = (
    IamRole(),
    IamPolicy(),
    IamManagedPolicy(),
    BucketPolicy(),
    TopicPolicy(),
    QueuePolicy(),
    LambdaPermission(),
    Alarm(),
)
REGISTRY: dict[str, ResourceProvisioner] = {
    p.resource_type: p for p in (*CREATED_IN_ORDER, *NAMED_ONLY)
}
_RANK = {p.resource_type: rank for rank, p in enumerate(CREATED_IN_ORDER)}


class Unsupported(ResourceProvisioner):
    """A type no provisioner knows: named by default, reported as a gap."""

    def __init__(self, resource_type: str) -> None:
        self.type_name = resource_type

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Record that the local stack does not provide it."""
        stack.gap(f"{logical_id} ({self.type_name}): not provided by the local stack")


def provisioner_for(resource_type: str) -> ResourceProvisioner:
    """The provisioner of ``resource_type`` (`Unsupported` when there is none)."""
    return REGISTRY.get(resource_type) or Unsupported(resource_type)


def creation_rank(resource_type: str) -> int:
    """Where resources of ``resource_type`` are created (named-only types last, together)."""
    return _RANK.get(resource_type, len(CREATED_IN_ORDER))


__all__ = [
    "CREATED_IN_ORDER",
    "NAMED_ONLY",
    "REGISTRY",
    "ResourceProvisioner",
    "Unsupported",
    "creation_rank",
    "provisioner_for",
]
