"""The small typed payloads the state machine passes to and from the pipeline Lambdas.

These models are the one definition of each step's wire shape: a handler parses its event
into one of them and returns one dumped with ``model_dump(mode="json")``. The engine's
results (:class:`~silent_scalper.engine.TypeCheckResult`,
:class:`~silent_scalper.engine.ValidationSummary` and its
:class:`~silent_scalper.engine.LocatedError`) are field types here as they are: pydantic
reads those dataclasses from their own definitions, and a summary is written by the engine's
one serialiser (:meth:`~silent_scalper.engine.ValidationSummary.to_dict`). Samples of every
payload are under ``events/states/`` (inputs) and in ``tests/statemachine/MockConfigFile.json``
(results); a test round-trips each through its model.

Every Lambda payload is built in ASL from the EventBridge event: ``bucket`` is
``$.detail.bucket.name``, ``object`` is ``$.detail.object`` unchanged, ``event_time`` is
``$.time`` and ``execution_arn`` is ``$$.Execution.Id``; step-specific fields are added next
to them. Outputs stay small (a few KiB at most) whatever the file size.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    SerializerFunctionWrapHandler,
    computed_field,
    model_serializer,
    model_validator,
)

from silent_scalper.engine import TypeCheckResult, ValidationSummary
from silent_scalper.identity import Uploader
from silent_scalper.records import MetadataRecord, item_key, uploader_attribute

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, GetObjectRequestTypeDef


#: The engine's summary as a payload field: pydantic reads it from the dataclass's own fields
#: and writes it with the engine's serialiser, the form the payload budget measures.
Summary = Annotated[ValidationSummary, PlainSerializer(ValidationSummary.to_dict)]


class S3ObjectDetail(BaseModel):
    """``detail.object`` of an S3 "Object Created" event delivered by EventBridge."""

    # Written back as EventBridge spells it (``version-id``), whichever spelling it was read in.
    model_config = ConfigDict(extra="ignore", populate_by_name=True, serialize_by_alias=True)

    key: str = Field(min_length=1)
    size: int = Field(default=0, ge=0)
    etag: str | None = Field(default=None, validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("version-id", "versionId", "version_id"),
        serialization_alias="version-id",
    )
    sequencer: str | None = None


class StepInput(BaseModel):
    """What every pipeline Lambda receives."""

    model_config = ConfigDict(extra="ignore")

    bucket: str = Field(min_length=1)
    object: S3ObjectDetail
    execution_arn: str = Field(min_length=1)
    #: The EventBridge event's ``time``: when S3 created the object.
    event_time: str | None = None

    @property
    def pk(self) -> str:
        """The metadata record's partition key (same as Claim builds it)."""
        return item_key(self.bucket, self.object.key)

    @property
    def version_id(self) -> str | None:
        """The version the event saw (``None`` for an unversioned bucket's ``"null"``)."""
        vid = self.object.version_id
        return vid if vid and vid != "null" else None

    def get_args(self, key: str) -> GetObjectRequestTypeDef:
        """``GetObject`` arguments naming exactly the version the event saw under ``key``.

        ``key`` is one form of the event's key (see :mod:`silent_scalper.pipeline.keys`).
        """
        args: GetObjectRequestTypeDef = {"Bucket": self.bucket, "Key": key}
        if self.version_id is not None:
            args["VersionId"] = self.version_id
        return args

    def copy_source(self, key: str) -> CopySourceTypeDef:
        """``CopySource`` naming exactly the version the event saw, under the resolved ``key``."""
        source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": key}
        if self.version_id is not None:
            source["VersionId"] = self.version_id
        return source


class TypeCheckOutcome(BaseModel):
    """TypeCheck's result: the engine's verdict on the first bytes, and who uploaded the file.

    The uploader comes from the same S3 response as the bytes (the object's
    ``x-amz-meta-uploader-*``), so it is known from the first step on and every later
    outcome, FAILED included, can carry it. On the wire the verdict's fields sit at the top
    level, beside ``key``, ``uploader`` and ``uploader_attribute`` (TypeCheck's
    ``ResultSelector`` keeps each by name; ExtractMetadata's payload reads
    ``$.type_check.key``): ``uploader_attribute`` is the same
    uploader as a DynamoDB attribute value (``{"M": ...}`` or ``{"NULL": true}``), because
    the failure path writes it with a direct DynamoDB integration and JSONPath cannot build
    a map with optional members. It is derived, so it is written but never read.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    verdict: TypeCheckResult
    #: The object's real key, resolved against the object (``None`` only for an empty object
    #: that is gone: its verdict needs no bytes).
    key: str | None = None
    uploader: Uploader | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def uploader_attribute(self) -> dict[str, Any]:
        """The uploader as the record stores it, in DynamoDB's attribute-value form."""
        return uploader_attribute(self.uploader)

    @model_validator(mode="before")
    @classmethod
    def _verdict_from_top_level(cls, data: Any) -> Any:
        # The wire form is flat: the verdict is read from the same mapping as the rest.
        if isinstance(data, Mapping) and "verdict" not in data:
            return {**data, "verdict": data}
        return data

    @model_serializer(mode="wrap")
    def _verdict_at_top_level(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {**data.pop("verdict"), **data}


class ValidateRequest(StepInput):
    """ValidateSchema's payload: the TypeCheck result rides along."""

    type_check: TypeCheckOutcome


class ValidationOutcome(BaseModel):
    """ValidateSchema's result. ``summary`` is ``None`` when TypeCheck already said no."""

    valid: bool
    reason: str | None = None
    message: str | None = None
    summary: Summary | None = None


class ExtractRequest(StepInput):
    """ExtractMetadata's payload: the summary of a valid file, TypeCheck's uploader and key."""

    summary: Summary
    uploader: Uploader | None = None
    #: The real key TypeCheck resolved (``$.type_check.key``): the record's ``key``.
    key: str = Field(min_length=1)


class ExtractOutcome(BaseModel):
    """ExtractMetadata's result: the record WriteMetadata writes."""

    record: MetadataRecord


class WriteRequest(StepInput):
    """WriteMetadata's payload: the record ExtractMetadata built."""

    record: MetadataRecord


class QuarantineRequest(StepInput):
    """Quarantine's payload: why the file is not accepted."""

    type_check: TypeCheckOutcome
    validation: ValidationOutcome


class StepOutcome(BaseModel):
    """What WriteMetadata and Quarantine return (the execution's output).

    ``location`` is where the file now is for people: the input object for ``VALID``, the
    quarantine copy for ``QUARANTINED``.
    """

    status: str
    pk: str
    reason: str | None = None
    location: str
