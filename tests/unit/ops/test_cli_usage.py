"""Usage problems of the operations commands: one line on stderr, exit code 2."""

from __future__ import annotations

import pytest

from scalper.cli import main

COMMANDS = [
    ["status", "uploads/a.csv"],
    ["executions"],
    ["redrive", "--all-failed"],
    ["replay", "arn:aws:states:us-east-1:123456789012:execution:p:x"],
    ["reprocess"],
    ["sweep"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: argv[0])
def test_without_a_stack_or_an_endpoint_each_command_says_how_to_name_one(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)

    assert main(argv) == 2

    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0] == (
        f"scalper {argv[0]}: error: say which pipeline: --stack NAME (deployed) or --endpoint "
        "URL (the local stack; or set AWS_ENDPOINT_URL)"
    )


def test_an_endpoint_nobody_listens_on_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["executions", "--endpoint", "http://127.0.0.1:9"]) == 2
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["sweep", "--older-than", "soon"], "not a duration"),
        (["executions", "--since", "yesterday"], "neither a duration"),
        (["executions", "--status", "BROKEN"], "invalid choice"),
    ],
)
def test_bad_arguments_are_rejected_before_any_aws_call(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*argv, "--endpoint", "http://127.0.0.1:9"])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
