"""SAM state machines, with the EventBridge rules their ``EventBridgeRule`` events add."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scalper.local.provisioned import StateMachineInfo
from scalper.local.resources.base import ResourceProvisioner, queue_ref, role_ref
from scalper.local.resources.eventbridge import put_rule, rule_arn, sam_rule_target
from scalper.local.template import (
    ResourceRef,
    TemplateError,
    merged_properties,
    render_definition,
)

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class StateMachine(ResourceProvisioner):
    """``AWS::Serverless::StateMachine``: created on moto's interpreter with its definition
    rendered as SAM renders it; its EventBridge rules are delivered by the local bridge."""

    resource_type = "AWS::Serverless::StateMachine"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``Name`` or ``<stack>-<LogicalId>``, its role, and each ``EventBridgeRule``
        event's rule and SAM-made dead-letter queue."""
        name = stack.physical_name(logical_id, "Name", limit=80)
        arn = f"arn:aws:states:{stack.region}:{stack.account_id}:stateMachine:{name}"
        stack.refs[logical_id] = ResourceRef(arn, {"Arn": arn, "Name": name})
        role = f"{logical_id}Role"
        stack.refs.setdefault(role, role_ref(stack, role))
        for event_id, event in (stack.properties(logical_id).get("Events") or {}).items():
            if event.get("Type") != "EventBridgeRule":
                continue
            rule_id = f"{logical_id}{event_id}"
            rule_name = f"{stack.stack}-{rule_id}"[:64]
            stack.refs[rule_id] = ResourceRef(rule_name, {"Arn": rule_arn(stack, rule_name)})
            dlq = (event.get("Properties") or {}).get("DeadLetterConfig") or {}
            if dlq.get("Type") == "SQS":
                queue_id = str(dlq.get("QueueLogicalId") or f"{rule_id}Queue")
                stack.refs[queue_id] = queue_ref(stack, f"{stack.stack}-{queue_id}"[:80])

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateStateMachine, then the rules of its ``EventBridgeRule`` events."""
        props = merged_properties(stack.template, logical_id, "StateMachine")
        ref = stack.refs[logical_id]
        if props.get("Role"):
            props["Role"] = stack.resolve(props["Role"], f"{logical_id}.Role")
        definition = _definition(stack, logical_id, props)
        sm_type = str(stack.resolve(props.get("Type", "STANDARD"), f"{logical_id}.Type"))
        role_arn = str(props.get("Role") or stack.refs[f"{logical_id}Role"].attributes["Arn"])
        stack.client("stepfunctions").create_state_machine(
            name=ref.attributes["Name"], definition=definition, roleArn=role_arn, type=sm_type
        )
        stack.result.state_machines[logical_id] = StateMachineInfo(
            logical_id, ref.attributes["Name"], ref.ref, definition, sm_type
        )
        if props.get("Logging"):
            stack.gap(
                "Step Functions logging to CloudWatch Logs: not written locally "
                "(read the execution history)"
            )
        if (props.get("Tracing") or {}).get("Enabled"):
            stack.gap("X-Ray tracing: no daemon locally, Tracer is disabled in the workers")
        for event_id, event in (props.get("Events") or {}).items():
            if event.get("Type") != "EventBridgeRule":
                stack.gap(
                    f"{logical_id}.Events.{event_id} ({event.get('Type')}): "
                    "not provided by the local stack"
                )
                continue
            where = f"{logical_id}.Events.{event_id}"
            _sam_rule(
                stack, logical_id, event_id, stack.resolve(event.get("Properties") or {}, where)
            )

    def wire(self, stack: Provisioner, logical_id: str) -> None:
        """Note that the local bridge, not moto, starts its executions from EventBridge."""
        stack.gap(
            "EventBridge -> Step Functions delivery is done by the local bridge "
            "(moto does not deliver it)"
        )


def _definition(stack: Provisioner, logical_id: str, props: dict[str, Any]) -> str:
    """The definition as SAM deploys it: the file or inline document, substitutions applied."""
    subs = stack.resolve(
        props.get("DefinitionSubstitutions") or {}, f"{logical_id}.DefinitionSubstitutions"
    )
    if "DefinitionUri" in props:
        uri = stack.resolve(props["DefinitionUri"], f"{logical_id}.DefinitionUri")
        if not isinstance(uri, str):
            raise TemplateError(
                f"{logical_id}.DefinitionUri: the local stack reads local files only"
            )
        text = (stack.template_dir / uri).read_text(encoding="utf-8")
    elif "Definition" in props:
        text = json.dumps(stack.resolve(props["Definition"], f"{logical_id}.Definition"))
    else:
        raise TemplateError(f"{logical_id}: neither DefinitionUri nor Definition")
    return render_definition(text, subs)


def _sam_rule(stack: Provisioner, machine: str, event_id: str, props: dict[str, Any]) -> None:
    rule_id = f"{machine}{event_id}"
    target = sam_rule_target(
        stack, rule_id, f"{machine}{event_id}StepFunctionsTarget", stack.refs[machine].ref, props
    )
    if "InputTransformer" in props:
        stack.gap(f"{rule_id}: InputTransformer is not applied by the local bridge")
    put_rule(
        stack,
        rule_id,
        name=str(props.get("RuleName") or stack.refs[rule_id].ref),
        pattern=props.get("Pattern") or {},
        bus=str(props.get("EventBusName") or "default"),
        state=str(props.get("State") or "ENABLED"),
        targets=(target,),
    )
