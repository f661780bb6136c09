"""CloudWatch Logs log groups (created) and CloudWatch alarms (named, not created)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scalper.local.log_subscriptions import FilterPatternError, LogSubscription
from scalper.local.resources.base import NotCreated, ResourceProvisioner
from scalper.local.template import ResourceRef, TemplateError

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


class SubscriptionFilter(ResourceProvisioner):
    """``AWS::Logs::SubscriptionFilter`` with a Lambda destination: the local stack hands the
    log events its pattern matches to the function as CloudWatch Logs would (moto evaluates
    no JSON patterns and does not run the template's functions)."""

    resource_type = "AWS::Logs::SubscriptionFilter"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``FilterName`` or ``<stack>-<LogicalId>``."""
        name = stack.physical_name(logical_id, "FilterName", limit=512)
        stack.refs[logical_id] = ResourceRef(name, {})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Record the subscription (its pattern checked now, so a typo fails at start)."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        destination = str(props["DestinationArn"])
        if not destination.startswith("arn:aws:lambda:"):
            stack.gap(f"{logical_id}: only Lambda destinations are delivered locally")
            return
        subscription = LogSubscription(
            logical_id=logical_id,
            name=stack.refs[logical_id].ref,
            log_group=str(props["LogGroupName"]),
            pattern=str(props.get("FilterPattern", "")),
            destination_arn=destination,
        )
        try:
            subscription.matches({})
        except FilterPatternError as exc:
            raise TemplateError(f"{logical_id}.FilterPattern: {exc}") from exc
        stack.result.subscriptions.append(subscription)


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
