"""The streaming validation engine: one implementation for the Lambdas, the CLI and tests.

Typical use::

    registry = SchemaRegistry.load()            # bundled schemas/ plus the built-in "any"
    result = sniff(head, key=key, size=size, limits=limits)
    if result.ok:
        summary = validate_stream(body, key=key, schema=registry.get("job.v1"), limits=limits)

See docs/validation.md for formats, reason codes and the memory design.
"""

from silent_scalper.engine.schemas import (
    ANY_SCHEMA,
    CompiledSchema,
    SchemaLoadError,
    SchemaRegistry,
    UnknownSchemaError,
)
from silent_scalper.engine.sniff import EXTENSIONS, format_for_key, sniff
from silent_scalper.engine.stream import load_readers, validate_stream
from silent_scalper.engine.types import (
    SNIFF_BYTES,
    FileFormat,
    Limits,
    LocatedError,
    Reason,
    TypeCheckResult,
    ValidationSummary,
)

__all__ = [
    "ANY_SCHEMA",
    "EXTENSIONS",
    "SNIFF_BYTES",
    "CompiledSchema",
    "FileFormat",
    "Limits",
    "LocatedError",
    "Reason",
    "SchemaLoadError",
    "SchemaRegistry",
    "TypeCheckResult",
    "UnknownSchemaError",
    "ValidationSummary",
    "format_for_key",
    "load_readers",
    "sniff",
    "validate_stream",
]
