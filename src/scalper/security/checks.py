"""Security checks no off-the-shelf scanner makes for this stack.

Measured gaps: cfn-lint reports nothing for ``Action: '*'`` on ``Resource: '*'``; checkov on the
SAM file misses the generated roles, Step Functions logging/tracing and an unauthenticated SAM
API. These checks read the template SAM produces (:func:`scalper.security.transform.sam_to_cfn`)
and, where the SAM shorthand is the contract (the API's default authoriser), the SAM template.

Every check returns :class:`Finding` objects (empty = pass). Values under ``Fn::If`` are checked
in both branches, so a parameter can never switch a protection off unnoticed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

#: Actions that accept no resource-level permissions, so ``Resource: "*"`` is the only form
#: IAM allows for them (Service Authorization Reference: "Resource types" column empty).
WILDCARD_RESOURCE_ACTIONS: frozenset[str] = frozenset(
    {
        "xray:PutTraceSegments",
        "xray:PutTelemetryRecords",
        "xray:GetSamplingRules",
        "xray:GetSamplingTargets",
        "xray:GetSamplingStatisticSummaries",
        "logs:CreateLogDelivery",
        "logs:GetLogDelivery",
        "logs:UpdateLogDelivery",
        "logs:DeleteLogDelivery",
        "logs:ListLogDeliveries",
        "logs:PutResourcePolicy",
        "logs:DescribeResourcePolicies",
        "logs:DescribeLogGroups",
        "cloudwatch:PutMetricData",
        "dynamodb:ListStreams",
    }
)

#: AWS managed policies a role may attach (names after ``policy/``): logging and tracing only.
ALLOWED_MANAGED_POLICIES: frozenset[str] = frozenset(
    {
        "service-role/AWSLambdaBasicExecutionRole",
        "AWSXrayWriteOnlyAccess",
        "AWSXRayDaemonWriteAccess",
    }
)

#: Principals that must be able to use the alerts key: CloudWatch alarms. (No EventBridge
#: rule targets the topic, so EventBridge gets no grant: an unused grant is only exposure.)
ALERT_PUBLISHER_SERVICES: frozenset[str] = frozenset({"cloudwatch.amazonaws.com"})

#: The KMS actions SNS needs from a publisher's side to publish to an encrypted topic.
ALERT_KEY_ACTIONS: frozenset[str] = frozenset({"kms:Decrypt", "kms:GenerateDataKey"})

#: The resource part of an ARN that names no particular resource: ``*``, ``function:*``,
#: ``table/*``, ``*/*`` (``**`` is what SAM's LambdaInvokePolicy makes of ``FunctionName: '*'``).
_UNSCOPED_RESOURCE = re.compile(r"^([A-Za-z0-9-]+[:/])?\*+([:/]\*+)*$")
_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")

Template = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """One failed check: which check, which resource, what is wrong."""

    check: str
    resource: str
    message: str

    def __str__(self) -> str:
        return f"{self.check} {self.resource}: {self.message}"


@dataclass(frozen=True)
class Templates:
    """The SAM template as written and the CloudFormation SAM makes of it."""

    sam: Template
    cfn: Template


# ------------------------------------------------------------------------------- helpers


def resources(template: Template, *types: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(logical id, resource)`` of every resource of one of ``types`` (all when none)."""
    for logical_id, resource in template.get("Resources", {}).items():
        if isinstance(resource, dict) and (not types or resource.get("Type") in types):
            yield str(logical_id), resource


