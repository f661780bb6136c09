"""The shape of one resource type's provisioner, and the naming helpers they share.

Provisioning runs in three passes over the template's enabled resources, as CloudFormation
would see them:

1. `ResourceProvisioner.assign_names`: the physical name, ``!Ref`` value and ``!GetAtt``
   attributes, with no AWS call -- deterministic, so resources can refer to each other in
   any order (and ``scalper sfn-mock`` renders definitions from this pass alone);
2. `ResourceProvisioner.create`: the resource on moto, from its resolved properties, in
   the registry's order (a queue before the rule whose dead-letter queue it is);
3. `ResourceProvisioner.wire`: once everything exists, what connects it to the rest of the
   local stack (a function's HTTP API routes, the EventBridge bridge's note).

A provisioner records what the local stack cannot provide as a gap, never silently.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, ClassVar

from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class ResourceProvisioner:
    """How the local stack names, creates and wires one CloudFormation resource type.

    The defaults suit a resource nothing refers to by attribute and moto need not hold
    (policies, permissions...): named ``<stack>-<LogicalId>``, nothing created.
    """

    resource_type: ClassVar[str] = ""

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """Pass 1: record the resource's ``!Ref`` value and attributes (no AWS call)."""
        stack.refs[logical_id] = ResourceRef(f"{stack.stack}-{logical_id}", {})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Pass 2: create the resource on moto."""

    def wire(self, stack: Provisioner, logical_id: str) -> None:
        """Pass 3, every resource created: connect it to the rest of the local stack."""


class NotCreated(ResourceProvisioner):
    """A resource type the local stack names but does not create, saying so once."""

    #: The gap recorded when the template has one ("" when there is nothing to say).
    gap_text: ClassVar[str] = ""

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Record the gap: the resource exists in the template, not in the local stack."""
        if self.gap_text:
            stack.gap(self.gap_text)


def short_hash(text: str, n: int = 10) -> str:
    """A stable short id derived from ``text`` (API ids, role ids)."""
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def uuid_from(text: str) -> str:
    """A stable UUID-shaped id derived from ``text`` (KMS key ids)."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


def role_ref(stack: Provisioner, role_id: str) -> ResourceRef:
    """The ``!Ref`` and attributes of an IAM role SAM creates beside a resource."""
    return ResourceRef(
        f"{stack.stack}-{role_id}"[:64],
        {
            "Arn": f"arn:aws:iam::{stack.account_id}:role/{stack.stack}-{role_id}"[:200],
            "RoleId": "AROALOCAL" + short_hash(role_id, 12).upper(),
        },
    )


def queue_ref(stack: Provisioner, name: str) -> ResourceRef:
    """The ``!Ref`` (its URL) and attributes of an SQS queue called ``name``."""
    region, account = stack.region, stack.account_id
    url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
    return ResourceRef(
        url,
        {"Arn": f"arn:aws:sqs:{region}:{account}:{name}", "QueueName": name, "QueueUrl": url},
    )
