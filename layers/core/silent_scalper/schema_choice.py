"""Which schema validates an object: the one rule, read from the object key.

An upload through the API lands under ``<prefix><schema>/<date>/<upload id>/<name>``; the
presigned POST pins that key, so the schema segment is what the server accepted. A direct
upload (``aws s3 cp``, a replication rule...) under ``<prefix><schema>/...`` chooses its
schema the same way. Every other key gets the stack's default schema.

The rule, in full (:func:`schema_for_key`):

1. the part of the key after the upload prefix is split at its first ``/``;
2. if there is such a first segment and it is the name of a known schema, that schema;
3. otherwise the default schema.

"Known" is the registry of the deployment (the ``schemas/`` files the functions carry), so
a key written before schemas had their own segment (``<prefix><date>/...``: a date is never
a schema name) keeps the default, and a segment naming no schema cannot invent one.
ValidateSchema, the GET route, the outcome events and reprocessing all call this function.
"""

from __future__ import annotations

import re
from collections.abc import Collection

#: What a schema name may look like (also the template's ``SchemaName`` pattern).
SCHEMA_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def schema_for_key(key: str, *, prefix: str, default: str, known: Collection[str]) -> str:
    """The schema that validates the object at ``key`` (a decoded S3 key).

    ``prefix`` is the stack's upload prefix (``uploads/``), ``default`` its ``SchemaName``,
    ``known`` the schema names the deployment has.
    """
    if not key.startswith(prefix):
        return default
    segment, slash, _ = key[len(prefix) :].partition("/")
    if slash and segment in known and SCHEMA_NAME.match(segment):
        return segment
    return default


def is_schema_name(value: object) -> bool:
    """True for a string shaped like a schema name (whether or not such a schema exists)."""
    return isinstance(value, str) and SCHEMA_NAME.match(value) is not None
