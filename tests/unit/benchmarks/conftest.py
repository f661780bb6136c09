"""Make the repository's ``benchmarks`` package importable from the tests.

``benchmarks/`` is not installed (it is not part of the product); ``make bench`` runs it from
the repository root, so the tests put that root on ``sys.path`` the same way.
"""

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
