"""SQS queues."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scalper.local.resources.base import ResourceProvisioner, queue_ref

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

#: Queue properties passed to CreateQueue as attributes (CloudFormation's names are the API's).
_ATTRIBUTES = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "FifoQueue",
    "ContentBasedDeduplication",
)


class Queue(ResourceProvisioner):
    """``AWS::SQS::Queue``: created with its attributes and redrive policy."""

    resource_type = "AWS::SQS::Queue"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``QueueName`` or ``<stack>-<LogicalId>`` (``.fifo`` added for a FIFO queue)."""
        name = stack.physical_name(logical_id, "QueueName", limit=80)
        if stack.properties(logical_id).get("FifoQueue") and not name.endswith(".fifo"):
            name += ".fifo"
        stack.refs[logical_id] = queue_ref(stack, name)

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateQueue with the template's attributes (booleans as SQS spells them)."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        attrs: dict[str, str] = {}
        for key in _ATTRIBUTES:
            if key in props:
                value = props[key]
                attrs[key] = str(value).lower() if isinstance(value, bool) else str(value)
        if "RedrivePolicy" in props:
            attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        stack.client("sqs").create_queue(
            QueueName=stack.refs[logical_id].attributes["QueueName"], Attributes=attrs
        )
