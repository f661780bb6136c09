"""One typed function per state-machine step; the handlers under ``functions/`` are thin over these.

| step | function | module |
|---|---|---|
| API ``POST /uploads`` | :func:`parse_request` + :func:`open_upload` | ``presign`` |
| TypeCheck | :func:`type_check` | ``type_check`` |
| ValidateSchema | :func:`validate_object` | ``validate`` |
| ExtractMetadata | :func:`extract_metadata` | ``extract`` |
| WriteMetadata | :func:`write_metadata` | ``write`` |
| Quarantine | :func:`quarantine` | ``quarantine`` |
| outcome tags | :func:`tag_outcome` | ``tagging`` |
"""

from silent_scalper.pipeline.extract import build_record, extract_metadata
from silent_scalper.pipeline.models import (
    ExtractRequest,
    QuarantineRequest,
    S3ObjectDetail,
    StepInput,
    StepOutcome,
    TypeCheckOutcome,
    ValidateRequest,
    ValidationOutcome,
    WriteRequest,
)
from silent_scalper.pipeline.presign import (
    PresignedUpload,
    PresignError,
    UploadRequest,
    open_upload,
    parse_request,
    presign_upload,
)
from silent_scalper.pipeline.quarantine import quarantine
from silent_scalper.pipeline.tagging import tag_outcome
from silent_scalper.pipeline.type_check import type_check
from silent_scalper.pipeline.validate import schema_of, validate_object
from silent_scalper.pipeline.write import write_metadata

__all__ = [
    "ExtractRequest",
    "PresignError",
    "PresignedUpload",
    "QuarantineRequest",
    "S3ObjectDetail",
    "StepInput",
    "StepOutcome",
    "TypeCheckOutcome",
    "UploadRequest",
    "ValidateRequest",
    "ValidationOutcome",
    "WriteRequest",
    "build_record",
    "extract_metadata",
    "open_upload",
    "parse_request",
    "presign_upload",
    "quarantine",
    "schema_of",
    "tag_outcome",
    "type_check",
    "validate_object",
    "write_metadata",
]
