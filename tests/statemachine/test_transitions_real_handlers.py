"""The same transitions with the real handlers: no mocked responses, real files.

The second mode of the state-transition suite. The local stack (moto + the local Lambda
endpoint running the template's functions) is started from template.yaml; each case that
needs no fault injection uploads a file whose content leads to that case's path, starts an
execution with the EventBridge event for it (no ``#TestCase``: every Task really runs), and
asserts the path, status and outcome the mocked case asserts. So the mocked responses stay
honest: the real handlers take the same paths for the same kinds of file. The Lambda fault
cases run too, with the local Lambda endpoint injecting the failure and everything after it
(the failure record, the tag, the alert) real.

Backends: moto's engine in this process by default; with SFN_LOCAL_ENDPOINT set, Amazon's
Step Functions Local, whose LAMBDA_ENDPOINT / DYNAMODB_ENDPOINT / SNS_ENDPOINT must point at
this stack: it then listens on fixed ports (SCALPER_LAMBDA_PORT, default 9001; SCALPER_AWS_PORT,
default 4566), as in docs/testing.md's ``docker run``.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from silent_scalper.records import item_key
from transition_cases import CASES, EVENT, MOCK_CONFIG_FILE, Case

from scalper.local.lambda_endpoint import Fault, FaultInjector
from scalper.local.stack import LocalStack, StackConfig
from scalper.sfn_mock import mock_config_installed
from scalper.sfn_mock.runner import DeployedStateMachine, deploy_state_machine, run_test_case

pytestmark = pytest.mark.e2e

#: The upload limit the stack is started with, so a TOO_LARGE file stays small.
MAX_UPLOAD_BYTES = 4096
#: Each function's first invocation imports its handler in a fresh worker process: on a busy
#: two-core machine a first path through five functions has taken over 20 s.
COLD_START_DEADLINE = 120.0
#: Outside the template's upload prefix: the EventBridge rule (and so the stack's bridge)
#: ignores these objects, so the only execution for each is the one the test starts.
KEY_PREFIX = "statemachine-tests"

VALID_ROWS = [
    {"job_id": "JOB-0001", "submitted_at": "2026-01-05T09:30:00Z", "customer_id": 42,
     "status": "queued", "priority": 2, "amount": 19.99, "currency": "EUR"},
    {"job_id": "JOB-0002", "submitted_at": "2026-01-05T10:00:00Z", "customer_id": 7,
     "status": "succeeded", "priority": 1, "amount": 5.0, "currency": "USD"},
]  # fmt: skip
VALID_CSV = (
    b"job_id,submitted_at,customer_id,status,priority,amount,currency\n"
    b"JOB-0001,2026-01-05T09:30:00Z,42,queued,2,19.99,EUR\n"
    b"JOB-0002,2026-01-05T10:00:00Z,7,succeeded,1,5.00,USD\n"
)

#: Case name -> (file name, content) that makes the real handlers take that case's path.
FILES: dict[str, tuple[str, bytes]] = {
    "ValidCsv": ("jobs.csv", VALID_CSV),
    "ValidJson": ("jobs.json", json.dumps(VALID_ROWS).encode()),
    "QuarantineEmptyFile": ("empty.csv", b""),
    "QuarantineTooLarge": ("large.csv", VALID_CSV + b"JOB-0003,2026-01-05T11:00:00Z,1,x\n" * 200),
    "QuarantineUnsupportedType": ("archive.csv", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(54)),
    "QuarantineBadEncoding": ("latin1.csv", VALID_CSV + "JOB-0004,caf\xe9\n".encode("latin-1")),
    "QuarantineMalformed": ("broken.json", b'[{"job_id": "JOB-0001", "submitted_at": '),
    "QuarantineSchemaViolation": (
        "invalid.csv",
        VALID_CSV + b"JOB-0003,yesterday,42,exploded,9,5.00,EUR\n",
    ),
}  # fmt: skip
REAL_CASES = [case for case in CASES if case.name in FILES]


def _port(variable: str, default: int) -> int:
    return int(os.environ.get(variable, "").strip() or default)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    """The local stack from template.yaml, retries scaled down, a small upload limit."""
    on_sfn_local = bool(os.environ.get("SFN_LOCAL_ENDPOINT", "").strip())
    config = StackConfig(
        retry_scale=0.001,
        parameters={"MaxUploadBytes": str(MAX_UPLOAD_BYTES)},
        # Each function starts once, on its first use: a background prewarm racing the first
        # execution would start a second environment of the same function.
        prewarm=False,
        aws_port=_port("SCALPER_AWS_PORT", 4566) if on_sfn_local else 0,
        lambda_port=_port("SCALPER_LAMBDA_PORT", 9001) if on_sfn_local else 0,
    )
    with LocalStack(config) as running:
        yield running


@pytest.fixture(scope="module")
def machine(stack: LocalStack) -> DeployedStateMachine:
    """The stack's state machine, on moto or on Step Functions Local."""
    assert stack.provisioned is not None
    info = next(iter(stack.provisioned.state_machines.values()))
    endpoint = os.environ.get("SFN_LOCAL_ENDPOINT", "").strip()
    if endpoint:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name=stack.config.region,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        arn = deploy_state_machine(client, info.name, info.definition)
        return DeployedStateMachine(
            client, arn, info.name, "stepfunctions-local", info.definition, {}, None, 300.0
        )
    client = stack.client("stepfunctions")
    return DeployedStateMachine(
        client, info.arn, info.name, "moto", info.definition, {}, None, COLD_START_DEADLINE
    )


