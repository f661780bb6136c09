"""`scalper local up` and `scalper upload` refuse bad calls with one clear line."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from scalper.cli import EXIT_USAGE, main
from scalper.cli.upload import region_for, uploads_url


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_taken_port_is_a_one_line_error(
    taken_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given the AWS port is in use, then `local up` exits 2 naming the port and flag."""
    assert main(["local", "up", "--port", str(taken_port)]) == EXIT_USAGE
    err = capsys.readouterr().err.strip()
    assert err == (
        f"scalper local: error: aws endpoint: 127.0.0.1:{taken_port} is already in use "
        "(choose another with --port)"
    )


def test_only_the_loopback_address_is_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """Given --host 0.0.0.0, then `local up` refuses: the stack has no real auth."""
    assert main(["local", "up", "--host", "0.0.0.0"]) == EXIT_USAGE
    assert "listens on 127.0.0.1 only" in capsys.readouterr().err


def test_a_bad_retry_scale_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """Given --retry-scale 5, then the error says the allowed range."""
    assert main(["local", "up", "--retry-scale", "5"]) == EXIT_USAGE
    assert "must be a number in (0, 1]" in capsys.readouterr().err


def test_upload_needs_an_api_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given no --api and no SCALPER_API_URL, then `upload` says what to pass."""
    monkeypatch.delenv("SCALPER_API_URL", raising=False)
    path = tmp_path / "a.csv"
    path.write_text("x\n")
    assert main(["upload", str(path)]) == EXIT_USAGE
    assert "--api URL is required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("api", "url"),
    [
        ("https://abc.execute-api.eu-west-1.amazonaws.com/", "https://abc.execute-api.eu-west-1.amazonaws.com/uploads"),
        ("https://abc.execute-api.eu-west-1.amazonaws.com/uploads", "https://abc.execute-api.eu-west-1.amazonaws.com/uploads"),
        ("http://127.0.0.1:8767", "http://127.0.0.1:8767/uploads"),
    ],
)  # fmt: skip
def test_the_api_url_may_be_the_base_or_the_route(api: str, url: str) -> None:
    """Given the stack output ApiUrl or the API base, then uploads go to .../uploads."""
    assert uploads_url(api) == url


def test_the_signing_region_comes_from_an_execute_api_host() -> None:
    """Given a deployed API URL, then SigV4 signs for its region."""
    assert region_for("https://abc.execute-api.eu-west-1.amazonaws.com/uploads") == "eu-west-1"
