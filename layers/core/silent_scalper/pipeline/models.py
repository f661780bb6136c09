"""The small typed payloads the state machine passes to and from the pipeline Lambdas.

Every Lambda payload is built in ASL from the EventBridge event: ``bucket`` is
``$.detail.bucket.name``, ``object`` is ``$.detail.object`` unchanged, ``event_time`` is
``$.time`` and ``execution_arn`` is ``$$.Execution.Id``; step-specific fields are added next
to them. Outputs stay small (a few KiB at most) whatever the file size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from silent_scalper.engine import TypeCheckResult
from silent_scalper.identity import Uploader
from silent_scalper.records import item_key, uploader_attribute

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, GetObjectRequestTypeDef


class S3ObjectDetail(BaseModel):
    """``detail.object`` of an S3 "Object Created" event delivered by EventBridge."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    key: str = Field(min_length=1)
    size: int = Field(default=0, ge=0)
    etag: str | None = Field(default=None, validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(
        default=None, validation_alias=AliasChoices("version-id", "versionId", "version_id")
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


@dataclass(frozen=True, slots=True)
class TypeCheckOutcome:
    """TypeCheck's result: the engine's verdict on the first bytes, and who uploaded the file.

    The uploader comes from the same S3 response as the bytes (the object's
    ``x-amz-meta-uploader-*``), so it is known from the first step on and every later
    outcome, FAILED included, can carry it. On the wire (:meth:`to_dict`) the verdict's
    fields stay at the top level, beside ``uploader`` and ``uploader_attribute``: the same
    uploader as a DynamoDB attribute value (``{"M": ...}`` or ``{"NULL": true}``), because
    the failure path writes it with a direct DynamoDB integration and JSONPath cannot build
    a map with optional members.
    """

    verdict: TypeCheckResult
    uploader: Uploader | None = None
    #: The object's real key, resolved against the object (``None`` only for an empty object
    #: that is gone: its verdict needs no bytes).
    key: str | None = None

    @property
    def uploader_attribute(self) -> dict[str, Any]:
        """The uploader as the record stores it, in DynamoDB's attribute-value form."""
        return uploader_attribute(self.uploader)

    def to_dict(self) -> dict[str, Any]:
        """The Lambda result (JSON-safe)."""
        return {
            **self.verdict.to_dict(),
            "key": self.key,
            "uploader": None if self.uploader is None else self.uploader.model_dump(mode="json"),
            "uploader_attribute": self.uploader_attribute,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TypeCheckOutcome:
        """Inverse of :meth:`to_dict` (``uploader_attribute`` is derived, not read)."""
        uploader = data.get("uploader")
        return cls(
            TypeCheckResult.from_dict(data),
            None if uploader is None else Uploader.model_validate(uploader),
            data.get("key"),
        )


class ValidateRequest(StepInput):
    """ValidateSchema's payload: the TypeCheck result rides along."""

    type_check: dict[str, Any]


class ValidationOutcome(BaseModel):
    """ValidateSchema's result. ``summary`` is ``None`` when TypeCheck already said no."""

    valid: bool
    reason: str | None = None
    message: str | None = None
    summary: dict[str, Any] | None = None


class ExtractRequest(StepInput):
    """ExtractMetadata's payload: the summary of a valid file, TypeCheck's uploader and key."""

    summary: dict[str, Any]
    uploader: Uploader | None = None
    #: The real key TypeCheck resolved (``$.type_check.key``): the record's ``key``.
    key: str = Field(min_length=1)


class WriteRequest(StepInput):
    """WriteMetadata's payload: the record ExtractMetadata built."""

    record: dict[str, Any]


class QuarantineRequest(StepInput):
    """Quarantine's payload: why the file is not accepted."""

    type_check: dict[str, Any]
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
