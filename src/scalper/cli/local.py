"""`scalper local up`: the whole pipeline offline on 127.0.0.1 until Ctrl-C.

Starts the local stack (`scalper.local.LocalStack`) from ``template.yaml``, prints its
endpoints, what the template asks for that it cannot provide, and the environment that
points the AWS CLI, boto3 and `scalper` at it; then waits. Ctrl-C (or SIGTERM) stops
every server and worker process cleanly. moto's own diagnostics (its interpreter's dump of
each failure it handles, werkzeug's request tracebacks) go to ``aws-endpoint.log`` in the
log directory, not to the terminal.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.text import Text

from scalper.cli import EXIT_OK, UsageError
from scalper.local import LocalStack, StackConfig, StackError, TemplateError
from scalper.local import retry as retry_knob
from scalper.local._http import LocalOnlyError, PortInUseError
from scalper.local.log_capture import AWS_ENDPOINT_LOG, internal_logs_captured
from scalper.local.stack import REPO_ROOT

# The AWS port is the one LocalStack users know (and the docs' examples use), the
# Lambda port the one the Step Functions Local instructions use, the API port
# `sam local start-api`'s.
DEFAULT_AWS_PORT = 4566
DEFAULT_LAMBDA_PORT = 9001
DEFAULT_API_PORT = 3000


def add_stack_options(parser: argparse.ArgumentParser, *, ports: bool) -> None:
    """Options shared by `local up` and `demo`."""
    parser.add_argument(
        "--template",
        type=Path,
        default=REPO_ROOT / "template.yaml",
        help="the SAM template (default: the project's template.yaml)",
    )
    parser.add_argument(
        "--parameter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable), e.g. MaxUploadBytes=1048576",
    )
    parser.add_argument(
        "--retry-scale",
        type=float,
        default=None,
        metavar="FACTOR",
        help=(
            "multiply Retry waits of the state machine and the EventBridge bridge by FACTOR "
            f"in (0, 1] (default ${retry_knob.ENV_VAR} or 1: real time)"
        ),
    )
    parser.add_argument(
        "--log-dir",
        type=Path,
        default=None,
        help=(
            "write the functions' logs (and, for `local up`, the AWS endpoint's own log) here "
            "(default: a temporary directory, removed when the stack stops)"
        ),
    )
    if ports:
        parser.add_argument("--host", default="127.0.0.1", help="listen address (127.0.0.1 only)")
        parser.add_argument(
            "--port",
            type=int,
            default=DEFAULT_AWS_PORT,
            help=f"AWS endpoint port (moto; default {DEFAULT_AWS_PORT})",
        )
        parser.add_argument(
            "--lambda-port",
            type=int,
            default=DEFAULT_LAMBDA_PORT,
            help=f"Lambda endpoint port (default {DEFAULT_LAMBDA_PORT})",
        )
        parser.add_argument(
            "--api-port",
            type=int,
            default=DEFAULT_API_PORT,
            help=f"HTTP API port (default {DEFAULT_API_PORT})",
        )


def stack_config(args: argparse.Namespace, *, ports: bool) -> StackConfig:
    """Build a `StackConfig` from parsed options; bad values are usage errors."""
    parameters: dict[str, str] = {}
    for item in args.parameter:
        name, sep, value = str(item).partition("=")
        if not sep or not name:
            raise UsageError(f"--parameter takes NAME=VALUE, got {item!r}")
        parameters[name] = value
    try:
        scale = (
            retry_knob.scale_from_env()
            if args.retry_scale is None
            else retry_knob.parse_scale(str(args.retry_scale))
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    config = StackConfig(
        template=args.template,
        parameters=parameters,
        retry_scale=scale,
        log_dir=args.log_dir,
    )
    if ports:
        config.host = args.host
        for name in ("port", "lambda_port", "api_port"):
            value = getattr(args, name)
            if not 0 <= value <= 65535:
                raise UsageError(f"--{name.replace('_', '-')} must be a port number, got {value}")
        config.aws_port, config.lambda_port, config.api_port = (
            args.port,
            args.lambda_port,
            args.api_port,
        )
    return config


def start_stack(config: StackConfig) -> LocalStack:
    """Start a stack; every expected failure becomes a one-line `UsageError`."""
    try:
        return LocalStack(config).start()
    except (PortInUseError, LocalOnlyError, StackError, TemplateError) as exc:
        raise UsageError(str(exc.args[-1] if isinstance(exc, OSError) else exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `local` sub-command (with `local up`)."""
    parser = subparsers.add_parser(
        "local",
        help="run the whole pipeline offline (moto + local Lambda + HTTP API)",
        description="The local stack: template.yaml, the ASL and the handlers, on 127.0.0.1.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up",
        help="start the local stack and wait for Ctrl-C",
        description=(
            "Start the local stack on 127.0.0.1, print its endpoints and environment, "
            "and run until Ctrl-C."
        ),
    )
    add_stack_options(up, ports=True)
    up.set_defaults(func=run_up)


