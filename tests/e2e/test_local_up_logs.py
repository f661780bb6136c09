"""`scalper local up` keeps moto's internal dumps out of the terminal, in its log file.

The command runs as a user runs it, in its own process on free ports. An execution that
fails (its bucket does not exist) makes moto's Step Functions interpreter dump the failure
with its whole state tree; that goes to ``aws-endpoint.log`` in the log directory, and the
terminal keeps only what the command itself prints.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
EVENT = REPO / "events" / "eventbridge" / "object-created.json"
STARTUP_SECONDS = 180.0


def test_given_local_up_when_an_execution_fails_then_moto_dumps_go_to_the_log_not_the_terminal(
    tmp_path: Path,
) -> None:
    # A folder path rich would read as markup ("logs[/]here"): the banner shows it as it is.
    log_dir = tmp_path / "logs[" / "]here"
    up = subprocess.Popen(
        [sys.executable, "-m", "scalper", "local", "up", "--port", "0", "--lambda-port", "0",
         "--api-port", "0", "--retry-scale", "0.01", "--log-dir", str(log_dir)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = read_banner(up)
        endpoint = re.search(r"AWS endpoint\s+(\S+)", banner)
        machine = re.search(r"state machine\s+(\S+)", banner)
        assert endpoint is not None, banner
        assert machine is not None, banner
        assert f"moto's log     {log_dir / 'aws-endpoint.log'}" in banner

        sfn = boto3.client(
            "stepfunctions", endpoint_url=endpoint.group(1), region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        event = json.loads(EVENT.read_text(encoding="utf-8"))
        event["detail"]["bucket"]["name"] = "no-such-bucket"
        arn = sfn.start_execution(
            stateMachineArn=machine.group(1), name=str(uuid.uuid4()), input=json.dumps(event)
        )["executionArn"]
        assert wait_for_end(sfn, arn) == "FAILED"
    finally:
        up.send_signal(signal.SIGTERM)
        out, err = up.communicate(timeout=60)

    assert err == ""
    assert up.returncode == 0
    assert "FailureEventException" not in out
    log = (log_dir / "aws-endpoint.log").read_text(encoding="utf-8")
    assert "Exception=FailureEventException, Error=NoSuchBucket" in log


def read_banner(up: subprocess.Popen[str]) -> str:
    """What `local up` prints until it says how to stop it."""
    assert up.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        line = up.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Ctrl-C stops everything" in line:
            return "".join(lines)
    pytest.fail("local up did not come up:\n" + "".join(lines))


def wait_for_end(sfn: SFNClient, arn: str, timeout: float = 120.0) -> str:
    """Poll the execution until it stops; its final status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING":
            return status
        time.sleep(0.2)
    pytest.fail(f"{arn} still running after {timeout}s")
