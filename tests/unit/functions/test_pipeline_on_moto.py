"""The deployed ASL drives the real handlers: the contract between the two, end to end.

moto's Step Functions engine runs statemachine/pipeline.asl.json (substitutions resolved from
template.yaml); its Lambda tasks reach the handlers through a minimal in-process endpoint
speaking the Lambda Invoke API (``AWS_ENDPOINT_URL_LAMBDA``; the benchmark uses it too). The
handlers' own S3, DynamoDB and SNS calls land on the same moto backends. The local stack
(``scalper local``) provides the full endpoint with worker processes and timeouts; this one
only checks that what each handler returns is what the ASL's ResultSelectors and Choice read.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from functions_support import DATA, NAMES
from handler_support import ACCOUNT, REGION
from sam_template import pipeline_definition

from scalper.local.in_process_lambda import serve_in_process

FUNCTIONS = {
    "TypeCheckFunction": "type_check",
    "ValidateSchemaFunction": "validate_schema",
    "ExtractMetadataFunction": "extract_metadata",
    "WriteMetadataFunction": "write_metadata",
    "QuarantineFunction": "quarantine",
}
DEADLINE_SECONDS = 60


@pytest.fixture(params=["STANDARD", "EXPRESS"])
def workflow_type(request: pytest.FixtureRequest, template: dict[str, Any]) -> str:
    """Both values of the template's WorkflowType parameter: the same ASL must run as either."""
    assert request.param in template["Parameters"]["WorkflowType"]["AllowedValues"]
    return str(request.param)


@pytest.fixture
def run(
    workflow_type: str,
    template: dict[str, Any],
    stack: Any,
    load_handler: Callable[[str], ModuleType],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Callable[[dict[str, Any]], tuple[str, list[str], dict[str, Any]]]]:
    """``run(event)`` -> (status, states entered, output) of one execution of the pipeline."""
    handlers = {logical_id: load_handler(name).handler for logical_id, name in FUNCTIONS.items()}
    server = serve_in_process(handlers)
    monkeypatch.setenv("AWS_ENDPOINT_URL_LAMBDA", server.url)
    names = {
        **NAMES,
        "StageName": "dev",
        **{f"{lid}.Arn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{lid}" for lid in FUNCTIONS},
    }
    definition = pipeline_definition(template, names)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.create_state_machine(
        name="pipeline",
        definition=definition,
        roleArn=f"arn:aws:iam::{ACCOUNT}:role/pipeline",
        type=workflow_type,
    )["stateMachineArn"]

    def execute(event: dict[str, Any]) -> tuple[str, list[str], dict[str, Any]]:
        execution = sfn.start_execution(
            stateMachineArn=arn, name=str(uuid.uuid4()), input=json.dumps(event)
        )["executionArn"]
        deadline = time.monotonic() + DEADLINE_SECONDS
        while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline, "execution did not finish in time"
            time.sleep(0.05)
        history = sfn.get_execution_history(executionArn=execution)["events"]
        states = [
            e["stateEnteredEventDetails"]["name"]
            for e in history
            if "stateEnteredEventDetails" in e
        ]
        return described["status"], states, json.loads(described.get("output") or "null")

    yield execute
    server.stop()


def uploaded(stack: Any, event: Callable[[str], dict[str, Any]], body_file: str) -> dict[str, Any]:
    """The sample Object Created event for ``body_file``, uploaded under its own key."""
    ev = event("eventbridge/object-created.json")
    body = (DATA / body_file).read_bytes()
    obj = ev["detail"]["object"]
    obj["key"] = f"uploads/2026-01-05/{uuid.uuid4().hex}/{body_file}"
    obj["size"] = len(body)
    obj["version-id"] = stack.put(obj["key"], body)
    return ev


def test_given_a_valid_file_when_the_pipeline_runs_then_it_ends_valid_once(run, stack, event):
    ev = uploaded(stack, event, "jobs-valid.csv")
    status, states, output = run(ev)
    assert status == "SUCCEEDED"
    assert states == [
        "Claim",
        "TypeCheck",
        "ValidateSchema",
        "Route",
        "ExtractMetadata",
        "WriteMetadata",
        "Done",
    ]
    assert output["status"] == "VALID"
    item = stack.dynamodb.get_item(
        TableName=stack.settings.table_name, Key={"pk": {"S": output["pk"]}}
    )
    assert item["Item"]["records"] == {"N": "3"}
    assert run(ev)[:2] == ("SUCCEEDED", ["Claim", "AlreadyProcessed"])


@pytest.mark.parametrize(
    ("body_file", "reason"), [("jobs-invalid.csv", "SCHEMA_VIOLATION"), ("empty.csv", "EMPTY_FILE")]
)
def test_given_an_invalid_file_when_the_pipeline_runs_then_it_is_quarantined_once(
    run, stack, event, body_file, reason
):
    ev = uploaded(stack, event, body_file)
    status, states, output = run(ev)
    assert status == "SUCCEEDED"
    assert states == ["Claim", "TypeCheck", "ValidateSchema", "Route", "Quarantine", "Done"]
    assert output["status"] == "QUARANTINED"
    assert output["reason"] == reason
    (alert,) = stack.alerts()
    assert alert["MessageAttributes"]["event"]["Value"] == "QUARANTINED"
    assert run(ev)[:2] == ("SUCCEEDED", ["Claim", "AlreadyProcessed"])
    assert stack.alerts() == []
