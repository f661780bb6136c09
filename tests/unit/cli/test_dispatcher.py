"""The `scalper` dispatcher: every command reports argument mistakes as one line, exit 2."""

from __future__ import annotations

import pytest

from scalper.cli import COMMAND_MODULES, EXIT_USAGE, main


def test_given_an_unknown_command_when_run_then_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["no-such-command"])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("scalper: error: argument COMMAND: invalid choice")


@pytest.mark.parametrize("command", [m.replace("_", "-") for m in COMMAND_MODULES])
def test_given_an_unknown_option_for_any_command_then_one_line_and_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--no-such-option", "x"])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("scalper")
    assert "error:" in err
    assert "--help" in err
