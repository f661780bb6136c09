"""The additions in the transformed template (the SECURITY helper's offline SAM transform).

Both ``AuthMode`` values are transformed, then CloudFormation's own deploy-time step is
imitated (conditions evaluated, ``Fn::If`` resolved, resources whose condition is false
dropped) so each test reads what would really be deployed in that mode.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import pytest
from moto.events.models import EventPattern
from silent_scalper.results import ResultLine

from scalper.security.transform import sam_to_cfn

from .template_support import source_template

MODES = ("IAM", "COGNITO")


def _condition(template: dict[str, Any], params: dict[str, str], node: Any) -> bool:
    if isinstance(node, dict):
        (name, args), *_ = node.items()
        if name == "Condition":
            return _condition(template, params, template["Conditions"][args])
        if name == "Fn::Equals":
            left, right = (_value(template, params, a) for a in args)
            return bool(left == right)
        if name == "Fn::Not":
            return not _condition(template, params, args[0])
        if name == "Fn::And":
            return all(_condition(template, params, a) for a in args)
        if name == "Fn::Or":
            return any(_condition(template, params, a) for a in args)
    raise AssertionError(f"unexpected condition {node!r}")


def _value(template: dict[str, Any], params: dict[str, str], node: Any) -> Any:
    if isinstance(node, dict) and set(node) == {"Ref"} and node["Ref"] in params:
        return params[node["Ref"]]
    if isinstance(node, dict) and "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(str(_value(template, params, p)) for p in parts)
    if isinstance(node, dict) and "Fn::Select" in node:
        index, items = node["Fn::Select"]
        return _value(template, params, items)[int(index)]
    if isinstance(node, dict) and "Fn::Split" in node:
        sep, text = node["Fn::Split"]
        return str(_value(template, params, text)).split(sep)
    if isinstance(node, dict) and "Fn::Sub" in node and isinstance(node["Fn::Sub"], list):
        text, names = node["Fn::Sub"]
        values = {k: _value(template, params, v) for k, v in names.items()}
        return re.sub(
            r"\$\{(\w+)\}", lambda m: str(values.get(m.group(1), params.get(m.group(1)))), text
        )
    return node


def _resolve_ifs(template: dict[str, Any], params: dict[str, str], node: Any) -> Any:
    if isinstance(node, dict):
        if set(node) == {"Fn::If"}:
            name, yes, no = node["Fn::If"]
            chosen = yes if _condition(template, params, {"Condition": name}) else no
            return _resolve_ifs(template, params, chosen)
        out = {k: _resolve_ifs(template, params, v) for k, v in node.items()}
        return {k: v for k, v in out.items() if v != {"Ref": "AWS::NoValue"}}
    if isinstance(node, list):
        return [
            _resolve_ifs(template, params, v)
            for v in node
            if _resolve_ifs(template, params, v) != {"Ref": "AWS::NoValue"}
        ]
    return node


@cache
def deployed(mode: str) -> dict[str, Any]:
    """The transformed template as CloudFormation would deploy it with AuthMode=mode."""
    source = source_template()
    out = sam_to_cfn(source, parameters={"AuthMode": mode})
    params = {k: str(v.get("Default", "")) for k, v in source["Parameters"].items()}
    params["AuthMode"] = mode
    out["Resources"] = {
        lid: res
        for lid, res in out["Resources"].items()
        if "Condition" not in res or _condition(out, params, {"Condition": res["Condition"]})
    }
    return dict(_resolve_ifs(out, params, out))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def route_security(template: dict[str, Any]) -> list[dict[str, Any]]:
    body = template["Resources"]["UploadsApi"]["Properties"]["Body"]
    security: list[dict[str, Any]] = body["paths"]["/uploads"]["post"]["security"]
    return security


# -------------------------------------------------------------------- AuthMode


def test_given_the_default_iam_mode_then_post_uploads_needs_sigv4_and_no_user_pool_exists():
    template = deployed("IAM")
    assert route_security(template) == [{"AWS_IAM": []}]
    assert not of_type(template, "AWS::Cognito::UserPool")
    assert not of_type(template, "AWS::Cognito::UserPoolClient")
    assert "UserPoolId" not in {
        k for k, v in source_template()["Outputs"].items() if "Condition" not in v
    }


def test_given_cognito_mode_then_post_uploads_needs_a_jwt_of_the_stack_s_pool_and_client():
    template = deployed("COGNITO")
    assert route_security(template) == [{"CognitoAuthorizer": []}]
    body = template["Resources"]["UploadsApi"]["Properties"]["Body"]
    scheme = body["components"]["securitySchemes"]["CognitoAuthorizer"]
    authorizer = scheme["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "jwt"
    assert authorizer["identitySource"] == "$request.header.Authorization"
    jwt = authorizer["jwtConfiguration"]
    assert jwt["issuer"] == {
        "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UploadsUserPool}"
    }
    assert jwt["audience"] == [{"Ref": "UploadsUserPoolClient"}]
    [pool] = of_type(template, "AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Properties"]["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    [client] = of_type(template, "AWS::Cognito::UserPoolClient").values()
    assert client["Properties"]["GenerateSecret"] is False
    assert client["Properties"]["PreventUserExistenceErrors"] == "ENABLED"
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["Properties"]["ExplicitAuthFlows"]


@pytest.mark.parametrize("mode", MODES)
def test_given_either_mode_then_the_route_still_invokes_presign(mode):
    body = deployed(mode)["Resources"]["UploadsApi"]["Properties"]["Body"]
    integration = body["paths"]["/uploads"]["post"]["x-amazon-apigateway-integration"]
    assert "${PresignFunction.Arn}" in integration["uri"]["Fn::Sub"]
    assert integration["payloadFormatVersion"] == "2.0"


# -------------------------------------------------------------------- results stream


def stream_mapping() -> dict[str, Any]:
    [mapping] = [
        r["Properties"]
        for r in of_type(deployed("IAM"), "AWS::Lambda::EventSourceMapping").values()
        if r["Properties"]["FunctionName"] == {"Ref": "WriteResultFunction"}
    ]
    return mapping


def test_the_metadata_table_streams_old_and_new_images_to_write_result():
    table = deployed("IAM")["Resources"]["MetadataTable"]["Properties"]
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    mapping = stream_mapping()
    assert mapping["EventSourceArn"] == {"Fn::GetAtt": ["MetadataTable", "StreamArn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["ResultsFailureQueue", "Arn"]
    }
    assert mapping["MaximumRetryAttempts"] >= 1


@pytest.mark.parametrize(
    ("event_name", "status", "delivered"),
    [
        ("INSERT", "PROCESSING", False),
        ("MODIFY", "PROCESSING", False),
        ("MODIFY", "VALID", True),
        ("MODIFY", "QUARANTINED", True),
        ("MODIFY", "FAILED", True),
        ("INSERT", "FAILED", True),
        ("REMOVE", "VALID", False),
    ],
)
def test_the_stream_filter_lets_only_terminal_records_through(event_name, status, delivered):
    [pattern] = [f["Pattern"] for f in stream_mapping()["FilterCriteria"]["Filters"]]
    record = {
        "eventName": event_name,
        "dynamodb": {"NewImage": {"pk": {"S": "b/k"}, "status": {"S": status}}},
    }
    assert EventPattern.load(pattern).matches_event(record) is delivered


def test_write_result_reads_only_this_stream_and_puts_only_result_objects():
    resources = deployed("IAM")["Resources"]
    function = resources["WriteResultFunction"]["Properties"]
    assert function["Role"] == {"Fn::GetAtt": ["WriteResultRole", "Arn"]}
    role = resources["WriteResultRole"]["Properties"]
    assert not [a for a in role["ManagedPolicyArns"] if "DynamoDB" in json.dumps(a)]
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    stream = [s for s in statements if "dynamodb:GetRecords" in s["Action"]]
    assert [s["Resource"] for s in stream] == [{"Fn::GetAtt": ["MetadataTable", "StreamArn"]}]
    s3 = [s for s in statements if "s3:PutObject" in json.dumps(s["Action"])]
    assert s3 == [
        {
            "Sid": "WriteResultLines",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": {"Fn::Sub": "${ResultsBucket.Arn}/results/*"},
        }
    ]
    assert not [s for s in statements if s["Action"] == "*" or s["Action"] == ["*"]]


# -------------------------------------------------------------------- Glue and Athena


def test_the_glue_table_has_exactly_the_result_line_s_columns_with_projection_on_dt():
    table = deployed("IAM")["Resources"]["ResultsTable"]["Properties"]["TableInput"]
    columns = [c["Name"] for c in table["StorageDescriptor"]["Columns"]]
    fields = [f for f in ResultLine.model_fields if f != "dt"]
    assert columns == [f for f in fields if f in columns]
    assert set(fields) - set(columns) == set()
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    serde = table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
    assert serde == "org.openx.data.jsonserde.JsonSerDe"
    params = table["Parameters"]
    assert params["projection.enabled"] == "true"
    assert params["projection.dt.type"] == "date"
    assert params["projection.dt.format"] == "yyyy-MM-dd"
    assert params["storage.location.template"] == {
        "Fn::Sub": "s3://${ResultsBucket}/results/dt=${!dt}/"
    }


def test_the_workgroup_enforces_an_encrypted_result_location_in_the_results_bucket():
    [group] = of_type(deployed("IAM"), "AWS::Athena::WorkGroup").values()
    config = group["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    result = config["ResultConfiguration"]
    assert result["EncryptionConfiguration"]["EncryptionOption"] in {"SSE_S3", "SSE_KMS"}
    assert result["OutputLocation"] == {"Fn::Sub": "s3://${ResultsBucket}/athena/"}


def test_the_named_queries_answer_the_three_questions():
    queries = {
        q["Properties"]["Name"]: q["Properties"]
        for q in of_type(deployed("IAM"), "AWS::Athena::NamedQuery").values()
    }
    assert set(queries) == {
        "files-and-bytes-per-day-by-status",
        "top-quarantine-reasons",
        "failure-rate-per-day",
    }
    for query in queries.values():
        assert query["WorkGroup"] == {"Ref": "ResultsWorkGroup"}
        assert "FROM results" in query["QueryString"]
    assert "GROUP BY dt, status" in queries["files-and-bytes-per-day-by-status"]["QueryString"]
    assert "status = 'QUARANTINED'" in queries["top-quarantine-reasons"]["QueryString"]
    assert "status = 'FAILED'" in queries["failure-rate-per-day"]["QueryString"]


# -------------------------------------------------------------------- dashboard


def published_metric_names() -> set[str]:
    """Metric names the handlers and the core publish (read from the code itself)."""
    from silent_scalper.records import Status

    from .template_support import REPO

    names = {f"Files{s.value.title()}" for s in Status if s is not Status.PROCESSING}
    sources = [*REPO.glob("layers/core/silent_scalper/**/*.py"), *REPO.glob("functions/*/app.py")]
    for path in sources:
        names.update(re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text()))
    return names


def test_the_dashboard_shows_outcomes_validation_time_bytes_failures_and_dlq_depth():
    [board] = of_type(deployed("IAM"), "AWS::CloudWatch::Dashboard").values()
    text, names = board["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= {*names, "AWS::Region"} | {"AWS"}
    body = json.loads(re.sub(r"\$\{[\w:]+\}", "x", text))
    metrics = [
        tuple(m[:2])
        for w in body["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    ]
    ours = {name for namespace, name in metrics if namespace == "SilentScalper"}
    assert ours <= published_metric_names(), ours - published_metric_names()
    for wanted in ("FilesValid", "FilesQuarantined", "ValidationTime", "BytesValidated"):
        assert wanted in ours
    assert ("AWS/States", "ExecutionsFailed") in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert names["DeadLetterQueueName"] == {"Fn::GetAtt": ["PipelineDeadLetterQueue", "QueueName"]}
    titles = {w["properties"]["title"] for w in body["widgets"]}
    assert {"Files by outcome", "Validation time (ms)", "Bytes validated", "Failures"} <= titles
    assert "Dead-letter queue depth" in titles
