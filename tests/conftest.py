"""Fixtures shared by every test folder.

pytest puts this folder on ``sys.path`` when it loads this file (the tests are not a
package), so the shared ``handler_support`` module imports from any test folder.
"""

from __future__ import annotations

import pytest
from handler_support import FakeContext


@pytest.fixture
def context() -> FakeContext:
    """A Lambda context for handler calls."""
    return FakeContext()
