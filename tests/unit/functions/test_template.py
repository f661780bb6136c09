"""template.yaml and the ASL agree, and the template keeps its security promises.

``sam validate --lint`` and ``sam build`` run in ``make test`` (``make sam``); these tests
check what the linters cannot: that the ASL and the template name the same things, and the
properties the design promises for every bucket, function and the alerts key.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from functions_support import NAMES
from handler_support import resolver
from moto.events.models import EventPattern
from sam_template import ASL, REPO, resource

STATE_NAMES = {
    "Claim",
    "AlreadyProcessed",
    "TypeCheck",
    "ValidateSchema",
    "Route",
    "ExtractMetadata",
    "WriteMetadata",
    "Quarantine",
    "Done",
    "Superseded",
    "RecordObjectGone",
    "AlertObjectGone",
    "ObjectGone",
}
#: The only errors the state machine catches: those it has the answer to. Everything else
#: fails the execution at the Task, where a redrive resumes.
ANSWERED_ERRORS = {"DynamoDB.ConditionalCheckFailedException", "SupersededError", "ObjectGone"}
TRANSIENT_LAMBDA_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
}


@pytest.fixture(scope="module")
def asl_text() -> str:
    return ASL.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def definition(asl_text: str) -> dict[str, Any]:
    data = json.loads(asl_text)
    assert isinstance(data, dict)
    return data


def state_machine(template: dict[str, Any]) -> dict[str, Any]:
    return resource(template, "PipelineStateMachine")


def tasks(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: s for n, s in definition["States"].items() if s["Type"] == "Task"}


def test_every_substitution_in_the_asl_is_defined_in_the_template(template, asl_text):
    used = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", asl_text))
    defined = set(state_machine(template)["DefinitionSubstitutions"])
    assert used, "the ASL should take its names from DefinitionSubstitutions"
    assert used - defined == set(), "used in the ASL but not substituted"
    assert defined - used == set(), "substituted but never used"


def test_every_function_the_asl_invokes_exists_in_the_template(template, definition):
    subs = state_machine(template)["DefinitionSubstitutions"]
    resources = template["Resources"]
    invoked = [
        s["Parameters"]["FunctionName"]
        for s in tasks(definition).values()
        if s["Resource"] == "arn:aws:states:::lambda:invoke"
    ]
    assert len(invoked) == 5
    for placeholder in invoked:
        name = placeholder.removeprefix("${").removesuffix("}")
        logical_id, attr = subs[name]["Fn::GetAtt"]
        assert attr == "Arn"
        assert resources[logical_id]["Type"] == "AWS::Serverless::Function"
        code_uri = REPO / resources[logical_id]["Properties"]["CodeUri"]
        assert (code_uri / "app.py").is_file(), f"{logical_id}: no handler in {code_uri}"


def test_the_state_machine_invokes_only_functions_its_role_may_invoke(template, definition):
    subs = state_machine(template)["DefinitionSubstitutions"]
    statements = resource(template, "PipelineStateMachinePolicy")["PolicyDocument"]["Statement"]
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    allowed = {r["Fn::GetAtt"][0] for r in invoke["Resource"] if "Fn::GetAtt" in r}
    called = {
        subs[s["Parameters"]["FunctionName"][2:-1]]["Fn::GetAtt"][0]
        for s in tasks(definition).values()
        if s["Resource"] == "arn:aws:states:::lambda:invoke"
    }
    assert called == allowed


def test_the_asl_has_the_documented_states_in_jsonpath(definition):
    assert definition["QueryLanguage"] == "JSONPath"
    assert definition["StartAt"] == "Claim"
    assert set(definition["States"]) == STATE_NAMES


def test_every_task_retries_transient_errors_and_catches_only_what_it_has_the_answer_to(
    definition,
):
    for name, state in tasks(definition).items():
        retriers = state.get("Retry", [])
        assert retriers, f"{name} has no Retry"
        for retrier in retriers:
            assert retrier["JitterStrategy"] == "FULL", name
            assert retrier["BackoffRate"] > 1, name
            assert retrier["MaxDelaySeconds"] > 0, name
            assert "States.ALL" not in retrier["ErrorEquals"], f"{name} retries everything"
        catchers = state.get("Catch", [])
        assert all("ResultPath" in c for c in catchers), name
        caught = {e for c in catchers for e in c["ErrorEquals"]}
        assert caught <= ANSWERED_ERRORS, f"{name} catches {caught - ANSWERED_ERRORS}"
        if state["Resource"] == "arn:aws:states:::lambda:invoke":
            retried = {e for r in retriers for e in r["ErrorEquals"]}
            assert retried >= TRANSIENT_LAMBDA_ERRORS, name


def test_no_state_fails_the_execution_itself_so_redrive_resumes_at_the_failed_task(definition):
    assert [n for n, s in definition["States"].items() if s["Type"] == "Fail"] == []


def test_lambda_payloads_are_small_and_results_selected(definition):
    for name, state in tasks(definition).items():
        if state["Resource"] != "arn:aws:states:::lambda:invoke":
            continue
        payload = state["Parameters"]["Payload"]
        assert "$" not in payload.values(), f"{name} passes the whole state"
        assert "ResultSelector" in state, name
        assert state["ResultPath"].startswith("$."), name


def test_claim_is_a_conditional_write_recording_the_execution(definition):
    claim = definition["States"]["Claim"]
    assert claim["Resource"] == "arn:aws:states:::dynamodb:putItem"
    params = claim["Parameters"]
    assert params["Item"]["execution_arn"] == {"S.$": "$$.Execution.Id"}
    assert "sequencer < :seq" in params["ConditionExpression"]
    duplicates = claim["Catch"][0]
    assert duplicates["ErrorEquals"] == ["DynamoDB.ConditionalCheckFailedException"]
    assert definition["States"][duplicates["Next"]]["Type"] == "Succeed"


def test_the_object_gone_alert_carries_the_event_attribute(definition):
    notify = definition["States"]["AlertObjectGone"]
    assert notify["Resource"] == "arn:aws:states:::sns:publish"
    attrs = notify["Parameters"]["MessageAttributes"]
    assert attrs["event"] == {"DataType": "String", "StringValue": "FAILED"}
    assert definition["States"][notify["Next"]]["Type"] == "Succeed"


def test_the_workflow_type_is_a_parameter_for_the_same_asl(template):
    assert template["Parameters"]["WorkflowType"]["AllowedValues"] == ["STANDARD", "EXPRESS"]
    sm = state_machine(template)
    assert sm["Type"] == {"Ref": "WorkflowType"}
    assert sm["DefinitionUri"] == "statemachine/pipeline.asl.json"
    assert sm["Tracing"] == {"Enabled": True}
    assert sm["Logging"]["Destinations"]


def test_the_rule_filters_by_prefix_with_retries_and_a_dead_letter_queue(template):
    event = state_machine(template)["Events"]["ObjectCreated"]
    assert event["Type"] == "EventBridgeRule"
    props = event["Properties"]
    assert props["Pattern"]["detail"]["bucket"]["name"] == [{"Ref": "InputBucket"}]
    keys = props["Pattern"]["detail"]["object"]["key"]
    assert keys == [{"prefix": {"Ref": "UploadPrefix"}}], "extensions are TypeCheck's to judge"
    assert props["RetryPolicy"]["MaximumEventAgeInSeconds"] == 86400
    assert props["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["PipelineDeadLetterQueue", "Arn"]}
    assert resource(template, "PipelineDeadLetterQueue")["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize("bucket", ["InputBucket", "QuarantineBucket"])
def test_every_bucket_is_private_encrypted_versioned_and_tls_only(template, bucket):
    props = resource(template, bucket)
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    policies = [
        r["Properties"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::S3::BucketPolicy" and r["Properties"]["Bucket"] == {"Ref": bucket}
    ]
    assert len(policies) == 1
    denies = [
        s
        for s in policies[0]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert denies, f"{bucket} allows plain HTTP"


def test_only_the_input_bucket_sends_events(template):
    assert resource(template, "InputBucket")["NotificationConfiguration"] == {
        "EventBridgeConfiguration": {"EventBridgeEnabled": True}
    }
    assert "NotificationConfiguration" not in resource(template, "QuarantineBucket")


def test_no_function_policy_grants_a_wildcard_action_or_resource(template):
    for logical_id, res in template["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        for policy in res["Properties"].get("Policies", []):
            assert isinstance(policy, dict), f"{logical_id}: use scoped statements"
            assert "Statement" in policy, f"{logical_id}: use scoped statements"
            for statement in policy["Statement"]:
                actions = statement["Action"]
                for action in actions if isinstance(actions, list) else [actions]:
                    assert "*" not in action, f"{logical_id}: {action}"
                assert statement["Resource"] != "*", logical_id


def test_the_alerts_key_lets_alarms_and_the_state_machine_publish(template):
    statements = resource(template, "AlertsKey")["KeyPolicy"]["Statement"]
    services: set[str] = set()
    for s in statements:
        if s["Effect"] == "Allow":
            declared = s["Principal"].get("Service", [])
            services.update([declared] if isinstance(declared, str) else declared)
    assert services == {"cloudwatch.amazonaws.com"}, "no grant to a service that does not publish"
    roles = [s["Principal"].get("AWS") for s in statements]
    assert {"Fn::GetAtt": ["PipelineStateMachineRole", "Arn"]} in roles
    topic = resource(template, "AlertsTopic")
    assert topic["KmsMasterKeyId"] == {"Fn::GetAtt": ["AlertsKey", "Arn"]}


def test_the_api_requires_iam_is_throttled_and_logged(template):
    api = resource(template, "UploadsApi")
    assert api["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    assert api["DefaultRouteSettings"]["ThrottlingRateLimit"]
    assert api["DefaultRouteSettings"]["ThrottlingBurstLimit"]
    assert api["AccessLogSettings"]["DestinationArn"]


def test_every_function_reaches_the_core_through_the_layer(template):
    globals_ = template["Globals"]["Function"]
    assert globals_["Runtime"] == "python3.13"
    assert globals_["Architectures"] == ["arm64"]
    assert globals_["Tracing"] == "Active"
    assert globals_["Layers"] == [{"Ref": "CoreLayer"}]
    layer = template["Resources"]["CoreLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    assert "build-CoreLayer:" in (REPO / "layers/core/Makefile").read_text(encoding="utf-8")
    assert layer["Properties"]["ContentUri"] == "layers/core/"
    assert (REPO / "layers/core/silent_scalper/schemas/job.v1.json").is_file()


def test_the_outputs_name_everything_a_user_needs(template):
    assert set(template["Outputs"]) >= {
        "ApiUrl",
        "InputBucketName",
        "QuarantineBucketName",
        "MetadataTableName",
        "AlertsTopicArn",
        "StateMachineArn",
        "DeadLetterQueueUrl",
    }


def rule_pattern(template: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The rule's event pattern as CloudFormation would resolve it (defaults + overrides)."""
    pattern = state_machine(template)["Events"]["ObjectCreated"]["Properties"]["Pattern"]
    resolved = resolver(template, {**NAMES, **overrides}).resolve(pattern)
    assert isinstance(resolved, dict)
    return resolved


