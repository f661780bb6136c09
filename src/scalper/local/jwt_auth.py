"""JWT authorisers of an HTTP API, checked locally as API Gateway checks them.

API Gateway's documented workflow for a route with a JWT authoriser: take the token from
the identity source (only the token, or ``Bearer <token>``); decode it; check its
algorithm (RSA only) and signature with the issuer's JWKS (the key named by ``kid``); then
the claims: ``iss`` equals the authoriser's issuer, ``aud`` -- or ``client_id`` when there
is no ``aud`` (a Cognito access token) -- is one of its audiences, ``exp`` is in the
future, ``nbf`` and ``iat`` are not; and, when the route lists authorisation scopes, the
token's ``scope``/``scp`` holds one of them. Any failure is ``401 {"message":
"Unauthorized"}`` with a ``www-authenticate`` header naming it (an insufficient scope is
403), and the function never runs.

On success the function's event carries ``requestContext.authorizer.jwt`` =
``{"claims": {...}, "scopes": [...] | None}``, claims as API Gateway passes them in
payload 2.0: every value a string (numbers in decimal, booleans ``true``/``false``,
arrays as ``[a b]``).

One check API Gateway does not make is made here: ``token_use``, when present, must be
``id`` or ``access``. A Cognito pool issues no other JWT, so this refuses nothing a real
pool would sign; it is here so a hand-made test token cannot pass as a Cognito one.

The keys come from the pool's JWKS, served by moto at ``<endpoint>/<pool>/.well-known/
jwks.json`` (the local stand-in for the issuer's ``jwks_uri``), fetched on first use and
again when a token names a ``kid`` not seen yet. PyJWT reads the JWKS, checks the RSA
signature and the registered claims; this module says which checks API Gateway makes and
turns PyJWT's refusals into API Gateway's.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from scalper.cognito import token_from

#: The RSA algorithms API Gateway accepts (it supports RSA-based algorithms only).
_ALGORITHMS = ("RS256", "RS384", "RS512")
_JWKS_TIMEOUT = 5.0


@dataclass(frozen=True)
class JwtAuthorizer:
    """One ``JWT`` authoriser of the template's HTTP API, resolved."""

    name: str
    issuer: str
    audience: tuple[str, ...]
    #: Lower-case request header the token is read from ($request.header.Authorization).
    header: str = "authorization"
    #: Where the issuer's keys are served locally; None when no local pool issues them.
    jwks_url: str | None = None


class JwtRejected(Exception):  # noqa: N818 - a verdict, not a programming error
    """The request is refused; ``status`` (401/403) and API Gateway's ``description``."""

    def __init__(self, description: str, status: int = 401, error: str = "invalid_token") -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.error = error

    @property
    def www_authenticate(self) -> str:
        """The header API Gateway adds to a refusal."""
        return (
            f'Bearer scope="" error="{self.error}" '
            f'error_description="{self.description.replace(chr(34), chr(39))}"'
        )


class JwksCache:
    """Public keys by JWKS URL and ``kid``; fetched over HTTP on first use and on a new kid.

    PyJWT's own ``PyJWKClient`` fetches with ``urllib`` too, but cannot be handed another
    fetcher (the tests serve a JWKS from memory); its `PyJWKSet` parses what is fetched.
    """

    def __init__(self, fetch: Callable[[str], Mapping[str, Any]] | None = None) -> None:
        self._fetch = fetch or _fetch_json
        self._keys: dict[str, dict[str, jwt.PyJWK]] = {}
        self._lock = threading.Lock()

    def key(self, url: str, kid: str) -> jwt.PyJWK | None:
        """The RSA key ``kid`` of the JWKS at ``url`` (None when the set has no such key)."""
        with self._lock:
            known = self._keys.get(url)
            if known is None or kid not in known:
                known = self._keys[url] = _rsa_keys(self._fetch(url))
            return known.get(kid)


def _fetch_json(url: str) -> Mapping[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT) as response:  # noqa: S310 - loopback
            data = json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}  # no keys: every token is refused, as with an unreachable jwks_uri
    return data if isinstance(data, dict) else {}


def _rsa_keys(jwks: Mapping[str, Any]) -> dict[str, jwt.PyJWK]:
    """The set's usable RSA keys by ``kid`` (PyJWKSet skips the ones it cannot read)."""
    try:
        keys = jwt.PyJWKSet.from_dict(dict(jwks)).keys
    except jwt.PyJWKSetError:
        return {}  # no usable key at all
    return {k.key_id: k for k in keys if k.key_id and k.key_type == "RSA"}


def verify(
    authorizer: JwtAuthorizer,
    headers: Mapping[str, str],
    *,
    keys: JwksCache,
    scopes: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Check the request's token; returns ``requestContext.authorizer.jwt`` or raises
    `JwtRejected` with API Gateway's status and reason."""
    token = token_from(headers.get(authorizer.header))
    if token is None:
        raise JwtRejected("the request has no token")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.DecodeError:
        raise JwtRejected("the token is not a JWT") from None
    if header.get("alg") not in _ALGORITHMS:
        raise JwtRejected(f"the token's algorithm {header.get('alg')!r} is not supported")
    if authorizer.jwks_url is None:
        raise JwtRejected("the issuer's keys are not available locally")
    key = keys.key(authorizer.jwks_url, str(header.get("kid")))
    if key is None:
        raise JwtRejected("the token's kid is not a key of the issuer")
    # API Gateway evaluates aud when present, else client_id (Cognito access tokens).
    has_aud = "aud" in unverified
    claims = _decode(token, key, authorizer, check_audience=has_aud)
    if not has_aud and claims.get("client_id") not in authorizer.audience:
        raise JwtRejected("the token does not have a valid audience")
    if "token_use" in claims and claims["token_use"] not in ("id", "access"):
        raise JwtRejected("the token is not a Cognito ID or access token")
    granted = _scopes(claims)
    if scopes and not set(scopes) & set(granted):
        raise JwtRejected(
            "the token does not have the required scopes", status=403, error="insufficient_scope"
        )
    return {
        "claims": {str(k): _claim_text(v) for k, v in claims.items()},
        "scopes": granted if scopes else None,
    }


def _decode(
    token: str, key: jwt.PyJWK, authorizer: JwtAuthorizer, *, check_audience: bool
) -> dict[str, Any]:
    """The claims once PyJWT verified the signature, ``iss``, ``exp`` (required), ``nbf``,
    ``iat`` and, when asked, ``aud``; each refusal as API Gateway words it."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=list(_ALGORITHMS),
            issuer=authorizer.issuer,
            audience=list(authorizer.audience) if check_audience else None,
            options={"require": ["exp"], "verify_aud": check_audience},
        )
    except jwt.InvalidSignatureError:
        raise JwtRejected("the token's signature is not valid") from None
    except (jwt.ExpiredSignatureError, jwt.MissingRequiredClaimError):
        raise JwtRejected("the token has expired") from None
    except jwt.ImmatureSignatureError as exc:
        claim = "iat" if "iat" in str(exc) else "nbf"
        raise JwtRejected(f"the token is not valid yet ({claim})") from None
    except jwt.InvalidIssuerError:
        raise JwtRejected("the token does not have a valid issuer") from None
    except jwt.InvalidAudienceError:
        raise JwtRejected("the token does not have a valid audience") from None
    except jwt.InvalidTokenError as exc:
        raise JwtRejected(f"the token is not valid ({exc})") from None
    return claims


def _scopes(claims: Mapping[str, Any]) -> list[str]:
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [str(s) for s in raw]
    return []


def _claim_text(value: Any) -> str:
    """A claim as payload 2.0 carries it: always a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(_claim_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)
