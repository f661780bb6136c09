"""Sign a Cognito user in with SRP (``USER_SRP_AUTH``), as the uploads app client requires.

The stack's app client (``UploadsUserPoolClient``) is public (no secret) and allows only
``ALLOW_USER_SRP_AUTH`` (+ refresh): the password never leaves this machine. SRP-6a as
Cognito runs it (the same arithmetic as AWS Amplify's ``AuthenticationHelper``):

1. ``InitiateAuth(USER_SRP_AUTH)`` with ``SRP_A = g^a mod N`` for a random ``a``;
2. Cognito answers ``PASSWORD_VERIFIER`` with ``SALT``, ``SRP_B``, ``SECRET_BLOCK`` and
   ``USER_ID_FOR_SRP``; both sides derive the same 16-byte key (HKDF of the shared
   secret ``S``) and the client proves it by an HMAC over pool name, user id, secret block
   and a timestamp (``RespondToAuthChallenge``);
3. then tokens, or a further challenge: ``NEW_PASSWORD_REQUIRED`` (a user an administrator
   created still has a temporary password), ``SOFTWARE_TOKEN_MFA`` (the pool allows TOTP).

Only ``hashlib``/``hmac`` and Python's integers are needed; no dependency is added.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

# The 3072-bit MODP group of RFC 3526 (section 4), generator 2: Cognito's SRP group.
N_HEX = (
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A0879"
    "8E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B"
    "0BFF5CB6F406B7EDEE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA4836"
    "1C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804"
    "F1746C08CA18217C32905E462E36CE3BE39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6"
    "955817183995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64"
    "ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7ABF5AE8CDB0933D71E8C94E04A25619DCEE3D226"
    "1AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2"
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF"
)
N = int(N_HEX, 16)
G = 2
_INFO = b"Caldera Derived Key\x01"  # Cognito's HKDF info string (+ the block counter 1)
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def token_from(value: str | None) -> str | None:
    """The JWT in an ``Authorization`` value: the value itself, or what follows ``Bearer ``
    (API Gateway's JWT authoriser accepts both). ``None`` when there is none."""
    if value is None:
        return None
    text = value.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text or None


def pad_hex(value: int | str) -> str:
    """Hex of a non-negative integer as Cognito hashes it: even length, and a leading
    ``00`` when the top bit is set (a positive two's-complement number)."""
    text = f"{value:x}" if isinstance(value, int) else value
    if len(text) % 2:
        return "0" + text
    if text[0] in "89abcdefABCDEF":
        return "00" + text
    return text


def _hash_hex(hex_text: str) -> str:
    return hashlib.sha256(bytes.fromhex(hex_text)).hexdigest()


#: The SRP multiplier ``k = H(N || g)`` (both padded).
K = int(_hash_hex("00" + N_HEX + "0" + f"{G:x}"), 16)


def srp_timestamp(now: datetime | None = None) -> str:
    """Cognito's TIMESTAMP: ``Tue Jan 6 09:05:03 UTC 2026`` (English names, day unpadded),
    whatever the process locale."""
    t = (now or datetime.now(UTC)).astimezone(UTC)
    return (
        f"{_DAYS[t.weekday()]} {_MONTHS[t.month - 1]} {t.day} "
        f"{t.hour:02d}:{t.minute:02d}:{t.second:02d} UTC {t.year}"
    )


def pool_name(user_pool_id: str) -> str:
    """The part of ``us-east-1_AbC123`` after the underscore (SRP hashes it, not the id)."""
    region, sep, name = user_pool_id.partition("_")
    if not (region and sep and name):
        raise SignInError(f"not a user pool id: {user_pool_id!r} (expected REGION_ID)")
    return name


def password_verifier_x(salt_hex: str, pool: str, user_id: str, password: str) -> int:
    """``x = H(salt || H(pool user_id ":" password))``: the private key both sides derive."""
    inner = hashlib.sha256(f"{pool}{user_id}:{password}".encode()).hexdigest()
    return int(_hash_hex(pad_hex(salt_hex) + inner), 16)


def hkdf16(secret: int, u: int) -> bytes:
    """Cognito's key: HKDF-SHA256(ikm = S, salt = u), first 16 bytes of the first block."""
    prk = hmac.new(bytes.fromhex(pad_hex(u)), bytes.fromhex(pad_hex(secret)), "sha256").digest()
    return hmac.new(prk, _INFO, "sha256").digest()[:16]


def scrambler(big_a: int, big_b: int) -> int:
    """``u = H(A || B)`` (both padded)."""
    return int(_hash_hex(pad_hex(big_a) + pad_hex(big_b)), 16)


def password_claim_signature(
    key: bytes, pool: str, user_id: str, secret_block: str, timestamp: str
) -> str:
    """The proof sent back: base64 HMAC-SHA256(key, pool || user id || block || timestamp)."""
    message = pool.encode() + user_id.encode() + base64.b64decode(secret_block) + timestamp.encode()
    return base64.b64encode(hmac.new(key, message, "sha256").digest()).decode()


class SrpSession:
    """The client side of one SRP exchange (a fresh random ``a`` per instance)."""

    def __init__(self, user_pool_id: str, small_a: int | None = None) -> None:
        self.pool = pool_name(user_pool_id)
        self.small_a = small_a if small_a is not None else secrets.randbits(1024) % N
        self.big_a = pow(G, self.small_a, N)
        if self.big_a % N == 0:  # pragma: no cover - probability 2**-1024
            raise SignInError("SRP: A is 0 mod N; try again")

    @property
    def srp_a(self) -> str:
        """``SRP_A`` for InitiateAuth."""
        return f"{self.big_a:x}"

    def key(self, *, user_id: str, password: str, salt_hex: str, srp_b_hex: str) -> bytes:
        """The shared 16-byte key from the server's ``SRP_B`` and ``SALT``."""
        big_b = int(srp_b_hex, 16)
        if big_b % N == 0:
            raise SignInError("SRP: the server sent an invalid B (0 mod N)")
        u = scrambler(self.big_a, big_b)
        if u == 0:
            raise SignInError("SRP: u is 0; try again")
        x = password_verifier_x(salt_hex, self.pool, user_id, password)
        secret = pow((big_b - K * pow(G, x, N)) % N, self.small_a + u * x, N)
        return hkdf16(secret, u)

    def answer(
        self, challenge: dict[str, str], password: str, now: datetime | None = None
    ) -> dict[str, str]:
        """``ChallengeResponses`` for a ``PASSWORD_VERIFIER`` challenge's parameters."""
        try:
            user_id = challenge["USER_ID_FOR_SRP"]
            secret_block = challenge["SECRET_BLOCK"]
            key = self.key(
                user_id=user_id,
                password=password,
                salt_hex=challenge["SALT"],
                srp_b_hex=challenge["SRP_B"],
            )
        except KeyError as exc:
            raise SignInError(f"PASSWORD_VERIFIER challenge without {exc.args[0]}") from None
        timestamp = srp_timestamp(now)
        return {
            "TIMESTAMP": timestamp,
            "USERNAME": challenge.get("USERNAME", user_id),
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": password_claim_signature(
                key, self.pool, user_id, secret_block, timestamp
            ),
        }


