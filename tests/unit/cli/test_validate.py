"""`scalper validate`: exit codes, JSON lines, the table, and no traceback ever."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scalper.cli import main, validate

REPO = Path(__file__).resolve().parents[3]
SAMPLES = REPO / "samples"
VALID = sorted((SAMPLES / "valid").glob("*"))
INVALID = sorted((SAMPLES / "invalid").glob("*"))


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(["validate", "--json", *args])
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines()]


def test_given_valid_files_then_exit_0_and_one_json_line_each(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run_json(capsys, *map(str, VALID))
    assert code == 0
    assert [line["file"] for line in lines] == [str(p) for p in VALID]
    for line in lines:
        assert line["valid"] is True
        assert line["reason"] is None
        assert line["errors"] == []
        assert len(str(line["sha256"])) == 64
        assert {"format", "records", "invalid_records"} <= line.keys()


def test_given_any_invalid_file_then_exit_1_with_located_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, lines = run_json(capsys, str(VALID[0]), *map(str, INVALID))
    assert code == 1
    by_name = {Path(str(line["file"])).name: line for line in lines}
    assert by_name["malformed.csv"]["reason"] == "MALFORMED"
    errors = by_name["schema-violation.ndjson"]["errors"]
    assert isinstance(errors, list)
    assert errors[0] == {
        "message": "Expected `int` <= 5",
        "location": "line 2, $.priority",
        "record": 2,
        "line": 2,
        "column": "priority",
        "path": "$.priority",
    }
    assert by_name["schema-violation.ndjson"]["invalid_records"] == 5


def test_max_errors_and_max_bytes_are_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    path = str(SAMPLES / "invalid/schema-violation.ndjson")
    _, [line] = run_json(capsys, "--max-errors", "2", path)
    assert len(line["errors"]) == 2  # type: ignore[arg-type]
    assert line["errors_truncated"] is True
    code, [line] = run_json(capsys, "--max-bytes", "100", str(SAMPLES / "valid/jobs.csv"))
    assert (code, line["reason"]) == (1, "TOO_LARGE")


def test_schema_any_checks_well_formedness_only(capsys: pytest.CaptureFixture[str]) -> None:
    code, [line] = run_json(
        capsys, "--schema", "any", str(SAMPLES / "invalid/schema-violation.csv")
    )
    assert (code, line["valid"]) == (0, True)


def test_schemas_dir_loads_user_schemas(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pet.v1.json").write_text(
        '{"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}'
    )
    data = tmp_path / "pets.ndjson"
    data.write_text('{"name": "Rex"}\n{"nom": "Felix"}\n')
    code, [line] = run_json(capsys, "--schemas-dir", str(tmp_path), "--schema", "pet.v1", str(data))
    assert code == 1
    assert line["errors"][0]["location"] == "line 2"  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "no such file or folder: missing.csv"),
        (["--schema", "nope.v1", "samples/valid/jobs.csv"], "unknown schema 'nope.v1'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    assert main(["validate", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.splitlines()) == 1
    assert message in captured.err


def test_broken_schema_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.json").write_text("{")
    assert main(["validate", "--schemas-dir", str(tmp_path), str(VALID[0])]) == 2
    assert str(tmp_path / "bad.json") in capsys.readouterr().err


def test_the_table_names_each_file_and_shows_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        ["validate", str(SAMPLES / "valid/jobs.csv"), str(SAMPLES / "invalid/malformed.json")]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "VALID" in out
    assert "MALFORMED" in out
    assert "$[1] (line 3): not well-formed JSON: trailing comma in object" in out


def test_hostile_inputs_never_produce_a_traceback(tmp_path: Path) -> None:
    """Run as a real process: every outcome is exit 0/1 with JSON lines, never a traceback."""
    hostile = {
        "deep.json": b"[" * 200_000,
        "deep-balanced.json": b"[" * 50_000 + b"]" * 50_000,
        "nul.csv": b"a,b\n\x00\x00\x00\n",
        "binary.ndjson": bytes(range(256)) * 10,
        "bom-only.csv": b"\xef\xbb\xbf",
        "crlf-quote.csv": b'job_id\r\n"unterminated\r\n',
        "lone-surrogate.json": b'[{"job_id": "\\ud800"}]',
        "huge-number.json": b'[{"customer_id": 1' + b"0" * 5000 + b"}]",
        "cut-utf8.ndjson": b'{"notes": "caf\xc3',
        "weird name ;$(x).jsonl": b"{}\n",
    }
    paths = []
    for name, data in hostile.items():
        path = tmp_path / name
        path.write_bytes(data)
        paths.append(str(path))
    proc = subprocess.run(
        [sys.executable, "-m", "scalper", "validate", "--json", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == len(hostile)
    assert all(line["valid"] is False and line["reason"] for line in lines)


@pytest.mark.parametrize(
    "args",
    [[], ["--max-errors", "0", "x.csv"], ["--max-bytes", "many", "x.csv"]],
)
def test_argument_errors_are_one_line_too(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["validate", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert err.startswith("scalper validate: error: ")


def test_given_an_array_with_a_pattern_error_before_a_type_error_then_both_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The batch path once raised here (a pattern error, then a type error): now every
    problem is reported and the command exits 1, without a traceback."""
    records = [
        {"job_id": "job-1", "submitted_at": "2026-01-05T09:30:00Z", "customer_id": 42,
         "status": "queued", "currency": "usd"},
        {"job_id": "job-2", "submitted_at": "2026-01-05T09:30:00Z", "customer_id": 0,
         "status": "queued"},
        {"job_id": "job-3", "submitted_at": "2026-01-05T09:30:00Z", "customer_id": 42,
         "status": "queued"},
    ]  # fmt: skip
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps(records))
    code, [line] = run_json(capsys, str(path))
    assert code == 1
    assert line["reason"] == "SCHEMA_VIOLATION"
    assert [e["path"] for e in line["errors"]] == ["$[0].currency", "$[1].customer_id"]  # type: ignore[index]


def test_given_paths_that_look_like_rich_markup_then_the_table_shows_them_as_they_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given file names holding rich markup ("[draft]", a closing "[/]" across a folder)
    and an emoji code, when the table is printed, then each path appears as it is and no
    markup error escapes."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a[").mkdir()
    names = ["jobs[draft].csv", "a[/]b.csv", "x:smile:y.csv"]
    for name in names:
        (tmp_path / name).write_bytes((SAMPLES / "valid/jobs.csv").read_bytes())

    code = main(["validate", *names])

    out = capsys.readouterr().out
    assert code == 0
    for name in names:
        assert name in out


def test_given_files_to_validate_then_the_process_keeps_freed_blocks_for_reuse(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the command about to validate files (a process that does nothing else)
    calls: list[str] = []
    monkeypatch.setattr(validate, "keep_freed_heap", lambda: calls.append("kept") or True)
    # When it runs
    code, _ = run_json(capsys, str(VALID[0]))
    # Then it kept the engine's freed buffers in the heap once, as the Lambda does
    assert (code, calls) == (0, ["kept"])
