"""`scalper upload --wait`: polling GET /uploads/{id} until each verdict, and how it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from scalper.cli import upload
from scalper.cli.upload import Uploaded, UploadError, verdict_lines, wait_for_verdicts


def uploaded(name: str, upload_id: str) -> Uploaded:
    return Uploaded(Path(name), "in", f"uploads/job.v1/2026-01-05/{upload_id}/{name}", upload_id, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_given_answers_over_time_then_each_file_is_polled_until_terminal(monkeypatch) -> None:
    """Given one file that goes PENDING -> PROCESSING -> VALID and one refused with 404,
    then the first is asked until VALID, the 404 is final at once, and on_done fires once
    per file."""
    answers = {"a": [{"status": "PENDING"}, {"status": "PROCESSING"}, {"status": "VALID"}]}
    asked: list[str] = []

    def read(api: str, upload_id: str, **_: Any) -> dict[str, Any]:
        asked.append(upload_id)
        if upload_id == "b":
            raise UploadError("presign", "HTTP 404", "Not Found")
        return answers[upload_id].pop(0)

    monkeypatch.setattr(upload, "read_upload", read)
    clock, done = Clock(), []
    verdicts = wait_for_verdicts(
        "http://api", [uploaded("a.csv", "a"), uploaded("b.csv", "b")], credentials=None,
        region="us-east-1", token=None, timeout=60, on_done=lambda u, _v: done.append(u.upload_id),
        clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    assert verdicts["a"]["status"] == "VALID"
    assert verdicts["b"] == {"status": "UNKNOWN", "message": "HTTP 404: Not Found"}
    assert asked == ["a", "b", "a", "a"]
    assert sorted(done) == ["a", "b"]


def test_given_no_verdict_before_the_timeout_then_the_last_answer_is_kept(monkeypatch) -> None:
    monkeypatch.setattr(upload, "read_upload", lambda *_a, **_k: {"status": "PROCESSING"})
    clock = Clock()
    verdicts = wait_for_verdicts(
        "http://api", [uploaded("a.csv", "a")], credentials=None, region="us-east-1",
        token=None, timeout=10, clock=clock, sleep=clock.sleep,
    )  # fmt: skip
    assert verdicts["a"]["status"] == "PROCESSING"
    assert 10 <= clock.now < 20
    [line] = verdict_lines(uploaded("a.csv", "a"), verdicts["a"])
    assert "no verdict yet" in line.plain


@pytest.mark.parametrize(
    ("answer", "expected", "colour"),
    [
        ({"status": "VALID", "records": 4, "schema": "invoice.v1"},
         ["VALID a.csv: 4 records, schema invoice.v1"], "green"),
        ({"status": "QUARANTINED", "reason": "SCHEMA_VIOLATION", "invalid_records": 12,
          "errors": [{"location": "record 2 (line 3), column currency", "message": "bad"}],
          "errors_truncated": True, "report_url": "https://r"},
         ["QUARANTINED a.csv: SCHEMA_VIOLATION",
          "  record 2 (line 3), column currency: bad",
          "  … and more (12 invalid records in all)",
          "  report: https://r"], "yellow"),
        ({"status": "FAILED", "reason": "States.Timeout"},
         ["FAILED a.csv: States.Timeout"], "red"),
    ],
)  # fmt: skip
def test_a_verdict_reads_as_status_reason_and_located_errors(answer, expected, colour) -> None:
    lines = verdict_lines(uploaded("a.csv", "a"), answer)

    assert [line.plain for line in lines] == expected
    [span] = lines[0].spans  # the status alone, in its colour
    assert (span.start, span.end, span.style) == (0, len(answer["status"]), colour)


def test_a_verdict_shows_a_path_and_a_message_that_look_like_markup_as_they_are() -> None:
    """Given a file whose name and error message hold rich markup, when its verdict is
    printed, then both appear as written."""
    error = {"location": "$[0].x", "message": "Expected [bold]x[/] :smile:"}
    answer = {"status": "QUARANTINED", "reason": "SCHEMA_VIOLATION", "errors": [error]}
    out = Console(width=200)

    with out.capture() as captured:
        for line in verdict_lines(uploaded("a[/]b.csv", "a"), answer):
            out.print(line)

    printed = captured.get()
    assert "QUARANTINED a[/]b.csv: SCHEMA_VIOLATION" in printed
    assert "$[0].x: Expected [bold]x[/] :smile:" in printed
