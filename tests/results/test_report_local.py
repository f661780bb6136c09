"""``scalper report`` from the local stack: DuckDB over the result lines, one HTML page.

The page must stand alone (no script, no external resource), carry the period's numbers
and draw its charts as inline SVG; ``--json`` gives the same numbers to scripts.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from local_stack_support import Outcomes

from scalper.cli import EXIT_OK, EXIT_USAGE, main
from scalper.local import LocalStack

pytestmark = pytest.mark.e2e


class _Page(HTMLParser):
    """Collects what the checks look at: tags, external references, visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name in {"src", "href"} and value and not value.startswith("#"):
                self.external.append(value)

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def target_args(local_stack: LocalStack, outcomes: Outcomes) -> list[str]:
    return ["--endpoint", local_stack.aws_url, "--template", str(outcomes.template)]


def test_given_the_local_results_when_reported_then_the_page_stands_alone_with_charts(
    local_stack: LocalStack,
    outcomes: Outcomes,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "report.html"
    code = main(["report", "--since", "1d", "--out", str(out), *target_args(local_stack, outcomes)])
    assert code == EXIT_OK
    assert "wrote" in capsys.readouterr().err
    html = out.read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    assert "script" not in page.tags
    assert page.external == []
    assert page.tags.count("svg") >= 3  # per-day outcomes, throughput, reasons
    text = " ".join(page.text)
    for heading in ("Files per day by outcome", "Top quarantine reasons", "Latest problems"):
        assert heading in text
    assert "MALFORMED" in text
    assert outcomes.failed.key in text
    assert outcomes.quarantined.key in text
    assert "arn:aws:iam::123456789012:user/local" in text or "AKIA" in text or "testing" in text
    # One bar segment per outcome of today, each with its count in a tooltip.
    for status in ("VALID", "QUARANTINED", "FAILED"):
        assert re.search(rf"<title>\d{{4}}-\d{{2}}-\d{{2}} {status}: \d+</title>", html)


def test_given_the_local_results_when_reported_as_json_then_the_numbers_add_up(
    local_stack: LocalStack, outcomes: Outcomes, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["report", "--since", "1d", "--json", *target_args(local_stack, outcomes)])
    assert code == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    totals = data["totals"]
    assert totals["valid"] >= 1
    assert totals["quarantined"] >= 1
    assert totals["failed"] >= 1
    assert totals["files"] == totals["valid"] + totals["quarantined"] + totals["failed"]
    assert totals["failure_rate"] == pytest.approx(totals["failed"] / totals["files"], abs=1e-4)
    assert sum(d["files"] for d in data["per_day"]) == totals["files"]
    assert {"reason": "MALFORMED", "files": 1} in data["reasons"] or any(
        r["reason"] == "MALFORMED" for r in data["reasons"]
    )
    assert sum(t["files"] for t in data["throughput"]) == totals["files"]


def test_given_a_bad_since_then_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["report", "--since", "yesterday-ish", "--endpoint", "http://127.0.0.1:1"])
    assert exited.value.code == EXIT_USAGE
    assert capsys.readouterr().err.count("\n") == 1
