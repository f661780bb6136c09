"""The same transitions with the real handlers: no mocked responses, real files.

The second mode of the state-transition suite. The local stack (moto + the local Lambda
endpoint running the template's functions) is started from template.yaml; each case that
needs no fault injection uploads a file whose content leads to that case's path, starts an
execution with the EventBridge event for it (no ``#TestCase``: every Task really runs), and
asserts the path, status and outcome the mocked case asserts. So the mocked responses stay
honest: the real handlers take the same paths for the same kinds of file.

Backends: moto's engine in this process by default; with SFN_LOCAL_ENDPOINT set, Amazon's
Step Functions Local, whose LAMBDA_ENDPOINT / DYNAMODB_ENDPOINT / SNS_ENDPOINT must point at
this stack: it then listens on fixed ports (SCALPER_LAMBDA_PORT, default 9001; SCALPER_AWS_PORT,
default 4566), as in the README's ``docker run``.
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
from transition_cases import CASES, EVENT, MOCK_CONFIG_FILE, Case

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
    assert trace.output["pk"] == f"{bucket}/{key}"
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


def test_given_the_local_stack_with_the_hook_then_every_mocked_case_runs_over_its_endpoint(
    stack: LocalStack, machine: DeployedStateMachine
) -> None:
    """The hook patches moto's classes, so a moto *server* honours ``#TestCase`` too: with it
    installed, the local stack runs MockConfigFile.json over HTTP like Step Functions Local."""
    if machine.backend != "moto":
        pytest.skip("Step Functions Local reads the mock file itself (SFN_MOCK_CONFIG)")
    with mock_config_installed(MOCK_CONFIG_FILE, wait_scale=0.001):
        for case in CASES:
            trace = run_test_case(machine.client, machine.arn, case.name, EVENT)
            assert (trace.path, trace.status) == (case.path, case.status), case.name
            assert set(trace.retries) == set(case.retries), case.name
