"""Presign: turn an upload request into a presigned POST for one server-chosen key.

The client declares a file name, size and content type, and optionally the schema its records
follow. The server checks them, picks the key
``<prefix><schema>/<date>/<upload id>/<sanitised file name>`` and returns a presigned POST
whose policy pins that key, the content type and ``content-length-range`` 1..max size, so S3
itself refuses anything else (and the pipeline reads the schema back from the key:
:mod:`silent_scalper.schema_choice`). Bad requests raise :class:`PresignError` with a stable
code.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from silent_scalper.identity import Uploader
from silent_scalper.schema_choice import is_schema_name
from silent_scalper.settings import Settings, SettingsError
from silent_scalper.uploads import new_intent, put_intent

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

#: Longest file name accepted (S3 keys may be 1024 bytes; leave room for the prefix).
MAX_FILE_NAME_CHARS = 255
#: Longest sanitised name kept in the key.
MAX_KEY_NAME_CHARS = 120

#: Content types accepted per extension. A client that declares another type is refused:
#: the POST policy pins the type, so it is also what S3 stores.
CONTENT_TYPES: dict[str, frozenset[str]] = {
    ".csv": frozenset({"text/csv", "application/csv"}),
    ".json": frozenset({"application/json"}),
    ".ndjson": frozenset({"application/x-ndjson", "application/ndjson", "application/jsonl"}),
    ".jsonl": frozenset(
        {"application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines"}
    ),
}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PresignError(ValueError):
    """A bad upload request: ``code`` is stable, ``message`` says what to change."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_body(self) -> dict[str, Any]:
        """The JSON error body the API returns with status 400."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class UploadRequest(BaseModel):
    """A checked upload request."""

    model_config = ConfigDict(frozen=True)

    file_name: str
    size: int
    content_type: str
    #: The schema the file's records follow (the stack's ``SchemaName`` when not asked for).
    schema_name: str


class PresignedUpload(BaseModel):
    """What the client needs to upload: POST ``fields`` plus the file to ``url``."""

    upload_id: str
    bucket: str
    key: str
    schema_name: str = Field(serialization_alias="schema")
    url: str
    fields: dict[str, str]
    expires_at: str
    max_bytes: int


def parse_request(
    body: str | bytes | None,
    *,
    settings: Settings,
    schemas: Collection[str],
    base64_encoded: bool = False,
) -> UploadRequest:
    """Check a request body; raise :class:`PresignError` naming the first problem.

    ``schemas`` are the names in the deployment's schema registry. ``base64_encoded`` is
    the API event's ``isBase64Encoded``: API Gateway base64-encodes a body it does not take
    for text, and a body that is not valid base64 is a 400 too.
    """
    if base64_encoded and isinstance(body, (str, bytes)):
        try:
            body = base64.b64decode(body, validate=True)
        except binascii.Error:
            raise PresignError("INVALID_BODY", "the request body is not valid base64") from None
    if body is None or (isinstance(body, (str, bytes)) and not body.strip()):
        raise PresignError("INVALID_BODY", "the request body must be a JSON object")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        # RecursionError: thousands of nested brackets exhaust the parser's stack.
        raise PresignError("INVALID_JSON", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise PresignError("INVALID_BODY", "the request body must be a JSON object")
    for field in ("file_name", "size", "content_type"):
        if field not in data or data[field] is None:
            raise PresignError("MISSING_FIELD", f"'{field}' is required", field)
    file_name = check_file_name(data["file_name"], settings=settings)
    size = data["size"]
    if isinstance(size, bool) or not isinstance(size, int):
        raise PresignError("INVALID_SIZE", "'size' must be a whole number of bytes", "size")
    if size < 1:
        raise PresignError(
            "INVALID_SIZE", "'size' must be at least 1 byte (empty files are refused)", "size"
        )
    if size > settings.max_upload_bytes:
        raise PresignError(
            "TOO_LARGE",
            f"'size' {size} exceeds the maximum upload size of {settings.max_upload_bytes} bytes",
            "size",
        )
    content_type = data["content_type"]
    if not isinstance(content_type, str):
        raise PresignError("UNSUPPORTED_TYPE", "'content_type' must be a string", "content_type")
    content_type = content_type.split(";", 1)[0].strip().lower()
    suffix = _suffix(file_name)
    allowed = CONTENT_TYPES.get(suffix, frozenset())
    if content_type not in allowed:
        expected = ", ".join(sorted(allowed)) or "none"
        raise PresignError(
            "UNSUPPORTED_TYPE",
            f"content type {content_type!r} does not match a {suffix} file (expected: {expected})",
            "content_type",
        )
    schema = check_schema(data.get("schema"), settings=settings, schemas=schemas)
    return UploadRequest(
        file_name=file_name, size=size, content_type=content_type, schema_name=schema
    )


def allowed_schemas(settings: Settings, schemas: Collection[str]) -> list[str]:
    """The schemas a client may ask for: the default, plus the allow-list when one is set,
    else every schema of the registry but the built-in ``any`` (which checks nothing)."""
    extra = settings.allowed_schemas or tuple(n for n in schemas if n != "any")
    return sorted({settings.schema_name, *(n for n in extra if n in schemas)})


def check_schema(value: object, *, settings: Settings, schemas: Collection[str]) -> str:
    """The requested schema (``None``: the stack's default), known and allowed, or a 400."""
    if value is None:
        return settings.schema_name
    allowed = allowed_schemas(settings, schemas)
    if not is_schema_name(value):
        raise PresignError(
            "INVALID_SCHEMA",
            "'schema' must be a schema name such as 'job.v1' "
            "(letters, digits, '.', '_', '-'; at most 64 characters)",
            "schema",
        )
    assert isinstance(value, str)  # is_schema_name checked it
    if value not in schemas:
        raise PresignError(
            "UNKNOWN_SCHEMA",
            f"schema {value!r} does not exist (accepted: {', '.join(allowed)})",
            "schema",
        )
    if value not in allowed:
        raise PresignError(
            "SCHEMA_NOT_ALLOWED",
            f"schema {value!r} is not accepted by this API (accepted: {', '.join(allowed)})",
            "schema",
        )
    return value


def check_file_name(value: object, *, settings: Settings) -> str:
    """Refuse names that are not plain file names; return the NFC-normalised name."""
    if not isinstance(value, str) or not value.strip():
        raise PresignError(
            "INVALID_FILE_NAME", "'file_name' must be a non-empty string", "file_name"
        )
    name = unicodedata.normalize("NFC", value)
    if len(name) > MAX_FILE_NAME_CHARS:
        raise PresignError(
            "INVALID_FILE_NAME",
            f"'file_name' is longer than {MAX_FILE_NAME_CHARS} characters",
            "file_name",
        )
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in name):
        raise PresignError(
            "CONTROL_CHARACTERS", "'file_name' contains control characters", "file_name"
        )
    if "/" in name or "\\" in name or name.strip() in {".", ".."}:
        raise PresignError(
            "PATH_TRAVERSAL",
            "'file_name' must be a plain file name without path parts",
            "file_name",
        )
    if _suffix(name) not in settings.accepted_suffixes:
        accepted = ", ".join(settings.accepted_suffixes)
        raise PresignError(
            "UNSUPPORTED_TYPE", f"'file_name' must end with one of: {accepted}", "file_name"
        )
    return name


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def sanitise_file_name(name: str) -> str:
    """A key-safe version of a checked name: ASCII letters, digits, ``. _ -`` only.

    Accents are folded (``é`` -> ``e``), other characters become ``_``, the extension is
    kept and lower-cased, and the stem is shortened so the result fits ``MAX_KEY_NAME_CHARS``.
    """
    suffix = _suffix(name)
    stem = name[: len(name) - len(suffix)] if suffix else name
    folded = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    safe = _UNSAFE.sub("_", folded).strip("._-") or "file"
    safe = safe[: MAX_KEY_NAME_CHARS - len(suffix)]
    return safe + suffix


