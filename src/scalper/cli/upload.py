"""`scalper upload FILE... --api URL`: the client half of the pipeline.

For each file: ``POST <api>/uploads`` with its name, size and content type -- SigV4-signed
for ``execute-api`` when the API uses IAM authorisation (``AuthMode=IAM``), or with
``Authorization: Bearer <jwt>`` when it uses the Cognito JWT authoriser
(``AuthMode=COGNITO``; the token from `scalper login`) -- then a multipart POST of the
file to the presigned URL with the returned fields, over real HTTP, streaming the file.
Works against the deployed API (its ``ApiUrl`` output) and the local stack
(``SCALPER_API_URL``) alike.

``--schema NAME`` asks for the schema the file's records follow (the names `scalper validate
--schema` takes: the files under ``schemas/``); the server pins it into the key.
``--wait`` then polls ``GET /uploads/{upload_id}`` (same authorisation) until every file has
its verdict, and prints it with the first located errors: exit 0 when every file is VALID,
1 otherwise, 2 on usage errors.

The functions here are reused by `scalper demo`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import urljoin, urlsplit

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)
from rich.text import Text
from silent_scalper.schema_choice import is_schema_name

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.cognito import token_from

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".json": "application/json",
    ".ndjson": "application/x-ndjson",
    ".jsonl": "application/x-ndjson",
}
_REGION_IN_HOST = re.compile(r"\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$")
_WHY = re.compile(r'error_description="([^"]*)"')
_CHUNK = 256 * 1024
HTTP_TIMEOUT = 60.0
TOKEN_ENV = "SCALPER_TOKEN"  # noqa: S105 - the name of a variable, not a token


class UploadError(Exception):
    """The API or S3 refused a file; ``code`` is the API's or S3's error code."""

    def __init__(self, stage: str, code: str, message: str) -> None:
        super().__init__(f"{stage}: {code}: {message}")
        self.stage = stage  # "presign" or "s3"
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Uploaded:
    """A file that landed in the input bucket."""

    path: Path
    bucket: str
    key: str
    upload_id: str
    size: int
    schema: str = ""


def content_type_for(path: Path) -> str:
    """The content type the API expects for a file's extension."""
    return CONTENT_TYPES.get(path.suffix.lower(), "application/octet-stream")


def uploads_url(api: str) -> str:
    """Accept the API base URL or the full ``.../uploads`` URL."""
    if urlsplit(api).path.rstrip("/").endswith("/uploads"):
        return api.rstrip("/")
    return urljoin(api if api.endswith("/") else api + "/", "uploads")


def region_for(url: str, default: str | None = None) -> str:
    """The region of an ``execute-api`` URL, else ``default`` / the configured region."""
    match = _REGION_IN_HOST.search(urlsplit(url).hostname or "")
    if match:
        return match.group(1)
    return default or boto3.session.Session().region_name or "us-east-1"


# Keyword arguments name themselves at every call; a parameter object would only rename them.
def request_upload(  # noqa: PLR0913
    api: str,
    *,
    file_name: str,
    size: int,
    content_type: str,
    credentials: Credentials | None,
    region: str,
    token: str | None = None,
    schema: str | None = None,
) -> dict[str, Any]:
    """Ask the API for a presigned POST; raises `UploadError` on a refusal.

    ``token`` (a Cognito ID or access token) is sent as ``Authorization: Bearer ...``
    and replaces SigV4 signing: a request carries one ``Authorization`` header.
    ``schema`` names the schema of the file's records (``None``: the stack's default).
    """
    url = uploads_url(api)
    fields: dict[str, Any] = {"file_name": file_name, "size": size, "content_type": content_type}
    if schema is not None:
        fields["schema"] = schema
    body = json.dumps(fields).encode()
    return _call_api("POST", url, body, credentials=credentials, region=region, token=token)


def read_upload(
    api: str,
    upload_id: str,
    *,
    credentials: Credentials | None,
    region: str,
    token: str | None = None,
) -> dict[str, Any]:
    """``GET /uploads/{upload_id}``: the upload's status and verdict (`UploadError` on a
    refusal; ``HTTP 404`` also for someone else's upload)."""
    url = f"{uploads_url(api)}/{upload_id}"
    return _call_api("GET", url, None, credentials=credentials, region=region, token=token)


