"""Failures the Step Functions way, on the local stack (STANDARD): an execution that ends
badly ends at the state that failed, and the failure recorder, fed by the status-change event
as AWS delivers it, writes one FAILED record and one alert; a redrive resumes it.

The EXPRESS twin of these tests is tests/express/test_express_failures_local.py.
"""

from __future__ import annotations

import json
import time

import pytest
from failure_support import (
    VALID_CSV,
    WAIT_SECONDS,
    alerts_queue,
    failed_alerts,
    land_valid_csv,
    record_of,
    wait_for_record,
)

from scalper.local import ExecutionReport, Fault, LocalStack
from scalper.local.execution_ends import log_stream, status_change_event

pytestmark = pytest.mark.e2e

PREFIX = "uploads/2026-12-01/failures/"


@pytest.fixture
def alerts(local_stack: LocalStack) -> str:
    """A queue subscribed to the alerts topic (raw SNS envelopes), for this test only."""
    return alerts_queue(local_stack, "e2e-failures")


def land(stack: LocalStack, name: str) -> tuple[str, ExecutionReport]:
    """Put a valid CSV under ``name``; -> its key and its ended execution."""
    return land_valid_csv(stack, PREFIX + name)


def test_retries_exhausted_fail_at_that_state_with_one_failed_record_and_exactly_one_alert(
    local_stack: LocalStack, alerts: str
) -> None:
    """Given ValidateSchema answers Lambda.ServiceException to every attempt, when a file
    lands, then the execution fails at ValidateSchema after every retry, and the recorder
    writes one FAILED record naming that state and sends one alert, even when the same
    status-change event is delivered twice (EventBridge delivers at least once)."""
    assert local_stack.lambdas is not None
    local_stack.lambdas.faults.inject("ValidateSchemaFunction", Fault.SERVICE_EXCEPTION, times=None)
    try:
        key, report = land(local_stack, "retries-exhausted.csv")
    finally:
        local_stack.lambdas.faults.clear()
    assert (report.status, report.states[-1], report.error) == (
        "FAILED",
        "ValidateSchema",
        "Lambda.ServiceException",
    )
    # Handled in full: recorded, and the alert marked as sent (a delivery that arrives while
    # the first is still publishing can alert a second time: see docs/architecture.md).
    record = wait_for_record(
        local_stack, key, lambda r: r.get("status") == "FAILED" and "alerted_attempt" in r
    )
    assert (record["failed_state"], record["execution_arn"]) == ("ValidateSchema", report.arn)
    assert record["failure_error"] == "Lambda.ServiceException"
    # The same failure delivered again: still one record, one alert.
    run = local_stack.client("stepfunctions").describe_execution(executionArn=report.arn)
    again = status_change_event_for(local_stack, report, run)
    assert local_stack.bridge is not None
    future = local_stack.bridge.publish(again)
    assert future is not None
    future.result(timeout=30)
    assert local_stack.wait_for_endings(WAIT_SECONDS)
    time.sleep(1.0)  # the second delivery's asynchronous invocation
    assert [
        (a["key"], a["failed_state"]) for a in failed_alerts(local_stack, alerts) if a["key"] == key
    ] == [(key, "ValidateSchema")]
    assert record_of(local_stack, key)["status"] == "FAILED"


def status_change_event_for(
    stack: LocalStack, report: ExecutionReport, described: dict[str, object]
) -> dict[str, object]:
    """The status-change event of an ended execution, rebuilt from DescribeExecution."""
    from scalper.local.execution_ends import EndedRun

    run = EndedRun(
        arn=report.arn,
        state_machine_arn=stack.state_machine_arn,
        name=str(described["name"]),
        workflow_type="STANDARD",
        status=report.status,
        start=described["startDate"],  # type: ignore[arg-type]
        stop=described["stopDate"],  # type: ignore[arg-type]
        input=str(described["input"]),
        output=None,
        error=report.error,
        cause=report.cause,
        redrive_count=0,
        redrive_date=None,
        events=(),
    )
    assert stack.provisioned is not None
    return status_change_event(
        run, account=stack.provisioned.resolver.account_id, region=stack.config.region
    )


def test_a_redrive_after_the_fault_is_removed_ends_valid_with_the_same_execution(
    local_stack: LocalStack,
) -> None:
    """Given an execution that failed at WriteMetadata, when the fault is gone and it is
    redriven, then the same execution resumes at WriteMetadata (the states before it are
    not run again) and the FAILED record becomes VALID."""
    assert local_stack.lambdas is not None
    local_stack.lambdas.faults.inject(
        "WriteMetadataFunction", Fault.FUNCTION_ERROR, times=None, error_type="ClientError"
    )
    try:
        key, report = land(local_stack, "redriven.csv")
    finally:
        local_stack.lambdas.faults.clear()
    assert (report.status, report.states[-1]) == ("FAILED", "WriteMetadata")
    wait_for_record(local_stack, key, lambda r: r.get("status") == "FAILED")
    type_checks = len(local_stack.lambdas.invocations("TypeCheckFunction"))

    local_stack.redrive(report.arn)
    redriven = local_stack.wait_for_execution(report.arn, timeout=WAIT_SECONDS)

    assert (redriven.arn, redriven.status) == (report.arn, "SUCCEEDED")
    assert redriven.states[: len(report.states)] == report.states
    assert redriven.states[len(report.states) :] == ("WriteMetadata", "Done")
    assert len(local_stack.lambdas.invocations("TypeCheckFunction")) == type_checks
    described = local_stack.client("stepfunctions").describe_execution(executionArn=report.arn)
    assert described["redriveCount"] == 1
    record = wait_for_record(local_stack, key, lambda r: r.get("status") == "VALID")
    assert record["execution_arn"] == report.arn


