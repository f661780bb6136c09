"""`scalper demo` and `scalper upload` as a user runs them, on the shared local stack.

The demo's work (`run_files`: upload a folder, wait, one row per file) runs here on the
package's stack; the command itself only adds starting and stopping a stack of its own.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from scalper.cli import main
from scalper.cli.demo import collect, report, run_files
from scalper.local import LocalStack

pytestmark = pytest.mark.e2e

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_the_demo_uploads_a_folder_and_reports_one_terminal_row_per_file(
    local_stack: LocalStack, tmp_path: Path
) -> None:
    """Given a folder with a valid file, an invalid one, an empty one and a README, when
    the demo runs on it, then each file gets one row -- VALID, QUARANTINED with its reason,
    REFUSED by the API for the empty file -- the README is not uploaded, and the exit code
    is 0 because every file reached an end."""
    (tmp_path / "valid").mkdir()
    shutil.copy(SAMPLES / "valid" / "jobs.csv", tmp_path / "valid" / "jobs.csv")
    shutil.copy(SAMPLES / "invalid" / "malformed.json", tmp_path / "malformed.json")
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "README.md").write_text("not uploaded\n")
    out = io.StringIO()
    console = Console(file=out, width=250)

    files = collect(tmp_path)
    rows = run_files(local_stack, files, console, timeout=120)
    code = report(rows, tmp_path, console)

    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "empty.csv",
        "malformed.json",
        "valid/jobs.csv",
    ]
    outcome = {p.relative_to(tmp_path).as_posix(): (r.status, r.reason) for p, r in rows.items()}
    assert outcome == {
        "valid/jobs.csv": ("VALID", ""),
        "malformed.json": ("QUARANTINED", "MALFORMED"),
        "empty.csv": ("REFUSED", "INVALID_SIZE"),
    }
    valid = rows[tmp_path / "valid" / "jobs.csv"]
    assert valid.records == "7"
    assert valid.states.endswith("WriteMetadata → Done")
    assert rows[tmp_path / "malformed.json"].where.endswith("malformed.json.report.json")
    assert code == 0
    assert "QUARANTINED: 1  REFUSED: 1  VALID: 1" in out.getvalue()


def test_upload_sends_files_through_the_api_and_says_where_each_landed(
    local_stack: LocalStack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given the environment `scalper local up` prints, when `scalper upload` sends a valid
    and an empty file, then the first lands under uploads/, the second is refused with the
    API's code, and the exit code is 1."""
    for name, value in local_stack.env.items():
        monkeypatch.setenv(name, value)
    code = main(
        ["upload", str(SAMPLES / "valid" / "job.json"), str(SAMPLES / "invalid" / "empty.csv")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert f"s3://{local_stack.input_bucket}/uploads/" in out
    assert "refused" in out
    assert "INVALID_SIZE" in out
