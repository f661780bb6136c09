"""`scalper redrive` on the real Step Functions API shapes (Stubber: moto has no RedriveExecution).

Every stubbed request and response is checked by botocore against the service model, so
these tests fail if the code sends a parameter the API does not have or reads a field the
API does not return.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from silent_scalper.records import item_key

from scalper.ops.common import TokenBucket
from scalper.ops.redrive import Outcome, candidates, client_token, redrive
from scalper.ops.target import Target

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SM = "arn:aws:states:us-east-1:123456789012:stateMachine:silent-scalper-dev-pipeline"
EVENTS = Path(__file__).resolve().parents[3] / "events" / "eventbridge"


def _arn(name: str) -> str:
    return f"arn:aws:states:us-east-1:123456789012:execution:silent-scalper-dev-pipeline:{name}"


def _event() -> str:
    """The repository's Object Created sample: the input a real execution has."""
    return (EVENTS / "object-created.json").read_text(encoding="utf-8")


def _target(**changes: Any) -> Target:
    values: dict[str, Any] = {
        "stack": "silent-scalper-dev",
        "region": "us-east-1",
        "state_machine_arn": SM,
        "table": "silent-scalper-dev-MetadataTable",
        "input_bucket": "silent-scalper-dev-input",
    }
    values.update(changes)
    return Target(**values)


def _described(
    name: str, status: str = "FAILED", *, stopped: datetime | None = None, **extra: Any
) -> dict[str, Any]:
    response: dict[str, Any] = {
        "executionArn": _arn(name),
        "stateMachineArn": SM,
        "name": name,
        "status": status,
        "startDate": (stopped or NOW) - timedelta(seconds=30),
        "input": _event(),
        "redriveCount": 0,
        "redriveStatus": "REDRIVABLE",
    }
    if status != "RUNNING":
        response["stopDate"] = stopped or NOW - timedelta(hours=1)
    response.update(extra)
    return response


def _history(last_state_type: str) -> dict[str, Any]:
    return {
        "events": [
            {"timestamp": NOW, "type": "ExecutionFailed", "id": 9, "previousEventId": 8},
            {
                "timestamp": NOW,
                "type": last_state_type,
                "id": 8,
                "previousEventId": 7,
                "stateEnteredEventDetails": {"name": "Fail"},
            },
        ]
    }


def _given_failed(stub: Stubber, name: str, last_state_type: str = "TaskStateEntered") -> None:
    """Given execution ``name`` FAILED within the redrive window, its last state entered a
    ``last_state_type`` (what redrive reads from the newest history events)."""
    stub.add_response("describe_execution", _described(name), {"executionArn": _arn(name)})
    stub.add_response(
        "get_execution_history",
        _history(last_state_type),
        {"executionArn": _arn(name), "reverseOrder": True, "maxResults": 5},
    )


def _fake_clock_bucket(rate: float, burst: int) -> tuple[TokenBucket, list[float]]:
    """A token bucket on a fake clock, and the waits it asks for (nothing really sleeps)."""
    clock = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        clock[0] += seconds

    return TokenBucket(rate=rate, burst=burst, clock=lambda: clock[0], sleep=sleep), waits


