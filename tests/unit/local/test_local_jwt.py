"""The local HTTP API's JWT authoriser checks a Cognito token as API Gateway does.

Tokens are signed here with a throwaway RSA key whose public half is the "issuer's JWKS";
each test changes one thing about a valid token and expects API Gateway's verdict.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from silent_scalper.identity import AuthKind, caller_identity

from scalper.cognito import token_from
from scalper.local.http_api import HttpApi
from scalper.local.jwt_auth import JwksCache, JwtAuthorizer, JwtRejected, verify
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.lambda_runtime import InvokeResult
from scalper.local.provision import Route

REPO = Path(__file__).resolve().parents[3]
COGNITO_EVENT = REPO / "events" / "api" / "presign-request-cognito.json"
POOL = "us-east-1_LocalPool1"
ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"
CLIENT_ID = "3n4b5urk1ft4fl3mg5e62d9ado"
JWKS_URL = f"http://127.0.0.1:1/{POOL}/.well-known/jwks.json"
SUB = "7d8ca528-4931-4254-9273-ea5ee853f271"
AUTHORIZER = JwtAuthorizer(
    name="CognitoAuthorizer", issuer=ISSUER, audience=(CLIENT_ID,), jwks_url=JWKS_URL
)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def keys(key: rsa.RSAPrivateKey) -> JwksCache:
    numbers = key.public_key().public_numbers()
    jwks = {
        "keys": [
            {
                "kty": "RSA",
                "kid": "k1",
                "alg": "RS256",
                "use": "sig",
                "n": _b64(numbers.n.to_bytes(256, "big")),
                "e": _b64(numbers.e.to_bytes(3, "big")),
            }
        ]
    }

    def fetch(url: str) -> Mapping[str, Any]:
        return jwks if url == JWKS_URL else {}

    return JwksCache(fetch)


def sign(key: rsa.RSAPrivateKey, claims: Mapping[str, Any], **header: Any) -> str:
    head = _b64(json.dumps({"kid": "k1", "alg": "RS256", **header}).encode())
    body = _b64(json.dumps(claims).encode())
    signature = key.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64(signature)}"


class Offset(int):
    """A claim time written relative to when the test runs (see ``SECONDS_FROM_NOW``)."""

    def __add__(self, other: int) -> Offset:
        return Offset(int(self) + other)

    def __sub__(self, other: int) -> Offset:
        return Offset(int(self) - other)


# ``SECONDS_FROM_NOW + 600`` in a parametrize table means "600 s after the test starts".
SECONDS_FROM_NOW = Offset(0)


def id_claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": SUB,
        "aud": CLIENT_ID,
        "iss": ISSUER,
        "token_use": "id",
        "cognito:username": SUB,
        "email": "ana@example.com",
        "email_verified": True,
        "cognito:groups": ["uploaders", "ops"],
        "auth_time": now,
        "iat": now,
        "exp": now + 3600,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def rejection(keys: JwksCache, authorization: str | None) -> JwtRejected:
    headers = {} if authorization is None else {"authorization": authorization}
    with pytest.raises(JwtRejected) as refused:
        verify(AUTHORIZER, headers, keys=keys)
    return refused.value


def test_given_a_valid_id_token_then_the_claims_reach_the_function_as_strings(
    key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    """Given a signed ID token of the pool and client, with or without ``Bearer``, then it
    passes and the claims are strings as in payload 2.0 (arrays as ``[a b]``)."""
    sent = id_claims()
    token = sign(key, sent)
    for value in (f"Bearer {token}", token, f"bearer  {token} "):
        jwt = verify(AUTHORIZER, {"authorization": value}, keys=keys)
        claims = jwt["claims"]
        assert claims["sub"] == SUB
        assert claims["email_verified"] == "true"
        assert claims["cognito:groups"] == "[uploaders ops]"
        assert claims["exp"] == str(sent["exp"])
        assert all(isinstance(v, str) for v in claims.values())
        assert jwt["scopes"] is None


def test_given_an_access_token_then_its_client_id_is_the_audience(
    key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    """Given an access token (no ``aud``, ``client_id`` instead), then it passes."""
    token = sign(
        key,
        id_claims(aud=None, client_id=CLIENT_ID, token_use="access", username=SUB,
                  scope="aws.cognito.signin.user.admin"),
    )  # fmt: skip
    assert verify(AUTHORIZER, {"authorization": token}, keys=keys)["claims"]["username"] == SUB


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": SECONDS_FROM_NOW - 5}, "the token has expired"),
        ({"aud": "another-app-client"}, "the token does not have a valid audience"),
        ({"aud": None, "client_id": "another-app-client"}, "valid audience"),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other"}, "valid issuer"),
        ({"nbf": SECONDS_FROM_NOW + 600}, "not valid yet"),
        ({"iat": SECONDS_FROM_NOW + 600}, "not valid yet"),
        ({"token_use": "refresh"}, "not a Cognito ID or access token"),
    ],
    ids=["expired", "wrong-audience", "wrong-client-id", "wrong-issuer", "nbf", "iat", "use"],
)
def test_given_a_token_with_one_wrong_claim_then_401_names_it(
    key: rsa.RSAPrivateKey, keys: JwksCache, claims: dict[str, Any], reason: str
) -> None:
    # Times are offsets resolved now, not at collection: a slow run must not let a token
    # that was "not valid yet" when the suite was collected become valid by the time it runs.
    now = int(time.time())
    resolved = {
        name: now + int(value) if isinstance(value, Offset) else value
        for name, value in claims.items()
    }
    refused = rejection(keys, f"Bearer {sign(key, id_claims(**resolved))}")
    assert refused.status == 401
    assert reason in refused.description
    assert 'error="invalid_token"' in refused.www_authenticate


def test_given_a_tampered_payload_then_the_signature_check_refuses_it(
    key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    """Given a valid token whose payload was swapped for another user's, then 401."""
    head, _, signature = sign(key, id_claims()).split(".")
    forged = _b64(json.dumps(id_claims(sub="someone-else")).encode())
    assert "signature is not valid" in rejection(keys, f"{head}.{forged}.{signature}").description


