"""A local stack of ``template.yaml`` for the end-to-end folders, and the files they run.

Each folder that needs one starts its own, package-scoped (``tests/results/``,
``tests/dlq/``, ``tests/uploads/``): moto's mock is process-wide, so a folder's stack is
gone before another folder starts its own. Retry waits run at 1/100 of their length.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from botocore.credentials import Credentials
from failure_support import wait_for_record

from scalper.cli.upload import upload_file
from scalper.local import ExecutionReport, Fault, LocalStack, StackConfig
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "template.yaml"
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


@contextmanager
def running_stack(template: Path = TEMPLATE) -> Iterator[LocalStack]:
    """The local stack of ``template`` (results stream, dead-letter queue and all), running."""
    stack = LocalStack(StackConfig(template=template, retry_scale=0.01))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()


def three_outcomes(stack: LocalStack, template: Path) -> Outcomes:
    """A VALID and a QUARANTINED file through the API (IAM-signed), and one FAILED file."""
    api = stack.api_url
    valid = upload_file(api, SAMPLES / "valid" / "jobs.ndjson", credentials=CREDENTIALS,
                        region="us-east-1").key  # fmt: skip
    invalid = upload_file(api, SAMPLES / "invalid" / "malformed.json", credentials=CREDENTIALS,
                          region="us-east-1").key  # fmt: skip
    reports = stack.wait_for_keys([valid, invalid], timeout=WAIT_SECONDS)
    # FAILED: the pipeline itself breaks on every attempt of TypeCheck.
    stack.lambdas.faults.inject("TypeCheckFunction", Fault.SERVICE_EXCEPTION, times=None)
    try:
        failed = "uploads/results/failed.csv"
        stack.client("s3").put_object(
            Bucket=stack.input_bucket,
            Key=failed,
            Body=(SAMPLES / "valid" / "jobs.csv").read_bytes(),
        )
        reports.update(stack.wait_for_keys([failed], timeout=WAIT_SECONDS))
    finally:
        stack.lambdas.faults.clear("TypeCheckFunction")
    # The failure recorder writes FAILED once the execution's end reaches it.
    wait_for_record(stack, failed, lambda record: record.get("status") == "FAILED")
    streams = stack.streams
    assert streams is not None
    assert streams.wait_idle(30)
    return Outcomes(reports[valid], reports[invalid], reports[failed], template)
