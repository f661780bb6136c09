"""Enforce presigned-POST policies in front of moto's S3, as S3 does.

moto accepts a browser-based POST upload whatever its policy says. S3 checks, before
storing anything: the SigV4 signature of the policy, its expiration, every condition
(exact matches, ``starts-with``, ``content-length-range``) and that every form field is
covered by a condition. `PostPolicyMiddleware` is a WSGI wrapper around moto's server
that makes the same checks and answers with S3's error codes (``AccessDenied`` with
"Invalid according to Policy: ...", ``EntityTooLarge``, ``SignatureDoesNotMatch``...).
`check_post_policy` is the check itself, usable without a server.

Told how the application behind it parses forms (``form_parsing``), the middleware parses
the form once that way and leaves the result in the request's environ
(`PARSED_FORM`), where `reuse_parsed_forms` lets moto's server take it instead of parsing
the same body again; a form past the limits is passed on unparsed, and moto refuses it as
it did.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.formparser import parse_form_data

from scalper.local import moto_internals

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: The environ key of a form the middleware parsed: ``(form, files)``, as werkzeug's parser
#: returns them, the files rewound.
PARSED_FORM = "scalper.parsed_form"
_REUSE_USER = "scalper.local.s3_policy"

# Fields S3 never requires a condition for.
_EXEMPT = {"policy", "x-amz-signature", "file", "awsaccesskeyid", "signature"}


@dataclass(frozen=True)
class PolicyViolationError(Exception):
    """S3 would refuse the upload: HTTP status, S3 error code and message."""

    status: int
    code: str
    message: str


def _signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def _secret(access_key: str, secrets: Mapping[str, str]) -> str:
    secret = secrets.get(access_key)
    if secret is None:
        raise PolicyViolationError(
            403,
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
        )
    return secret


def _check_signature(form: Mapping[str, str], secrets: Mapping[str, str]) -> None:
    """SigV4 (x-amz-*) or the legacy SigV2 (AWSAccessKeyId + signature) policy signature."""
    policy = form["policy"].encode()
    if "awsaccesskeyid" in form and "x-amz-algorithm" not in form:
        secret = _secret(form["awsaccesskeyid"], secrets)
        digest = hmac.new(secret.encode(), policy, hashlib.sha1).digest()
        expected = base64.b64encode(digest).decode()
        given = form.get("signature", "")
    else:
        if form.get("x-amz-algorithm") != "AWS4-HMAC-SHA256":
            raise PolicyViolationError(
                400, "InvalidRequest", "x-amz-algorithm must be AWS4-HMAC-SHA256"
            )
        credential = form.get("x-amz-credential", "").split("/")
        if len(credential) != 5:
            raise PolicyViolationError(400, "InvalidArgument", "malformed x-amz-credential")
        access_key, date, region, service, _ = credential
        key = _signing_key(_secret(access_key, secrets), date, region, service)
        expected = hmac.new(key, policy, hashlib.sha256).hexdigest()
        given = form.get("x-amz-signature", "")
    if not hmac.compare_digest(expected, given):
        raise PolicyViolationError(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )


def check_post_policy(
    bucket: str,
    fields: Mapping[str, str],
    *,
    file_size: int,
    filename: str,
    secrets: Mapping[str, str],
    now: datetime | None = None,
) -> None:
    """Raise `PolicyViolationError` unless S3 would accept this presigned POST.

    ``fields`` are the form fields (names compared case-insensitively, as S3 does),
    ``secrets`` maps access key ids to their secret keys.
    """
    form = {k.lower(): v for k, v in fields.items()}
    if "policy" not in form:
        raise PolicyViolationError(
            403, "AccessDenied", "Access Denied: a POST upload needs a signed policy"
        )
    _check_signature(form, secrets)
    try:
        policy: dict[str, Any] = json.loads(base64.b64decode(form["policy"]))
    except (ValueError, TypeError) as exc:
        raise PolicyViolationError(
            400, "InvalidPolicyDocument", "Invalid Policy: not base64 JSON"
        ) from exc

    now = now or datetime.now(UTC)
    try:
        expires = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
    except (KeyError, ValueError) as exc:
        raise PolicyViolationError(
            400, "InvalidPolicyDocument", "Invalid Policy: bad expiration"
        ) from exc
    if expires <= now:
        raise PolicyViolationError(
            403, "AccessDenied", "Invalid according to Policy: Policy expired."
        )

    values = dict(form)
    values["bucket"] = bucket
    if "key" in values:
        values["key"] = values["key"].replace("${filename}", filename)
    covered: set[str] = set()
    for condition in policy.get("conditions", []):
        if isinstance(condition, dict):
            for name, want in condition.items():
                _require(values, ["eq", f"${name}", want], name.lower(), str(want), exact=True)
                covered.add(name.lower())
            continue
        op = str(condition[0]).lower()
        if op == "content-length-range":
            low, high = int(condition[1]), int(condition[2])
            if file_size > high:
                raise PolicyViolationError(
                    400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
                )
            if file_size < low:
                raise PolicyViolationError(
                    400,
                    "EntityTooSmall",
                    "Your proposed upload is smaller than the minimum allowed size",
                )
            continue
        name = str(condition[1]).lstrip("$").lower()
        covered.add(name)
        _require(values, condition, name, str(condition[2]), exact=op == "eq")

    extra = sorted(
        name
        for name in form
        if name not in covered and name not in _EXEMPT and not name.startswith("x-ignore-")
    )
    if extra:
        raise PolicyViolationError(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Extra input fields: {', '.join(extra)}",
        )


def _require(
    values: Mapping[str, str], condition: list[Any], name: str, want: str, *, exact: bool
) -> None:
    have = values.get(name)
    ok = have is not None and (have == want if exact else have.startswith(want))
    if not ok:
        raise PolicyViolationError(
            403,
            "AccessDenied",
            f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}",
        )


def error_xml(code: str, message: str) -> bytes:
    """An S3 error document."""
    request_id = uuid.uuid4().hex[:16].upper()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>local</HostId></Error>"
    ).encode()


def _probe(environ: dict[str, Any], body: bytes) -> dict[str, Any]:
    probe = dict(environ)
    probe["wsgi.input"] = io.BytesIO(body)
    return probe


class PostPolicyMiddleware:
    """WSGI middleware: presigned-POST uploads are checked before moto sees them."""

    def __init__(
        self,
        app: WSGIApp,
        secrets: Mapping[str, str],
        *,
        form_parsing: Mapping[str, Any] | None = None,
    ) -> None:
        """``form_parsing``: how the application parses forms, as werkzeug's
        ``parse_form_data`` takes it (``max_content_length``, ``max_form_memory_size``,
        ``max_form_parts``, ``cls``); when given, a form within those limits is handed on
        parsed (`PARSED_FORM`)."""
        self.app = app
        self.secrets = dict(secrets)
        self.form_parsing = dict(form_parsing) if form_parsing is not None else None
        self.rejected: list[PolicyViolationError] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        """Check every POST to a bucket as a browser upload; pass other requests through.

        S3 treats a POST to a bucket as a browser-based upload whatever its query string
        (only ``?delete``, DeleteObjects, is an API call there) and whatever the case of its
        Content-Type; a body that is not ``multipart/form-data`` is refused. So neither
        ``?x=1`` nor ``Multipart/Form-Data`` lets a POST past the policy check.
        """
        path = str(environ.get("PATH_INFO", ""))
        bucket = path.strip("/")
        query = parse_qs(str(environ.get("QUERY_STRING", "")), keep_blank_values=True)
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or not bucket
            or "/" in bucket
            or "delete" in query
        ):
            return self.app(environ, start_response)
        content_type = str(environ.get("CONTENT_TYPE", "")).strip().lower()
        if not content_type.startswith("multipart/form-data"):
            return self._refuse(
                PolicyViolationError(
                    412,
                    "PreconditionFailed",
                    "Bucket POST must be of the enclosure-type multipart/form-data",
                ),
                start_response,
            )
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        parsed = self._parse(environ, body)
        _, form, files = parsed if parsed is not None else parse_form_data(_probe(environ, body))
        upload = files.get("file")
        data = upload.read() if upload is not None else form.get("file", "").encode()
        if upload is not None:
            upload.stream.seek(0)  # as the parser left it, for the application
        filename = (upload.filename or "") if upload is not None else ""
        fields = {k: v for k, v in form.items() if k.lower() != "file"}
        try:
            check_post_policy(
                bucket, fields, file_size=len(data), filename=filename, secrets=self.secrets
            )
        except PolicyViolationError as violation:
            return self._refuse(violation, start_response)
        environ["wsgi.input"] = io.BytesIO(body)
        if parsed is not None:
            environ[PARSED_FORM] = (form, files)
        return self.app(environ, start_response)

    def _parse(self, environ: dict[str, Any], body: bytes) -> tuple[Any, Any, Any] | None:
        """The form parsed as the application parses it; None when not told how, or when
        it is past the application's limits."""
        how = self.form_parsing
        if how is None:
            return None
        try:
            return parse_form_data(
                _probe(environ, body),
                max_content_length=how.get("max_content_length"),
                max_form_memory_size=how.get("max_form_memory_size"),
                max_form_parts=how.get("max_form_parts"),
                cls=how.get("cls"),
            )
        except RequestEntityTooLarge:
            return None  # the application parses it and refuses it itself

    def _refuse(
        self, violation: PolicyViolationError, start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.rejected.append(violation)
        payload = error_xml(violation.code, violation.message)
        reasons = {403: "Forbidden", 412: "Precondition Failed"}
        start_response(
            f"{violation.status} {reasons.get(violation.status, 'Bad Request')}",
            [("Content-Type", "application/xml"), ("Content-Length", str(len(payload)))],
        )
        return [payload]


class _FormReuse:
    def __init__(self) -> None:
        self.request_class: Any = None
        self.had_own: Any = None


_reuse = _FormReuse()


def reuse_parsed_forms() -> None:
    """Let moto's server take the form `PostPolicyMiddleware` parsed (`PARSED_FORM`) instead
    of parsing the body again: its request class finds the form, the files and the consumed
    stream where werkzeug's parser would have put them. Idempotent; `restore_form_parsing`
    undoes it. Raises `MotoInternalsMovedError` if the hook point moved."""
    if _reuse.request_class is not None:
        return
    moto_internals.require(_REUSE_USER)
    request_class = moto_internals.server_request_class()
    original = request_class._load_form_data

    def _load_form_data(self: Any) -> None:
        parsed = self.environ.pop(PARSED_FORM, None)
        if parsed is not None and "form" not in self.__dict__:
            form, files = parsed
            # What werkzeug's parser leaves: the stream consumed, the form, the files.
            self.__dict__.update(stream=io.BytesIO(), form=form, files=files)
        original(self)  # werkzeug's finds the form there; Flask's checks still run

    _reuse.had_own = request_class.__dict__.get("_load_form_data")
    _reuse.request_class = request_class
    request_class._load_form_data = _load_form_data


def restore_form_parsing() -> None:
    """moto's server parses every form itself again (safe when never changed)."""
    request_class, _reuse.request_class = _reuse.request_class, None
    if request_class is None:
        return
    if _reuse.had_own is not None:
        request_class._load_form_data = _reuse.had_own
    else:
        del request_class._load_form_data
    _reuse.had_own = None
