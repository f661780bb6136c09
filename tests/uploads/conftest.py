"""One local stack for the upload tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_stack_support import running_stack

from scalper.local import LocalStack


@pytest.fixture(scope="package")
def local_stack() -> Iterator[LocalStack]:
    """The running local stack (its S3 checks presigned-POST policies as S3 does)."""
    with running_stack() as stack:
        yield stack
