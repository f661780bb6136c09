"""Workers forked from the fork server are the workers a new interpreter would be.

A forked worker skips importing the libraries the server preloaded; everything a handler
can observe must be what ``python -m scalper.local.worker`` gives it: its environment
(nothing of the server's or the stack's), working folder, module path, ``sys.argv``,
interpreter flags, standard streams and open descriptors. What a fork cannot reproduce
(a variable the preload or the interpreter's startup read, set otherwise; a function
folder shadowing a module the server imported) gets a started worker, and so does every
worker once the server is gone.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scalper.local import forkserver
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.lambda_runtime import FunctionPool, FunctionSpec, Worker

FINGERPRINT = """
import json, locale, os, sys

def handler(event, context):
    fds = {}
    for fd in sorted(os.listdir("/proc/self/fd"), key=int):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own descriptor, closed already
        fds[fd] = target.split(":")[0] if ":[" in target else target
    print("to the log")
    env = dict(os.environ)
    env.pop("AWS_LAMBDA_LOG_STREAM_NAME")  # one per worker
    return {
        "env": env,
        "cwd": os.getcwd(),
        "path": sys.path,
        "argv0": sys.argv[0],
        "argc": len(sys.argv),
        "flags": list(sys.flags),
        "dont_write_bytecode": sys.dont_write_bytecode,
        "streams": [(s.line_buffering, s.write_through, s.encoding)
                    for s in (sys.stdout, sys.stderr)],
        "stdin": os.readlink("/proc/self/fd/0"),
        "fds": sorted(set(fds.values())),
        "fd_count": len(fds),
        "encoding": locale.getpreferredencoding(False),
        "preloaded": sorted(m for m in ("boto3", "pydantic") if m in sys.modules),
    }
"""


def _spec(code: Path, layer: Path, environment: dict[str, str] | None = None) -> FunctionSpec:
    return FunctionSpec(
        logical_id="Fingerprint",
        name="local-Fingerprint",
        arn="arn:aws:lambda:us-east-1:123456789012:function:local-Fingerprint",
        handler="app.handler",
        code_dir=code,
        layer_dirs=(layer,),
        environment={"GREETING": "hi", **(environment or {})},
    )


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    code, layer = tmp_path / "code", tmp_path / "layer"
    code.mkdir()
    layer.mkdir()
    (code / "app.py").write_text(FINGERPRINT)
    (layer / "shared_helpers.py").write_text("")
    return code, layer


def _run(endpoint: LambdaEndpoint, logical_id: str = "Fingerprint") -> dict[str, Any]:
    result = endpoint.pools[logical_id].invoke(b"{}", "req-1")
    assert result.function_error is None, result.payload
    payload: dict[str, Any] = json.loads(result.payload)
    return payload


def _endpoint(spec: FunctionSpec, tmp_path: Path, *, forks: bool) -> Iterator[LambdaEndpoint]:
    base_env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    endpoint = LambdaEndpoint([spec], base_env, tmp_path / f"logs-{forks}", forks=forks)
    endpoint.start(prewarm=False)
    try:
        yield endpoint
    finally:
        endpoint.stop()


def _fingerprint(spec: FunctionSpec, tmp_path: Path, *, forks: bool) -> dict[str, Any]:
    for endpoint in _endpoint(spec, tmp_path, forks=forks):
        found = _run(endpoint)
        kinds = endpoint.pools["Fingerprint"].cold_starts
        assert kinds == {"forked" if forks else "started": 1}
        log = endpoint.log_dir / "Fingerprint.log"
        assert "to the log" in log.read_text()
        found["fds"] = ["the log" if fd == str(log) else fd for fd in found["fds"]]
    return found


def test_a_forked_worker_sees_what_a_started_worker_sees(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a function with code and a layer, and a variable set in the stack's own
    environment, when it runs in a forked worker and in a started one, then its
    environment, folder, path, argv, flags, streams and descriptors are the same, the
    forked one having only skipped the preload's imports."""
    monkeypatch.setenv("ONLY_IN_THE_STACK", "1")
    spec = _spec(*folders)

    forked = _fingerprint(spec, tmp_path, forks=True)
    started = _fingerprint(spec, tmp_path, forks=False)

    assert forked.pop("preloaded") == ["boto3", "pydantic"]
    assert started.pop("preloaded") == []
    assert forked == started
    assert "ONLY_IN_THE_STACK" not in forked["env"]
    assert forked["env"]["GREETING"] == "hi"
    assert forked["path"][:2] == [str(spec.code_dir), str(folders[1])]
    assert forked["stdin"] == "/dev/null"
    assert sorted(forked["fds"]) == ["/dev/null", "pipe", "the log"]


