"""`scalper validate` imports the engine and nothing of the other commands' libraries.

Each command runs in a fresh interpreter (``sys.modules`` of this test process already
holds everything), and the modules it imported are compared against the libraries only
other commands need: the AWS SDK and its type stubs, moto, the local stack, DuckDB,
Powertools and pydantic. A check of what is imported, not a timing: it fails the day a
top-level import brings one of them back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scalper.cli import COMMAND_MODULES, build_parser, command_module

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "samples" / "valid" / "jobs.ndjson"

#: Top-level packages `scalper validate` must not import (what the API path does not).
HEAVY = frozenset(
    {
        "boto3",
        "botocore",
        "s3transfer",
        "mypy_boto3_s3",
        "mypy_boto3_dynamodb",
        "moto",
        "werkzeug",
        "flask",
        "duckdb",
        "aws_lambda_powertools",
        "pydantic",
        "yaml",
        "cryptography",
    }
)

_PROBE = """
import contextlib, io, json, sys
from scalper.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main(json.loads(sys.argv[1]))
sys.stdout.write(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def _imports_of(argv: list[str]) -> tuple[int, set[str]]:
    """Run ``scalper ARGV`` in a fresh interpreter; its exit code and top-level packages."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argv)],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    out = json.loads(done.stdout)
    return int(out["code"]), {name.split(".")[0] for name in out["modules"]}


def test_given_validate_with_json_output_then_neither_the_sdk_nor_rich_is_imported() -> None:
    code, imported = _imports_of(["validate", "--json", str(SAMPLE)])

    assert code == 0
    assert "silent_scalper" in imported, "the probe did run the engine"
    assert imported & (HEAVY | {"rich"}) == set()


def test_given_validate_with_a_table_then_only_rich_is_added() -> None:
    code, imported = _imports_of(["validate", str(SAMPLE)])

    assert code == 0
    assert "rich" in imported
    assert imported & HEAVY == set()


def test_given_a_command_word_then_only_its_module_is_registered() -> None:
    parser = build_parser(command_module(["validate", "x.csv"]))

    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert list(commands) == ["validate"]


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["sfn-mock", "scaffold"], "sfn_mock"),
        (["report"], "report"),
        (["sfn_mock"], None),  # not the command's name: the full parser says so
        (["--help"], None),
        (["no-such-command"], None),
        ([], None),
    ],
)
def test_the_command_word_names_its_module(argv: list[str], module: str | None) -> None:
    assert command_module(argv) == module


def test_given_no_command_word_then_every_command_is_registered() -> None:
    parser = build_parser(command_module(["--help"]))

    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert [c.replace("-", "_") for c in commands] == list(COMMAND_MODULES)
