"""SNS topics and subscriptions."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scalper.local.resources.base import ResourceProvisioner
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

#: Protocols moto records a subscription for but delivers nothing to.
_UNDELIVERED = ("email", "email-json", "sms", "http", "https", "application", "firehose")


class Topic(ResourceProvisioner):
    """``AWS::SNS::Topic``: created with its inline subscriptions."""

    resource_type = "AWS::SNS::Topic"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``TopicName`` or ``<stack>-<LogicalId>`` (``.fifo`` added); ``!Ref`` is the ARN."""
        name = stack.physical_name(logical_id, "TopicName", limit=256)
        if stack.properties(logical_id).get("FifoTopic") and not name.endswith(".fifo"):
            name += ".fifo"
        arn = f"arn:aws:sns:{stack.region}:{stack.account_id}:{name}"
        stack.refs[logical_id] = ResourceRef(arn, {"TopicArn": arn, "TopicName": name})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateTopic, then each inline ``Subscription``."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        attrs: dict[str, str] = {}
        if props.get("FifoTopic"):
            attrs["FifoTopic"] = "true"
        if "KmsMasterKeyId" in props:
            attrs["KmsMasterKeyId"] = str(props["KmsMasterKeyId"])
            stack.gap("KMS keys are not created: their ARNs resolve, nothing is encrypted locally")
        ref = stack.refs[logical_id]
        stack.client("sns").create_topic(Name=ref.attributes["TopicName"], Attributes=attrs)
        for sub in props.get("Subscription") or []:
            subscribe(stack, ref.ref, sub["Protocol"], sub["Endpoint"], {})


class Subscription(ResourceProvisioner):
    """``AWS::SNS::Subscription``: subscribed with its filter policy and delivery options."""

    resource_type = "AWS::SNS::Subscription"

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """Subscribe, passing FilterPolicy, FilterPolicyScope and RawMessageDelivery on."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        attrs = {
            k: json.dumps(v) if isinstance(v, dict) else str(v)
            for k, v in props.items()
            if k in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
        }
        subscribe(
            stack,
            str(props["TopicArn"]),
            str(props["Protocol"]),
            str(props.get("Endpoint", "")),
            attrs,
        )


def subscribe(
    stack: Provisioner, topic: str, protocol: str, endpoint: str, attrs: dict[str, str]
) -> None:
    """Subscribe ``endpoint`` to ``topic``, noting protocols nothing is delivered to."""
    if protocol in _UNDELIVERED:
        stack.gap(
            f"SNS {protocol} subscriptions are recorded but nothing is delivered "
            "(subscribe an SQS queue to see alerts locally)"
        )
    if not endpoint:
        return
    stack.client("sns").subscribe(
        TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attrs
    )
