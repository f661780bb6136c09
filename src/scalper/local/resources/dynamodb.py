"""DynamoDB tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalper.local.resources.base import ResourceProvisioner
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class Table(ResourceProvisioner):
    """``AWS::DynamoDB::Table``: created with its keys, indexes, stream, TTL and PITR."""

    resource_type = "AWS::DynamoDB::Table"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``TableName`` or ``<stack>-<LogicalId>``, its ARN and stream ARN."""
        name = stack.physical_name(logical_id, "TableName", limit=255)
        arn = f"arn:aws:dynamodb:{stack.region}:{stack.account_id}:table/{name}"
        stack.refs[logical_id] = ResourceRef(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateTable, then TTL and point-in-time recovery when the template turns them on."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        args: dict[str, Any] = {
            "TableName": stack.refs[logical_id].ref,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                args[key] = props[key]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb = stack.client("dynamodb")
        ddb.create_table(**args)
        if (props.get("TimeToLiveSpecification") or {}).get("Enabled"):
            ddb.update_time_to_live(
                TableName=args["TableName"],
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
                },
            )
            stack.gap("DynamoDB TTL is recorded but items never expire locally")
        if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=args["TableName"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )
