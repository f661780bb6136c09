"""Our own template checks (scalper.security.checks): template.yaml passes every one, and each
catches the weakness it exists for when that weakness is put into a copy of the template.
"""

from __future__ import annotations

from typing import Any

import pytest

from scalper.security.checks import (
    CHECKS,
    Templates,
    arn_pattern,
    check_alerts_key,
    check_api_authoriser,
    check_api_throttling_and_logs,
    check_buckets_tls_only,
    check_dead_letter_queues,
    check_function_log_retention,
    check_iam_least_privilege,
    check_skips_have_reasons,
    check_state_machine_observability,
    is_unscoped,
)
from scalper.security.transform import sam_to_cfn


def props(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    resource = template["Resources"][logical_id]
    assert isinstance(resource["Properties"], dict)
    return resource["Properties"]


def first_of_type(template: dict[str, Any], type_name: str) -> str:
    return next(k for k, v in template["Resources"].items() if v["Type"] == type_name)


def retransform(t: Templates) -> Templates:
    """After changing the SAM template: what SAM makes of the changed template."""
    return Templates(sam=t.sam, cfn=sam_to_cfn(t.sam))


def messages(findings: list[Any]) -> str:
    return "\n".join(str(f) for f in findings)


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_given_template_yaml_when_each_check_runs_then_it_finds_nothing(templates, name):
    findings = CHECKS[name](templates)
    assert findings == [], messages(findings)


# ---------------------------------------------------------------------------- API


def test_given_an_api_without_default_authoriser_when_checked_then_sam_and_route_are_flagged(
    templates,
):
    api = first_of_type(templates.sam, "AWS::Serverless::HttpApi")
    del props(templates.sam, api)["Auth"]
    # AuthMode puts the route's security in the OpenAPI body: an unsecured API has neither.
    for operations in props(templates.sam, api).get("DefinitionBody", {}).get("paths", {}).values():
        for operation in operations.values():
            operation.pop("security", None)
    findings = check_api_authoriser(retransform(templates))
    assert any("DefaultAuthorizer" in f.message for f in findings), messages(findings)
    assert any("POST /uploads has no security" in f.message for f in findings), messages(findings)


def test_given_a_stage_without_throttling_or_access_logs_when_checked_then_both_are_flagged(
    templates,
):
    stage = first_of_type(templates.cfn, "AWS::ApiGatewayV2::Stage")
    del props(templates.cfn, stage)["DefaultRouteSettings"]["ThrottlingBurstLimit"]
    del props(templates.cfn, stage)["AccessLogSettings"]
    checks = {f.check for f in check_api_throttling_and_logs(templates)}
    assert checks == {"API_THROTTLING", "API_ACCESS_LOGS"}


# --------------------------------------------------------------------- state machine


def test_given_logging_off_in_one_workflow_branch_when_checked_then_it_is_flagged(templates):
    machine = first_of_type(templates.cfn, "AWS::StepFunctions::StateMachine")
    logging = props(templates.cfn, machine)["LoggingConfiguration"]
    logging["Level"] = {"Fn::If": ["IsExpress", "ALL", "OFF"]}
    findings = check_state_machine_observability(templates)
    assert [f.check for f in findings] == ["SFN_LOGGING"]


def test_given_tracing_disabled_when_checked_then_it_is_flagged(templates):
    machine = first_of_type(templates.cfn, "AWS::StepFunctions::StateMachine")
    props(templates.cfn, machine)["TracingConfiguration"] = {"Enabled": False}
    assert [f.check for f in check_state_machine_observability(templates)] == ["SFN_TRACING"]


# -------------------------------------------------------------------------- buckets


@pytest.mark.parametrize(
    "breakage",
    ["no statement", "condition true", "objects not covered", "allow instead of deny"],
)
def test_given_a_weakened_tls_policy_when_checked_then_the_bucket_is_flagged(templates, breakage):
    document = props(templates.cfn, "InputBucketPolicy")["PolicyDocument"]
    statement = next(s for s in document["Statement"] if "aws:SecureTransport" in str(s))
    if breakage == "no statement":
        document["Statement"].remove(statement)
    elif breakage == "condition true":
        statement["Condition"] = {"Bool": {"aws:SecureTransport": "true"}}
    elif breakage == "objects not covered":
        statement["Resource"] = [r for r in statement["Resource"] if "/*" not in str(r)]
    else:
        statement["Effect"] = "Allow"
    findings = check_buckets_tls_only(templates)
    assert [(f.check, f.resource) for f in findings] == [("S3_TLS_ONLY", "InputBucket")]


def test_given_a_new_bucket_without_policy_when_checked_then_it_is_flagged(templates):
    templates.cfn["Resources"]["ScratchBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {}}
    assert [f.resource for f in check_buckets_tls_only(templates)] == ["ScratchBucket"]


# ------------------------------------------------------------------------------ IAM


def add_function_policy(t: Templates, function: str, policy: Any) -> Templates:
    props(t.sam, function).setdefault("Policies", []).append(policy)
    return retransform(t)


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::Sub": "${InputBucket.Arn}/*"}},
        {"Effect": "Allow", "Action": "dynamodb:PutItem", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::*/*"},
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": {"Fn::GetAtt": ["Bucket", "Arn"]}},
    ],
    ids=["star-star", "service-star", "unscoped-resource", "any-bucket", "not-action"],
)
def test_given_a_wildcard_statement_in_a_function_policy_when_checked_then_it_is_flagged(
    templates, statement
):
    t = add_function_policy(templates, "TypeCheckFunction", {"Statement": [statement]})
    findings = check_iam_least_privilege(t)
    assert {f.resource for f in findings} == {"TypeCheckFunctionRole"}, messages(findings)


