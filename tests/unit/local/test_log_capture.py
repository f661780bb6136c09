"""moto's diagnostics go to the stack's log file, not the terminal, while the stack runs."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scalper.local import moto_internals
from scalper.local.log_capture import internal_logs_captured


def crash() -> None:
    raise RuntimeError("boom in a worker thread")


@pytest.fixture
def moto_logging_as_the_stack_sets_it() -> Iterator[None]:
    """The interpreter's logger at NOTSET, as a running stack sets it (a stopped one, or the
    sfn-mock command, silences it; other tests in this process may have done either)."""
    logger = logging.getLogger(moto_internals.SFN_LOGGER)
    level = logger.level
    logger.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        logger.setLevel(level)


def test_given_the_capture_when_moto_werkzeug_threads_and_stderr_speak_then_only_the_file_hears(
    moto_logging_as_the_stack_sets_it: None, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "logs" / "aws-endpoint.log"
    stderr_before, hook_before = sys.stderr, threading.excepthook

    with internal_logs_captured(log):
        logging.getLogger(f"{moto_internals.SFN_LOGGER}.asl").error("Exception=FailureEvent")
        logging.getLogger("werkzeug").error("Error on request:\nTraceback (most recent call last)")
        thread = threading.Thread(target=crash, name="scalper-moto")
        thread.start()
        thread.join()
        sys.stderr.write("----------------------------------------\n")

    captured = capfd.readouterr()
    assert (captured.out, captured.err) == ("", "")
    text = log.read_text(encoding="utf-8")
    assert "ERROR moto.stepfunctions.parser.asl [MainThread] Exception=FailureEvent" in text
    assert "ERROR werkzeug [MainThread] Error on request:" in text
    assert "thread scalper-moto died of RuntimeError" in text
    assert "RuntimeError: boom in a worker thread" in text
    assert "----------------------------------------\n" in text
    assert (sys.stderr, threading.excepthook) == (stderr_before, hook_before)


def test_given_the_capture_has_ended_then_stderr_is_the_terminal_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with internal_logs_captured(tmp_path / "aws-endpoint.log"):
        pass

    sys.stderr.write("scalper local: error: shown to the user\n")
    assert capsys.readouterr().err == "scalper local: error: shown to the user\n"
