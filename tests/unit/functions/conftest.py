"""Fixtures for the handler tests: moto resources built from template.yaml's own properties.

The buckets, table and topic are created from the template's resource properties (key
schema, indexes, versioning), and each handler gets the environment the template gives it,
so the tests cannot drift from what deploys.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from functools import partial
from types import ModuleType
from typing import Any

import boto3
import pytest
from functions_support import DATA, NAMES, STACK, Stack
from handler_support import (
    REGION,
    TEST_CREDENTIALS,
    create_buckets,
    create_metadata_table,
    create_uploads_table,
    import_handler,
    load_event,
    template_env,
)
from moto import mock_aws
from sam_template import load_template
from silent_scalper.records import item_key
from silent_scalper.settings import Settings


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    """template.yaml, parsed with CloudFormation tags."""
    return load_template()


@pytest.fixture
def stack(template: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    """Buckets, table and topic per template.yaml, inside moto; yields the Stack."""
    for var, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(var, value)
    env = template_env(template, STACK)
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        buckets = ("InputBucket", "QuarantineBucket")
        create_buckets(s3, template, {logical_id: NAMES[logical_id] for logical_id in buckets})
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_metadata_table(dynamodb, template, NAMES["MetadataTable"])
        create_uploads_table(dynamodb, template, NAMES["UploadsTable"])
        sns = boto3.client("sns", region_name=REGION)
        topic_arn = sns.create_topic(Name=NAMES["AlertsTopic"].rsplit(":", 1)[1])["TopicArn"]
        assert topic_arn == NAMES["AlertsTopic"]
        sqs = boto3.client("sqs", region_name=REGION)
        queue_url = sqs.create_queue(QueueName="alerts-subscriber")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
        yield Stack(
            env=env,
            settings=Settings.from_env(env),
            s3=s3,
            dynamodb=dynamodb,
            sns=sns,
            sqs=sqs,
            alerts_queue_url=queue_url,
        )


@pytest.fixture
def load_handler(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ModuleType]:
    """Import ``functions/<name>/app.py`` fresh, with the template's environment, inside moto."""

    def load(name: str) -> ModuleType:
        for var, value in stack.env.items():
            monkeypatch.setenv(var, value)
        return import_handler(
            name, f"scalper_test_handler_{name}", partial(monkeypatch.setitem, sys.modules)
        )

    return load


@pytest.fixture
def object_event(stack: Stack) -> Callable[..., dict[str, Any]]:
    """``object_event("states/x.json", "jobs-valid.csv")``: a state's sample input whose object
    really exists in moto (uploaded from tests/unit/functions/data, with its real version id)."""

    def make(name: str, body_file: str, *, key: str | None = None) -> dict[str, Any]:
        event = load_event(name)
        if key is not None:
            event["object"]["key"] = key
        body = (DATA / body_file).read_bytes()
        event["object"]["version-id"] = stack.put(event["object"]["key"], body)
        event["object"]["size"] = len(body)
        return event

    return make


@pytest.fixture
def claim(stack: Stack) -> Callable[..., None]:
    """``claim(event, owner=None)``: the PROCESSING item the state machine's Claim writes."""

    def write(event: dict[str, Any], owner: str | None = None) -> None:
        stack.dynamodb.put_item(
            TableName=stack.settings.table_name,
            Item={
                "pk": {"S": item_key(event["bucket"], event["object"]["key"])},
                "status": {"S": "PROCESSING"},
                "execution_arn": {"S": owner or event["execution_arn"]},
                "sequencer": {"S": event["object"]["sequencer"]},
            },
        )

    return write


@pytest.fixture
def event() -> Callable[[str], dict[str, Any]]:
    """``event("api/presign-request.json")``: a sample event from events/, parsed."""
    return load_event
