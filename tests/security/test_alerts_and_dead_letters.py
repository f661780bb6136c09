"""Alerts really arrive and dead letters are kept safe: the template as deployed (after SAM's
transform) is read, so what is asserted is what CloudFormation creates.

CloudWatch alarms cannot publish to an SNS topic encrypted with ``alias/aws/sns`` (that key's
policy cannot grant them), so the alarms would fail silently; EventBridge likewise cannot
write to a queue under an AWS managed key.
"""

from __future__ import annotations

from typing import Any

from scalper.security.checks import key_policy_grants, referenced, statements

KMS_FOR_PUBLISHING = {"kms:Decrypt", "kms:GenerateDataKey"}


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties = template["Resources"][logical_id]["Properties"]
    assert isinstance(properties, dict)
    return properties


def test_given_the_alerts_topic_then_it_is_encrypted_with_the_stacks_rotating_customer_key(
    cfn_template,
):
    topic = props(cfn_template, "AlertsTopic")
    assert referenced(topic["KmsMasterKeyId"]) == "AlertsKey"
    assert cfn_template["Resources"]["AlertsKey"]["Type"] == "AWS::KMS::Key"
    assert props(cfn_template, "AlertsKey")["EnableKeyRotation"] is True


def test_given_the_alerts_key_policy_then_cloudwatch_and_the_pipeline_can_publish(
    cfn_template,
):
    key = cfn_template["Resources"]["AlertsKey"]
    assert key_policy_grants(key, service="cloudwatch.amazonaws.com") >= KMS_FOR_PUBLISHING
    assert not key_policy_grants(key, service="events.amazonaws.com"), "no rule targets the topic"
    role = referenced(props(cfn_template, "PipelineStateMachine")["RoleArn"])
    assert key_policy_grants(key, role=role) >= KMS_FOR_PUBLISHING


def test_given_the_alerts_key_policy_then_service_grants_are_confined_to_this_account(
    cfn_template,
):
    """A service principal without a condition would let any account's alarms use the key."""
    for statement in statements(props(cfn_template, "AlertsKey")["KeyPolicy"]):
        principal = statement.get("Principal")
        if isinstance(principal, dict) and "Service" in principal:
            assert statement.get("Condition"), statement.get("Sid")


def test_given_the_alerts_topic_policy_then_only_cloudwatch_may_publish_as_a_service(
    cfn_template,
):
    allowed: set[str] = set()
    for statement in statements(props(cfn_template, "AlertsTopicPolicy")["PolicyDocument"]):
        if statement["Effect"] == "Allow" and "sns:Publish" in str(statement["Action"]):
            services = statement["Principal"].get("Service", [])
            allowed.update([services] if isinstance(services, str) else services)
    assert allowed == {"cloudwatch.amazonaws.com"}
    rules = [r for r in cfn_template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    topic_targets = [
        t for r in rules for t in r["Properties"].get("Targets", []) if "AlertsTopic" in str(t)
    ]
    assert not topic_targets, "an EventBridge rule targets the topic: grant events.amazonaws.com"


def test_given_every_alarm_then_it_notifies_the_encrypted_alerts_topic(cfn_template):
    alarms = {
        logical_id: resource["Properties"]
        for logical_id, resource in cfn_template["Resources"].items()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    }
    assert alarms
    for logical_id, alarm in alarms.items():
        assert [referenced(a) for a in alarm["AlarmActions"]] == ["AlertsTopic"], logical_id


def test_given_the_object_created_rule_then_its_target_dead_letters_to_an_encrypted_queue(
    cfn_template,
):
    rules = [r for r in cfn_template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 1
    (target,) = rules[0]["Properties"]["Targets"]
    assert referenced(target["DeadLetterConfig"]["Arn"]) == "PipelineDeadLetterQueue"
    assert target["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    queue = props(cfn_template, "PipelineDeadLetterQueue")
    assert queue.get("SqsManagedSseEnabled") is True or (
        "KmsMasterKeyId" in queue and not str(queue["KmsMasterKeyId"]).startswith("alias/aws/")
    )
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_given_the_dead_letter_queue_then_one_message_in_it_raises_an_alarm(cfn_template):
    queue_name = {"Fn::GetAtt": ["PipelineDeadLetterQueue", "QueueName"]}
    alarms = [
        r["Properties"]
        for r in cfn_template["Resources"].values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and r["Properties"]["Dimensions"] == [{"Name": "QueueName", "Value": queue_name}]
    ]
    assert len(alarms) == 1
    alarm = alarms[0]
    assert alarm["Namespace"] == "AWS/SQS"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
