"""TypeCheck: a ranged GET of the first bytes decides format, encoding or a reason code."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silent_scalper.engine import Limits, TypeCheckResult, sniff
from silent_scalper.pipeline.models import StepInput

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client


def read_head(s3: S3Client, step: StepInput, *, limit: int, url_encoded: bool) -> bytes:
    """The first ``limit`` bytes of exactly the object version the event names.

    An empty object is not read at all: S3 answers a ranged GET of zero bytes with 416.
    """
    if step.object.size == 0 or limit <= 0:
        return b""
    args = step.get_args(url_encoded=url_encoded)
    args["Range"] = f"bytes=0-{limit - 1}"
    response = s3.get_object(**args)
    body = response["Body"]
    try:
        return body.read(limit)
    finally:
        body.close()


def type_check(
    s3: S3Client, step: StepInput, *, limits: Limits, url_encoded: bool
) -> TypeCheckResult:
    """Sniff the object's head: extension vs content, size, emptiness, encoding."""
    head = read_head(s3, step, limit=limits.sniff_bytes, url_encoded=url_encoded)
    return sniff(
        head, key=step.s3_key(url_encoded=url_encoded), size=step.object.size, limits=limits
    )