def describe(stack: LocalStack, console: Console) -> None:
    """Print the endpoints, resources, gaps and environment of a running stack."""
    provisioned = stack.provisioned
    assert provisioned is not None
    console.print(Text("Silent Scalper local stack is up", style="bold"), highlight=False)
    console.print(f"  AWS endpoint   {stack.aws_url}   (moto)", highlight=False)
    console.print(
        f"  Lambda         {stack.lambda_url}   "
        f"({len(provisioned.functions)} functions; logs in {stack.log_dir})",
        highlight=False,
    )
    console.print(f"  moto's log     {stack.log_dir / AWS_ENDPOINT_LOG}", highlight=False)
    routes = ", ".join(f"{r.method} {r.path} [{r.auth}]" for r in provisioned.routes)
    console.print(f"  HTTP API       {stack.api_url}   ({routes})", highlight=False)
    console.print(f"  input bucket   {stack.input_bucket}", highlight=False)
    console.print(f"  state machine  {stack.state_machine_arn}", highlight=False)
    console.print(f"  retry waits    x{retry_knob.current_scale():g}", highlight=False)
    console.print(
        Text.assemble("\n", ("Not provided locally", "bold"), " (from template.yaml):"),
        highlight=False,
    )
    for gap in stack.gaps:
        console.print(f"  - {gap}", highlight=False)
    console.print(Text.assemble("\n", ("Use it from another shell:", "bold")), highlight=False)
    for name, value in stack.env.items():
        console.print(f"  export {name}={value}", highlight=False)
    if "SCALPER_USER_POOL_ID" in stack.env:
        # AuthMode=COGNITO: uploads need a token from the local user pool.
        console.print(
            "  aws cognito-idp admin-create-user --user-pool-id $SCALPER_USER_POOL_ID "
            "--username you@example.com --message-action SUPPRESS",
            highlight=False,
        )
        console.print(
            "  aws cognito-idp admin-set-user-password --user-pool-id $SCALPER_USER_POOL_ID "
            "--username you@example.com --password 'Choose-a-Passw0rd!' --permanent",
            highlight=False,
        )
        console.print(
            "  scalper login --username you@example.com --out token.jwt   "
            "# password from a prompt or $SCALPER_PASSWORD",
            highlight=False,
        )
        console.print(
            "  scalper upload --token-file token.jwt samples/valid/jobs.csv", highlight=False
        )
    else:
        console.print("  scalper upload samples/valid/jobs.csv", highlight=False)
    table = provisioned.outputs.get("MetadataTableName")
    if table:
        console.print(f"  aws dynamodb scan --table-name {table}", highlight=False)


def run_up(args: argparse.Namespace) -> int:
    """Start, describe, wait for Ctrl-C / SIGTERM, stop."""
    config = stack_config(args, ports=True)
    # The log directory must exist before the stack starts, so that moto's first words
    # already go to its log file; a temporary one is removed on stop, as the stack would.
    own_log_dir = config.log_dir is None
    if config.log_dir is None:
        config.log_dir = Path(tempfile.mkdtemp(prefix="scalper-local-"))
    try:
        with internal_logs_captured(config.log_dir / AWS_ENDPOINT_LOG):
            return _serve(config)
    finally:
        if own_log_dir:
            shutil.rmtree(config.log_dir, ignore_errors=True)


def _serve(config: StackConfig) -> int:
    # soft_wrap: URLs and paths stay on one line, whatever the terminal width.
    # Paths (--log-dir), names and URLs are printed as they are: no rich markup or emoji
    # codes are read in them ("logs[/]here" would raise).
    console = Console(soft_wrap=True, markup=False, emoji=False)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        stack = start_stack(config)
    except BaseException:
        signal.signal(signal.SIGTERM, previous)
        raise
    try:
        describe(stack, console)
        console.print("\nCtrl-C stops everything.", highlight=False)
        sys.stdout.flush()  # when piped to a file, show it now, not at exit
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        console.print("stopping the local stack...", highlight=False)
        stack.stop()
        signal.signal(signal.SIGTERM, previous)
    return EXIT_OK
