"""Typed configuration of the pipeline functions, built once at cold start.

Core code never reads ``os.environ``: a handler calls ``Settings.from_env(os.environ)`` once
at import time and passes the result down. Every variable is set by ``template.yaml``
(``Globals.Function.Environment``); a missing or malformed one is reported by name, so a
broken deployment fails with a clear message at cold start instead of deep in a step.
pydantic-settings maps the variables onto the fields (each field names its variable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from silent_scalper.schema_choice import is_schema_name

#: The presigned POST and the upload URL lifetime: S3 allows longer, the product promises 15 min.
MAX_UPLOAD_URL_TTL_SECONDS = 900
#: A single presigned POST can carry at most 5 GiB.
MAX_POST_BYTES = 5 * 1024**3


class SettingsError(ValueError):
    """The environment does not describe a usable deployment; names the variable and why."""


class _GivenEnvironment(EnvSettingsSource):
    """pydantic-settings' environment source, reading the mapping it is handed, not
    ``os.environ`` (core code never reads the process environment itself)."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        self._given = env
        super().__init__(settings_cls)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return parse_env_vars(
            self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
        )


class EnvSettings(BaseSettings):
    """Settings read from environment variables by pydantic-settings: each field names its
    variable (``validation_alias``), an empty variable counts as unset, and a bad one is
    reported by its name (`SettingsError`)."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        case_sensitive=True,
        env_ignore_empty=True,
        validate_by_name=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only the constructor's arguments: the environment comes through `from_env`."""
        return (init_settings,)

    @classmethod
    def env_fields(cls) -> dict[str, str]:
        """Environment variable -> field name."""
        return {str(f.validation_alias): name for name, f in cls.model_fields.items()}

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Self:
        """Build the settings from environment variables (see `env_fields`).

        Raises :class:`SettingsError` naming the first bad or missing variable.
        """
        try:
            return cls.model_validate(_GivenEnvironment(cls, env)())
        except ValidationError as exc:
            error = exc.errors()[0]
            where = str(error["loc"][0]) if error["loc"] else "?"
            fields = cls.env_fields()
            var = next((v for v, f in fields.items() if where in (v, f)), where)
            problem = "is missing" if error["type"] == "missing" else error["msg"]
            msg = f"environment variable {var} {problem}"
            raise SettingsError(msg) from None

    def to_env(self) -> dict[str, str]:
        """The environment that `from_env` turns back into these settings."""
        out: dict[str, str] = {}
        for var, field in self.env_fields().items():
            value: Any = getattr(self, field)
            if value is None:
                continue
            if isinstance(value, tuple):
                out[var] = ",".join(value)
            elif isinstance(value, bool):
                out[var] = "true" if value else "false"
            else:
                out[var] = str(value)
        return out


class Settings(EnvSettings):
    """Everything the pipeline steps need to know about their deployment."""

    stage: str = Field(default="dev", validation_alias="STAGE_NAME")
    region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    input_bucket: str = Field(min_length=3, validation_alias="INPUT_BUCKET")
    quarantine_bucket: str = Field(min_length=3, validation_alias="QUARANTINE_BUCKET")
    table_name: str = Field(min_length=3, validation_alias="METADATA_TABLE")
    topic_arn: str = Field(pattern=r"^arn:[a-z-]+:sns:", validation_alias="ALERTS_TOPIC_ARN")
    schema_name: str = Field(default="job.v1", validation_alias="SCHEMA_NAME")
    max_upload_bytes: int = Field(
        default=100 * 1024 * 1024, ge=1, le=MAX_POST_BYTES, validation_alias="MAX_UPLOAD_BYTES"
    )
    upload_url_ttl_seconds: int = Field(
        default=MAX_UPLOAD_URL_TTL_SECONDS, ge=1, le=900, validation_alias="UPLOAD_URL_TTL_SECONDS"
    )
    upload_prefix: str = Field(default="uploads/", validation_alias="UPLOAD_PREFIX")
    # A comma list in the environment, not the JSON pydantic-settings expects for a tuple.
    accepted_suffixes: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(".csv", ".json", ".ndjson", ".jsonl"), validation_alias="ACCEPTED_SUFFIXES"
    )
    workflow_type: Literal["STANDARD", "EXPRESS"] = Field(
        default="STANDARD", validation_alias="WORKFLOW_TYPE"
    )
    max_errors: int = Field(default=100, ge=1, le=1000, validation_alias="MAX_ERRORS")
    #: Schemas ``POST /uploads`` accepts besides ``schema_name`` (empty: every schema of the
    #: registry except the built-in ``any``). A comma list in the environment.
    allowed_schemas: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(), validation_alias="ALLOWED_SCHEMAS"
    )
    #: The table of upload intents (``GET /uploads/{id}``); ``None`` where a function has none.
    uploads_table: str | None = Field(default=None, validation_alias="UPLOADS_TABLE")
    #: How long after presigning ``GET /uploads/{id}`` still answers (the intent's TTL).
    upload_status_days: int = Field(
        default=30, ge=1, le=3650, validation_alias="UPLOAD_STATUS_DAYS"
    )
    # Outcome tags on the objects (the template's TagObjects): one request per file each.
    tag_objects: bool = Field(default=True, validation_alias="TAG_OBJECTS")

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


#: Environment variable -> settings field. The template sets exactly these.
ENV_FIELDS: dict[str, str] = Settings.env_fields()
