"""Cost per million files, Standard vs Express workflow: a small, explicit model.

What one file costs is the sum of the requests it makes along its path through the state
machine. The benchmark measures the inputs (state transitions per path from the execution
history or the ASL, Lambda durations of the real handlers, memory sizes from
``template.yaml``) and this module turns them into dollars.

Prices: AWS public list prices, us-east-1, Lambda on arm64, as of ``PRICES_AS_OF`` (looked
up on that date in the AWS pricing pages and the AWS service-quota docs through the
project's reference search). First pricing tier everywhere; no free tier, no Savings Plans.
Change :class:`Prices` when AWS changes them, and the date with them.

Not modelled (small or not per file): CloudWatch Logs ingestion (Express logs every
execution's history when logging is ALL; Standard does not need to), X-Ray traces, KMS
requests for the SNS topic (data keys are reused for minutes), S3 storage and data transfer
(in-region transfer to Lambda is free), EventBridge (events from AWS services on the default
bus are free).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

PRICES_AS_OF = "2026-11-25"
"""The date the prices below were checked (us-east-1 list prices)."""

MILLION = 1_000_000
FULL_VCPU_MB = 1769
"""Lambda memory size at which a function gets one full vCPU (CPU scales with memory)."""


class Workflow(StrEnum):
    """Step Functions workflow type (the template's ``WorkflowType`` parameter)."""

    STANDARD = "STANDARD"
    EXPRESS = "EXPRESS"


@dataclass(frozen=True, slots=True)
class Prices:
    """Unit prices in USD, us-east-1, as of :data:`PRICES_AS_OF`."""

    as_of: str = PRICES_AS_OF
    region: str = "us-east-1"
    # AWS Lambda, arm64: $0.20 per 1M requests, $0.0000133334 per GB-second (first tier).
    lambda_request: float = 0.20 / MILLION
    lambda_gb_second: float = 0.0000133334
    # Step Functions Standard: $0.025 per 1,000 state transitions (retries count too).
    sfn_transition: float = 0.025 / 1_000
    # Step Functions Express: $1.00 per 1M requests; duration $0.06 per GB-hour for the
    # first 1,000 GB-hours (= $0.00001667 per GB-s), rounded up to 100 ms, memory in 64 MB.
    sfn_express_request: float = 1.00 / MILLION
    sfn_express_gb_second: float = 0.06 / 3_600
    # S3 Standard: PUT/COPY/POST/LIST $0.005 per 1,000; GET/HEAD $0.0004 per 1,000.
    s3_write_request: float = 0.005 / 1_000
    s3_read_request: float = 0.0004 / 1_000
    # DynamoDB on demand: $0.625 per 1M write request units (price since 2024-11-01).
    dynamodb_write_unit: float = 0.625 / MILLION
    # SNS standard topic: $0.50 per 1M publishes.
    sns_publish: float = 0.50 / MILLION
    # API Gateway HTTP API: $1.00 per 1M requests (first 300M a month); one presign per file.
    http_api_request: float = 1.00 / MILLION


@dataclass(frozen=True, slots=True)
class LambdaCall:
    """One Lambda invocation on a path: configured memory and measured duration."""

    function: str
    memory_mb: int
    duration_ms: float

    @property
    def gb_seconds(self) -> float:
        """Billed GB-seconds: duration rounded up to 1 ms times configured memory."""
        return (self.memory_mb / 1024) * (math.ceil(self.duration_ms) / 1000)


@dataclass(frozen=True, slots=True)
class PathProfile:
    """Everything one file does on one path through the pipeline (per file)."""

    path: str
    state_transitions: int
    lambda_calls: tuple[LambdaCall, ...]
    s3_reads: int  # GetObject (ranged or whole) and HEAD
    s3_writes: int  # PUT, COPY, POST (the upload itself), PutObjectTagging
    dynamodb_write_units: int
    sns_publishes: int = 0
    api_requests: int = 1  # the presign call that precedes the upload
    # Express bills the whole execution's wall time; the Lambdas run inside it, plus the
    # service's own time between states (direct SDK integrations, Choice, scheduling).
    overhead_ms_per_state: float = 20.0
    express_memory_mb: int = 64

    @property
    def execution_ms(self) -> float:
        """Estimated wall time of one execution (Lambda durations + per-state overhead)."""
        lambdas = sum(c.duration_ms for c in self.lambda_calls)
        return lambdas + self.overhead_ms_per_state * self.state_transitions


@dataclass(frozen=True, slots=True)
class CostBreakdown:
    """Cost per million files on one path for one workflow type, by component (USD)."""

    path: str
    workflow: Workflow
    components: dict[str, float] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Sum of every component."""
        return sum(self.components.values())


def express_gb_seconds(execution_ms: float, memory_mb: int) -> float:
    """Billed Express duration: wall time rounded up to 100 ms, memory in 64 MB chunks."""
    billed_ms = math.ceil(execution_ms / 100) * 100
    billed_mb = max(64, math.ceil(memory_mb / 64) * 64)
    return (billed_mb / 1024) * (billed_ms / 1000)


def cost_per_million(
    profile: PathProfile, workflow: Workflow, prices: Prices | None = None
) -> CostBreakdown:
    """Cost of one million files that all take ``profile``'s path, for ``workflow``."""
    p = prices or Prices()
    n = MILLION
    parts: dict[str, float] = {
        "lambda requests": n * len(profile.lambda_calls) * p.lambda_request,
        "lambda duration": n * sum(c.gb_seconds for c in profile.lambda_calls) * p.lambda_gb_second,
        "s3 requests": n
        * (profile.s3_reads * p.s3_read_request + profile.s3_writes * p.s3_write_request),
        "dynamodb writes": n * profile.dynamodb_write_units * p.dynamodb_write_unit,
        "sns": n * profile.sns_publishes * p.sns_publish,
        "http api": n * profile.api_requests * p.http_api_request,
    }
    if workflow is Workflow.STANDARD:
        parts["state transitions"] = n * profile.state_transitions * p.sfn_transition
    else:
        parts["express requests"] = n * p.sfn_express_request
        gb_s = express_gb_seconds(profile.execution_ms, profile.express_memory_mb)
        parts["express duration"] = n * gb_s * p.sfn_express_gb_second
    return CostBreakdown(path=profile.path, workflow=workflow, components=parts)