def test_a_redriven_run_that_fails_again_logs_to_its_executions_stream_too(
    local_stack: LocalStack,
) -> None:
    """Given an execution that failed at WriteMetadata, when it is redriven and fails there
    again, then the state machine's log group (ERROR level for Standard) holds each run's
    failures once, in the execution's one stream: the second run found the stream there
    and logged only its own events."""
    assert local_stack.lambdas is not None
    assert local_stack.provisioned is not None
    (machine,) = [
        m
        for m in local_stack.provisioned.state_machines.values()
        if m.arn == local_stack.state_machine_arn
    ]
    assert machine.logging is not None
    local_stack.lambdas.faults.inject(
        "WriteMetadataFunction", Fault.FUNCTION_ERROR, times=None, error_type="ClientError"
    )
    try:
        _, report = land(local_stack, "failed-twice.csv")
        assert local_stack.wait_for_endings(WAIT_SECONDS)
        local_stack.redrive(report.arn)
        redriven = local_stack.wait_for_execution(report.arn, timeout=WAIT_SECONDS)
        assert local_stack.wait_for_endings(WAIT_SECONDS)
    finally:
        local_stack.lambdas.faults.clear()
    assert (redriven.status, redriven.states[-1]) == ("FAILED", "WriteMetadata")

    events = local_stack.client("logs").get_log_events(
        logGroupName=machine.logging.group,
        logStreamName=log_stream(machine.arn, report.arn),
        startFromHead=True,
    )["events"]
    lines = [json.loads(event["message"]) for event in events]
    assert [(line["type"], line["redrive_count"]) for line in lines] == [
        ("TaskFailed", "0"),
        ("ExecutionFailed", "0"),
        ("TaskFailed", "1"),
        ("ExecutionFailed", "1"),
    ]


def test_a_succeeded_execution_cannot_be_redriven(local_stack: LocalStack) -> None:
    key, report = land(local_stack, "succeeded.csv")
    assert report.status == "SUCCEEDED"
    sfn = local_stack.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=report.arn)
    assert sfn.describe_execution(executionArn=report.arn)["redriveStatus"] == "NOT_REDRIVABLE"
    assert record_of(local_stack, key)["status"] == "VALID"


def test_a_timed_out_execution_gets_a_failed_record_and_an_alert(
    local_stack: LocalStack, alerts: str
) -> None:
    """Given TypeCheck hangs and executions time out almost at once, when a file lands, then
    its execution ends TIMED_OUT and the recorder records FAILED (States.Timeout)."""
    assert local_stack.lambdas is not None
    assert local_stack.extensions is not None
    # TypeCheck hangs for 5 s; the execution times out after 1.35 s, inside that wait.
    local_stack.lambdas.faults.inject(
        "TypeCheckFunction", Fault.TIMEOUT, times=None, hold_seconds=5.0
    )
    local_stack.extensions.timeout_scale = 0.0015  # 900 s -> 1.35 s
    try:
        key, report = land(local_stack, "timed-out.csv")
    finally:
        local_stack.extensions.timeout_scale = 1.0
        local_stack.lambdas.faults.clear()
    assert report.status == "TIMED_OUT"
    record = wait_for_record(local_stack, key, lambda r: r.get("status") == "FAILED")
    assert (record["failure_error"], record["execution_status"]) == ("States.Timeout", "TIMED_OUT")
    assert [a["key"] for a in failed_alerts(local_stack, alerts) if a["key"] == key] == [key]


def test_an_aborted_execution_gets_a_failed_record_and_an_alert(
    local_stack: LocalStack, alerts: str
) -> None:
    """Given ValidateSchema hangs, when the file's execution is
    stopped while it waits, then it ends ABORTED and the recorder records FAILED with the
    ABORTED status and alerts."""
    assert local_stack.lambdas is not None
    # Held 20 s: long enough to be stopped meanwhile on a busy machine.
    local_stack.lambdas.faults.inject(
        "ValidateSchemaFunction", Fault.TIMEOUT, times=None, hold_seconds=20.0
    )
    key = PREFIX + "aborted.csv"
    try:
        local_stack.client("s3").put_object(
            Bucket=local_stack.input_bucket, Key=key, Body=VALID_CSV.read_bytes()
        )
        deadline = time.monotonic() + WAIT_SECONDS
        while not local_stack.execution_arns_for(key):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        (arn,) = local_stack.execution_arns_for(key)
        while "ValidateSchema" not in local_stack.report(arn).states:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        local_stack.client("stepfunctions").stop_execution(executionArn=arn, error="Operator")
        # moto ends a stopped execution only when its running task returns: the hang is let
        # go once the stop is in, so the test does not wait out the hold.
        local_stack.lambdas.faults.clear()
        report = local_stack.wait_for_execution(arn, timeout=WAIT_SECONDS)
    finally:
        local_stack.lambdas.faults.clear()
    assert (report.status, report.states[-1]) == ("ABORTED", "ValidateSchema")
    record = wait_for_record(local_stack, key, lambda r: r.get("status") == "FAILED")
    assert (record["execution_status"], record["failed_state"]) == ("ABORTED", "ValidateSchema")
    assert [a["key"] for a in failed_alerts(local_stack, alerts) if a["key"] == key] == [key]
