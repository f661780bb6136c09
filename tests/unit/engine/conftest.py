"""Fixtures for the engine tests: schemas, a one-call validator, the shared corpora."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from silent_scalper.engine import (
    CompiledSchema,
    Limits,
    SchemaRegistry,
    ValidationSummary,
    validate_stream,
)

type Validate = Callable[..., ValidationSummary]


@pytest.fixture(scope="session")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load()


@pytest.fixture(scope="session")
def job_schema(registry: SchemaRegistry) -> CompiledSchema:
    return registry.get("job.v1")


@pytest.fixture(scope="session")
def any_schema(registry: SchemaRegistry) -> CompiledSchema:
    return registry.get("any")


@pytest.fixture
def validate(job_schema: CompiledSchema) -> Validate:
    """validate(data, key, schema=job.v1, **Limits fields) -> ValidationSummary."""

    def run(
        data: bytes | str,
        key: str,
        schema: CompiledSchema | None = None,
        **limits: Any,
    ) -> ValidationSummary:
        raw = data.encode() if isinstance(data, str) else data
        limits.setdefault("max_bytes", 1 << 30)
        return validate_stream(
            io.BytesIO(raw), key=key, schema=schema or job_schema, limits=Limits(**limits)
        )

    return run
