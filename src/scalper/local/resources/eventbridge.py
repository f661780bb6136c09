"""EventBridge rules: put on moto, and handed to the local bridge, which delivers them."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scalper.local.provisioned import BridgeRule, BridgeTarget
from scalper.local.resources.base import ResourceProvisioner
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner

#: EventBridge's defaults for a target's retry policy.
DEFAULT_RETRY_ATTEMPTS = 185
DEFAULT_EVENT_AGE_SECONDS = 86400


class Rule(ResourceProvisioner):
    """``AWS::Events::Rule``: its targets are delivered by the local bridge when they are
    state machines or queues; scheduled rules do not fire."""

    resource_type = "AWS::Events::Rule"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``Name`` or ``<stack>-<LogicalId>``, and its ARN."""
        name = stack.physical_name(logical_id, "Name", limit=64)
        stack.refs[logical_id] = ResourceRef(name, {"Arn": rule_arn(stack, name)})

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """PutRule and PutTargets, and a `BridgeRule` for the bridge."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        targets = tuple(
            BridgeTarget(
                target_id=str(t["Id"]),
                arn=str(t["Arn"]),
                **_retry_policy(t.get("RetryPolicy") or {}),
                dead_letter_arn=(t.get("DeadLetterConfig") or {}).get("Arn"),
                input_path=t.get("InputPath"),
                input=t.get("Input"),
            )
            for t in props.get("Targets") or []
        )
        if "ScheduleExpression" in props:
            stack.gap(f"{logical_id}: scheduled rules do not fire locally")
        put_rule(
            stack,
            logical_id,
            name=stack.refs[logical_id].ref,
            pattern=props.get("EventPattern") or {},
            bus=str(props.get("EventBusName") or "default"),
            state=str(props.get("State") or "ENABLED"),
            targets=targets,
        )


def rule_arn(stack: Provisioner, name: str) -> str:
    """The ARN of the rule ``name`` on the default bus."""
    return f"arn:aws:events:{stack.region}:{stack.account_id}:rule/{name}"


def _retry_policy(retry: dict[str, Any]) -> dict[str, int]:
    return {
        "max_retry_attempts": int(retry.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS)),
        "max_event_age_seconds": int(
            retry.get("MaximumEventAgeInSeconds", DEFAULT_EVENT_AGE_SECONDS)
        ),
    }


def sam_rule_target(
    stack: Provisioner, rule_id: str, default_target_id: str, arn: str, props: dict[str, Any]
) -> BridgeTarget:
    """The one target of a SAM ``EventBridgeRule`` event, creating its SQS dead-letter queue
    when the event asks SAM for one."""
    dlq = props.get("DeadLetterConfig") or {}
    dlq_arn: str | None = None
    if "Arn" in dlq:
        dlq_arn = str(dlq["Arn"])
    elif dlq.get("Type") == "SQS":
        queue = stack.refs[str(dlq.get("QueueLogicalId") or f"{rule_id}Queue")]
        dlq_arn = queue.attributes["Arn"]
        stack.client("sqs").create_queue(QueueName=queue.attributes["QueueName"])
    return BridgeTarget(
        target_id=str((props.get("Target") or {}).get("Id") or default_target_id),
        arn=arn,
        **_retry_policy(props.get("RetryPolicy") or {}),
        dead_letter_arn=dlq_arn,
        input_path=props.get("InputPath"),
        input=props.get("Input"),
    )


def put_rule(
    stack: Provisioner,
    logical_id: str,
    *,
    name: str,
    pattern: dict[str, Any],
    bus: str,
    state: str,
    targets: tuple[BridgeTarget, ...],
) -> None:
    """Put the rule and its targets on moto and record it for the local bridge."""
    events = stack.client("events")
    pattern_json = json.dumps(pattern)
    arn = events.put_rule(Name=name, EventPattern=pattern_json, State=state, EventBusName=bus)[
        "RuleArn"
    ]
    api_targets: list[dict[str, Any]] = []
    for t in targets:
        entry: dict[str, Any] = {
            "Id": t.target_id,
            "Arn": t.arn,
            "RetryPolicy": {
                "MaximumRetryAttempts": t.max_retry_attempts,
                "MaximumEventAgeInSeconds": t.max_event_age_seconds,
            },
        }
        if t.dead_letter_arn:
            entry["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
        api_targets.append(entry)
        if not (t.arn.startswith("arn:aws:states:") or t.arn.startswith("arn:aws:sqs:")):
            stack.gap(
                f"{logical_id}: target {t.target_id} ({t.arn.split(':')[2]}) "
                "is not delivered locally"
            )
    if api_targets:
        events.put_targets(Rule=name, EventBusName=bus, Targets=api_targets)
    stack.result.rules.append(
        BridgeRule(logical_id, name, arn, bus, pattern_json, state == "ENABLED", targets)
    )