@pytest.mark.parametrize(
    "environment",
    [
        pytest.param({"PYTHONHASHSEED": "7"}, id="a variable read at interpreter startup"),
        pytest.param({"BOTO_DISABLE_CRT": "true"}, id="a variable the preload read"),
    ],
)
def test_a_function_whose_environment_a_fork_cannot_give_is_started(
    folders: tuple[Path, Path], tmp_path: Path, environment: dict[str, str]
) -> None:
    """Given a function environment that sets a variable a new interpreter reads before
    the handler's import could, then its worker is started, and it sees that value."""
    spec = _spec(*folders, environment)
    for endpoint in _endpoint(spec, tmp_path, forks=True):
        found = _run(endpoint)
        assert endpoint.pools["Fingerprint"].cold_starts == {"started": 1}
    name, value = next(iter(environment.items()))
    assert found["env"][name] == value


def test_a_function_folder_shadowing_an_imported_module_is_started(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    """Given a layer holding its own ``pydantic`` (which a started worker would import
    instead of the installed one), then the worker is started and imports the layer's."""
    code, layer = folders
    (layer / "pydantic.py").write_text("SHADOW = True\n")
    (code / "app.py").write_text(
        "import pydantic\ndef handler(event, context):\n    return {'shadow': pydantic.SHADOW}\n"
    )
    for endpoint in _endpoint(_spec(code, layer), tmp_path, forks=True):
        assert _run(endpoint) == {"shadow": True}
        assert endpoint.pools["Fingerprint"].cold_starts == {"started": 1}


def test_when_the_fork_server_is_gone_workers_are_started(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    """Given a running fork server that is killed, when a worker is needed, then it is
    started as a new interpreter and the invocation succeeds."""
    for endpoint in _endpoint(_spec(*folders), tmp_path, forks=True):
        assert endpoint.forks is not None
        server = endpoint.forks.get()
        assert server is not None
        server._process.kill()
        server._process.wait()
        assert _run(endpoint)["env"]["GREETING"] == "hi"
        assert endpoint.pools["Fingerprint"].cold_starts == {"started": 1}


def test_the_server_records_the_variables_its_preload_reads() -> None:
    """Given the fork server started, then it has imported every preloaded library and
    recorded the variables botocore reads when imported (its CRT switch, and ``HOME`` for
    its default configuration paths), which `can_fork` then compares."""
    server = forkserver.start({k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ})
    assert server is not None
    try:
        assert set(server.preloaded) == set(forkserver.PRELOAD)
        assert {"BOTO_DISABLE_CRT", "HOME"} <= server.read
    finally:
        server.close()


def _warm_forked(endpoint: LambdaEndpoint) -> tuple[FunctionPool, Worker, forkserver.ForkServer]:
    """After one invocation: the function's pool, its one warm (forked) worker, the server."""
    _run(endpoint)
    pool = endpoint.pools["Fingerprint"]
    [worker] = pool.idle_workers()
    assert worker.forked
    assert endpoint.forks is not None
    server = endpoint.forks.get()
    assert server is not None
    return pool, worker, server


def test_the_server_reports_exits_until_its_last_worker_has_stopped(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    """Given a forked worker, when the fork server is closed before the worker's pool,
    then the server waits for it, reports its exit (0, its inbox closed) and leaves."""
    for endpoint in _endpoint(_spec(*folders), tmp_path, forks=True):
        pool, worker, server = _warm_forked(endpoint)
        closing = threading.Thread(target=server.close)
        closing.start()
        time.sleep(0.3)
        assert closing.is_alive()  # draining: its worker still runs
        pool.close()
        closing.join(5)
        assert not closing.is_alive()
        assert worker.returncode == 0


def test_a_forked_worker_still_stops_after_the_server_was_killed(
    folders: tuple[Path, Path], tmp_path: Path
) -> None:
    """Given a forked worker whose fork server is then killed (no one reports its exit
    any more), when its pool stops, then it stops within the stop's grace, no error."""
    for endpoint in _endpoint(_spec(*folders), tmp_path, forks=True):
        pool, worker, server = _warm_forked(endpoint)
        server._process.kill()
        server._process.wait()
        began = time.monotonic()
        pool.close()
        assert time.monotonic() - began < 3
        assert not worker.alive


def test_a_server_that_cannot_start_leaves_workers_to_be_started(
    folders: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given an interpreter that cannot run the fork server (it exits at once), when the
    endpoint starts and a worker is needed, then the server is given up, leaving no
    process or folder behind, and the worker is started."""
    scratch = tmp_path / "tmp"  # where the server's working folder would be made
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    base_env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    endpoint = LambdaEndpoint([_spec(*folders)], base_env, tmp_path / "logs", forks=True)
    try:
        with pytest.MonkeyPatch.context() as broken:
            broken.setattr(sys, "executable", "/bin/false")
            endpoint.start(prewarm=False)
            assert endpoint.forks is not None
            assert endpoint.forks.get() is None
        assert _run(endpoint)["env"]["GREETING"] == "hi"
        assert endpoint.pools["Fingerprint"].cold_starts == {"started": 1}
    finally:
        endpoint.stop()
    assert list(scratch.iterdir()) == []