def upload_event(stack: LocalStack, name: str, body: bytes) -> dict[str, Any]:
    """Put ``body`` in the input bucket; return the EventBridge event S3 would send for it."""
    bucket = stack.input_bucket
    key = f"{KEY_PREFIX}/{uuid.uuid4().hex}/{name}"
    put = stack.client("s3").put_object(Bucket=bucket, Key=key, Body=body)
    event: dict[str, Any] = copy.deepcopy(EVENT)
    event["id"] = str(uuid.uuid4())
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:s3:::{bucket}"]
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"] = {
        "key": key,
        "size": len(body),
        "etag": put["ETag"].strip('"'),
        "version-id": put.get("VersionId", "null"),
        "sequencer": f"{uuid.uuid4().int % 16**18:018X}",
    }
    return event


@pytest.mark.parametrize("case", REAL_CASES, ids=[case.name for case in REAL_CASES])
def test_given_a_file_for_a_case_when_the_real_handlers_run_then_they_take_its_path(
    stack: LocalStack, machine: DeployedStateMachine, case: Case
) -> None:
    """Given the kind of file the case mocks, the real handlers agree with the mocked path."""
    name, body = FILES[case.name]
    event = upload_event(stack, name, body)
    trace = run_test_case(
        machine.client, machine.arn, None, event, deadline_seconds=machine.deadline_seconds
    )
    assert (trace.path, trace.status) == (case.path, case.status), (case.spec, trace.error)
    assert trace.retries == {}
    assert case.output is not None
    bucket, key = event["detail"]["bucket"]["name"], event["detail"]["object"]["key"]
    assert trace.output["pk"] == item_key(bucket, key)
    assert (trace.output["status"], trace.output["reason"]) == (
        case.output["status"],
        case.output["reason"],
    )
    if case.output["status"] == "QUARANTINED":
        quarantine = stack.resource_name("QuarantineBucket")
        assert trace.output["location"] == f"s3://{quarantine}/{bucket}/{key}"


def test_given_a_file_already_processed_when_its_event_comes_again_then_it_ends_at_claim(
    stack: LocalStack, machine: DeployedStateMachine
) -> None:
    """The DuplicateEvent case with real DynamoDB: the replayed event loses the Claim."""
    duplicate = next(case for case in CASES if case.name == "DuplicateEvent")
    event = upload_event(stack, "jobs.csv", VALID_CSV)
    deadline = machine.deadline_seconds
    first = run_test_case(machine.client, machine.arn, None, event, deadline_seconds=deadline)
    again = run_test_case(machine.client, machine.arn, None, event, deadline_seconds=deadline)
    assert first.output["status"] == "VALID"
    assert (again.path, again.status) == (duplicate.path, duplicate.status)
    assert again.output["claim"]["Error"] == "DynamoDB.ConditionalCheckFailedException"


#: One mocked case of each kind (Return, Throw retried then Return, Throw caught, retries
#: exhausted into Fail): test_transitions.py runs them all in-process.
OVER_HTTP = ("ValidCsv", "DynamoDbThrottleRetried", "DuplicateEvent", "RetriesExhausted")


def test_given_the_local_stack_with_the_hook_then_mocked_cases_run_over_its_endpoint(
    stack: LocalStack, machine: DeployedStateMachine
) -> None:
    """The hook patches moto's classes, so a moto *server* honours ``#TestCase`` too: with it
    installed, the local stack runs MockConfigFile.json over HTTP like Step Functions Local."""
    if machine.backend != "moto":
        pytest.skip("Step Functions Local reads the mock file itself (SFN_MOCK_CONFIG)")
    with mock_config_installed(MOCK_CONFIG_FILE, wait_scale=0.001):
        for case in (case for case in CASES if case.name in OVER_HTTP):
            trace = run_test_case(machine.client, machine.arn, case.name, EVENT)
            assert (trace.path, trace.status) == (case.path, case.status), case.name
            assert set(trace.retries) == set(case.retries), case.name


