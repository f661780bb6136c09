"""Names and helpers shared by the security tests (a uniquely named module: several test
folders have a conftest.py, so ``from conftest import`` would be ambiguous). What they share
with the handler tests (names, environment, context, events) is in
``tests/handler_support.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STACK = "silent-scalper-sec"


@dataclass
class Stack:
    """moto resources named as the handlers' environment names them."""

    env: dict[str, str]
    s3: Any

    def put(self, key: str, body: bytes) -> str:
        """Upload to the input bucket; returns the version id."""
        out = self.s3.put_object(Bucket=self.env["INPUT_BUCKET"], Key=key, Body=body)
        return str(out["VersionId"])