@pytest.fixture
def sfn() -> Iterator[tuple[Any, Stubber]]:
    """A Step Functions client that makes exactly one attempt per call (no retries to stub)."""
    client = boto3.client(
        "stepfunctions",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_given_a_failed_standard_execution_then_redrive_is_called_with_an_idempotency_token(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    _given_failed(stub, "e1")
    stub.add_response(
        "redrive_execution",
        {"redriveDate": NOW},
        {"executionArn": _arn("e1"), "clientToken": ANY},
    )

    items = redrive(client, _target(), [_arn("e1")], now=NOW)

    assert [i.outcome for i in items] == [Outcome.REDRIVEN]
    assert items[0].key == json.loads(_event())["detail"]["object"]["key"]
    assert items[0].replay_hint is None
    assert items[0].console_url is not None
    assert "#/v2/executions/details/" in items[0].console_url


def test_the_client_token_is_stable_per_attempt_and_changes_after_a_redrive() -> None:
    """Re-running the command for the same failed attempt can never redrive it twice."""
    from scalper.ops.executions import ExecutionInfo

    first = ExecutionInfo(_arn("e"), "e", "FAILED", NOW, NOW, None, None, redrive_count=0)
    again = ExecutionInfo(_arn("e"), "e", "FAILED", NOW, NOW, None, None, redrive_count=0)
    later = ExecutionInfo(_arn("e"), "e", "FAILED", NOW, NOW, None, None, redrive_count=1)
    assert client_token(first) == client_token(again)
    assert client_token(first) != client_token(later)
    assert len(client_token(first)) <= 64


def test_given_an_execution_stopped_beyond_14_days_then_it_is_not_redriven_and_replay_is_offered(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    stub.add_response(
        "describe_execution",
        _described("old", stopped=NOW - timedelta(days=15)),
        {"executionArn": _arn("old")},
    )

    items = redrive(client, _target(), [_arn("old")], now=NOW)

    assert items[0].outcome is Outcome.OUTSIDE_WINDOW
    assert "14-day" in items[0].reason
    assert items[0].replay_hint == f"scalper replay {_arn('old')}"


def test_given_the_redrivable_period_exceeded_per_the_api_then_it_is_outside_the_window(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    stub.add_response(
        "describe_execution",
        _described(
            "e2",
            redriveStatus="NOT_REDRIVABLE",
            redriveStatusReason="Execution redrivable period exceeded.",
        ),
        {"executionArn": _arn("e2")},
    )

    items = redrive(client, _target(), [_arn("e2")], now=NOW)

    assert items[0].outcome is Outcome.OUTSIDE_WINDOW
    assert items[0].reason == "Execution redrivable period exceeded."


def test_given_redrive_execution_refuses_then_the_reason_from_the_api_is_reported(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    _given_failed(stub, "e3")
    stub.add_client_error(
        "redrive_execution",
        service_error_code="ExecutionNotRedrivable",
        service_message="Execution history event limit exceeded.",
        expected_params={"executionArn": _arn("e3"), "clientToken": ANY},
    )

    items = redrive(client, _target(), [_arn("e3")], now=NOW)

    assert items[0].outcome is Outcome.NOT_REDRIVABLE
    assert items[0].reason == "Execution history event limit exceeded."
    assert items[0].replay_hint is not None


def test_given_throttling_after_retries_then_the_execution_is_reported_throttled_not_lost(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    _given_failed(stub, "e4")
    stub.add_client_error(
        "redrive_execution", service_error_code="ThrottlingException", http_status_code=400
    )

    items = redrive(client, _target(), [_arn("e4")], now=NOW)

    assert items[0].outcome is Outcome.THROTTLED
    assert "--rate" in items[0].reason


def test_given_a_failure_caught_into_the_fail_state_then_the_dry_run_says_replay_reruns_it(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    _given_failed(stub, "e5", "FailStateEntered")

    items = redrive(client, _target(), [_arn("e5")], now=NOW, dry_run=True)

    assert items[0].outcome is Outcome.WOULD_REDRIVE
    assert "Fail state" in items[0].note
    assert "replay reruns" in items[0].note


def test_given_the_local_stack_then_nothing_is_redriven_and_each_execution_gets_its_replay(
    sfn: tuple[Any, Stubber],
) -> None:
    """moto has no RedriveExecution: the Stubber would fail on any redrive_execution call."""
    client, stub = sfn
    _given_failed(stub, "e6")

    items = redrive(client, _target(endpoint_url="http://127.0.0.1:4566"), [_arn("e6")], now=NOW)

    assert items[0].outcome is Outcome.LOCAL
    assert "moto" in items[0].reason
    assert items[0].replay_hint == f"scalper replay {_arn('e6')}"
    assert items[0].console_url is None


def test_given_an_express_state_machine_then_redrive_is_refused_with_replay_as_the_way_out(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    stub.add_response("describe_execution", _described("e7"), {"executionArn": _arn("e7")})

    items = redrive(client, _target(workflow_type="EXPRESS"), [_arn("e7")], now=NOW)

    assert items[0].outcome is Outcome.EXPRESS
    assert items[0].replay_hint is not None


def test_given_an_unknown_arn_then_it_is_reported_not_found(sfn: tuple[Any, Stubber]) -> None:
    client, stub = sfn
    stub.add_client_error(
        "describe_execution",
        service_error_code="ExecutionDoesNotExist",
        expected_params={"executionArn": _arn("nope")},
    )

    items = redrive(client, _target(), [_arn("nope")], now=NOW)

    assert items[0].outcome is Outcome.NOT_FOUND


def test_all_failed_lists_each_unsuccessful_status_back_to_since_oldest_first(
    sfn: tuple[Any, Stubber],
) -> None:
    client, stub = sfn
    since = NOW - timedelta(hours=24)

    def listed(name: str, status: str, started: datetime) -> dict[str, Any]:
        return {
            "executionArn": _arn(name),
            "stateMachineArn": SM,
            "name": name,
            "status": status,
            "startDate": started,
            "stopDate": started + timedelta(seconds=5),
        }

    stub.add_response(
        "list_executions",
        {
            "executions": [
                listed("f-new", "FAILED", NOW - timedelta(hours=1)),
                listed("f-old", "FAILED", NOW - timedelta(hours=30)),  # before --since: stops here
            ],
            "nextToken": "more-that-must-not-be-read",
        },
        {"stateMachineArn": SM, "maxResults": 100, "statusFilter": "FAILED"},
    )
    stub.add_response(
        "list_executions",
        {"executions": [listed("t1", "TIMED_OUT", NOW - timedelta(hours=3))]},
        {"stateMachineArn": SM, "maxResults": 100, "statusFilter": "TIMED_OUT"},
    )
    stub.add_response(
        "list_executions",
        {"executions": []},
        {"stateMachineArn": SM, "maxResults": 100, "statusFilter": "ABORTED"},
    )

    arns = candidates(client, _target(), all_failed=True, since=since)

    assert arns == [_arn("t1"), _arn("f-new")]


def test_bulk_redrive_is_paced_by_the_token_bucket() -> None:
    """Given rate 2/s and burst 2, five redrives need (5 - 2) / 2 = 1.5 s of waiting."""
    bucket, waits = _fake_clock_bucket(rate=2.0, burst=2)
    for _ in range(5):
        bucket.acquire()

    assert sum(waits) == pytest.approx(1.5)
    assert len(waits) == 3


def test_redrive_takes_one_token_per_redrive_execution_call(sfn: tuple[Any, Stubber]) -> None:
    """Given burst 1 at 1/s, three redrives wait two seconds: the pace applies to the API calls."""
    client, stub = sfn
    names = ["p1", "p2", "p3"]
    for name in names:
        _given_failed(stub, name)
        stub.add_response(
            "redrive_execution",
            {"redriveDate": NOW},
            {"executionArn": _arn(name), "clientToken": ANY},
        )
    bucket, waits = _fake_clock_bucket(rate=1.0, burst=1)
    items = redrive(client, _target(), [_arn(n) for n in names], now=NOW, bucket=bucket)

    assert [i.outcome for i in items] == [Outcome.REDRIVEN] * 3
    assert sum(waits) == pytest.approx(2.0)


def test_a_token_bucket_refills_while_idle() -> None:
    clock = [0.0]
    waits: list[float] = []
    bucket = TokenBucket(rate=1.0, burst=3, clock=lambda: clock[0], sleep=waits.append)
    for _ in range(3):
        bucket.acquire()
    clock[0] += 10.0  # idle long enough to refill completely, and no further
    for _ in range(3):
        bucket.acquire()
    assert waits == []
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate=0, burst=1)


def test_given_the_file_is_now_owned_by_a_newer_execution_then_it_is_superseded_not_redriven(
    sfn: tuple[Any, Stubber],
) -> None:
    """After a replay made the file VALID, the old failure needs nothing (no redrive call)."""
    client, stub = sfn
    stub.add_response("describe_execution", _described("e8"), {"executionArn": _arn("e8")})
    event = json.loads(_event())
    pk = item_key(event["detail"]["bucket"]["name"], event["detail"]["object"]["key"])
    dynamodb = boto3.client(
        "dynamodb",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(dynamodb) as records:
        records.add_response(
            "get_item",
            {"Item": {"execution_arn": {"S": _arn("the-replay")}}},
            {
                "TableName": "silent-scalper-dev-MetadataTable",
                "Key": {"pk": {"S": pk}},
                "ConsistentRead": True,
                "ProjectionExpression": "execution_arn",
            },
        )

        items = redrive(client, _target(), [_arn("e8")], now=NOW, dynamodb=dynamodb)

    assert items[0].outcome is Outcome.SUPERSEDED
    assert "the-replay" in items[0].reason
    assert items[0].replay_hint is None