class SignInError(Exception):
    """Sign-in failed; the message is one line saying why and what to do."""


class NewPasswordRequiredError(SignInError):
    """The user still has a temporary password and no new one was supplied."""


@dataclass(frozen=True)
class Tokens:
    """What a successful sign-in returns."""

    id_token: str
    access_token: str
    refresh_token: str | None
    expires_in: int


#: Asked for a value when Cognito needs one more (new password, MFA code); None = cannot.
Prompt = Callable[[], str | None]


def sign_in(
    client: Any,
    *,
    user_pool_id: str,
    client_id: str,
    username: str,
    password: str,
    new_password: Prompt | None = None,
    mfa_code: Prompt | None = None,
) -> Tokens:
    """USER_SRP_AUTH with a ``cognito-idp`` client; answers the challenges Cognito sends.

    Raises `NewPasswordRequiredError` when the user must set a password and ``new_password``
    gives none, and `SignInError` (one line) for anything Cognito refuses.
    """
    session = SrpSession(user_pool_id)
    try:
        started = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_SRP_AUTH",
            AuthParameters={"USERNAME": username, "SRP_A": session.srp_a},
        )
        if started.get("ChallengeName") != "PASSWORD_VERIFIER":
            raise SignInError(f"unexpected challenge {started.get('ChallengeName')!r} for SRP")
        params: dict[str, str] = started["ChallengeParameters"]
        internal = params.get("USERNAME", params.get("USER_ID_FOR_SRP", username))
        answer = client.respond_to_auth_challenge(
            ClientId=client_id,
            ChallengeName="PASSWORD_VERIFIER",
            ChallengeResponses=session.answer(params, password),
        )
        for _ in range(3):  # NEW_PASSWORD_REQUIRED may be followed by an MFA challenge
            name = answer.get("ChallengeName")
            if name is None:
                break
            answer = client.respond_to_auth_challenge(
                ClientId=client_id,
                ChallengeName=name,
                Session=answer["Session"],
                ChallengeResponses=_challenge_responses(
                    name, internal, new_password=new_password, mfa_code=mfa_code
                ),
            )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise SignInError(
            _cognito_message(str(error.get("Code")), str(error.get("Message")))
        ) from None
    result = answer.get("AuthenticationResult")
    if not result:
        raise SignInError(f"Cognito sent challenge {answer.get('ChallengeName')!r} again")
    return Tokens(
        id_token=str(result["IdToken"]),
        access_token=str(result["AccessToken"]),
        refresh_token=result.get("RefreshToken"),
        expires_in=int(result.get("ExpiresIn", 0)),
    )


