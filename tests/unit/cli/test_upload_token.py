"""`scalper upload` with a Cognito token, and what it says when the API refuses the auth.

A small HTTP server stands in for the API: it records the request and answers as API
Gateway does for an unauthorised caller (401 on a JWT route, 403 on an IAM route).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from botocore.credentials import Credentials

from scalper.cli import EXIT_PROBLEM, EXIT_USAGE, UsageError, main
from scalper.cli.upload import UploadError, bearer, request_upload

TOKEN = "eyJraWQiOiJrMSIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJhbmEifQ.c2lnbmF0dXJl"
SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "valid" / "jobs.csv"


@dataclass
class FakeApi:
    """What the API answers next, and the Authorization headers it received."""

    status: int = 200
    body: dict[str, object] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    seen: list[str | None] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def api() -> Iterator[FakeApi]:
    fake = FakeApi()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            fake.seen.append(self.headers.get("Authorization"))
            payload = json.dumps(fake.body).encode()
            self.send_response(fake.status)
            for name, value in fake.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def presign(api: FakeApi, **auth: object) -> dict[str, object]:
    return request_upload(
        api.url, file_name="jobs.csv", size=10, content_type="text/csv", region="us-east-1",
        **auth,  # type: ignore[arg-type]
    )  # fmt: skip


def test_given_a_token_then_it_is_sent_as_a_bearer_header_instead_of_sigv4(api: FakeApi) -> None:
    api.body = {"url": "http://x", "fields": {}}
    presign(api, credentials=Credentials("AKIDEXAMPLE", "secret"), token=TOKEN)
    assert api.seen == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize(
    ("status", "sent", "says"),
    [
        (401, {"credentials": None}, "wants a Cognito token (AuthMode=COGNITO)"),
        (401, {"credentials": Credentials("AKIDEXAMPLE", "s")}, "not a SigV4 signature"),
        (401, {"credentials": None, "token": TOKEN}, "refused the token"),
        (403, {"credentials": None}, "wants IAM (SigV4) authorisation (AuthMode=IAM)"),
        (403, {"credentials": None, "token": TOKEN}, "not a token"),
    ],
    ids=["jwt-route-no-auth", "jwt-route-sigv4", "jwt-route-bad-token", "iam-route", "iam-token"],
)
def test_given_api_gateway_refuses_the_auth_then_one_line_names_the_mode_it_wants(
    api: FakeApi, status: int, sent: dict[str, object], says: str
) -> None:
    api.status = status
    api.body = {"message": "Unauthorized" if status == 401 else "Forbidden"}
    with pytest.raises(UploadError) as refused:
        presign(api, **sent)
    assert refused.value.code == f"HTTP {status}"
    assert says in refused.value.message
    assert "\n" not in str(refused.value)


def test_given_an_expired_token_then_the_reason_from_www_authenticate_is_shown(
    api: FakeApi,
) -> None:
    api.status, api.body = 401, {"message": "Unauthorized"}
    api.headers = {
        "www-authenticate": 'Bearer scope="" error="invalid_token" '
        'error_description="the token has expired"'
    }
    with pytest.raises(UploadError, match="the token has expired; run scalper login"):
        presign(api, credentials=None, token=TOKEN)


def test_bearer_accepts_a_bare_or_prefixed_jwt_and_refuses_anything_else() -> None:
    assert bearer(TOKEN) == bearer(f"Bearer {TOKEN}\n") == f"Bearer {TOKEN}"
    for bad in ("", "Bearer ", "not-a-jwt", "a.b", "a.b c.d"):
        with pytest.raises(UsageError, match="not a JWT"):
            bearer(bad)


def test_given_a_token_file_then_the_cli_sends_it(
    api: FakeApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given --token-file (as written by scalper login --out), then its token is sent; the
    API's 401 is one `refused` line and exit 1."""
    path = tmp_path / "token.jwt"
    path.write_text(TOKEN + "\n")
    api.status, api.body = 401, {"message": "Unauthorized"}
    assert main(["upload", str(SAMPLE), "--api", api.url, "--token-file", str(path)]) == (
        EXIT_PROBLEM
    )
    assert api.seen == [f"Bearer {TOKEN}"]
    out = capsys.readouterr().out
    assert "refused" in out
    assert "HTTP 401" in out


def test_given_scalper_token_in_the_environment_then_it_is_used(
    api: FakeApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCALPER_TOKEN", TOKEN)
    api.status, api.body = 401, {"message": "Unauthorized"}
    main(["upload", str(SAMPLE), "--api", api.url])
    assert api.seen == [f"Bearer {TOKEN}"]


@pytest.mark.parametrize(
    "extra",
    [["--auth", "iam", "--token", TOKEN], ["--token", TOKEN, "--token-file", "t"],
     ["--token", "nonsense"], ["--token-file", "/nonexistent/token.jwt"]],
    ids=["iam-and-token", "two-tokens", "not-a-jwt", "missing-file"],
)  # fmt: skip
def test_conflicting_or_bad_token_options_are_usage_errors(api: FakeApi, extra: list[str]) -> None:
    argv = ["upload", str(SAMPLE), "--api", api.url, *extra]
    try:
        code = main(argv)
    except SystemExit as exited:  # argparse's own refusal (mutually exclusive options)
        code = int(str(exited.code))
    assert code == EXIT_USAGE
    assert api.seen == []
