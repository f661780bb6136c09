"""KMS keys and aliases: their ARNs and names resolve; nothing is encrypted locally."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalper.local.resources.base import NotCreated, uuid_from
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class KmsKey(NotCreated):
    """``AWS::KMS::Key``: not created in moto; the topic and policies that name it resolve."""

    resource_type = "AWS::KMS::Key"
    gap_text = "KMS keys are not created: their ARNs resolve, nothing is encrypted locally"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """A key id stable per stack and logical id, and its ARN."""
        key_id = uuid_from(f"{stack.stack}/{logical_id}")
        stack.refs[logical_id] = ResourceRef(
            key_id,
            {"Arn": f"arn:aws:kms:{stack.region}:{stack.account_id}:key/{key_id}", "KeyId": key_id},
        )


class KmsAlias(NotCreated):
    """``AWS::KMS::Alias``: resolves to its ``AliasName``."""

    resource_type = "AWS::KMS::Alias"
    gap_text = "KMS aliases resolve to their names; nothing is encrypted locally"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``!Ref`` is the alias name itself."""
        name = stack.resolve(stack.properties(logical_id)["AliasName"], logical_id)
        stack.refs[logical_id] = ResourceRef(str(name), {})
