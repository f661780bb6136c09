"""Result lines for Athena, as CloudFormation would deploy them: the metadata table's stream
to write_result, its filter and permissions, the Glue table, the workgroup and the named
queries.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from deployed_template import deployed, of_type
from silent_scalper.pipeline.write_result import ResultLine

from scalper.local import moto_internals


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
    assert moto_internals.event_pattern(pattern)(record) is delivered


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
