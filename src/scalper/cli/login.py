"""`scalper login`: sign an uploader in to the stack's Cognito user pool (AuthMode=COGNITO).

USER_SRP_AUTH (the only password flow the uploads app client allows; the password never
leaves this machine) with `scalper.cognito.sign_in`, then the ID token (or the access
token) is printed alone on stdout, for ``export SCALPER_TOKEN=$(scalper login ...)``, or
written to ``--out FILE`` with mode 0600 for ``scalper upload --token-file FILE``.

The password comes from ``SCALPER_PASSWORD`` or a prompt, never from the command line
(argv is visible to every local user in ``ps``). A user an administrator created must
choose a new password first: prompted for (twice) in a terminal, else
``SCALPER_NEW_PASSWORD``. A TOTP code, when the user turned MFA on, likewise
(``SCALPER_MFA_CODE``).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError
from rich.console import Console

from scalper.cli import EXIT_OK, EXIT_PROBLEM, UsageError
from scalper.cognito import Prompt, SignInError, pool_name, sign_in

PASSWORD_ENV = "SCALPER_PASSWORD"  # noqa: S105 - the name of a variable, not a password
NEW_PASSWORD_ENV = "SCALPER_NEW_PASSWORD"  # noqa: S105 - likewise
MFA_CODE_ENV = "SCALPER_MFA_CODE"

# Messages go to stderr so stdout carries the token alone; soft_wrap keeps lines whole.
_err = Console(stderr=True, soft_wrap=True, highlight=False, markup=False)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `login` sub-command."""
    parser = subparsers.add_parser(
        "login",
        help="sign in to the uploads user pool (AuthMode=COGNITO) and print a token",
        description=(
            "Sign in with SRP to the stack's Cognito user pool (outputs UserPoolId and "
            "UserPoolClientId) and print the ID token, or write it to --out (mode 0600). "
            f"The password is read from ${PASSWORD_ENV} or a prompt, never from argv."
        ),
    )
    parser.add_argument(
        "--user-pool-id",
        default=os.environ.get("SCALPER_USER_POOL_ID"),
        metavar="ID",
        help="the UserPoolId output, e.g. eu-west-1_AbC123 (default $SCALPER_USER_POOL_ID)",
    )
    parser.add_argument(
        "--client-id",
        default=os.environ.get("SCALPER_CLIENT_ID"),
        metavar="ID",
        help="the UserPoolClientId output (default $SCALPER_CLIENT_ID)",
    )
    parser.add_argument(
        "--username",
        default=os.environ.get("SCALPER_USERNAME"),
        metavar="EMAIL",
        help="the user's e-mail address (default $SCALPER_USERNAME)",
    )
    parser.add_argument(
        "--token-use",
        choices=("id", "access"),
        default="id",
        help="which token to output (both are accepted by the API; default id)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE",
        help="write the token to FILE (mode 0600) instead of printing it",
    )
    parser.add_argument(
        "--region", default=None, help="Cognito's region (default: from the user pool id)"
    )
    parser.set_defaults(func=run)


def _interactive() -> bool:
    return sys.stdin.isatty()


def _password() -> str:
    value = os.environ.get(PASSWORD_ENV)
    if value:
        return value
    if not _interactive():
        raise UsageError(f"no password: set {PASSWORD_ENV} or run scalper login in a terminal")
    return getpass.getpass("Password: ")


def _new_password() -> str | None:
    value = os.environ.get(NEW_PASSWORD_ENV)
    if value:
        return value
    if not _interactive():
        return None
    _err.print("This user must choose a new password.")
    first = getpass.getpass("New password: ")
    if first != getpass.getpass("New password again: "):
        raise UsageError("the two new passwords differ")
    return first


def _mfa_code() -> str | None:
    value = os.environ.get(MFA_CODE_ENV)
    if value:
        return value
    if not _interactive():
        return None
    return input("TOTP code: ").strip()


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600, also when it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def run(args: argparse.Namespace) -> int:
    """Sign in; print or write the token."""
    missing = [
        flag
        for flag, value in (
            ("--user-pool-id", args.user_pool_id),
            ("--client-id", args.client_id),
            ("--username", args.username),
        )
        if not value
    ]
    if missing:
        raise UsageError(f"{', '.join(missing)} required (the stack outputs UserPoolId, ...)")
    try:
        pool_name(args.user_pool_id)
    except SignInError as exc:
        raise UsageError(str(exc)) from None
    region = args.region or str(args.user_pool_id).partition("_")[0]
    password = _password()
    new_password: Prompt = _new_password
    # InitiateAuth and RespondToAuthChallenge are unsigned calls: no AWS credentials needed.
    client = boto3.client(
        "cognito-idp", region_name=region, config=Config(retries={"max_attempts": 2})
    )
    try:
        tokens = sign_in(
            client,
            user_pool_id=args.user_pool_id,
            client_id=args.client_id,
            username=args.username,
            password=password,
            new_password=new_password,
            mfa_code=_mfa_code,
        )
    except SignInError as exc:
        _err.print(f"scalper login: {exc}")
        return EXIT_PROBLEM
    except BotoCoreError as exc:
        _err.print(f"scalper login: cannot reach Cognito: {exc}")
        return EXIT_PROBLEM
    token = {"id": tokens.id_token, "access": tokens.access_token}[args.token_use]
    minutes = tokens.expires_in // 60
    if args.out is not None:
        write_secret(args.out, token + "\n")
        _err.print(
            f"{args.token_use} token written to {args.out} (valid {minutes} min); "
            f"scalper upload --token-file {args.out} FILE..."
        )
    else:
        # The token alone on stdout: export SCALPER_TOKEN=$(scalper login ...)
        sys.stdout.write(token + "\n")
        sys.stdout.flush()
        _err.print(f"{args.token_use} token valid {minutes} min")
    return EXIT_OK
