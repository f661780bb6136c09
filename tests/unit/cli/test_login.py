"""`scalper login`: SRP sign-in to the uploads user pool, and where the token goes.

The client side of SRP is pycognito's; it is checked against the server's side of the
protocol, computed here independently (the verifier ``v = g^x``, ``B = kv + g^b``,
``S = (A v^u)^b``): the client proves the password only if both sides reach the same key.
The flow (InitiateAuth, PASSWORD_VERIFIER, NEW_PASSWORD_REQUIRED) runs against moto's
cognito-idp, which does not check the proof itself (listed among the local stack's gaps).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pycognito.aws_srp import pad_hex

from scalper.cli import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, main
from scalper.cognito import NewPasswordRequiredError, SignInError, SrpSession, sign_in

POOL_ID = "us-east-1_AbCdEf123"
USER_ID = "0f6c4b1e-3f43-4a7a-9d0b-3b2c8a1e5d77"
PASSWORD = "Correct-Horse-9!"
NEW_PASSWORD = "Battery-Staple-7?"
EMAIL = "ana@example.com"


# The server's side of Cognito's SRP-6a, written from the protocol (RFC 5054 with
# Cognito's hashing of padded hex and its HKDF), independently of the client under test.
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
)  # RFC 3526's 3072-bit group, generator 2
N, G = int(N_HEX, 16), 2


def _padded(value: int | str) -> str:
    text = f"{value:x}" if isinstance(value, int) else value
    text = "0" + text if len(text) % 2 else text
    return "00" + text if text[0] in "89abcdefABCDEF" else text


def _hash(hex_text: str) -> int:
    return int(hashlib.sha256(bytes.fromhex(hex_text)).hexdigest(), 16)


K = _hash("00" + N_HEX + "0" + f"{G:x}")


def server_proof(
    session: SrpSession, *, password: str, salt: str, b: int, block: str, timestamp: str
) -> tuple[str, str]:
    """The server side: (B as hex, the signature it expects for ``password``)."""
    inner = hashlib.sha256(f"AbCdEf123{USER_ID}:{password}".encode()).hexdigest()
    v = pow(G, _hash(_padded(salt) + inner), N)
    big_b = (K * v + pow(G, b, N)) % N
    u = _hash(_padded(session.big_a) + _padded(big_b))
    secret = pow(session.big_a * pow(v, u, N), b, N)
    prk = hmac.new(bytes.fromhex(_padded(u)), bytes.fromhex(_padded(secret)), "sha256").digest()
    key = hmac.new(prk, b"Caldera Derived Key\x01", "sha256").digest()[:16]
    message = b"AbCdEf123" + USER_ID.encode() + base64.b64decode(block) + timestamp.encode()
    expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
    return f"{big_b:x}", expected


def test_given_the_right_password_then_the_proof_matches_the_server_s() -> None:
    """Given a verifier made from the password, then the client's signature is the one
    the server computes for the TIMESTAMP the client sent; with any other password it
    is not. The TIMESTAMP is Cognito's form: English names, day unpadded, UTC."""
    session = SrpSession(POOL_ID)
    salt, b = secrets.token_hex(16), secrets.randbits(1024)
    block = base64.b64encode(secrets.token_bytes(64)).decode()
    srp_b, _ = server_proof(session, password=PASSWORD, salt=salt, b=b, block=block, timestamp="")
    challenge = {
        "USER_ID_FOR_SRP": USER_ID,
        "USERNAME": USER_ID,
        "SALT": salt,
        "SRP_B": srp_b,
        "SECRET_BLOCK": block,
    }
    answer = session.answer(challenge, PASSWORD)
    _, expected = server_proof(
        session, password=PASSWORD, salt=salt, b=b, block=block, timestamp=answer["TIMESTAMP"]
    )
    assert answer["PASSWORD_CLAIM_SIGNATURE"] == expected
    assert re.fullmatch(TIMESTAMP, answer["TIMESTAMP"]), answer["TIMESTAMP"]
    assert (answer["USERNAME"], answer["PASSWORD_CLAIM_SECRET_BLOCK"]) == (USER_ID, block)
    wrong = session.answer(challenge, "Wrong-Horse-9!")
    assert (
        wrong["PASSWORD_CLAIM_SIGNATURE"]
        != server_proof(
            session, password=PASSWORD, salt=salt, b=b, block=block, timestamp=wrong["TIMESTAMP"]
        )[1]
    )


