"""TypeCheck: a ranged GET of the first bytes decides format, encoding or a reason code."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from silent_scalper.engine import Limits, Reason, TypeCheckResult, sniff
from silent_scalper.identity import Uploader
from silent_scalper.pipeline.keys import first_existing
from silent_scalper.pipeline.models import StepInput, TypeCheckOutcome
from silent_scalper.records import ObjectGone

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef


@dataclass(frozen=True, slots=True)
class ObjectHead:
    """The first bytes of an object version, its user metadata and its real key (one request
    per form of the key tried)."""

    data: bytes
    metadata: Mapping[str, str]
    #: ``None`` only for an empty object that is gone (see :func:`read_head`).
    key: str | None


def read_head(s3: S3Client, step: StepInput, *, limit: int) -> ObjectHead:
    """The first ``limit`` bytes and the user metadata of exactly the version the event names.

    The request itself resolves the key (:func:`~silent_scalper.pipeline.keys.first_existing`):
    the delivered form first, the decoded form only if the version is not under it; an object
    under neither raises :class:`~silent_scalper.records.ObjectGone`. An empty object is not
    read (S3 answers a ranged GET of zero bytes with 416): a ``HeadObject`` gets its metadata
    instead; its verdict (EMPTY_FILE) needs no bytes, so an empty object deleted since the
    event still gets it, with no uploader and no resolved key.
    """
    if step.object.size == 0 or limit <= 0:
        try:
            key, head = first_existing(step, lambda k: s3.head_object(**step.get_args(k)))
        except ObjectGone:
            return ObjectHead(b"", {}, None)
        return ObjectHead(b"", head.get("Metadata", {}), key)

    def ranged_get(key: str) -> GetObjectOutputTypeDef:
        args = step.get_args(key)
        args["Range"] = f"bytes=0-{limit - 1}"
        return s3.get_object(**args)

    key, response = first_existing(step, ranged_get)
    body = response["Body"]
    try:
        return ObjectHead(body.read(limit), response.get("Metadata", {}), key)
    finally:
        body.close()


def type_check(
    s3: S3Client,
    step: StepInput,
    *,
    limits: Limits,
    accepted_suffixes: tuple[str, ...] | None = None,
) -> TypeCheckOutcome:
    """Sniff the object's head (extension vs content, size, emptiness, encoding).

    The same response names the uploader (``x-amz-meta-uploader-*``), so every later
    outcome of the file, a FAILED one included, can record who sent it, and the object's
    real key, which the later steps use. Every object under the upload prefix comes here
    (the rule matches no extension: it cannot do so case-insensitively), so an extension
    outside ``accepted_suffixes`` (compared case-insensitively: ``DATA.CSV`` is a ``.csv``)
    is ``UNSUPPORTED_TYPE`` here, never silently ignored.
    """
    head = read_head(s3, step, limit=limits.sniff_bytes)
    key = head.key or step.object.key
    extension = posixpath.splitext(key.rsplit("/", 1)[-1])[1].lower()
    if accepted_suffixes is not None and extension not in accepted_suffixes:
        verdict = TypeCheckResult(
            ok=False,
            format=None,
            encoding=None,
            reason=Reason.UNSUPPORTED_TYPE,
            message=(
                f"the extension {extension or '(none)'!r} is not accepted here "
                f"(accepted: {', '.join(accepted_suffixes)}, in any case)"
            ),
        )
    else:
        verdict = sniff(head.data, key=key, size=step.object.size, limits=limits)
    return TypeCheckOutcome(
        verdict=verdict, key=head.key, uploader=Uploader.from_object_metadata(head.metadata)
    )
