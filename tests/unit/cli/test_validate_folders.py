"""`scalper validate FOLDER`: every accepted file under it, a summary per file, same exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scalper.cli import EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, main

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples"
VALID_CSV = (SAMPLES / "valid" / "jobs.csv").read_bytes()
MALFORMED_JSON = (SAMPLES / "invalid" / "malformed.json").read_bytes()


def json_lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, object]]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Given a folder of uploads: nested files of every accepted extension, and others."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".cache").mkdir()
    (tmp_path / "jobs.csv").write_bytes(VALID_CSV)
    (tmp_path / "a" / "jobs.NDJSON").write_bytes(b'{"job_id": "X"}\n')
    (tmp_path / "a" / "b" / "broken.json").write_bytes(MALFORMED_JSON)
    (tmp_path / "a" / "b" / "more.jsonl").write_bytes(b"")
    (tmp_path / "README.md").write_text("not an upload")
    (tmp_path / "a" / "notes.txt").write_text("not an upload")
    (tmp_path / ".cache" / "old.csv").write_bytes(b"hidden")
    (tmp_path / ".hidden.csv").write_bytes(b"hidden")
    return tmp_path


def test_given_a_folder_when_validated_then_every_accepted_file_under_it_in_order(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", "--json", str(tree)])

    lines = json_lines(capsys)
    assert [Path(str(line["file"])).relative_to(tree).as_posix() for line in lines] == [
        "a/b/broken.json",
        "a/b/more.jsonl",
        "a/jobs.NDJSON",
        "jobs.csv",
    ]
    assert [line["reason"] for line in lines] == [
        "MALFORMED",
        "EMPTY_FILE",
        "SCHEMA_VIOLATION",
        None,
    ]
    assert code == EXIT_PROBLEM


def test_given_a_folder_of_valid_files_then_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--json", str(SAMPLES / "valid")])

    lines = json_lines(capsys)
    assert {Path(str(line["file"])).name for line in lines} == {
        p.name for p in (SAMPLES / "valid").iterdir()
    }
    assert all(line["valid"] is True for line in lines)
    assert code == EXIT_OK


def test_given_a_folder_and_a_file_in_it_then_the_file_is_validated_once(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", "--json", str(tree / "jobs.csv"), str(tree)])

    files = [str(line["file"]) for line in json_lines(capsys)]
    assert files[0] == str(tree / "jobs.csv")
    assert sorted(files) == sorted(set(files))


def test_given_a_file_named_explicitly_then_any_extension_is_validated_as_the_pipeline_would(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", "--json", str(tree / "a" / "notes.txt")])

    [line] = json_lines(capsys)
    assert line["reason"] == "UNSUPPORTED_TYPE"
    assert code == EXIT_PROBLEM


def test_given_a_folder_without_accepted_files_then_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("nothing to validate")

    code = main(["validate", str(SAMPLES / "valid"), str(tmp_path)])

    captured = capsys.readouterr()
    assert code == EXIT_USAGE
    assert captured.out == ""
    assert captured.err == (
        f"scalper validate: error: no .csv, .json, .ndjson or .jsonl files under {tmp_path}\n"
    )


def test_given_a_folder_when_shown_as_a_table_then_a_summary_line_counts_the_files(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["validate", str(tree)])

    assert "4 files: 1 valid, 3 invalid" in capsys.readouterr().out
