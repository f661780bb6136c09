"""Typed configuration of the pipeline functions, built once at cold start.

Core code never reads ``os.environ``: a handler calls ``Settings.from_env(os.environ)`` once
at import time and passes the result down. Every variable is set by ``template.yaml``
(``Globals.Function.Environment``); a missing or malformed one is reported by name, so a
broken deployment fails with a clear message at cold start instead of deep in a step.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from silent_scalper.schema_choice import is_schema_name

#: Environment variable -> settings field. The template sets exactly these.
ENV_FIELDS: dict[str, str] = {
    "STAGE_NAME": "stage",
    "AWS_REGION": "region",
    "INPUT_BUCKET": "input_bucket",
    "QUARANTINE_BUCKET": "quarantine_bucket",
    "METADATA_TABLE": "table_name",
    "ALERTS_TOPIC_ARN": "topic_arn",
    "SCHEMA_NAME": "schema_name",
    "MAX_UPLOAD_BYTES": "max_upload_bytes",
    "UPLOAD_URL_TTL_SECONDS": "upload_url_ttl_seconds",
    "UPLOAD_PREFIX": "upload_prefix",
    "ACCEPTED_SUFFIXES": "accepted_suffixes",
    "WORKFLOW_TYPE": "workflow_type",
    "MAX_ERRORS": "max_errors",
    "ALLOWED_SCHEMAS": "allowed_schemas",
    "UPLOADS_TABLE": "uploads_table",
    "UPLOAD_STATUS_DAYS": "upload_status_days",
    "TAG_OBJECTS": "tag_objects",
}

#: The presigned POST and the upload URL lifetime: S3 allows longer, the product promises 15 min.
MAX_UPLOAD_URL_TTL_SECONDS = 900
#: A single presigned POST can carry at most 5 GiB.
MAX_POST_BYTES = 5 * 1024**3


class SettingsError(ValueError):
    """The environment does not describe a usable deployment; names the variable and why."""


class Settings(BaseModel):
    """Everything the pipeline steps need to know about their deployment."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    stage: str = "dev"
    region: str = "us-east-1"
    input_bucket: str = Field(min_length=3)
    quarantine_bucket: str = Field(min_length=3)
    table_name: str = Field(min_length=3)
    topic_arn: str = Field(pattern=r"^arn:[a-z-]+:sns:")
    schema_name: str = "job.v1"
    max_upload_bytes: int = Field(default=100 * 1024 * 1024, ge=1, le=MAX_POST_BYTES)
    upload_url_ttl_seconds: int = Field(default=MAX_UPLOAD_URL_TTL_SECONDS, ge=1, le=900)
    upload_prefix: str = "uploads/"
    accepted_suffixes: tuple[str, ...] = (".csv", ".json", ".ndjson", ".jsonl")
    workflow_type: Literal["STANDARD", "EXPRESS"] = "STANDARD"
    max_errors: int = Field(default=100, ge=1, le=1000)
    #: Schemas ``POST /uploads`` accepts besides ``schema_name`` (empty: every schema of the
    #: registry except the built-in ``any``).
    allowed_schemas: tuple[str, ...] = ()
    #: The table of upload intents (``GET /uploads/{id}``); ``None`` where a function has none.
    uploads_table: str | None = None
    #: How long after presigning ``GET /uploads/{id}`` still answers (the intent's TTL).
    upload_status_days: int = Field(default=30, ge=1, le=3650)
    # Outcome tags on the objects (the template's TagObjects): one request per file each.
    tag_objects: bool = True

    @field_validator("upload_prefix")
    @classmethod
    def _prefix_ends_with_slash(cls, value: str) -> str:
        if not value.endswith("/") or value.startswith("/"):
            msg = "must end with '/' and not start with one"
            raise ValueError(msg)
        return value

    @field_validator("accepted_suffixes", mode="before")
    @classmethod
    def _split_suffixes(cls, value: object) -> object:
        if isinstance(value, str):
            value = tuple(s.strip().lower() for s in value.split(",") if s.strip())
        return value

    @field_validator("allowed_schemas", mode="before")
    @classmethod
    def _split_schemas(cls, value: object) -> object:
        # A CommaDelimitedList parameter joined with "," (an empty list is "").
        if isinstance(value, str):
            value = tuple(s.strip() for s in value.split(",") if s.strip())
        return value

    @field_validator("allowed_schemas")
    @classmethod
    def _schemas_are_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if not is_schema_name(name):
                msg = f"{name!r} is not a schema name"
                raise ValueError(msg)
        return value

    @field_validator("accepted_suffixes")
    @classmethod
    def _suffixes_are_extensions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            msg = "at least one suffix is needed"
            raise ValueError(msg)
        for suffix in value:
            if not suffix.startswith(".") or len(suffix) < 2:
                msg = f"{suffix!r} is not an extension such as '.csv'"
                raise ValueError(msg)
        return value

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build the settings from environment variables (see ``ENV_FIELDS``).

        Raises :class:`SettingsError` naming the first bad or missing variable.
        """
        values: dict[str, object] = {}
        for var, field in ENV_FIELDS.items():
            raw = env.get(var)
            if raw is None or raw == "":
                continue
            values[field] = raw
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = str(error["loc"][0]) if error["loc"] else "?"
            var = next((v for v, f in ENV_FIELDS.items() if f == field), field)
            problem = "is missing" if error["type"] == "missing" else error["msg"]
            msg = f"environment variable {var} {problem}"
            raise SettingsError(msg) from None

    def to_env(self) -> dict[str, str]:
        """The environment that :meth:`from_env` turns back into these settings."""
        out: dict[str, str] = {}
        for var, field in ENV_FIELDS.items():
            value = getattr(self, field)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[var] = ",".join(value)
            else:
                out[var] = str(value)
        return out
