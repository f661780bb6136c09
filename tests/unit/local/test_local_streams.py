"""The DynamoDB Streams -> Lambda bridge: the records a function receives, in Lambda's form.

The bridge reads the stream from moto's backend in this process instead of through
moto's DynamoDB Streams API. What the function receives must not depend on that: each
record is the ``GetRecords`` answer's record in its JSON wire form (binary values base64,
``ApproximateCreationDateTime`` in epoch seconds rounded down), with the ``eventSourceARN``
Lambda adds. The reference here is the API read through botocore, converted by the test on
its own, so a change in moto's record or in the bridge's conversion fails these tests.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scalper.local import moto_internals
from scalper.local.stack import REPO_ROOT
from scalper.local.streams import StreamsBridge, StreamSource, lambda_record
from scalper.local.template import load_template

ACCOUNT, REGION, TABLE = "123456789012", "us-east-1", "metadata"

#: One attribute of every DynamoDB type, binary ones included (not valid UTF-8 either).
EVERY_TYPE: dict[str, Any] = {
    "pk": {"S": "bucket/uploads/a.csv"},
    "status": {"S": "VALID"},
    "records": {"N": "1.50"},
    "digest": {"B": b"\x00\xffhi"},
    "digests": {"BS": [b"x", b"\xfe"]},
    "tags": {"SS": ["p", "q"]},
    "sizes": {"NS": ["1", "2"]},
    "errors": {"L": [{"S": "x"}, {"N": "2"}]},
    "summary": {"M": {"ok": {"BOOL": True}, "none": {"NULL": True}}},
    "note": {"S": "é\u2028"},
}


@pytest.fixture
def table() -> Iterator[Any]:
    """The template's metadata table (keys, stream view) on moto."""
    props = load_template(REPO_ROOT / "template.yaml")["Resources"]["MetadataTable"]["Properties"]
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        keys = {k["AttributeName"] for k in props["KeySchema"]}
        ddb.create_table(
            TableName=TABLE,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=[
                a for a in props["AttributeDefinitions"] if a["AttributeName"] in keys
            ],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, **props["StreamSpecification"]},
        )
        yield ddb


def write_insert_modify_remove(ddb: Any) -> None:
    ddb.put_item(TableName=TABLE, Item=EVERY_TYPE)
    ddb.put_item(TableName=TABLE, Item={**EVERY_TYPE, "status": {"S": "QUARANTINED"}})
    ddb.delete_item(TableName=TABLE, Key={"pk": EVERY_TYPE["pk"]})


def through_the_api(ddb: Any) -> tuple[str, list[dict[str, Any]]]:
    """The stream's ARN and its records as GetRecords answers, in JSON as Lambda passes them."""
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]

    def wire(value: object) -> object:  # how the JSON protocol carries botocore's types
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        if isinstance(value, datetime):
            return int(value.timestamp())  # epoch seconds, rounded down
        raise TypeError(value)

    records = streams.get_records(ShardIterator=iterator)["Records"]
    return arn, [json.loads(json.dumps(r, default=wire)) for r in records]


def test_given_every_attribute_type_then_each_record_is_the_api_record_in_lambdas_form(
    table: Any,
) -> None:
    """Given an insert, a modify and a remove of an item with every attribute type, when
    the bridge reads the stream from moto's backend, then each record equals the
    GetRecords record in JSON, plus eventSourceARN (the stream's ARN)."""
    write_insert_modify_remove(table)
    arn, expected = through_the_api(table)
    stream = moto_internals.table_stream(ACCOUNT, REGION, TABLE)
    assert stream is not None
    assert stream.arn == arn
    got = [lambda_record(r, stream.arn) for r in moto_internals.stream_records(stream, 0, 1000)]
    assert [r["eventName"] for r in got] == ["INSERT", "MODIFY", "REMOVE"]
    assert got == [{**r, "eventSourceARN": arn} for r in expected]
    new_image = got[0]["dynamodb"]["NewImage"]
    assert new_image["digest"] == {"B": "AP9oaQ=="}
    assert new_image["digests"] == {"BS": ["eA==", "/g=="]}
    approximate = got[0]["dynamodb"]["ApproximateCreationDateTime"]
    assert isinstance(approximate, int)
    assert abs(approximate - datetime.now(UTC).timestamp()) < 60


def test_given_a_position_then_reading_resumes_there_and_moto_keeps_its_own_records(
    table: Any,
) -> None:
    """Given three records, when two are read and then the rest, then the second read
    starts at the third; changing a handed-on record leaves moto's stream unchanged."""
    write_insert_modify_remove(table)
    stream = moto_internals.table_stream(ACCOUNT, REGION, TABLE)
    assert stream is not None
    first = moto_internals.stream_records(stream, 0, 2)
    rest = moto_internals.stream_records(stream, 2, 1000)
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in first + rest]
    assert (len(first), len(rest)) == (2, 1)
    assert numbers == sorted(numbers)
    handed = lambda_record(first[0], stream.arn)
    handed["dynamodb"]["NewImage"]["status"] = {"S": "CHANGED"}
    again = moto_internals.stream_records(stream, 0, 1)[0]
    assert again["dynamodb"]["NewImage"]["status"] == {"S": "VALID"}


class RecordingLambda:
    """A Lambda client that records each Invoke's payload and answers success."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def invoke(self, FunctionName: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.payloads.append(json.loads(Payload))
        return {"StatusCode": 200, "Payload": io.BytesIO(b"null")}


def test_given_a_mapping_then_the_function_receives_the_records_in_stream_order(
    table: Any,
) -> None:
    """Given a mapping with a filter on NEW_IMAGE status and batches of one, when records
    are written, then the function is invoked once per matching record, in stream order,
    with Lambda's record form."""
    lambdas = RecordingLambda()
    source = StreamSource(
        function="WriteResultFunction",
        function_name="write-result",
        table=TABLE,
        batch_size=1,
        filters=('{"dynamodb": {"NewImage": {"status": {"S": ["VALID", "QUARANTINED"]}}}}',),
    )
    bridge = StreamsBridge([source], boto3.client, lambdas, account_id=ACCOUNT, region=REGION)
    bridge.start()
    try:
        write_insert_modify_remove(table)
        assert bridge.wait_idle(10)
    finally:
        bridge.close()
    arn, expected = through_the_api(table)
    assert [p["Records"] for p in lambdas.payloads] == [
        [{**expected[0], "eventSourceARN": arn}],
        [{**expected[1], "eventSourceARN": arn}],
    ]
    assert [d.attempts for d in bridge.deliveries] == [1, 1]
