"""IAM roles, policies and resource policies: named, never enforced locally."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalper.local.resources.base import NotCreated, short_hash
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

_IAM = "IAM roles and policies are not enforced: every local call is allowed"


class IamRole(NotCreated):
    """``AWS::IAM::Role``: its name and ARN resolve (functions and policies name it)."""

    resource_type = "AWS::IAM::Role"
    gap_text = _IAM

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``RoleName`` or ``<stack>-<LogicalId>``, with its ARN and a stable role id."""
        name = stack.physical_name(logical_id, "RoleName", limit=64)
        stack.refs[logical_id] = ResourceRef(
            name,
            {
                "Arn": f"arn:aws:iam::{stack.account_id}:role/{name}",
                "RoleId": "AROALOCAL" + short_hash(name, 12).upper(),
            },
        )


class IamPolicy(NotCreated):
    """``AWS::IAM::Policy``."""

    resource_type = "AWS::IAM::Policy"
    gap_text = _IAM


class IamManagedPolicy(NotCreated):
    """``AWS::IAM::ManagedPolicy``."""

    resource_type = "AWS::IAM::ManagedPolicy"
    gap_text = _IAM


class BucketPolicy(NotCreated):
    """``AWS::S3::BucketPolicy``."""

    resource_type = "AWS::S3::BucketPolicy"
    gap_text = "bucket policies (TLS-only, deny rules) are not enforced"


class TopicPolicy(NotCreated):
    """``AWS::SNS::TopicPolicy``."""

    resource_type = "AWS::SNS::TopicPolicy"
    gap_text = "SNS topic policies are not enforced"


class QueuePolicy(NotCreated):
    """``AWS::SQS::QueuePolicy``."""

    resource_type = "AWS::SQS::QueuePolicy"
    gap_text = "SQS queue policies are not enforced"


class LambdaPermission(NotCreated):
    """``AWS::Lambda::Permission``."""

    resource_type = "AWS::Lambda::Permission"
    gap_text = "Lambda resource policies are not enforced"
