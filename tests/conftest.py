"""Fixtures shared by every test folder, and how the suite splits across xdist workers.

pytest puts this folder on ``sys.path`` when it loads this file (the tests are not a
package), so the shared ``handler_support`` module imports from any test folder.

``pytest -n 2`` (``make test``) runs the suite on two worker processes with
``--dist loadgroup`` (set in ``pyproject.toml``). Each worker is its own process, so a
local stack or a moto mock in one never sees another's: ports are chosen by the OS, log
folders are temporary, names live in that process's moto. What must not be split is a
module- or package-scoped fixture that starts something expensive (a local stack, moto
with the template's resources): its tests share one ``xdist_group`` and run on one worker,
one after another, so it starts once there and never twice at the same time.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.loaders
import pytest
from handler_support import FakeContext

#: Fixtures at these scopes are shared by their tests; session-scoped ones (loaded data)
#: are cheap and per worker anyway.
_SHARED_SCOPES = {"module": 0, "package": 1}


def pytest_configure(config: pytest.Config) -> None:
    _load_botocore_files_once()


def _load_botocore_files_once() -> None:
    """Let every botocore session of a test process share each data file it loads.

    moto's mock gives each test a new boto3 session, and each new session reads and parses
    the service models and endpoint rules its clients need again (gzip, then JSON into
    ordered dicts): about 5 % of the suite's CPU time. The files do not change during a
    run, and botocore already treats what it loaded as shared (one session hands the same
    model to all its clients; the one in-place step, merging the SDK's extras into a
    model, sets the same keys to the same values again), so one copy serves all.
    """
    loader = botocore.loaders.JSONFileLoader
    if getattr(loader.load_file, "shared", False):
        return
    load_file = loader.load_file
    loaded: dict[str, Any] = {}
    lock = threading.Lock()

    def shared(self: botocore.loaders.JSONFileLoader, file_path: str) -> Any:
        with lock:
            if file_path in loaded:
                return loaded[file_path]
        data = load_file(self, file_path)
        with lock:
            return loaded.setdefault(file_path, data)

    shared.shared = True  # type: ignore[attr-defined]
    loader.load_file = shared  # type: ignore[method-assign]


@pytest.fixture
def context() -> FakeContext:
    """A Lambda context for handler calls."""
    return FakeContext()


def xdist_group_for(item: pytest.Item) -> str | None:
    """The group of a test: the package or module whose shared fixture it uses, if any.

    A package-scoped fixture groups by the folder that defines it (``tests/e2e``), a
    module-scoped one by the test's module; the widest scope used wins.
    """
    info = getattr(item, "_fixtureinfo", None)
    widest: tuple[int, str] | None = None
    for name in item.fixturenames:
        for definition in (info.name2fixturedefs.get(name) or ()) if info else ():
            rank = _SHARED_SCOPES.get(definition.scope)
            if rank is None:
                continue
            where = definition.baseid if rank else item.nodeid.split("::", 1)[0]
            if rank == 1 and not where:  # a package fixture of the root conftest
                where = item.nodeid.split("::", 1)[0].rsplit("/", 1)[0]
            if widest is None or rank > widest[0]:
                widest = (rank, where)
    return None if widest is None else widest[1]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that shares a module or package fixture with its group."""
    for item in items:
        group = xdist_group_for(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
