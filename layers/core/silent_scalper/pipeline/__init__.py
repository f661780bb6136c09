"""One module per Lambda function, named after it; the handlers under ``functions/`` are thin
over these.

| step | function | module |
|---|---|---|
| API ``POST /uploads`` | :func:`parse_request` + :func:`open_upload` | ``presign`` |
| TypeCheck | :func:`type_check` | ``type_check`` |
| ValidateSchema | :func:`validate_schema` | ``validate_schema`` |
| ExtractMetadata | :func:`extract_metadata` | ``extract_metadata`` |
| WriteMetadata | :func:`write_metadata` | ``write_metadata`` |
| Quarantine | :func:`quarantine` | ``quarantine`` |
| outcome tags | :func:`tag_outcome` | ``tagging`` |
| scheduled re-validation of quarantined files | :func:`scheduled_run` | ``reprocess_quarantined`` |
| metadata table stream -> result lines | :func:`lines_from_stream` | ``write_result`` |
| an execution ended FAILED/TIMED_OUT/ABORTED | :func:`record_ended_executions` | ``failure`` |

The step models (inputs and outcomes) are in ``models``.
"""

from silent_scalper.pipeline.extract_metadata import build_record, extract_metadata
from silent_scalper.pipeline.failure import (
    EndedExecution,
    FailureInputError,
    FailureOutcome,
    record_ended_executions,
    record_failure,
)
from silent_scalper.pipeline.models import (
    ExtractOutcome,
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
from silent_scalper.pipeline.validate_schema import schema_of, validate_schema
from silent_scalper.pipeline.write_metadata import write_metadata

__all__ = [
    "EndedExecution",
    "ExtractOutcome",
    "ExtractRequest",
    "FailureInputError",
    "FailureOutcome",
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
    "record_ended_executions",
    "record_failure",
    "schema_of",
    "tag_outcome",
    "type_check",
    "validate_schema",
    "write_metadata",
]
