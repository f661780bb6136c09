"""ValidateSchema: one streaming pass over the object through the core engine.

The schema is chosen per object from its key (:func:`silent_scalper.schema_choice.schema_for_key`)
out of the registry the function loaded once at cold start; the summary names it.
"""

from __future__ import annotations

import io
from collections.abc import Buffer
from typing import TYPE_CHECKING

from silent_scalper.engine import (
    CompiledSchema,
    Limits,
    SchemaRegistry,
    TypeCheckResult,
    validate_stream,
)
from silent_scalper.pipeline.keys import first_existing
from silent_scalper.pipeline.models import StepInput, ValidationOutcome
from silent_scalper.schema_choice import schema_for_key
from silent_scalper.settings import Settings

if TYPE_CHECKING:
    from botocore.response import StreamingBody
    from mypy_boto3_s3.client import S3Client

#: Read the object in large chunks: fewer round trips through botocore's stream.
READ_BUFFER_BYTES = 1 << 20


class _BodyReader(io.RawIOBase):
    """Adapts botocore's ``StreamingBody`` to a real binary file object for the engine."""

    def __init__(self, body: StreamingBody) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Buffer) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self._body.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def close(self) -> None:
        self._body.close()
        super().close()


def schema_of(
    step: StepInput,
    *,
    registry: SchemaRegistry,
    settings: Settings,
    key_hint: str | None = None,
) -> CompiledSchema:
    """The schema that validates ``step``'s object, chosen from its key: the key TypeCheck
    resolved (``key_hint``), else the event's. Both spell the prefix and a schema segment
    alike: schema names hold only characters no encoding changes."""
    key = key_hint or step.object.key
    name = schema_for_key(
        key, prefix=settings.upload_prefix, default=settings.schema_name, known=registry.names
    )
    return registry.get(name)


def validate_schema(
    s3: S3Client,
    step: StepInput,
    *,
    type_result: TypeCheckResult,
    schema: CompiledSchema,
    limits: Limits,
    key_hint: str | None = None,
) -> ValidationOutcome:
    """Validate every record of the object in one pass; return the small outcome.

    When TypeCheck already found a reason the object is not read again: the outcome carries
    that reason and no summary, and Route sends the file to Quarantine. ``key_hint`` is the
    key TypeCheck resolved; it is tried first, then the event's other forms
    (:func:`~silent_scalper.pipeline.keys.first_existing`); an object gone since raises
    :class:`~silent_scalper.records.ObjectGone`.
    """
    if not type_result.ok:
        return ValidationOutcome(
            valid=False,
            reason=None if type_result.reason is None else str(type_result.reason),
            message=type_result.message,
            summary=None,
        )
    key, response = first_existing(step, lambda k: s3.get_object(**step.get_args(k)), hint=key_hint)
    with io.BufferedReader(_BodyReader(response["Body"]), buffer_size=READ_BUFFER_BYTES) as stream:
        summary = validate_stream(
            stream,
            key=key,
            schema=schema,
            limits=limits,
            fmt=type_result.format,
        )
    message = None
    if not summary.valid and summary.errors:
        first = summary.errors[0]
        message = f"{first.location}: {first.message}"
    return ValidationOutcome(
        valid=summary.valid,
        reason=None if summary.reason is None else str(summary.reason),
        message=message,
        summary=summary,
    )
