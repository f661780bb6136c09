"""TypeCheck: a ranged GET of the first bytes decides format, encoding or a reason code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from silent_scalper.engine import Limits, sniff
from silent_scalper.identity import Uploader
from silent_scalper.pipeline.models import StepInput, TypeCheckOutcome

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3.client import S3Client


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """The first bytes of an object version and its user metadata (one S3 request)."""

    data: bytes
    metadata: Mapping[str, str]


def read_head(s3: S3Client, step: StepInput, *, limit: int, url_encoded: bool) -> ObjectHead:
    """The first ``limit`` bytes and the user metadata of exactly the version the event names.

    An empty object is not read (S3 answers a ranged GET of zero bytes with 416): a
    ``HeadObject`` gets its metadata instead; its verdict (EMPTY_FILE) needs no bytes, so an
    empty object deleted since the event still gets it, with no uploader.
    """
    args = step.get_args(url_encoded=url_encoded)
    if step.object.size == 0 or limit <= 0:
        try:
            return ObjectHead(b"", s3.head_object(**args).get("Metadata", {}))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return ObjectHead(b"", {})
            raise
    args["Range"] = f"bytes=0-{limit - 1}"
    response = s3.get_object(**args)
    body = response["Body"]
    try:
        return ObjectHead(body.read(limit), response.get("Metadata", {}))
    finally:
        body.close()


def type_check(
    s3: S3Client, step: StepInput, *, limits: Limits, url_encoded: bool
) -> TypeCheckOutcome:
    """Sniff the object's head (extension vs content, size, emptiness, encoding).

    The same response names the uploader (``x-amz-meta-uploader-*``), so every later
    outcome of the file, a FAILED one included, can record who sent it.
    """
    head = read_head(s3, step, limit=limits.sniff_bytes, url_encoded=url_encoded)
    verdict = sniff(
        head.data, key=step.s3_key(url_encoded=url_encoded), size=step.object.size, limits=limits
    )
    return TypeCheckOutcome(verdict, Uploader.from_object_metadata(head.metadata))
