"""Failures the Step Functions way on an EXPRESS local stack: Express sends no status-change
events, so the failure recorder learns of a failed or timed-out execution from the
execution log's subscription filter, as on AWS; the file's record turns FAILED and one alert
goes out. Express has no redrive and no StopExecution: a replay gets the file through.
"""

from __future__ import annotations

import pytest
from failure_support import (
    WAIT_SECONDS,
    alerts_queue,
    failed_alerts,
    land_valid_csv,
    record_of,
    wait_for_record,
)

from scalper.local import ExecutionReport, Fault, LocalStack
from scalper.ops.executions import replay
from scalper.ops.target import Target

pytestmark = pytest.mark.e2e

PREFIX = "uploads/2026-12-01/express/"


@pytest.fixture
def alerts(express_stack: LocalStack) -> str:
    """A queue subscribed to the alerts topic (raw SNS envelopes), for this test only."""
    return alerts_queue(express_stack, "express-failures")


def land(stack: LocalStack, name: str) -> tuple[str, ExecutionReport]:
    """Put a valid CSV under ``name``; -> its key and its ended execution."""
    return land_valid_csv(stack, PREFIX + name)


def test_the_stack_is_express_and_its_log_subscription_feeds_the_recorder(
    express_stack: LocalStack,
) -> None:
    assert express_stack.provisioned is not None
    (machine,) = express_stack.provisioned.state_machines.values()
    assert machine.type == "EXPRESS"
    assert machine.logging is not None
    assert (machine.logging.level, machine.logging.include_data) == ("ALL", True)
    (subscription,) = express_stack.provisioned.subscriptions
    assert subscription.log_group == machine.logging.group
    assert "ExecutionEndedRule" not in {r.logical_id for r in express_stack.provisioned.rules}


def test_retries_exhausted_fail_at_that_state_with_one_failed_record_and_one_alert(
    express_stack: LocalStack, alerts: str
) -> None:
    """Given ValidateSchema answers Lambda.ServiceException to every attempt, when a file
    lands, then the execution fails at ValidateSchema and the recorder, fed by the log
    subscription, records FAILED at that state and alerts once; a replay once the fault is
    gone ends VALID (Express has no redrive)."""
    assert express_stack.lambdas is not None
    express_stack.lambdas.faults.inject(
        "ValidateSchemaFunction", Fault.SERVICE_EXCEPTION, times=None
    )
    try:
        key, report = land(express_stack, "retries-exhausted.csv")
    finally:
        express_stack.lambdas.faults.clear()
    assert (report.status, report.states[-1]) == ("FAILED", "ValidateSchema")
    record = wait_for_record(express_stack, key, lambda r: r.get("status") == "FAILED")
    assert (record["failed_state"], record["failure_error"]) == (
        "ValidateSchema",
        "Lambda.ServiceException",
    )
    assert record["execution_arn"] == report.arn
    assert [
        (a["key"], a["failed_state"])
        for a in failed_alerts(express_stack, alerts)
        if a["key"] == key
    ] == [(key, "ValidateSchema")]

    sfn = express_stack.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ExecutionNotRedrivable):
        sfn.redrive_execution(executionArn=report.arn)
    target = Target(
        stack="scalper-local",
        region=express_stack.config.region,
        state_machine_arn=express_stack.state_machine_arn,
        table=express_stack.resource_name("MetadataTable"),
        input_bucket=express_stack.input_bucket,
        workflow_type="EXPRESS",
        endpoint_url=express_stack.aws_url,
    )
    (replayed,) = replay(sfn, target, [report.arn], dynamodb=express_stack.client("dynamodb"))
    assert replayed.new_arn is not None
    assert express_stack.wait_for_execution(replayed.new_arn, WAIT_SECONDS).status == "SUCCEEDED"
    assert record_of(express_stack, key)["status"] == "VALID"


def test_a_timed_out_express_execution_gets_a_failed_record_and_an_alert(
    express_stack: LocalStack, alerts: str
) -> None:
    """Given TypeCheck hangs, when the (scaled) 5-minute Express cap passes, then the
    execution times out and the recorder records FAILED (States.Timeout) and alerts."""
    assert express_stack.lambdas is not None
    assert express_stack.extensions is not None
    # TypeCheck hangs for 5 s; the 5-minute cap, scaled, passes after 1.35 s inside it.
    express_stack.lambdas.faults.inject(
        "TypeCheckFunction", Fault.TIMEOUT, times=None, hold_seconds=5.0
    )
    express_stack.extensions.timeout_scale = 0.0045  # the 300 s cap -> 1.35 s
    try:
        key, report = land(express_stack, "timed-out.csv")
    finally:
        express_stack.extensions.timeout_scale = 1.0
        express_stack.lambdas.faults.clear()
    assert report.status == "TIMED_OUT"
    record = wait_for_record(express_stack, key, lambda r: r.get("status") == "FAILED")
    assert (record["failure_error"], record["execution_status"]) == ("States.Timeout", "TIMED_OUT")
    assert [a["key"] for a in failed_alerts(express_stack, alerts) if a["key"] == key] == [key]


def test_an_express_execution_cannot_be_stopped(express_stack: LocalStack) -> None:
    """StopExecution is not supported for Express: an Express execution is never ABORTED."""
    key, report = land(express_stack, "valid.csv")
    assert report.status == "SUCCEEDED"
    sfn = express_stack.client("stepfunctions")
    with pytest.raises(sfn.exceptions.ClientError, match="not supported by EXPRESS"):
        sfn.stop_execution(executionArn=report.arn)
    assert record_of(express_stack, key)["status"] == "VALID"
