"""Who uploaded a file: from the API request, pinned into the object, read back into the record.

The upload API authorises ``POST /uploads`` with IAM (SigV4) or with a Cognito JWT
(template parameter ``AuthMode``). API Gateway HTTP APIs (payload format 2.0) put the
verified caller in ``requestContext.authorizer``:

- IAM: ``authorizer.iam`` with ``userArn`` (the caller's ARN, for a role session
  ``arn:aws:sts::<account>:assumed-role/<role>/<session>``) and ``userId``;
- JWT: ``authorizer.jwt.claims`` with ``sub`` (the Cognito user's stable id) and
  ``cognito:username`` (an ID token) or ``username`` (an access token).

Presign pins the identity into the presigned POST as ``x-amz-meta-uploader-*`` fields with
an exact-match policy condition, so S3 refuses an upload that drops or changes them; the
object then carries its uploader, and the pipeline reads it back from the object's
metadata (no extra table, no trust in anything the client sent in its request body).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any
from urllib.parse import quote, unquote

from pydantic import BaseModel, ConfigDict, Field

#: S3 user metadata keys (without the ``x-amz-meta-`` prefix) that carry the uploader.
META_KIND = "uploader-kind"
META_PRINCIPAL = "uploader-principal"
META_NAME = "uploader-name"
#: S3 limits all user metadata of an object to 2 KiB; these values stay well under it.
MAX_VALUE_CHARS = 512


class AuthKind(StrEnum):
    """How the uploader was authenticated."""

    IAM = "IAM"
    COGNITO = "COGNITO"


class Uploader(BaseModel):
    """The authenticated caller of ``POST /uploads``.

    ``principal`` is the stable identifier (the IAM caller ARN, or the Cognito ``sub``);
    ``name`` is for people (the IAM user id ``AROA...:session``, or the Cognito username).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: AuthKind
    principal: str = Field(min_length=1, max_length=MAX_VALUE_CHARS)
    name: str | None = Field(default=None, max_length=MAX_VALUE_CHARS)

    def object_metadata(self) -> dict[str, str]:
        """The S3 user metadata (keys without ``x-amz-meta-``), percent-encoded.

        S3 metadata travels in HTTP headers, which only carry ASCII safely; a Cognito
        username may be any Unicode string, so values are percent-encoded (UTF-8).
        """
        meta = {META_KIND: self.kind.value, META_PRINCIPAL: quote(self.principal, safe=":/@+=,.-_")}
        if self.name:
            meta[META_NAME] = quote(self.name, safe=":/@+=,.-_")
        return meta

    def post_fields(self) -> dict[str, str]:
        """The same, as presigned POST form fields (``x-amz-meta-...``)."""
        return {f"x-amz-meta-{k}": v for k, v in self.object_metadata().items()}

    @classmethod
    def from_object_metadata(cls, metadata: Mapping[str, str]) -> Uploader | None:
        """Read the uploader back from ``HeadObject``/``GetObject`` ``Metadata`` (or ``None``).

        boto3 returns user metadata keys lower-cased and without the prefix. An object that
        was not uploaded through the API (or carries malformed values) has no uploader.
        """
        meta = {k.lower(): v for k, v in metadata.items()}
        kind, principal = meta.get(META_KIND), meta.get(META_PRINCIPAL)
        if kind not in {k.value for k in AuthKind} or not principal:
            return None
        name = meta.get(META_NAME)
        try:
            return cls(
                kind=AuthKind(kind),
                principal=unquote(principal),
                name=unquote(name) if name else None,
            )
        except ValueError:
            return None


def caller_identity(event: Mapping[str, Any]) -> Uploader | None:
    """The verified caller of an HTTP API (payload 2.0) request, or ``None`` if unauthenticated.

    Reads only ``requestContext.authorizer``, which API Gateway fills after verifying the
    SigV4 signature or the JWT; nothing the client controls directly.
    """
    context = event.get("requestContext")
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    if not isinstance(authorizer, Mapping):
        return None
    jwt = authorizer.get("jwt")
    if isinstance(jwt, Mapping) and isinstance(jwt.get("claims"), Mapping):
        claims: Mapping[str, Any] = jwt["claims"]
        sub = _text(claims.get("sub"))
        if sub is None:
            return None
        name = _text(claims.get("cognito:username")) or _text(claims.get("username"))
        return Uploader(kind=AuthKind.COGNITO, principal=sub, name=name)
    iam = authorizer.get("iam")
    if isinstance(iam, Mapping):
        arn = _text(iam.get("userArn"))
        if arn is None:
            return None
        return Uploader(kind=AuthKind.IAM, principal=arn, name=_text(iam.get("userId")))
    return None


def _text(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:MAX_VALUE_CHARS]
