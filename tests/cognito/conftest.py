"""The local stack in AuthMode=COGNITO, shared by this package's end-to-end tests.

Package scope, like tests/e2e: moto's mock is process-wide, so this stack is gone before
another package starts its own. Retry waits run at 1/100 of their length.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scalper.local import LocalStack, StackConfig


@pytest.fixture(scope="package")
def cognito_stack() -> Iterator[LocalStack]:
    """The running local stack, its upload route behind the template's Cognito authoriser."""
    stack = LocalStack(StackConfig(retry_scale=0.01, parameters={"AuthMode": "COGNITO"}))
    stack.start()
    try:
        yield stack
    finally:
        stack.stop()
