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

The SRP arithmetic and the proof are pycognito's (``AWSSRP``); this module drives the
exchange itself, so the further challenges prompt the user, and refusals read as one line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


def token_from(value: str | None) -> str | None:
    """The JWT in an ``Authorization`` value: the value itself, or what follows ``Bearer ``
    (API Gateway's JWT authoriser accepts both). ``None`` when there is none."""
    if value is None:
        return None
    text = value.strip()
    if text[:7].lower() == "bearer ":
        text = text[7:].strip()
    return text or None


def pool_name(user_pool_id: str) -> str:
    """The part of ``us-east-1_AbC123`` after the underscore (SRP hashes it, not the id)."""
    region, sep, name = user_pool_id.partition("_")
    if not (region and sep and name):
        raise SignInError(f"not a user pool id: {user_pool_id!r} (expected REGION_ID)")
    return name


class SrpSession:
    """The client side of one SRP exchange (a fresh random ``a`` per instance)."""

    def __init__(self, user_pool_id: str, client_id: str = "") -> None:
        # Imported here: pycognito brings requests along, and only signing in needs it.
        from pycognito.aws_srp import AWSSRP  # noqa: PLC0415

        self.pool = pool_name(user_pool_id)
        # The exchange only computes: the client pycognito would call is never used here.
        self._srp = AWSSRP("", "", user_pool_id, client_id, client=_NOT_CALLED)

    @property
    def big_a(self) -> int:
        """The public value ``A = g^a mod N``."""
        return int(self._srp.large_a_value)

    @property
    def srp_a(self) -> str:
        """``SRP_A`` for InitiateAuth."""
        return str(self._srp.get_auth_params()["SRP_A"])

    def answer(self, challenge: dict[str, str], password: str) -> dict[str, str]:
        """``ChallengeResponses`` for a ``PASSWORD_VERIFIER`` challenge's parameters."""
        try:
            if int(challenge["SRP_B"], 16) % self._srp.big_n == 0:  # SRP-6a's check on B
                raise SignInError("SRP: the server sent an invalid B (0 mod N)")
            self._srp.password = password
            request = {"USERNAME": challenge.get("USERNAME", challenge["USER_ID_FOR_SRP"])}
            response: dict[str, str] = self._srp.process_challenge(challenge, request)
        except KeyError as exc:
            raise SignInError(f"PASSWORD_VERIFIER challenge without {exc.args[0]}") from None
        except ValueError as exc:  # u == 0, or a SALT / SRP_B that is not hex
            raise SignInError(f"SRP: {exc}; try again") from None
        finally:
            self._srp.password = ""
        return response


#: What `SrpSession` hands pycognito as its boto3 client: nothing calls it.
_NOT_CALLED = object()


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
    session = SrpSession(user_pool_id, client_id)
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