def upload_key(prefix: str, *, schema: str, now: datetime, upload_id: str, file_name: str) -> str:
    """``<prefix><schema>/<YYYY-MM-DD>/<upload id>/<sanitised file name>``.

    The schema segment is what :func:`silent_scalper.schema_choice.schema_for_key` reads.
    """
    day = f"{now.astimezone(UTC):%Y-%m-%d}"
    return f"{prefix}{schema}/{day}/{upload_id}/{sanitise_file_name(file_name)}"


def presign_upload(
    s3: S3Client,
    request: UploadRequest,
    *,
    settings: Settings,
    now: datetime,
    upload_id: str,
    uploader: Uploader | None = None,
) -> PresignedUpload:
    """Sign a POST for exactly this key, content type and size range.

    With an ``uploader`` (the API's verified caller) the POST also pins its identity as
    ``x-amz-meta-uploader-*`` fields: S3 refuses the upload if any is dropped or changed,
    so the object itself says who uploaded it.
    """
    key = upload_key(
        settings.upload_prefix,
        schema=request.schema_name,
        now=now,
        upload_id=upload_id,
        file_name=request.file_name,
    )
    identity = uploader.post_fields() if uploader is not None else {}
    post = s3.generate_presigned_post(
        Bucket=settings.input_bucket,
        Key=key,
        Fields={"Content-Type": request.content_type, **identity},
        Conditions=[
            {"Content-Type": request.content_type},
            ["content-length-range", 1, settings.max_upload_bytes],
            *({name: value} for name, value in identity.items()),
        ],
        ExpiresIn=settings.upload_url_ttl_seconds,
    )
    expires = now + timedelta(seconds=settings.upload_url_ttl_seconds)
    return PresignedUpload(
        upload_id=upload_id,
        bucket=settings.input_bucket,
        key=key,
        schema_name=request.schema_name,
        url=post["url"],
        fields={str(k): str(v) for k, v in post["fields"].items()},
        expires_at=expires.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        max_bytes=settings.max_upload_bytes,
    )


def open_upload(
    s3: S3Client,
    dynamodb: DynamoDBClient,
    request: UploadRequest,
    *,
    settings: Settings,
    now: datetime,
    upload_id: str,
    uploader: Uploader | None = None,
) -> PresignedUpload:
    """Presign the upload and record its intent (``GET /uploads/{id}`` answers from it).

    The intent is written before the POST is handed out, so the id is known before anything
    can land; an expired intent is deleted by the table's TTL.
    """
    upload = presign_upload(
        s3, request, settings=settings, now=now, upload_id=upload_id, uploader=uploader
    )
    if settings.uploads_table is None:
        msg = "environment variable UPLOADS_TABLE is missing (the upload intents table)"
        raise SettingsError(msg)
    intent = new_intent(
        upload_id=upload_id,
        bucket=upload.bucket,
        key=upload.key,
        schema_name=upload.schema_name,
        file_name=request.file_name,
        uploader=uploader,
        now=now,
        keep_days=settings.upload_status_days,
    )
    put_intent(dynamodb, settings.uploads_table, intent)
    return upload
