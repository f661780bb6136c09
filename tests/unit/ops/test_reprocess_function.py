"""The scheduled ``reprocess_quarantined`` function: its two tasks through the real handler."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from handler_support import TEMPLATE, create_buckets, create_metadata_table, import_handler
from moto import mock_aws
from silent_scalper.records import MetadataRecord, Status, item_key

from scalper.local.template import load_template

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "tests" / "unit" / "functions" / "data"
INPUT, QUARANTINE, TABLE = "in-bucket", "q-bucket", "records"
KEY = "uploads/2026-11-25/u2/jobs.csv"


@dataclass
class Context:
    """The parts of the Lambda context Powertools and the handler read."""

    function_name: str = "reprocess-quarantined"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:reprocess-quarantined"
    )
    aws_request_id: str = "3d6e1c3a-0000-4000-8000-000000000000"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


@pytest.fixture
def handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, Any, Any]]:
    """Given the function loaded with its environment, a table and two buckets on moto."""
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "INPUT_BUCKET": INPUT,
        "QUARANTINE_BUCKET": QUARANTINE,
        "METADATA_TABLE": TABLE,
        "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
        "SCHEMA_NAME": "any",  # the "fixed" schema: everything passes
        "REPROCESS_LOOKBACK_DAYS": "3650",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "SilentScalper",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    template = load_template(TEMPLATE)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        create_buckets(s3, template, {"InputBucket": INPUT, "QuarantineBucket": QUARANTINE})
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_metadata_table(dynamodb, template, TABLE)
        module = import_handler("reprocess_quarantined", "reprocess_quarantined_app")
        try:
            yield module, s3, dynamodb
        finally:
            sys.modules.pop("reprocess_quarantined_app", None)


def _quarantined(s3: Any, dynamodb: Any) -> str:
    version = s3.put_object(Bucket=INPUT, Key=KEY, Body=(DATA / "jobs-invalid.csv").read_bytes())[
        "VersionId"
    ]
    location = f"s3://{QUARANTINE}/{INPUT}/{KEY}"
    s3.put_object(Bucket=QUARANTINE, Key=f"{INPUT}/{KEY}", Body=b"copy")
    record = MetadataRecord(
        pk=item_key(INPUT, KEY),
        bucket=INPUT,
        key=KEY,
        event_key=KEY,
        version_id=version,
        sequencer="0001",
        size=10,
        status=Status.QUARANTINED,
        reason="SCHEMA_VIOLATION",
        format="csv",
        execution_arn="arn:aws:states:us-east-1:123456789012:execution:p:old",
        processed_at="2026-11-25T11:00:00.000Z",
        updated_at="2026-11-25T11:00:00.000Z",
        quarantine_location=location,
        report_location=location + ".report.json",
    )
    dynamodb.put_item(TableName=TABLE, Item=record.to_item())
    return str(version)


def test_the_reprocess_task_releases_files_that_pass_the_current_schema(
    handler: tuple[ModuleType, Any, Any],
) -> None:
    module, s3, dynamodb = handler
    old_version = _quarantined(s3, dynamodb)

    result = module.handler({"task": "reprocess"}, Context())

    assert result["checked"] == 1
    assert result["released"] == 1
    assert s3.head_object(Bucket=INPUT, Key=KEY)["VersionId"] != old_version
    markers = s3.list_objects_v2(Bucket=QUARANTINE, Prefix="_reprocess/pending/")
    assert markers["KeyCount"] == 1


def test_the_stuck_records_task_counts_old_processing_claims(
    handler: tuple[ModuleType, Any, Any],
) -> None:
    module, _, dynamodb = handler
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": item_key(INPUT, KEY)},
            "status": {"S": "PROCESSING"},
            "updated_at": {"S": "2020-01-01T00:00:00.000Z"},
            "execution_arn": {"S": "arn:aws:states:us-east-1:123456789012:execution:p:x"},
        },
    )

    assert module.handler({"task": "stuck-records"}, Context()) == {"stuck_records": 1}


@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_an_unknown_task_is_a_clear_error(handler: tuple[ModuleType, Any, Any]) -> None:
    module, _, _ = handler
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        module.handler({"task": "nope"}, Context())


def _actions(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions AWS checks for one call of the function (the operations it uses)."""
    if service == "s3":
        versioned = bool(params.get("VersionId"))
        if operation in {"GetObject", "HeadObject"}:
            return {"s3:GetObjectVersion" if versioned else "s3:GetObject"}
        if operation == "ListObjectsV2":
            return {"s3:ListBucket"}
        if operation == "CopyObject":
            source = params["CopySource"]
            versioned_source = (
                bool(source.get("VersionId"))
                if isinstance(source, dict)
                else "versionId=" in source
            )
            read = "s3:GetObjectVersion" if versioned_source else "s3:GetObject"
            return {read, "s3:PutObject"} | (
                {"s3:PutObjectTagging"} if params.get("Tagging") else set()
            )
    return {f"{service}:{operation}"}


def test_every_call_the_function_makes_is_granted_by_its_policy(
    handler: tuple[ModuleType, Any, Any],
) -> None:
    """moto enforces no IAM: record the calls of both tasks and check them against template.yaml."""
    module, s3, dynamodb = handler
    seen: set[str] = set()

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        service = model.service_model.endpoint_prefix
        seen.update(_actions("s3" if service == "s3" else service, model.name, params))

    for client in (module.S3, module.DYNAMODB):
        client.meta.events.register("before-parameter-build", record)
    _quarantined(s3, dynamodb)
    module.handler({"task": "reprocess"}, Context())  # releases (copy, marker)
    dynamodb.update_item(  # the pipeline's new outcome for the released version
        TableName=TABLE,
        Key={"pk": {"S": item_key(INPUT, KEY)}},
        UpdateExpression="SET #s = :v, sequencer = :q",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":v": {"S": "VALID"}, ":q": {"S": "0002"}},
    )
    module.handler({"task": "reprocess"}, Context())  # settles: deletes copy, report, marker
    module.handler({"task": "stuck-records"}, Context())

    function = load_template(REPO / "template.yaml")["Resources"]["ReprocessQuarantinedFunction"]
    granted: set[str] = set()
    for policy in function["Properties"]["Policies"]:
        for statement in policy["Statement"]:
            if statement["Effect"] == "Allow":
                action = statement["Action"]
                granted.update(action if isinstance(action, list) else [action])
    assert seen - granted == set()
    assert {"s3:ListBucket", "dynamodb:Query", "s3:PutObject", "s3:DeleteObject"} <= seen
