"""`scalper ... | head`: a reader that stops early ends the command quietly, exit 141.

Handled once, in the entry point, for every command: JSON written with print, lines written
to sys.stdout, rich tables. The reader is gone before the command starts (the pipe's read
end is closed), so the very first write fails, as it does under ``| head`` on a large output.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from scalper.cli import EXIT_BROKEN_PIPE, main

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples"


def run_with_reader_gone(*argv: str) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m scalper ARGV`` with stdout a pipe nobody reads any more."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-m", "scalper", *argv],
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param(["validate", "--json", str(SAMPLES / "valid")], id="json-lines"),
        pytest.param(["validate", str(SAMPLES / "valid")], id="rich-table"),
        pytest.param(["sfn-mock", "scaffold", "--test-case", "Head"], id="plain-write"),
    ],
)
def test_given_the_reader_went_away_when_a_command_writes_then_exit_141_and_no_traceback(
    argv: list[str],
) -> None:
    finished = run_with_reader_gone(*argv)

    assert finished.stderr.decode() == ""
    assert finished.returncode == EXIT_BROKEN_PIPE


def test_given_a_broken_pipe_that_is_not_stdout_when_raised_then_it_is_not_hidden(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a command whose own socket breaks (stdout is fine), then the error surfaces."""

    def broken_socket(args: argparse.Namespace) -> int:
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr("scalper.cli.validate.run", broken_socket)

    with pytest.raises(BrokenPipeError):
        main(["validate", "anything.csv"])
