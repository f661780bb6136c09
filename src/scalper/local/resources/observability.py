"""CloudWatch Logs log groups (created) and CloudWatch alarms (named, not created)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalper.local.resources.base import NotCreated, ResourceProvisioner
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class LogGroup(ResourceProvisioner):
    """``AWS::Logs::LogGroup``: created empty (the local Lambdas log to files)."""

    resource_type = "AWS::Logs::LogGroup"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``LogGroupName`` or ``<stack>-<LogicalId>``, and its ARN."""
        name = stack.physical_name(logical_id, "LogGroupName", limit=512)
        stack.refs[logical_id] = ResourceRef(
            name, {"Arn": f"arn:aws:logs:{stack.region}:{stack.account_id}:log-group:{name}:*"}
        )

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateLogGroup under its name."""
        stack.client("logs").create_log_group(logGroupName=stack.refs[logical_id].ref)


class Alarm(NotCreated):
    """``AWS::CloudWatch::Alarm``: its name and ARN resolve (dashboards name it)."""

    resource_type = "AWS::CloudWatch::Alarm"
    gap_text = "CloudWatch alarms are not created: moto never evaluates them, so none could fire"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``AlarmName`` or ``<stack>-<LogicalId>``, and its ARN."""
        name = stack.physical_name(logical_id, "AlarmName", limit=255)
        stack.refs[logical_id] = ResourceRef(
            name, {"Arn": f"arn:aws:cloudwatch:{stack.region}:{stack.account_id}:alarm:{name}"}
        )
