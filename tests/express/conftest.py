"""A local stack deployed with ``WorkflowType=EXPRESS``, for this folder's tests only.

Package scope, like tests/e2e's STANDARD stack: one stack per process (moto's mock is
process-wide), so this one starts after the other folder's is gone, or in another worker.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scalper.local import LocalStack, StackConfig


@pytest.fixture(scope="package")
def express_stack() -> Iterator[LocalStack]:
    """The running local stack (template.yaml as EXPRESS, real ASL, real handlers)."""
    stack = LocalStack(StackConfig(retry_scale=0.01, parameters={"WorkflowType": "EXPRESS"}))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
