"""Powertools Logger, Tracer and Metrics shared by every handler, and the pipeline's metrics.

Powertools reads its own settings (``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``,
``POWERTOOLS_METRICS_NAMESPACE``) from the environment the template sets; outside Lambda the
Tracer disables itself, so tests and the CLI import this module freely.

Never log file contents or presigned signatures: log keys, sizes, reasons and counts.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

from silent_scalper.records import Status

#: Used when ``POWERTOOLS_METRICS_NAMESPACE`` is unset (tests, the CLI); the template sets it.
DEFAULT_NAMESPACE = "SilentScalper"

logger = Logger()
tracer = Tracer()
metrics = Metrics()
if metrics.provider.namespace is None:
    metrics.provider.namespace = DEFAULT_NAMESPACE

#: JMESPath of the object key in every pipeline Lambda's payload: the log correlation id.
OBJECT_KEY_PATH = "object.key"


def record_outcome(status: Status) -> None:
    """Count one file reaching a terminal status (metric ``Files<Status>``, e.g. FilesValid)."""
    metrics.add_metric(name=f"Files{status.value.title()}", unit=MetricUnit.Count, value=1)


def record_superseded() -> None:
    """Count a write refused because a newer execution owns the record (``WritesSuperseded``)."""
    metrics.add_metric(name="WritesSuperseded", unit=MetricUnit.Count, value=1)


def record_validation(size_bytes: int, seconds: float) -> None:
    """Bytes validated and how long the streaming pass took."""
    metrics.add_metric(name="BytesValidated", unit=MetricUnit.Bytes, value=size_bytes)
    metrics.add_metric(
        name="ValidationTime", unit=MetricUnit.Milliseconds, value=round(seconds * 1000, 3)
    )