def test_given_a_token_signed_by_another_key_or_kid_then_401(keys: JwksCache) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "signature" in rejection(keys, sign(other, id_claims())).description
    assert "kid" in rejection(keys, sign(other, id_claims(), kid="k2")).description


@pytest.mark.parametrize("alg", ["none", "HS256", "ES256"])
def test_given_a_non_rsa_algorithm_then_401(keys: JwksCache, alg: str) -> None:
    """Given ``alg`` none/HMAC/EC, then refused before any key is used (RSA only)."""
    head = _b64(json.dumps({"kid": "k1", "alg": alg}).encode())
    body = _b64(json.dumps(id_claims()).encode())
    assert "algorithm" in rejection(keys, f"{head}.{body}.").description


@pytest.mark.parametrize("value", [None, "", "Bearer ", "Bearer abc", "AWS4-HMAC-SHA256 x"])
def test_given_no_token_or_not_a_jwt_then_401(keys: JwksCache, value: str | None) -> None:
    assert rejection(keys, value).status == 401


def test_given_route_scopes_then_a_token_without_one_is_403(
    key: rsa.RSAPrivateKey, keys: JwksCache
) -> None:
    """Given a route needing scope ``uploads/write``, then a token with other scopes is
    403 insufficient_scope; one with it passes and the function sees its scopes."""
    token = sign(key, id_claims(aud=None, client_id=CLIENT_ID, scope="openid profile"))
    with pytest.raises(JwtRejected) as refused:
        verify(AUTHORIZER, {"authorization": token}, keys=keys, scopes=("uploads/write",))
    assert (refused.value.status, refused.value.error) == (403, "insufficient_scope")
    token = sign(key, id_claims(aud=None, client_id=CLIENT_ID, scope="openid uploads/write"))
    jwt = verify(AUTHORIZER, {"authorization": token}, keys=keys, scopes=("uploads/write",))
    assert jwt["scopes"] == ["openid", "uploads/write"]


def test_token_from_strips_the_bearer_prefix_only() -> None:
    assert token_from("Bearer a.b.c") == "a.b.c"
    assert token_from("a.b.c") == "a.b.c"
    assert token_from("  ") is None


# -- through the HTTP API ---------------------------------------------------------


class Recorder:
    """Stands in for the Lambda endpoint: records events, answers 200."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def invoke(self, function: str, payload: dict[str, Any]) -> InvokeResult:
        self.events.append(payload)
        return InvokeResult(b'{"statusCode": 200, "body": "{}"}')


@pytest.fixture
def api(keys: JwksCache) -> Iterator[tuple[HttpApi, Recorder]]:
    server = HttpApi(account_id="123456789012")
    server.jwks = keys
    recorder = Recorder()
    route = Route("Api", "POST", "/uploads", "Presign", "JWT", authorizer=AUTHORIZER)
    server.configure([route], cast(LambdaEndpoint, recorder), api_id="abc123", stage="$default")
    try:
        yield server, recorder
    finally:
        server.stop()


def test_given_a_jwt_route_without_a_token_then_api_gateway_s_401_and_no_invocation(
    api: tuple[HttpApi, Recorder],
) -> None:
    server, recorder = api
    status, headers, body = server.handle("POST", "/uploads", {}, b"{}", "127.0.0.1")
    assert (status, json.loads(body)) == (401, {"message": "Unauthorized"})
    assert any(name == "www-authenticate" for name, _ in headers)
    assert recorder.events == []


def test_given_a_valid_token_then_the_event_carries_the_jwt_like_the_cognito_sample(
    api: tuple[HttpApi, Recorder], key: rsa.RSAPrivateKey
) -> None:
    """Given a valid ID token, then the function's event has ``authorizer.jwt`` shaped as
    in events/api/presign-request-cognito.json, and presign reads a COGNITO uploader."""
    server, recorder = api
    token = sign(key, id_claims())
    status, _, _ = server.handle(
        "POST", "/uploads", {"authorization": f"Bearer {token}"}, b"{}", "127.0.0.1"
    )
    assert status == 200
    (event,) = recorder.events
    sample = json.loads(COGNITO_EVENT.read_text(encoding="utf-8"))
    local_jwt = event["requestContext"]["authorizer"]["jwt"]
    sample_jwt = sample["requestContext"]["authorizer"]["jwt"]
    assert set(local_jwt) == set(sample_jwt)
    assert set(sample_jwt["claims"]) <= set(local_jwt["claims"])
    assert local_jwt["scopes"] == sample_jwt["scopes"]
    uploader = caller_identity(event)
    assert uploader is not None
    assert (uploader.kind, uploader.principal) == (AuthKind.COGNITO, SUB)
