"""What `scalper upload` prints for each file: paths and messages as they are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from scalper.cli import main, upload
from scalper.cli.upload import UploadError


def test_given_a_refused_file_whose_path_looks_like_rich_markup_then_the_line_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a file in a folder named "a[" (so its path holds a closing tag, "a[/]b.csv")
    that the API refuses with a message in brackets, when it is uploaded, then the
    refusal line shows the path and the message as written and the exit code is 1."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a[").mkdir()
    (tmp_path / "a[/]b.csv").write_text("job_id\n")

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise UploadError("presign", "BadRequest", "[red]no[/red] :smile:")

    monkeypatch.setattr(upload, "upload_file", refuse)

    code = main(["upload", "--api", "https://api.example.com", "--auth", "none", "a[/]b.csv"])

    assert code == 1
    assert (
        "refused a[/]b.csv: presign: BadRequest: [red]no[/red] :smile:" in capsys.readouterr().out
    )