def matches(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    return bool(EventPattern.load(json.dumps(pattern)).matches_event(event))


@pytest.mark.parametrize(
    ("key", "starts"),
    [
        pytest.param("uploads/2026-01-05/abc/jobs.csv", True, id="csv"),
        pytest.param("uploads/2026-01-05/abc/jobs.json", True, id="json"),
        pytest.param("uploads/2026-01-05/abc/jobs.ndjson", True, id="ndjson"),
        pytest.param("uploads/2026-01-05/abc/jobs.jsonl", True, id="jsonl"),
        pytest.param("uploads/2026-01-05/abc/DATA.CSV", True, id="upper-case-suffix"),
        # Started so that TypeCheck quarantines it as UNSUPPORTED_TYPE: never silently ignored.
        pytest.param("uploads/2026-01-05/abc/jobs.exe", True, id="other-suffix"),
        pytest.param("elsewhere/jobs.csv", False, id="outside-prefix"),
        pytest.param("jobs.csv", False, id="bucket-root"),
    ],
)
def test_the_rule_pattern_starts_executions_for_every_upload(template, event, key, starts):
    """Resolved with the template's defaults, exactly as deployed (moto's pattern matcher)."""
    ev = event("eventbridge/object-created.json")
    ev["detail"]["object"]["key"] = key
    pattern = rule_pattern(template)
    assert matches(pattern, ev) is starts
    other_bucket = json.loads(json.dumps(ev))
    other_bucket["detail"]["bucket"]["name"] = "some-other-bucket"
    assert matches(pattern, other_bucket) is False


def test_the_upload_prefix_parameter_is_the_rules_prefix(template, event):
    pattern = rule_pattern(template, AcceptedSuffixes=[".csv"], UploadPrefix="in/")
    assert pattern["detail"]["object"]["key"] == [{"prefix": "in/"}]
    ev = event("eventbridge/object-created.json")
    ev["detail"]["object"]["key"] = "in/x/jobs.json"
    assert matches(pattern, ev)
    ev["detail"]["object"]["key"] = "uploads/x/jobs.csv"
    assert not matches(pattern, ev)


#: CloudFormation's longest stack name; names built from it must still fit their limits.
LONGEST_STACK_NAME = "s" * 128


#: The longest name each named resource type takes (the services' API references; the
#: ledger's "Name limits" row). A resource type named from the stack and missing here fails
#: the test below until its limit is written down.
NAME_LIMITS = {
    ("AWS::Serverless::LayerVersion", "LayerName"): 140,
    ("AWS::KMS::Alias", "AliasName"): 256,
    ("AWS::Logs::LogGroup", "LogGroupName"): 512,
    ("AWS::Cognito::UserPool", "UserPoolName"): 128,
    ("AWS::Cognito::UserPoolClient", "ClientName"): 128,
    ("AWS::Athena::WorkGroup", "Name"): 128,
    ("AWS::CloudWatch::Dashboard", "DashboardName"): 255,
    ("AWS::Glue::Database", "DatabaseInput.Name"): 255,
    ("ScheduleV2", "Name"): 64,
    ("AWS::Serverless::StateMachine", "Name"): 80,
    ("AWS::Events::Rule", "Name"): 64,
}


def _names_from_the_stack(template: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(logical id, (type, property) key, value) of every name built from the stack."""
    found = []
    for logical_id, declared in template["Resources"].items():
        props = declared.get("Properties") or {}
        candidates = [(declared["Type"], k, v) for k, v in props.items() if k.endswith("Name")]
        candidates += [
            (declared["Type"], f"{k}.Name", v["Name"])
            for k, v in props.items()
            if isinstance(v, dict) and "Name" in v
        ]
        for event in (props.get("Events") or {}).values():
            event_props = event.get("Properties") or {}
            if "Name" in event_props:
                candidates.append((event["Type"], "Name", event_props["Name"]))
        for kind, prop, value in candidates:
            if "AWS::Stack" in json.dumps(value):
                found.append((logical_id, f"{kind} {prop}", value))
    return found


def test_names_built_from_the_stack_fit_their_limits_for_any_stack_name_that_deploys(template):
    """Given CloudFormation's longest stack name (128 characters), when every name built from
    the stack name or id is resolved, then each fits its service's limit. The state machine
    and the status-change rule are not named at all: CloudFormation generates names that fit
    (Step Functions 80 characters, EventBridge rules 64)."""
    assert "Name" not in state_machine(template)
    assert "Name" not in resource(template, "ExecutionEndedRule")
    assert "RuleName" not in state_machine(template)["Events"]["ObjectCreated"]["Properties"]
    longest = resolver(template, {"AWS::StackName": LONGEST_STACK_NAME}).resolve
    named = _names_from_the_stack(template)
    assert len(named) >= 15  # layer, alias, log groups, schedules, pools, workgroup, ...
    limits = {f"{kind} {prop}": limit for (kind, prop), limit in NAME_LIMITS.items()}
    for logical_id, what, value in named:
        assert what in limits, f"{logical_id}: no limit written down for {what}"
        name = longest(value)
        assert 1 <= len(name) <= limits[what], f"{logical_id} {what}: {len(name)} characters"


def test_two_stacks_in_one_account_get_different_schedule_and_layer_names(template):
    """dev and prod side by side (samconfig.toml): nothing is named after a logical id alone."""
    events = resource(template, "ReprocessQuarantinedFunction")["Events"]
    names = {
        "dev": resolver(template, {"AWS::StackName": "silent-scalper-dev"}).resolve,
        "prod": resolver(template, {"AWS::StackName": "silent-scalper-prod"}).resolve,
    }
    for event in ("Reprocess", "StuckRecords"):
        dev, prod = (names[s](events[event]["Properties"]["Name"]) for s in ("dev", "prod"))
        assert dev != prod, event
    layer = resource(template, "CoreLayer")["LayerName"]
    assert names["dev"](layer) != names["prod"](layer)


@pytest.mark.parametrize("queue", ["PipelineDeadLetterQueue", "ResultsFailureQueue"])
def test_dead_letter_queues_outlive_the_stack_like_the_data_stores(template, queue):
    declared = template["Resources"][queue]
    assert (declared["DeletionPolicy"], declared["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_dead_letter_queue_admits_only_the_pipeline_rule_by_its_arn(template):
    statements = resource(template, "PipelineDeadLetterQueuePolicy")["PolicyDocument"]["Statement"]
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == {
        "Fn::GetAtt": ["PipelineStateMachineObjectCreated", "Arn"]
    }


def test_the_status_route_has_the_upload_route_s_authoriser_in_both_modes(template):
    """GET /uploads/{upload_id} carries exactly POST /uploads' security (IAM or Cognito by
    AuthMode) and runs get_upload; its role reads the two tables and only report objects."""
    paths = resource(template, "UploadsApi")["DefinitionBody"]["paths"]
    assert paths["/uploads/{upload_id}"]["get"]["security"] == paths["/uploads"]["post"]["security"]
    event = resource(template, "GetUploadFunction")["Events"]["ReadUpload"]["Properties"]
    assert (event["Method"], event["Path"]) == ("GET", "/uploads/{upload_id}")
    statements = resource(template, "GetUploadFunction")["Policies"][0]["Statement"]
    actions = {
        s["Action"] if isinstance(s["Action"], str) else tuple(s["Action"]) for s in statements
    }
    assert actions == {"dynamodb:GetItem", "s3:GetObject"}
    s3 = next(s for s in statements if s["Action"] == "s3:GetObject")
    assert s3["Resource"] == {"Fn::Sub": "${QuarantineBucket.Arn}/*.report.json"}


def test_upload_intents_expire_by_ttl_and_only_presign_writes_them(template):
    table = resource(template, "UploadsTable")
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["KeySchema"] == [{"AttributeName": "upload_id", "KeyType": "HASH"}]
    presign = resource(template, "PresignFunction")["Policies"][0]["Statement"]
    assert {"Effect": "Allow", "Action": "dynamodb:PutItem",
            "Resource": {"Fn::GetAtt": ["UploadsTable", "Arn"]}} in presign  # fmt: skip
    env = template["Globals"]["Function"]["Environment"]["Variables"]
    assert env["UPLOADS_TABLE"] == {"Ref": "UploadsTable"}
    assert env["ALLOWED_SCHEMAS"] == {"Fn::Join": [",", {"Ref": "AllowedSchemas"}]}


def test_outcome_events_go_to_the_named_bus_only_and_failures_raise_an_alarm(template):
    function = resource(template, "WriteResultFunction")
    assert function["Environment"]["Variables"]["EVENT_BUS_NAME"] == {"Ref": "OutcomeEventBusName"}
    assert template["Parameters"]["OutcomeEventBusName"]["Default"] == "default"
    role = resource(template, "WriteResultRole")["Policies"][0]["PolicyDocument"]["Statement"]
    [publish] = [s for s in role if s["Action"] == "events:PutEvents"]
    assert publish["Resource"]["Fn::Sub"].endswith(":event-bus/${OutcomeEventBusName}")
    alarm = resource(template, "OutcomeEventsFailedAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("SilentScalper", "OutcomeEventsFailed")
    assert alarm["AlarmActions"] == [{"Ref": "AlertsTopic"}]
    mapping = function["Events"]["TerminalRecords"]["Properties"]
    assert mapping["MaximumRetryAttempts"] > 0
    assert mapping["DestinationConfig"]["OnFailure"]["Type"] == "SQS"
