"""One local stack for the additions' end-to-end tests, and the files that run through it.

Package scope, like tests/e2e: moto's mock is process-wide, so this stack is gone before
another package starts its own. Retry waits run at 1/100 of their length.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.credentials import Credentials
from failure_support import wait_for_record

from scalper.cli.upload import upload_file
from scalper.local import ExecutionReport, Fault, LocalStack, StackConfig
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

from .template_support import REPO, TEMPLATE

SAMPLES = REPO / "samples"
CREDENTIALS = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
WAIT_SECONDS = 120.0


@dataclass(frozen=True)
class Outcomes:
    """The files run once through the stack: key -> its execution, by expected outcome."""

    valid: ExecutionReport
    quarantined: ExecutionReport
    failed: ExecutionReport
    template: Path


@pytest.fixture(scope="package")
def stack_template() -> Path:
    """The template the stack runs (the CLI commands are pointed at it with --template)."""
    return TEMPLATE


@pytest.fixture(scope="package")
def local_stack(stack_template: Path) -> Iterator[LocalStack]:
    """The running local stack with the additions (results stream, DLQ, ...)."""
    stack = LocalStack(StackConfig(template=stack_template, retry_scale=0.01))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="package")
def outcomes(local_stack: LocalStack, stack_template: Path) -> Outcomes:
    """A VALID and a QUARANTINED file through the API (IAM-signed), and one FAILED file."""
    api = local_stack.api_url
    valid = upload_file(api, SAMPLES / "valid" / "jobs.ndjson", credentials=CREDENTIALS,
                        region="us-east-1").key  # fmt: skip
    invalid = upload_file(api, SAMPLES / "invalid" / "malformed.json", credentials=CREDENTIALS,
                          region="us-east-1").key  # fmt: skip
    reports = local_stack.wait_for_keys([valid, invalid], timeout=WAIT_SECONDS)
    # FAILED: the pipeline itself breaks on every attempt of TypeCheck.
    local_stack.lambdas.faults.inject("TypeCheckFunction", Fault.SERVICE_EXCEPTION, times=None)
    try:
        failed = "uploads/additions/failed.csv"
        local_stack.client("s3").put_object(
            Bucket=local_stack.input_bucket,
            Key=failed,
            Body=(SAMPLES / "valid" / "jobs.csv").read_bytes(),
        )
        reports.update(local_stack.wait_for_keys([failed], timeout=WAIT_SECONDS))
    finally:
        local_stack.lambdas.faults.clear("TypeCheckFunction")
    # The failure recorder writes FAILED once the execution's end reaches it.
    wait_for_record(local_stack, failed, lambda record: record.get("status") == "FAILED")
    streams = local_stack.streams
    assert streams is not None
    assert streams.wait_idle(30)
    return Outcomes(reports[valid], reports[invalid], reports[failed], stack_template)