#: Fault cases the local Lambda endpoint can inject: case -> (file, [(function, fault, times,
#: errorType)]); ``times`` None means one more than the Task's MaxAttempts.
FAULTS: dict[str, tuple[str, list[tuple[str, Fault, int | None, str]]]] = {
    "TransientLambdaErrorRetried": ("ValidCsv", [
        ("TypeCheckFunction", Fault.SERVICE_EXCEPTION, 1, ""),
        ("TypeCheckFunction", Fault.TOO_MANY_REQUESTS, 1, ""),
    ]),
    "RetriesExhausted": ("ValidCsv", [
        ("ValidateSchemaFunction", Fault.SERVICE_EXCEPTION, None, ""),
    ]),
    "TypeCheckFails": ("ValidCsv", [
        ("TypeCheckFunction", Fault.FUNCTION_ERROR, 1, "Runtime.ExitError"),
    ]),
    "ExtractMetadataFails": ("ValidCsv", [
        ("ExtractMetadataFunction", Fault.FUNCTION_ERROR, 1, "KeyError"),
    ]),
    "WriteMetadataFails": ("ValidCsv", [
        ("WriteMetadataFunction", Fault.FUNCTION_ERROR, 1, "ClientError"),
    ]),
    "QuarantineCopyFails": ("QuarantineSchemaViolation", [
        ("QuarantineFunction", Fault.FUNCTION_ERROR, 1, "ClientError"),
    ]),
}  # fmt: skip
FAULT_CASES = [case for case in CASES if case.name in FAULTS]
_STATE_OF_FUNCTION = {
    "TypeCheckFunction": "TypeCheck",
    "ValidateSchemaFunction": "ValidateSchema",
    "ExtractMetadataFunction": "ExtractMetadata",
    "WriteMetadataFunction": "WriteMetadata",
    "QuarantineFunction": "Quarantine",
}


@pytest.fixture
def faults(stack: LocalStack) -> Iterator[FaultInjector]:
    """The Lambda endpoint's fault injector, cleared after each test."""
    assert stack.lambdas is not None
    try:
        yield stack.lambdas.faults
    finally:
        stack.lambdas.faults.clear()


@pytest.mark.parametrize("case", FAULT_CASES, ids=[case.name for case in FAULT_CASES])
def test_given_a_fault_the_endpoint_injects_when_the_real_pipeline_runs_then_it_takes_the_path(
    stack: LocalStack, machine: DeployedStateMachine, faults: FaultInjector, case: Case
) -> None:
    """The fault cases with everything else real: the failure path writes to the real table,
    tags the real object and publishes to the real topic."""
    file_case, injected = FAULTS[case.name]
    definition = machine.definition
    for function, fault, times, error_type in injected:
        state = definition.state(_STATE_OF_FUNCTION[function])
        count = times if times is not None else int(state["Retry"][0]["MaxAttempts"]) + 1
        faults.inject(function, fault, times=count, error_type=error_type or "RuntimeError")
    event = upload_event(stack, *FILES[file_case])
    trace = run_test_case(
        machine.client, machine.arn, None, event, deadline_seconds=machine.deadline_seconds
    )
    assert (trace.path, trace.status, trace.error) == (case.path, case.status, case.error)
    expected_retries = {
        state: int(definition.state(state)["Retry"][0]["MaxAttempts"]) if count < 0 else count
        for state, count in case.retries.items()
    }
    assert trace.retries == expected_retries


def test_given_retries_exhausted_for_real_then_the_record_is_failed_and_the_alert_published(
    stack: LocalStack, machine: DeployedStateMachine, faults: FaultInjector
) -> None:
    assert stack.provisioned is not None
    alerts = stack.subscribe_queue(stack.provisioned.ref("AlertsTopic"), "statemachine-alerts")
    attempts = int(machine.definition.state("ValidateSchema")["Retry"][0]["MaxAttempts"]) + 1
    faults.inject("ValidateSchemaFunction", Fault.SERVICE_EXCEPTION, times=attempts)
    event = upload_event(stack, *FILES["ValidCsv"])
    trace = run_test_case(
        machine.client, machine.arn, None, event, deadline_seconds=machine.deadline_seconds
    )
    assert trace.status == "FAILED"
    detail = event["detail"]
    pk = item_key(detail["bucket"]["name"], detail["object"]["key"])
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"), Key={"pk": {"S": pk}}
    )["Item"]
    assert (item["status"]["S"], item["failure_error"]["S"]) == (
        "FAILED",
        "Lambda.ServiceException",
    )
    (message,) = stack.client("sqs").receive_message(QueueUrl=alerts, WaitTimeSeconds=1)["Messages"]
    notification = json.loads(message["Body"])
    assert notification["MessageAttributes"]["event"]["Value"] == "FAILED"
    assert json.loads(notification["Message"])["key"] == detail["object"]["key"]
