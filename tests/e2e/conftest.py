"""The local stack shared by every end-to-end test: started once, stopped after the last one.

Package scope (this folder is a package): the stack, like moto's mock under it, is
process-wide, so it must be gone before other folders' tests start their own mocks.
Retry waits run at 1/100 of their real length (the documented SCALPER_RETRY_SCALE knob),
and the upload limit is 64 KiB so a TOO_LARGE file stays small.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scalper.local import LocalStack, StackConfig

#: MaxUploadBytes for the e2e stack (the presign limit and the engine's TOO_LARGE limit).
MAX_UPLOAD_BYTES = 64 * 1024


@pytest.fixture(scope="package")
def local_stack() -> Iterator[LocalStack]:
    """The running local stack (template.yaml, real ASL, real handlers)."""
    stack = LocalStack(
        StackConfig(retry_scale=0.01, parameters={"MaxUploadBytes": str(MAX_UPLOAD_BYTES)})
    )
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