def _challenge_responses(
    name: str, username: str, *, new_password: Prompt | None, mfa_code: Prompt | None
) -> dict[str, str]:
    if name == "NEW_PASSWORD_REQUIRED":
        value = new_password() if new_password is not None else None
        if not value:
            raise NewPasswordRequiredError(
                "this user must choose a new password (an administrator created it with a "
                "temporary one): run scalper login in a terminal, or set SCALPER_NEW_PASSWORD"
            )
        return {"USERNAME": username, "NEW_PASSWORD": value}
    if name == "SOFTWARE_TOKEN_MFA":
        code = mfa_code() if mfa_code is not None else None
        if not code:
            raise SignInError(
                "this user has TOTP MFA: run scalper login in a terminal, or set SCALPER_MFA_CODE"
            )
        return {"USERNAME": username, "SOFTWARE_TOKEN_MFA_CODE": code}
    raise SignInError(
        f"Cognito asks for {name}, which scalper login does not handle "
        "(the uploads pool uses only passwords and optional TOTP)"
    )


def _cognito_message(code: str, message: str) -> str:
    hints = {
        "NotAuthorizedException": "wrong username or password, or the user is disabled",
        "UserNotFoundException": "no such user in this pool",
        "ResourceNotFoundException": "no such user pool or app client (check the ids)",
        "InvalidPasswordException": "the new password does not meet the pool's policy",
        "CodeMismatchException": "wrong MFA code",
        "UserNotConfirmedException": "the user is not confirmed yet",
        "PasswordResetRequiredException": "an administrator reset this user's password",
        "InvalidParameterException": "Cognito refused a parameter (does the client allow SRP?)",
    }
    hint = hints.get(code)
    return f"{code}: {message}" + (f" ({hint})" if hint else "")
