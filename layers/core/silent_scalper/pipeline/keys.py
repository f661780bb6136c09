"""Which object an S3 event's key names: resolved against the object, never decoded on faith.

Classic S3 notifications (SQS, SNS, Lambda) form-encode the key: "red flower.jpg" arrives as
``red+flower.jpg``. The EventBridge event-structure page does not say how ``detail.object.key``
is spelled, and captured EventBridge events show ``:`` raw where a classic notification sends
``%3A`` (see docs/aws-behaviour.md, "Object keys"). So a delivered ``a+b.csv`` may be the
object ``a+b.csv`` or the object ``a b.csv``. The pipeline does not guess:

1. it tries the key as delivered, with the event's ``version-id`` (a version id belongs to
   exactly one key, so a hit is the object the event is about);
2. only if that version does not exist under it, the form-decoded key;
3. if neither holds the version, the object is gone: :class:`ObjectGone`.

In an unversioned bucket there is no version id; the event's ``etag`` then tells the delivered
form's object from another object that happens to have that name.

The record keeps both forms: ``event_key`` as delivered (its hash is the partition key, built
by Claim in ASL) and ``key`` as resolved here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from silent_scalper.records import ObjectGone

if TYPE_CHECKING:
    from silent_scalper.pipeline.models import StepInput

#: What S3 answers when a key, or a version under that key, does not exist. A HEAD has no
#: body, so its code is the bare status.
_MISSING = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})
#: With a ``VersionId``, S3 answers 400 ``InvalidArgument`` ("Invalid version id specified")
#: for a version id that is not one of this key's.
_UNKNOWN_VERSION = frozenset({"400", "InvalidArgument"})


def key_forms(event_key: str, hint: str | None = None) -> tuple[str, ...]:
    """The keys an event's key may stand for, in the order they are tried.

    ``hint`` (a key an earlier step already resolved) goes first; then the key as delivered;
    then its form-decoded spelling (``+`` as space, ``%XX`` as bytes) when that differs.
    """
    forms = [hint] if hint else []
    forms += [event_key, unquote_plus(event_key)]
    return tuple(dict.fromkeys(forms))


def _missing(exc: ClientError, *, versioned: bool) -> bool:
    code = str(exc.response.get("Error", {}).get("Code", ""))
    return code in _MISSING or (versioned and code in _UNKNOWN_VERSION)


def _same_etag(response: Mapping[str, Any], etag: str | None) -> bool:
    found = response.get("ETag")
    return etag is None or found is None or str(found).strip('"') == etag.strip('"')


def first_existing[T: Mapping[str, Any]](
    step: StepInput, attempt: Callable[[str], T], *, hint: str | None = None
) -> tuple[str, T]:
    """Run ``attempt(key)`` for each form of the event's key until one names the object.

    ``attempt`` is a GET or HEAD of exactly the event's version (see
    :meth:`StepInput.get_args`); a form under which that version does not exist is skipped.
    Returns the key that worked and its response; raises :class:`ObjectGone` when no form
    does. Any other S3 error (throttling, access) propagates for the state machine to retry.
    """
    versioned = step.version_id is not None
    for key in key_forms(step.object.key, hint):
        try:
            response = attempt(key)
        except ClientError as exc:
            if _missing(exc, versioned=versioned):
                continue
            raise
        if versioned or _same_etag(response, step.object.etag):
            return key, response
    version = step.version_id or "null"
    msg = (
        f"s3://{step.bucket}/{step.object.key} (version {version}): no object under the key "
        "as delivered or its decoded form holds the version the event names"
    )
    raise ObjectGone(msg)
