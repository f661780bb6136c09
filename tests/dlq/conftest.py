"""One local stack for the dead-letter queue tests, and the template the CLI is pointed at."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from local_stack_support import TEMPLATE, running_stack

from scalper.local import LocalStack


@pytest.fixture(scope="package")
def stack_template() -> Path:
    """The template the stack runs (the CLI commands are pointed at it with --template)."""
    return TEMPLATE


@pytest.fixture(scope="package")
def local_stack(stack_template: Path) -> Iterator[LocalStack]:
    """The running local stack (its EventBridge rule dead-letters to the pipeline's queue)."""
    with running_stack(stack_template) as stack:
        yield stack