def _call_api(
    method: str,
    url: str,
    body: bytes | None,
    *,
    credentials: Credentials | None,
    region: str,
    token: str | None,
) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token is not None:
        headers["Authorization"] = bearer(token)
    elif credentials is not None:
        signed = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(credentials, "execute-api", region).add_auth(signed)
        headers = dict(signed.headers.items())
    request = urllib.request.Request(url, data=body, headers=headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            result: dict[str, Any] = json.loads(response.read())
            return result
    except urllib.error.HTTPError as exc:
        sent = "token" if token is not None else ("iam" if credentials is not None else "none")
        raise _api_error(exc, sent) from None
    except (urllib.error.URLError, OSError) as exc:
        raise UploadError("presign", "UNREACHABLE", f"{url}: {exc}") from None


def bearer(token: str) -> str:
    """The ``Authorization`` value for a JWT (API Gateway accepts it with or without
    ``Bearer``; the prefix is the standard form). Whitespace and a prefix the user
    already typed are tolerated."""
    text = token_from(token) or ""
    if not text or any(c.isspace() for c in text) or text.count(".") != 2:
        raise UsageError("the token is not a JWT (three dot-separated parts); see scalper login")
    return f"Bearer {text}"


# What API Gateway's own refusals mean, by (status, what this request sent). An HTTP API
# answers 401 {"message":"Unauthorized"} on a JWT route and 403 {"message":"Forbidden"}
# on an AWS_IAM route, before the function runs.
_AUTH_HINTS = {
    (401, "none"): "the API wants a Cognito token (AuthMode=COGNITO): "
    "run scalper login, then pass --token-file/--token or set SCALPER_TOKEN",
    (401, "iam"): "the API wants a Cognito token (AuthMode=COGNITO), not a SigV4 signature: "
    "run scalper login, then pass --token-file/--token or set SCALPER_TOKEN",
    (401, "token"): "the API refused the token: expired (tokens last 60 min; log in again) "
    "or not from this stack's user pool and app client",
    (403, "none"): "the API wants IAM (SigV4) authorisation (AuthMode=IAM): "
    "configure AWS credentials (--auth iam)",
    (403, "token"): "the API wants IAM (SigV4) authorisation (AuthMode=IAM), not a token: "
    "drop the token and use AWS credentials",
    (403, "iam"): "the API refused the SigV4 signature: the caller needs execute-api:Invoke "
    "on this API, in the API's region (--region)",
}


def _api_error(exc: urllib.error.HTTPError, sent: str = "none") -> UploadError:
    raw = exc.read()
    try:
        data = json.loads(raw)
    except ValueError:
        return UploadError("presign", f"HTTP {exc.code}", raw.decode(errors="replace")[:200])
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        return UploadError("presign", str(error.get("code")), str(error.get("message")))
    message = data.get("message", raw.decode(errors="replace")) if isinstance(data, dict) else raw
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    hint = _AUTH_HINTS.get((exc.code, sent))
    # A JWT authoriser says why in www-authenticate (error_description="the token has expired").
    why = _WHY.search(exc.headers.get("www-authenticate", "") if exc.headers else "")
    if hint is not None and why is not None and sent == "token":
        hint = f"the API refused the token: {why.group(1)}; run scalper login for a new one"
    if hint is not None:
        return UploadError("presign", f"HTTP {exc.code}", f"{text}: {hint}")
    return UploadError("presign", f"HTTP {exc.code}", text)


class _MultipartBody:
    """A multipart/form-data body read in chunks: fields, then the file, streamed."""

    def __init__(
        self,
        fields: dict[str, str],
        path: Path,
        content_type: str,
        progress: Callable[[int], None] | None,
    ) -> None:
        self.boundary = f"scalper-{uuid.uuid4().hex}"
        head = b"".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
            for name, value in fields.items()
        )
        quoted = path.name.replace('"', "%22")
        head += (
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{quoted}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        self._head = head
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._size = path.stat().st_size
        self.length = len(head) + self._size + len(self._tail)
        self._path = path
        self._progress = progress
        self._chunks: Iterator[bytes] | None = None
        self._buffer = b""

    def _generate(self) -> Iterator[bytes]:
        yield self._head
        with self._path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                if self._progress is not None:
                    self._progress(len(chunk))
                yield chunk
        yield self._tail

    def read(self, n: int = -1) -> bytes:
        """File-like read for http.client (it sends what this returns, until b"")."""
        if self._chunks is None:
            self._chunks = self._generate()
        while n < 0 or len(self._buffer) < n:
            chunk = next(self._chunks, b"")
            if not chunk:
                break
            self._buffer += chunk
        if n < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def post_file(
    url: str,
    fields: dict[str, str],
    path: Path,
    content_type: str,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Multipart POST of ``path`` to a presigned URL; raises `UploadError` on S3's refusal."""
    body = _MultipartBody(fields, path, content_type, progress)
    data: IO[bytes] = body  # type: ignore[assignment]  # http.client reads any .read()
    request = urllib.request.Request(  # noqa: S310 - the presigned URL the API returned
        url,
        data=data,
        method="POST",
        headers={
            "Content-Type": f"multipart/form-data; boundary={body.boundary}",
            "Content-Length": str(body.length),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        code, message = f"HTTP {exc.code}", raw.decode(errors="replace")[:300]
        try:
            root = ET.fromstring(raw)  # noqa: S314 - S3's error document
            code = root.findtext("Code") or code
            message = root.findtext("Message") or message
        except ET.ParseError:
            pass
        raise UploadError("s3", code, message) from None
    except (urllib.error.URLError, OSError) as exc:
        raise UploadError("s3", "UNREACHABLE", f"{url}: {exc}") from None


# Keyword arguments name themselves at every call; a parameter object would only rename them.
def upload_file(  # noqa: PLR0913
    api: str,
    path: Path,
    *,
    credentials: Credentials | None,
    region: str,
    content_type: str | None = None,
    progress: Callable[[int], None] | None = None,
    token: str | None = None,
    schema: str | None = None,
) -> Uploaded:
    """Presign then POST one file; returns where it landed."""
    size = path.stat().st_size
    ctype = content_type or content_type_for(path)
    presigned = request_upload(
        api,
        file_name=path.name,
        size=size,
        content_type=ctype,
        credentials=credentials,
        region=region,
        token=token,
        schema=schema,
    )
    post_file(str(presigned["url"]), dict(presigned["fields"]), path, ctype, progress)
    return Uploaded(
        path=path,
        bucket=str(presigned["bucket"]),
        key=str(presigned["key"]),
        upload_id=str(presigned["upload_id"]),
        size=size,
        schema=str(presigned.get("schema") or schema or ""),
    )


def resolve_credentials(auth: str) -> Credentials | None:
    """``iam``: default credential chain (required); ``none``: unsigned; ``auto``: if any."""
    if auth == "none":
        return None
    found = boto3.session.Session().get_credentials()
    if found is None:
        if auth == "iam":
            raise UsageError("--auth iam needs AWS credentials (none found in the default chain)")
        return None
    frozen = found.get_frozen_credentials()
    return Credentials(str(frozen.access_key), str(frozen.secret_key), frozen.token)


def resolve_token(args: argparse.Namespace) -> str | None:
    """``--token``, else ``--token-file``, else ``$SCALPER_TOKEN``, else None (checked)."""
    token: str | None = args.token
    if token is None and args.token_file is not None:
        try:
            token = Path(args.token_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"--token-file {args.token_file}: {exc.strerror}") from None
    if token is None:
        token = os.environ.get(TOKEN_ENV) or None
    if token is None:
        return None
    bearer(token)  # a malformed token is a usage error now, not a 401 later
    return token


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `upload` sub-command."""
    parser = subparsers.add_parser(
        "upload",
        help="upload files through the presign API and a presigned POST",
        description=(
            "Upload files to the pipeline: POST /uploads for a presigned POST (SigV4-signed, "
            "or with a Cognito token when the stack uses AuthMode=COGNITO), then the file "
            "itself. With --wait, then wait for each file's verdict. Exit 0 when every file "
            "was accepted (with --wait: every file VALID), 1 otherwise, 2 on usage errors."
        ),
    )
    parser.add_argument("paths", nargs="+", metavar="FILE", type=Path, help="files to upload")
    parser.add_argument(
        "--api",
        default=os.environ.get("SCALPER_API_URL"),
        metavar="URL",
        help="the API URL (the stack's ApiUrl output; default $SCALPER_API_URL)",
    )
    parser.add_argument(
        "--auth",
        choices=("auto", "iam", "none"),
        default="auto",
        help="sign requests with SigV4 for execute-api (auto: when credentials exist)",
    )
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--token",
        default=None,
        metavar="JWT",
        help=(
            "a Cognito ID or access token from scalper login, sent as Authorization: Bearer "
            "(AuthMode=COGNITO; default $SCALPER_TOKEN); replaces SigV4 signing"
        ),
    )
    token.add_argument(
        "--token-file",
        type=Path,
        default=None,
        metavar="FILE",
        help="read the token from FILE (scalper login --out FILE); keeps it out of argv",
    )
    parser.add_argument("--region", default=None, help="signing region (default: from the URL)")
    parser.add_argument("--content-type", default=None, help="override the content type")
    parser.add_argument(
        "--schema",
        default=None,
        metavar="NAME",
        help=(
            "the schema the files' records follow, as scalper validate --schema names it "
            "(e.g. job.v1, invoice.v1; default: the stack's SchemaName)"
        ),
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help=(
            "after uploading, poll GET /uploads/{id} until every file has its verdict and print "
            "it with the located errors (exit 0 only when every file is VALID)"
        ),
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="give up waiting after this long (default 600; a file still open exits 1)",
    )
    parser.set_defaults(func=run)


def _advance(progress: Progress, task: TaskID) -> Callable[[int], None]:
    def advance(n: int) -> None:
        progress.advance(task, n)

    return advance


#: Statuses GET /uploads/{id} ends on.
TERMINAL = frozenset({"VALID", "QUARANTINED", "FAILED"})
#: How many located errors --wait prints per file (the API returns at most 10).
SHOWN_ERRORS = 10


# Keyword arguments name themselves at every call; a parameter object would only rename them.
def wait_for_verdicts(  # noqa: PLR0913
    api: str,
    uploads: list[Uploaded],
    *,
    credentials: Credentials | None,
    region: str,
    token: str | None,
    timeout: float,
    on_done: Callable[[Uploaded, dict[str, Any]], None] = lambda _u, _v: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, dict[str, Any]]:
    """Poll ``GET /uploads/{id}`` for each upload until it is terminal or ``timeout`` passes.

    Returns upload id -> the last answer (a ``status`` still ``PENDING``/``PROCESSING`` when
    time ran out, or ``{"status": "UNKNOWN", "message": ...}`` when the API refused).
    ``on_done`` is called once per upload as it reaches its verdict.
    """
    deadline = clock() + timeout
    last: dict[str, dict[str, Any]] = {}
    open_ids = {u.upload_id: u for u in uploads}
    delay = 0.5
    while open_ids:
        for upload_id, upload in list(open_ids.items()):
            try:
                answer = read_upload(
                    api, upload_id, credentials=credentials, region=region, token=token
                )
            except UploadError as exc:
                answer = {"status": "UNKNOWN", "message": f"{exc.code}: {exc.message}"}
                retry = exc.code in {"UNREACHABLE", "HTTP 429"} or exc.code.startswith("HTTP 5")
                if not retry:
                    # Refused (authorisation, or 404: not this caller's upload): final.
                    last[upload_id] = answer
                    del open_ids[upload_id]
                    on_done(upload, answer)
                    continue
            last[upload_id] = answer
            if answer.get("status") in TERMINAL:
                del open_ids[upload_id]
                on_done(upload, answer)
        if not open_ids or clock() >= deadline:
            break
        sleep(delay)
        delay = min(delay * 1.5, 5.0)
    return last


def verdict_lines(upload: Uploaded, answer: dict[str, Any]) -> list[Text]:
    """The verdict of one file for people: a status line (the status in its colour),
    then located errors and the report link of a quarantined file. Text, never markup:
    paths and messages are shown as they are."""
    status = str(answer.get("status", "UNKNOWN"))
    colour = {"VALID": "green", "QUARANTINED": "yellow"}.get(status, "red")

    def head(rest: str) -> Text:
        return Text.assemble((status, colour), f" {upload.path}: {rest}")

    if status == "VALID":
        return [head(f"{answer.get('records')} records, schema {answer.get('schema')}")]
    if status in {"PENDING", "PROCESSING"}:
        return [head("no verdict yet (try again with a longer --wait-timeout)")]
    reason = answer.get("reason") or ""
    message = answer.get("message") or ""
    lines = [head(reason + (f" ({message})" if message and not answer.get("errors") else ""))]
    errors = list(answer.get("errors") or [])
    for error in errors[:SHOWN_ERRORS]:
        lines.append(Text(f"  {error.get('location')}: {error.get('message')}"))
    if answer.get("errors_truncated") or len(errors) > SHOWN_ERRORS:
        invalid = answer.get("invalid_records")
        more = f" ({invalid} invalid records in all)" if invalid else ""
        lines.append(Text(f"  … and more{more}"))
    if answer.get("report_url"):
        lines.append(Text(f"  report: {answer['report_url']}"))
    return lines


def run(args: argparse.Namespace) -> int:
    """Upload each file; one line per file; with ``--wait``, then each file's verdict."""
    if not args.api:
        raise UsageError("--api URL is required (or set SCALPER_API_URL)")
    paths: list[Path] = args.paths
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError(f"not a file: {', '.join(missing)}")
    if args.schema is not None and not is_schema_name(args.schema):
        raise UsageError(f"--schema {args.schema!r} is not a schema name (e.g. job.v1)")
    if args.wait_timeout <= 0:
        raise UsageError("--wait-timeout must be a positive number of seconds")
    token = resolve_token(args)
    if token is not None and args.auth == "iam":
        raise UsageError("--auth iam and a token exclude each other (one Authorization header)")
    credentials = None if token is not None else resolve_credentials(args.auth)
    region = region_for(args.api, args.region)
    console = Console(stderr=True)
    # Paths, keys and the API's messages are printed as they are (no rich markup or emoji
    # codes read in them: "a[/]b.csv" would raise).
    out = Console(soft_wrap=True, markup=False, emoji=False)
    failures = 0
    landed_files: list[Uploaded] = []
    with Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=console,
        transient=True,
    ) as progress:
        for path in paths:
            task = progress.add_task(path.name, total=path.stat().st_size)
            try:
                landed = upload_file(
                    args.api,
                    path,
                    credentials=credentials,
                    region=region,
                    content_type=args.content_type,
                    progress=_advance(progress, task),
                    token=token,
                    schema=args.schema,
                )
            except UploadError as exc:
                failures += 1
                out.print(Text.assemble(("refused", "red"), f" {path}: {exc}"), highlight=False)
                continue
            finally:
                progress.remove_task(task)
            landed_files.append(landed)
            out.print(f"uploaded {path} -> s3://{landed.bucket}/{landed.key}", highlight=False)
    if args.wait and landed_files:
        with Progress(
            TextColumn("waiting for verdicts"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("verdicts", total=len(landed_files))
            verdicts = wait_for_verdicts(
                args.api,
                landed_files,
                credentials=credentials,
                region=region,
                token=token,
                timeout=args.wait_timeout,
                on_done=lambda _u, _v: progress.advance(task),
            )
        for upload in landed_files:
            answer = verdicts.get(upload.upload_id, {})
            for line in verdict_lines(upload, answer):
                out.print(line, highlight=False)
            if answer.get("status") != "VALID":
                failures += 1
    sys.stdout.flush()
    return EXIT_OK if failures == 0 else EXIT_PROBLEM
