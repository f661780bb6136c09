"""One local stack for the results tests, and the three outcomes run through it once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from local_stack_support import TEMPLATE, Outcomes, running_stack, three_outcomes

from scalper.local import LocalStack


@pytest.fixture(scope="package")
def local_stack() -> Iterator[LocalStack]:
    """The running local stack (the metadata table's stream reaches write_result)."""
    with running_stack(TEMPLATE) as stack:
        yield stack


@pytest.fixture(scope="package")
def outcomes(local_stack: LocalStack) -> Outcomes:
    """A VALID, a QUARANTINED and a FAILED file, each run once through the stack."""
    return three_outcomes(local_stack, TEMPLATE)