def test_given_lambda_invoke_policy_on_any_function_when_checked_then_it_is_flagged(templates):
    """SAM turns FunctionName '*' into ...:function:** through a Sub variable."""
    policy = {"LambdaInvokePolicy": {"FunctionName": "*"}}
    t = add_function_policy(templates, "QuarantineFunction", policy)
    findings = check_iam_least_privilege(t)
    assert len(findings) == 1, messages(findings)
    assert "function:**" in findings[0].message


def test_given_lambda_invoke_policy_on_one_function_when_checked_then_it_passes(templates):
    policy = {"LambdaInvokePolicy": {"FunctionName": {"Ref": "TypeCheckFunction"}}}
    t = add_function_policy(templates, "QuarantineFunction", policy)
    assert check_iam_least_privilege(t) == []


def test_given_a_state_machine_statement_with_star_action_when_checked_then_it_is_flagged(
    templates,
):
    document = props(templates.cfn, "PipelineStateMachinePolicy")["PolicyDocument"]
    document["Statement"].append({"Effect": "Allow", "Action": "states:*", "Resource": "*"})
    findings = check_iam_least_privilege(templates)
    assert {f.resource for f in findings} == {"PipelineStateMachinePolicy"}


def test_given_xray_actions_on_star_when_checked_then_they_pass_as_iam_allows_no_other_form(
    templates,
):
    statement = {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"}
    t = add_function_policy(templates, "TypeCheckFunction", {"Statement": [statement]})
    assert check_iam_least_privilege(t) == []


def test_given_an_admin_managed_policy_when_checked_then_it_is_flagged(templates):
    t = add_function_policy(templates, "PresignFunction", "AdministratorAccess")
    findings = check_iam_least_privilege(t)
    assert [(f.check, f.resource) for f in findings] == [
        ("IAM_MANAGED_POLICY", "PresignFunctionRole")
    ]


@pytest.mark.parametrize(
    ("resource", "unscoped"),
    [
        ("*", True),
        ("arn:aws:lambda:us-east-1:1:function:*", True),
        ({"Fn::Sub": "arn:${AWS::Partition}:dynamodb:${AWS::Region}:1:table/*"}, True),
        ({"Fn::GetAtt": ["MetadataTable", "Arn"]}, False),
        ({"Fn::Sub": "${InputBucket.Arn}/uploads/*"}, False),
        ({"Fn::Sub": "${QuarantineBucket.Arn}/*"}, False),
        ({"Fn::Sub": "${TypeCheckFunction.Arn}:*"}, False),
    ],
)
def test_given_resource_entries_when_scoping_is_judged_then_only_any_resource_forms_are_unscoped(
    resource, unscoped
):
    assert is_unscoped(resource) is unscoped, arn_pattern(resource)


# ---------------------------------------------------------------- alerts key (KMS)


def test_given_alarm_topic_on_the_aws_managed_key_when_checked_then_it_is_flagged(templates):
    props(templates.cfn, "AlertsTopic")["KmsMasterKeyId"] = "alias/aws/sns"
    findings = check_alerts_key(templates)
    assert [(f.check, f.resource) for f in findings] == [("ALERTS_KEY", "AlertsTopic")]


@pytest.mark.parametrize("service", ["cloudwatch.amazonaws.com"])
def test_given_a_publisher_missing_from_the_key_policy_when_checked_then_it_is_flagged(
    templates, service
):
    for statement in props(templates.cfn, "AlertsKey")["KeyPolicy"]["Statement"]:
        principal = statement.get("Principal", {})
        if isinstance(principal, dict) and "Service" in principal:
            services = principal["Service"]
            services = services if isinstance(services, list) else [services]
            principal["Service"] = [s for s in services if s != service]
    findings = check_alerts_key(templates)
    assert [f.message for f in findings] == [f"{service} cannot use the key"]


def test_given_the_state_machine_role_missing_from_the_key_policy_when_checked_then_flagged(
    templates,
):
    statements = props(templates.cfn, "AlertsKey")["KeyPolicy"]["Statement"]
    role = "PipelineStateMachineRole"
    statements[:] = [s for s in statements if role not in str(s.get("Principal"))]
    findings = check_alerts_key(templates)
    assert [f.message for f in findings] == [f"state machine role {role} cannot use it"]


# ----------------------------------------------------------------- dead-letter queue


@pytest.mark.parametrize(
    "breakage", ["unencrypted", "aws managed key", "no alarm", "no queue policy", "no DLQ"]
)
def test_given_a_weakened_dead_letter_queue_when_checked_then_it_is_flagged(templates, breakage):
    queue = props(templates.cfn, "PipelineDeadLetterQueue")
    if breakage == "unencrypted":
        queue.pop("SqsManagedSseEnabled", None)
        queue.pop("KmsMasterKeyId", None)
    elif breakage == "aws managed key":
        queue.pop("SqsManagedSseEnabled", None)
        queue["KmsMasterKeyId"] = "alias/aws/sqs"
    elif breakage == "no alarm":
        del templates.cfn["Resources"]["DeadLetterQueueAlarm"]
    elif breakage == "no queue policy":
        del templates.cfn["Resources"]["PipelineDeadLetterQueuePolicy"]
    else:
        rule = first_of_type(templates.cfn, "AWS::Events::Rule")
        del props(templates.cfn, rule)["Targets"][0]["DeadLetterConfig"]
    findings = check_dead_letter_queues(templates)
    assert len(findings) == 1, messages(findings)
    assert findings[0].check == "DLQ"


# ------------------------------------------------------------------- log retention


def test_given_a_function_log_group_without_retention_when_checked_then_it_is_flagged(templates):
    del props(templates.cfn, "PresignLogGroup")["RetentionInDays"]
    findings = check_function_log_retention(templates)
    assert [(f.check, f.resource) for f in findings] == [("LOG_RETENTION", "PresignFunction")]


# ------------------------------------------------------------------ scanner skips


def test_given_a_checkov_skip_without_comment_when_checked_then_it_is_flagged(templates):
    templates.sam["Resources"]["MetadataTable"]["Metadata"] = {
        "checkov": {"skip": [{"id": "CKV_AWS_119"}]}
    }
    findings = check_skips_have_reasons(templates)
    assert [f.message for f in findings] == ["checkov skip CKV_AWS_119 has no comment"]


def test_given_a_cfn_lint_ignore_without_reason_when_checked_then_it_is_flagged(templates):
    templates.sam["Resources"]["MetadataTable"]["Metadata"] = {
        "cfn-lint": {"config": {"ignore_checks": ["W3011"]}, "reasons": {"E1": "other"}}
    }
    findings = check_skips_have_reasons(templates)
    assert [f.message for f in findings] == ["cfn-lint ignore W3011 has no reason"]


def test_given_a_template_wide_skip_when_checked_then_it_is_flagged(templates):
    templates.sam.setdefault("Metadata", {})["checkov"] = {"skip": [{"id": "CKV_AWS_18"}]}
    findings = check_skips_have_reasons(templates)
    assert [f.message for f in findings] == ["template-wide checkov settings"]


def test_given_template_yaml_when_its_skips_are_listed_then_every_one_has_a_written_reason(
    sam_template,
):
    """The explicit form of the rule: a skip names one check on one resource, and says why."""
    for logical_id, resource in sam_template["Resources"].items():
        metadata = resource.get("Metadata") or {}
        for skip in (metadata.get("checkov") or {}).get("skip", []):
            assert len(str(skip.get("comment", "")).split()) >= 5, (logical_id, skip)
        cfn_lint = metadata.get("cfn-lint") or {}
        for rule in cfn_lint.get("config", {}).get("ignore_checks", []):
            assert len(str(cfn_lint.get("reasons", {}).get(rule, "")).split()) >= 5, (
                logical_id,
                rule,
            )
