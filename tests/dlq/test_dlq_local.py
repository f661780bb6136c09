"""``scalper dlq list|redrive`` against the local stack.

An event EventBridge cannot deliver (here: StartExecution refused with AccessDenied, which
EventBridge does not retry) lands in the rule's dead-letter queue with its error; ``list``
shows it and leaves it there; ``redrive`` starts its execution and only then deletes it.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from local_stack_support import SAMPLES, WAIT_SECONDS

from scalper.cli import EXIT_OK, main
from scalper.local import LocalStack

pytestmark = pytest.mark.e2e

UUID_NAME = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


def queue_depth(stack: LocalStack) -> int:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(
        QueueName=stack.resource_name("PipelineDeadLetterQueue").rsplit("/", 1)[1]
    )["QueueUrl"]
    attrs = sqs.get_queue_attributes(
        QueueUrl=url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(
        attrs["ApproximateNumberOfMessagesNotVisible"]
    )


@pytest.fixture(scope="module")
def dead_letter(local_stack: LocalStack) -> str:
    """One Object Created event in the dead-letter queue; returns its object key."""
    bridge = local_stack.bridge
    assert bridge is not None
    bridge.faults.inject(times=1, code="AccessDeniedException", message="denied (test)")
    key = "uploads/dlq/dead-lettered.csv"
    local_stack.client("s3").put_object(
        Bucket=local_stack.input_bucket, Key=key, Body=(SAMPLES / "valid" / "jobs.csv").read_bytes()
    )
    assert bridge.wait_idle(30)
    assert [d.dead_lettered for d in bridge.deliveries if d.key == key] == [True]
    return key


def test_given_a_dead_lettered_event_when_listed_then_it_shows_why_and_stays(
    local_stack: LocalStack,
    dead_letter: str,
    stack_template: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("--endpoint", local_stack.aws_url, "--template", str(stack_template), "--json")
    code, listed = run_json(capsys, "dlq", "list", *args)
    assert code == EXIT_OK
    [letter] = [d for d in listed["dead_letters"] if d["key"] == dead_letter]
    assert letter["error_code"] == "AccessDeniedException"
    assert letter["error_message"] == "denied (test)"
    assert letter["bucket"] == local_stack.input_bucket
    # Listing twice sees the same message: list never consumes.
    code, again = run_json(capsys, "dlq", "list", *args)
    assert [d["message_id"] for d in again["dead_letters"]] == [
        d["message_id"] for d in listed["dead_letters"]
    ]
    assert queue_depth(local_stack) == listed["count"]


def test_given_a_dead_lettered_event_when_redriven_then_its_execution_runs_and_the_message_goes(
    local_stack: LocalStack,
    dead_letter: str,
    stack_template: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("--endpoint", local_stack.aws_url, "--template", str(stack_template), "--json")
    code, dry = run_json(capsys, "dlq", "redrive", "--dry-run", *args)
    assert code == EXIT_OK
    assert {r["status"] for r in dry["results"]} == {"would-start"}
    assert queue_depth(local_stack) == len(dry["results"])

    code, done = run_json(capsys, "dlq", "redrive", *args)
    assert code == EXIT_OK
    [result] = [r for r in done["results"] if r["key"] == dead_letter]
    assert result["status"] == "started"
    assert re.match(UUID_NAME, result["execution_arn"].rsplit(":", 1)[1])
    report = local_stack.wait_for_execution(result["execution_arn"], timeout=WAIT_SECONDS)
    assert report.status == "SUCCEEDED"
    assert report.states[-1] == "Done"
    assert report.key == dead_letter
    deadline = time.monotonic() + 5
    while queue_depth(local_stack) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert queue_depth(local_stack) == 0