def properties(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's Properties (empty when absent)."""
    props = resource.get("Properties")
    return props if isinstance(props, dict) else {}


def branches(value: Any) -> list[Any]:
    """Every value ``value`` can take: ``Fn::If`` expanded, ``AWS::NoValue`` dropped."""
    if isinstance(value, dict) and len(value) == 1:
        if "Fn::If" in value and isinstance(value["Fn::If"], list) and len(value["Fn::If"]) == 3:
            _, yes, no = value["Fn::If"]
            return branches(yes) + branches(no)
        if value.get("Ref") == "AWS::NoValue":
            return []
    return [value]


def as_list(value: Any) -> list[Any]:
    """A scalar or a list, as a list, with every ``Fn::If`` branch expanded."""
    out: list[Any] = []
    for alternative in branches(value):
        items = alternative if isinstance(alternative, list) else [alternative]
        for item in items:
            out.extend(x for x in branches(item) if x is not None)
    return out


def referenced(value: Any) -> str | None:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at (``None`` for anything else)."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            return str(getatt[0])
        if isinstance(getatt, str):
            return getatt.split(".", 1)[0]
    return None


def arn_pattern(value: Any) -> str:
    """A resource value as a string; intrinsic parts become ``${...}`` placeholders.

    ``{"Fn::GetAtt": ["B", "Arn"]}`` reads ``${B.Arn}`` and ``{"Ref": "B"}`` reads ``${B}``, the
    way ``Fn::Sub`` writes them, so both spellings of the same ARN compare equal.

    ``Fn::Sub`` variables given as literal strings are substituted (SAM's policy templates
    pass ``FunctionName: '*'`` that way), so a wildcard cannot hide behind a variable.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            sub = value["Fn::Sub"]
            text, variables = (sub[0], sub[1]) if isinstance(sub, list) else (sub, {})
            if not isinstance(text, str):
                return "${?}"

            def replace(match: re.Match[str]) -> str:
                literal = variables.get(match.group(1)) if isinstance(variables, dict) else None
                return literal if isinstance(literal, str) else match.group(0)

            return _SUB_VARIABLE.sub(replace, text)
        if "Fn::Join" in value:
            join = value["Fn::Join"]
            if isinstance(join, list) and len(join) == 2 and isinstance(join[1], list):
                return str(join[0]).join(arn_pattern(part) for part in join[1])
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and len(getatt) == 2:
            return "${" + f"{getatt[0]}.{getatt[1]}" + "}"
        if isinstance(getatt, str):
            return "${" + getatt + "}"
        if isinstance(value.get("Ref"), str):
            return "${" + str(value["Ref"]) + "}"
    return "${?}"


def is_unscoped(resource: Any) -> bool:
    """True when an IAM ``Resource`` entry names no particular resource (``*``, ``function:*``)."""
    pattern = arn_pattern(resource).strip()
    if pattern == "*":
        return True
    if not pattern.startswith("arn:"):
        return False
    # Placeholders such as ${AWS::Partition} hold colons of their own: mask them first.
    parts = re.sub(r"\$\{[^}]*\}", "<var>", pattern).split(":", 5)
    return len(parts) == 6 and bool(_UNSCOPED_RESOURCE.match(parts[5]))


def statements(document: Any) -> list[dict[str, Any]]:
    """Every statement of a policy document, ``Fn::If`` branches included."""
    if not isinstance(document, dict):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def policy_documents(template: Template) -> Iterator[tuple[str, Any]]:
    """``(owner, document)`` of every identity policy: role inline policies and IAM policies."""
    for logical_id, role in resources(template, "AWS::IAM::Role"):
        for policy in as_list(properties(role).get("Policies")):
            if isinstance(policy, dict):
                yield logical_id, policy.get("PolicyDocument")
    for logical_id, policy in resources(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        yield logical_id, properties(policy).get("PolicyDocument")


def _is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.lower() == "false")


# -------------------------------------------------------------------------------- checks


def check_api_authoriser(t: Templates) -> list[Finding]:
    """Every SAM API names a default authoriser, and every generated route is authorised."""
    found: list[Finding] = []
    for logical_id, api in resources(t.sam, "AWS::Serverless::HttpApi", "AWS::Serverless::Api"):
        auth = properties(api).get("Auth")
        if not isinstance(auth, dict) or not auth.get("DefaultAuthorizer"):
            found.append(Finding("API_AUTH", logical_id, "no Auth.DefaultAuthorizer"))
    for logical_id, api in resources(t.cfn, "AWS::ApiGatewayV2::Api", "AWS::ApiGateway::RestApi"):
        body = properties(api).get("Body")
        paths = body.get("paths", {}) if isinstance(body, dict) else {}
        for path, operations in paths.items():
            for method, operation in (operations or {}).items():
                if method.startswith("x-") or not isinstance(operation, dict):
                    continue
                if not operation.get("security"):
                    found.append(
                        Finding("API_AUTH", logical_id, f"{method.upper()} {path} has no security")
                    )
    for logical_id, route in resources(
        t.cfn, "AWS::ApiGatewayV2::Route", "AWS::ApiGateway::Method"
    ):
        kind = properties(route).get("AuthorizationType", "NONE")
        if any(k in (None, "NONE") for k in branches(kind)):
            found.append(Finding("API_AUTH", logical_id, "AuthorizationType is NONE"))
    return found


def check_api_throttling_and_logs(t: Templates) -> list[Finding]:
    """Every API stage is throttled and writes access logs."""
    found: list[Finding] = []
    apis = {logical_id for logical_id, _ in resources(t.cfn, "AWS::ApiGatewayV2::Api")}
    staged: set[str] = set()
    for logical_id, stage in resources(t.cfn, "AWS::ApiGatewayV2::Stage"):
        props = properties(stage)
        api = referenced(props.get("ApiId"))
        if api:
            staged.add(api)
        route = props.get("DefaultRouteSettings") or {}
        for limit in ("ThrottlingRateLimit", "ThrottlingBurstLimit"):
            if route.get(limit) is None:
                found.append(
                    Finding("API_THROTTLING", logical_id, f"no DefaultRouteSettings.{limit}")
                )
        logs = props.get("AccessLogSettings") or {}
        if not logs.get("DestinationArn") or not logs.get("Format"):
            found.append(Finding("API_ACCESS_LOGS", logical_id, "no AccessLogSettings"))
    for logical_id, stage in resources(t.cfn, "AWS::ApiGateway::Stage"):
        props = properties(stage)
        methods = [m for m in as_list(props.get("MethodSettings")) if isinstance(m, dict)]
        if not any(m.get("ThrottlingRateLimit") is not None for m in methods):
            found.append(Finding("API_THROTTLING", logical_id, "no MethodSettings throttling"))
        if not (props.get("AccessLogSetting") or {}).get("DestinationArn"):
            found.append(Finding("API_ACCESS_LOGS", logical_id, "no AccessLogSetting"))
    for api in sorted(apis - staged):
        found.append(Finding("API_THROTTLING", api, "HTTP API without a stage in the template"))
    return found


def check_state_machine_observability(t: Templates) -> list[Finding]:
    """Every state machine logs to CloudWatch Logs and has X-Ray tracing on."""
    found: list[Finding] = []
    for logical_id, machine in resources(t.cfn, "AWS::StepFunctions::StateMachine"):
        props = properties(machine)
        logging = props.get("LoggingConfiguration") or {}
        levels = branches(logging.get("Level", "OFF"))
        if not logging.get("Destinations") or any(level in (None, "OFF") for level in levels):
            found.append(Finding("SFN_LOGGING", logical_id, "no execution logging"))
        tracing = props.get("TracingConfiguration") or {}
        if any(enabled is not True for enabled in branches(tracing.get("Enabled", False))):
            found.append(Finding("SFN_TRACING", logical_id, "X-Ray tracing is not enabled"))
    return found


def _denies_insecure_transport(statement: Mapping[str, Any], bucket: str) -> bool:
    if statement.get("Effect") != "Deny":
        return False
    principal = statement.get("Principal")
    if principal != "*" and not (isinstance(principal, dict) and principal.get("AWS") == "*"):
        return False
    if not {"s3:*", "*"} & {a for a in as_list(statement.get("Action")) if isinstance(a, str)}:
        return False
    condition = (statement.get("Condition") or {}).get("Bool") or {}
    if not _is_false(condition.get("aws:SecureTransport")):
        return False
    targets = [arn_pattern(r) for r in as_list(statement.get("Resource"))]
    bucket_arn = "${" + bucket + ".Arn}"
    return bucket_arn in targets and any(
        r.startswith(bucket_arn) and r.endswith("/*") for r in targets
    )


def check_buckets_tls_only(t: Templates) -> list[Finding]:
    """Every bucket has a policy denying any request not made over TLS (bucket and objects)."""
    policies: dict[str, list[dict[str, Any]]] = {}
    for _, policy in resources(t.cfn, "AWS::S3::BucketPolicy"):
        bucket = referenced(properties(policy).get("Bucket"))
        if bucket:
            policies.setdefault(bucket, []).extend(
                statements(properties(policy).get("PolicyDocument"))
            )
    return [
        Finding("S3_TLS_ONLY", logical_id, "no bucket policy denying aws:SecureTransport=false")
        for logical_id, _ in resources(t.cfn, "AWS::S3::Bucket")
        if not any(_denies_insecure_transport(s, logical_id) for s in policies.get(logical_id, []))
    ]


def check_iam_least_privilege(t: Templates) -> list[Finding]:
    """No identity policy allows ``*`` / ``service:*`` actions or an unscoped ``*`` resource."""
    found: list[Finding] = []
    for owner, document in policy_documents(t.cfn):
        for statement in statements(document):
            if statement.get("Effect") != "Allow":
                continue
            sid = statement.get("Sid", "statement")
            for negated in ("NotAction", "NotResource"):
                if negated in statement:
                    found.append(Finding("IAM_WILDCARD", owner, f"{sid}: Allow with {negated}"))
            actions = [a for a in as_list(statement.get("Action")) if isinstance(a, str)]
            for action in actions:
                if action == "*" or action.endswith(":*"):
                    found.append(Finding("IAM_WILDCARD", owner, f"{sid}: action {action!r}"))
            for resource in as_list(statement.get("Resource")):
                if not is_unscoped(resource):
                    continue
                if (
                    arn_pattern(resource) == "*"
                    and actions
                    and set(actions) <= (WILDCARD_RESOURCE_ACTIONS)
                ):
                    continue  # these actions have no resource-level permissions at all
                found.append(
                    Finding(
                        "IAM_WILDCARD",
                        owner,
                        f"{sid}: unscoped resource {arn_pattern(resource)!r} for {actions}",
                    )
                )
    for logical_id, role in resources(t.cfn, "AWS::IAM::Role"):
        for arn in as_list(properties(role).get("ManagedPolicyArns")):
            name = arn_pattern(arn).split(":policy/", 1)[-1]
            if name not in ALLOWED_MANAGED_POLICIES:
                found.append(Finding("IAM_MANAGED_POLICY", logical_id, f"attaches {name!r}"))
    return found


def key_policy_grants(key: Mapping[str, Any], *, service: str = "", role: str = "") -> set[str]:
    """The KMS actions a key policy allows to a service principal or to a role of the stack.

    A trailing ``*`` is dropped (``kms:GenerateDataKey*`` counts as ``kms:GenerateDataKey``).
    """
    allowed: set[str] = set()
    for statement in statements(properties(key).get("KeyPolicy")):
        principal = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(principal, dict):
            continue
        services = as_list(principal.get("Service"))
        roles = {referenced(p) for p in as_list(principal.get("AWS"))}
        if (service and service in services) or (role and role in roles):
            allowed.update(str(a).rstrip("*") for a in as_list(statement.get("Action")))
    return allowed


def check_alerts_key(t: Templates) -> list[Finding]:
    """Alarm topics use a customer key that CloudWatch, EventBridge and the pipeline can use.

    CloudWatch alarms cannot publish to a topic under ``alias/aws/sns`` (its key policy cannot be
    changed), so the alarms would fail silently.
    """
    found: list[Finding] = []
    alarm_topics = {
        referenced(action)
        for _, alarm in resources(t.cfn, "AWS::CloudWatch::Alarm")
        for action in as_list(properties(alarm).get("AlarmActions"))
    } - {None}
    keys = dict(resources(t.cfn, "AWS::KMS::Key"))
    machine_roles = {
        referenced(properties(m).get("RoleArn"))
        for _, m in resources(t.cfn, "AWS::StepFunctions::StateMachine")
    } - {None}
    for topic in sorted(str(x) for x in alarm_topics):
        props = properties(t.cfn.get("Resources", {}).get(topic, {}))
        key_id = referenced(props.get("KmsMasterKeyId"))
        if key_id not in keys:
            found.append(
                Finding("ALERTS_KEY", topic, "alarm topic not encrypted with a key of this stack")
            )
            continue
        key = keys[key_id]
        if properties(key).get("EnableKeyRotation") is not True:
            found.append(Finding("ALERTS_KEY", key_id, "key rotation is off"))
        for service in sorted(ALERT_PUBLISHER_SERVICES):
            if not key_policy_grants(key, service=service) >= ALERT_KEY_ACTIONS:
                found.append(Finding("ALERTS_KEY", key_id, f"{service} cannot use the key"))
        for role in sorted(str(r) for r in machine_roles):
            if not key_policy_grants(key, role=role) >= ALERT_KEY_ACTIONS:
                found.append(
                    Finding("ALERTS_KEY", key_id, f"state machine role {role} cannot use it")
                )
    return found


def check_dead_letter_queues(t: Templates) -> list[Finding]:
    """Every EventBridge target dead-letters to an encrypted, alarmed queue events can write to."""
    found: list[Finding] = []
    queues = dict(resources(t.cfn, "AWS::SQS::Queue"))
    alarmed = {
        referenced(d.get("Value"))
        for _, alarm in resources(t.cfn, "AWS::CloudWatch::Alarm")
        if properties(alarm).get("Namespace") == "AWS/SQS"
        and properties(alarm).get("MetricName") == "ApproximateNumberOfMessagesVisible"
        and properties(alarm).get("AlarmActions")
        for d in as_list(properties(alarm).get("Dimensions"))
        if isinstance(d, dict) and d.get("Name") == "QueueName"
    }
    writable = {
        referenced(queue)
        for _, policy in resources(t.cfn, "AWS::SQS::QueuePolicy")
        for statement in statements(properties(policy).get("PolicyDocument"))
        if statement.get("Effect") == "Allow"
        and "events.amazonaws.com" in as_list((statement.get("Principal") or {}).get("Service"))
        and "sqs:SendMessage" in as_list(statement.get("Action"))
        for queue in as_list(properties(policy).get("Queues"))
    }
    for logical_id, rule in resources(t.cfn, "AWS::Events::Rule"):
        for target in as_list(properties(rule).get("Targets")):
            target_id = f"{logical_id}/{target.get('Id', '?')}"
            queue_id = referenced((target.get("DeadLetterConfig") or {}).get("Arn"))
            if queue_id is None:
                found.append(Finding("DLQ", target_id, "target has no dead-letter queue"))
                continue
            if queue_id not in queues:
                found.append(Finding("DLQ", target_id, f"queue {queue_id} not in the stack"))
                continue
            props = properties(queues[queue_id])
            kms = props.get("KmsMasterKeyId")
            if kms is None and props.get("SqsManagedSseEnabled") is not True:
                found.append(Finding("DLQ", queue_id, "dead-letter queue is not encrypted"))
            if isinstance(kms, str) and kms.startswith("alias/aws/"):
                # EventBridge cannot use an AWS managed key: every dead letter would be lost.
                found.append(Finding("DLQ", queue_id, f"AWS managed key {kms} blocks EventBridge"))
            if queue_id not in alarmed:
                found.append(Finding("DLQ", queue_id, "no alarm on messages in the queue"))
            if queue_id not in writable:
                found.append(Finding("DLQ", queue_id, "queue policy does not let EventBridge send"))
    return found


def check_function_log_retention(t: Templates) -> list[Finding]:
    """Every function logs to a log group of this stack that has a retention period."""
    found: list[Finding] = []
    log_groups = dict(resources(t.cfn, "AWS::Logs::LogGroup"))
    for logical_id, function in resources(t.cfn, "AWS::Lambda::Function"):
        config = properties(function).get("LoggingConfig") or {}
        group = referenced(config.get("LogGroup"))
        if group not in log_groups:
            found.append(Finding("LOG_RETENTION", logical_id, "LoggingConfig.LogGroup not in it"))
        elif properties(log_groups[group]).get("RetentionInDays") is None:
            found.append(Finding("LOG_RETENTION", logical_id, f"{group} has no RetentionInDays"))
    return found


def check_skips_have_reasons(t: Templates) -> list[Finding]:
    """Every scanner skip sits on one resource and says why (checkov comment, cfn-lint reason)."""
    found: list[Finding] = []
    for logical_id, resource in resources(t.sam):
        metadata = resource.get("Metadata") or {}
        for skip in as_list((metadata.get("checkov") or {}).get("skip")):
            if not isinstance(skip, dict) or not skip.get("id"):
                found.append(Finding("SKIP_REASON", logical_id, f"checkov skip without id: {skip}"))
            elif not str(skip.get("comment") or "").strip():
                message = f"checkov skip {skip['id']} has no comment"
                found.append(Finding("SKIP_REASON", logical_id, message))
        cfn_lint = metadata.get("cfn-lint") or {}
        reasons = cfn_lint.get("reasons") or {}
        for rule in as_list((cfn_lint.get("config") or {}).get("ignore_checks")):
            if not str(reasons.get(rule) or "").strip():
                message = f"cfn-lint ignore {rule} has no reason"
                found.append(Finding("SKIP_REASON", logical_id, message))
    for key in ("checkov", "cfn-lint"):
        if key in (t.sam.get("Metadata") or {}):
            found.append(Finding("SKIP_REASON", "Metadata", f"template-wide {key} settings"))
    return found


#: Every check ``make scan`` runs, by name.
CHECKS: dict[str, Callable[[Templates], list[Finding]]] = {
    "api_authoriser": check_api_authoriser,
    "api_throttling_and_logs": check_api_throttling_and_logs,
    "state_machine_observability": check_state_machine_observability,
    "buckets_tls_only": check_buckets_tls_only,
    "iam_least_privilege": check_iam_least_privilege,
    "alerts_key": check_alerts_key,
    "dead_letter_queues": check_dead_letter_queues,
    "function_log_retention": check_function_log_retention,
    "skips_have_reasons": check_skips_have_reasons,
}


def run_checks(t: Templates) -> list[Finding]:
    """Every finding of every check, in check order."""
    return [finding for check in CHECKS.values() for finding in check(t)]