TIMESTAMP = (
    r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[1-9][0-9]? [0-2][0-9]:[0-5][0-9]:[0-6][0-9] UTC [0-9]{4}"
)


def test_hex_padding_is_cognito_s_signed_even_length_form() -> None:
    """pycognito hashes numbers in Cognito's form: even length, ``00`` before a set top bit."""
    assert (pad_hex(0xF), pad_hex(0x7F), pad_hex(0x80), pad_hex("abc")) == (
        "0f", "7f", "0080", "0abc",
    )  # fmt: skip


def test_given_a_server_b_of_zero_mod_n_then_sign_in_stops() -> None:
    challenge = {"USER_ID_FOR_SRP": USER_ID, "SALT": "00", "SRP_B": f"{N:x}", "SECRET_BLOCK": ""}
    with pytest.raises(SignInError, match="invalid B"):
        SrpSession(POOL_ID).answer(challenge, PASSWORD)


def test_given_a_malformed_pool_id_then_a_clear_error() -> None:
    with pytest.raises(SignInError, match="REGION_ID"):
        SrpSession("not-a-pool")


# -- the flow on moto ---------------------------------------------------------------


@pytest.fixture
def pool() -> Iterator[tuple[Any, str, str]]:
    """A pool and app client configured like the template's (e-mail usernames, SRP only)."""
    with mock_aws():
        idp = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = idp.create_user_pool(
            PoolName="uploaders",
            UsernameAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Policies={"PasswordPolicy": {"MinimumLength": 12, "RequireSymbols": True}},
        )["UserPool"]["Id"]
        client_id = idp.create_user_pool_client(
            UserPoolId=pool_id,
            ClientName="uploads",
            GenerateSecret=False,
            ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        yield idp, pool_id, client_id


def claims(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return decoded


def invite(idp: Any, pool_id: str) -> str:
    """An administrator creates the user with a temporary password; returns its sub."""
    user = idp.admin_create_user(
        UserPoolId=pool_id, Username=EMAIL, TemporaryPassword="Temporary-Pass-1!",
        MessageAction="SUPPRESS",
    )["User"]  # fmt: skip
    return next(a["Value"] for a in user["Attributes"] if a["Name"] == "sub")


def test_given_a_confirmed_user_then_srp_sign_in_returns_tokens_for_the_client(
    pool: tuple[Any, str, str],
) -> None:
    idp, pool_id, client_id = pool
    sub = invite(idp, pool_id)
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username=EMAIL, Password=PASSWORD, Permanent=True
    )
    tokens = sign_in(
        idp, user_pool_id=pool_id, client_id=client_id, username=EMAIL, password=PASSWORD
    )
    id_claims, access_claims = claims(tokens.id_token), claims(tokens.access_token)
    assert (id_claims["sub"], id_claims["aud"], id_claims["token_use"]) == (sub, client_id, "id")
    assert (access_claims["client_id"], access_claims["token_use"]) == (client_id, "access")
    assert id_claims["iss"].endswith(f"/{pool_id}")
    assert tokens.expires_in > 0


def test_given_an_invited_user_without_a_new_password_then_it_says_what_to_do(
    pool: tuple[Any, str, str],
) -> None:
    """Given a user still on its temporary password and no way to ask for a new one,
    then NewPasswordRequiredError says how to set one; the user stays unchanged."""
    idp, pool_id, client_id = pool
    invite(idp, pool_id)
    with pytest.raises(NewPasswordRequiredError, match="SCALPER_NEW_PASSWORD"):
        sign_in(
            idp, user_pool_id=pool_id, client_id=client_id, username=EMAIL,
            password="Temporary-Pass-1!", new_password=lambda: None,
        )  # fmt: skip
    user = idp.admin_get_user(UserPoolId=pool_id, Username=EMAIL)
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"


def test_given_an_invited_user_and_a_new_password_then_it_is_set_and_tokens_follow(
    pool: tuple[Any, str, str],
) -> None:
    idp, pool_id, client_id = pool
    sub = invite(idp, pool_id)
    tokens = sign_in(
        idp, user_pool_id=pool_id, client_id=client_id, username=EMAIL,
        password="Temporary-Pass-1!", new_password=lambda: NEW_PASSWORD,
    )  # fmt: skip
    assert claims(tokens.id_token)["sub"] == sub
    assert idp.admin_get_user(UserPoolId=pool_id, Username=EMAIL)["UserStatus"] == "CONFIRMED"


def test_given_an_unknown_app_client_then_one_line_with_cognito_s_code(
    pool: tuple[Any, str, str],
) -> None:
    idp, pool_id, _ = pool
    with pytest.raises(SignInError, match="ResourceNotFoundException") as failed:
        sign_in(idp, user_pool_id=pool_id, client_id="nope", username=EMAIL, password=PASSWORD)
    assert "\n" not in str(failed.value)


# -- the command ---------------------------------------------------------------------


def test_given_a_password_in_the_environment_then_the_token_file_is_private(
    pool: tuple[Any, str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given SCALPER_PASSWORD, then `scalper login --out FILE` writes the ID token with
    mode 0600 (even over an existing, wider file) and prints no token."""
    idp, pool_id, client_id = pool
    sub = invite(idp, pool_id)
    idp.admin_set_user_password(
        UserPoolId=pool_id, Username=EMAIL, Password=PASSWORD, Permanent=True
    )
    monkeypatch.setenv("SCALPER_PASSWORD", PASSWORD)
    out = tmp_path / "token.jwt"
    out.write_text("old")
    out.chmod(0o644)
    argv = ["login", "--user-pool-id", pool_id, "--client-id", client_id, "--username", EMAIL]
    assert main([*argv, "--out", str(out)]) == EXIT_OK
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert claims(out.read_text().strip())["sub"] == sub


def test_given_no_out_file_then_stdout_is_the_token_alone(
    pool: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    idp, pool_id, client_id = pool
    invite(idp, pool_id)
    monkeypatch.setenv("SCALPER_PASSWORD", "Temporary-Pass-1!")
    monkeypatch.setenv("SCALPER_NEW_PASSWORD", NEW_PASSWORD)
    monkeypatch.setenv("SCALPER_USER_POOL_ID", pool_id)
    monkeypatch.setenv("SCALPER_CLIENT_ID", client_id)
    assert main(["login", "--username", EMAIL, "--token-use", "access"]) == EXIT_OK
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert claims(out.strip())["token_use"] == "access"


def test_given_a_user_needing_a_new_password_and_no_terminal_then_exit_1_with_the_way_out(
    pool: tuple[Any, str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    idp, pool_id, client_id = pool
    invite(idp, pool_id)
    monkeypatch.setenv("SCALPER_PASSWORD", "Temporary-Pass-1!")
    monkeypatch.delenv("SCALPER_NEW_PASSWORD", raising=False)
    argv = ["login", "--user-pool-id", pool_id, "--client-id", client_id, "--username", EMAIL]
    assert main(argv) == EXIT_PROBLEM
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "must choose a new password" in captured.err


def test_the_password_is_never_an_argument(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given --password on the command line, then it is refused (argv is visible in ps);
    given no password and no terminal, then one line says to set SCALPER_PASSWORD."""
    argv = ["login", "--user-pool-id", POOL_ID, "--client-id", "c", "--username", EMAIL]
    with pytest.raises(SystemExit) as refused:
        main([*argv, "--password", PASSWORD])
    assert refused.value.code == EXIT_USAGE
    monkeypatch.delenv("SCALPER_PASSWORD", raising=False)
    assert main(argv) == EXIT_USAGE
    assert "SCALPER_PASSWORD" in capsys.readouterr().err
