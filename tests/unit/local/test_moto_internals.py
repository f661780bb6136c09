"""The moto internals the local stack relies on: named in one module, checked in one place.

A moto upgrade is a review of :mod:`scalper.local.moto_internals`; these tests are what
make that true (nothing else in the source reaches below moto's public surface) and what
fail first when the new release moved something.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import moto
import pytest

from scalper.local import moto_internals

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "src" / "scalper"
#: moto's public surface: the mock and the exceptions its clients raise.
PUBLIC = re.compile(r"^\s*from moto import mock_aws\b")


def test_given_the_pinned_moto_then_every_hook_point_is_in_place() -> None:
    problems = moto_internals.verify()
    assert problems == [], "moto moved internals:\n" + "\n".join(problems)


def test_given_the_project_pin_then_installed_moto_is_the_release_reviewed() -> None:
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    pin = re.search(r'"moto\[[^\]]*\]==([0-9.]+)"', pyproject)
    assert pin is not None, "pyproject.toml must pin moto exactly (moto[...]==X.Y.Z)"
    assert pin.group(1) == moto_internals.MOTO_VERSION == moto.__version__


def test_given_the_source_then_only_moto_internals_names_moto_modules() -> None:
    offenders = []
    for path in sorted(SOURCE.rglob("*.py")):
        if path.name == "moto_internals.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if PUBLIC.match(code):
                continue
            if re.search(r"^\s*(from|import) moto\b|[\"']moto\.[a-z_]", code):
                offenders.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert offenders == []


def test_given_a_moved_hook_point_when_required_then_the_error_names_it_and_the_versions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = moto_internals.execution_worker_class()
    monkeypatch.delattr(worker, "_get_evaluation_entrypoint")
    with pytest.raises(
        moto_internals.MotoInternalsMovedError,
        match=r"reviewed for moto 5\.2\.5.*ExecutionWorker\._get_evaluation_entrypoint",
    ):
        moto_internals.require("scalper.local.interpreter_cache")


def test_given_a_hook_point_of_another_user_moved_then_this_user_still_installs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker = moto_internals.execution_worker_class()
    monkeypatch.delattr(worker, "_get_evaluation_entrypoint")
    moto_internals.require("scalper.local.retry")


def test_given_an_event_pattern_then_moto_matches_it_as_eventbridge_does() -> None:
    matches = moto_internals.event_pattern('{"detail": {"size": [{"numeric": [">", 0]}]}}')
    assert matches({"detail": {"size": 5}})
    assert not matches({"detail": {"size": 0}})


def test_the_server_finds_each_hosts_backend_once_and_as_moto_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given moto's server application, when requests for the same hosts arrive again, then
    each host's backend is what moto's own lookup says, and that lookup ran once per host."""
    dispatcher_class = moto_internals._module(
        "moto.moto_server.werkzeug_app"
    ).DomainDispatcherApplication
    lookup = dispatcher_class.get_backend_for_host
    asked: list[str | None] = []

    def counted(self: Any, host: str | None) -> Any:
        asked.append(host)
        return lookup(self, host)

    monkeypatch.setattr(dispatcher_class, "get_backend_for_host", counted)
    app = moto_internals.server_application()
    hosts = ["dynamodb.us-east-1.amazonaws.com", "s3.amazonaws.com", "127.0.0.1", None]

    first = [app.get_backend_for_host(h) for h in hosts]
    again = [app.get_backend_for_host(h) for h in hosts]

    assert first == again
    assert first[:2] == ["dynamodb", "s3"]
    assert first[2:] == [lookup(app, "127.0.0.1"), None]
    assert asked == hosts
