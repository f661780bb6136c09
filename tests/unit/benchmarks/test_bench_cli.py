"""The command-line benchmark measures whole processes and judges the worst form."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import cli, report
from benchmarks.cli import cli_section, cli_targets


def _row(form: str, fmt: str, extra_cpu: float, extra_rss: float) -> dict[str, object]:
    return {
        "format": fmt,
        "form": form,
        "extra_cpu_seconds": extra_cpu,
        "extra_rss_mb": extra_rss,
    }


def test_given_one_form_over_a_limit_then_that_target_is_missed() -> None:
    section = {
        "rows": [
            _row("API path", "csv", 0.0, 0.0),
            _row("scalper validate --json", "csv", 0.02, 61.0),
            _row("scalper validate", "ndjson", 0.08, 2.0),
        ]
    }

    cpu, rss = cli_targets(section)

    assert (cpu["met"], cpu["measured"]) == (True, "+0.08 s (scalper validate, ndjson)")
    assert rss["met"] is False
    assert rss["measured"] == "+61.0 MB (scalper validate --json, csv)"


def test_given_no_measurement_then_no_target_is_claimed() -> None:
    assert cli_targets(None) == []


def test_every_form_is_measured_in_its_own_process(tmp_path: Path) -> None:
    section = cli_section(tmp_path, repeats=1)

    forms = {(r["format"], r["form"]) for r in section["rows"]}
    assert len(forms) == 6  # two formats, three forms
    assert all(r["cpu_seconds"] > 0 and r["peak_rss_bytes"] > 0 for r in section["rows"])
    api = [r for r in section["rows"] if r["form"] == "API path"]
    assert all(r["extra_cpu_seconds"] == 0 for r in api)


def test_the_report_shows_each_form_beside_the_api_path() -> None:
    section = {
        "rows": [
            {**_row("API path", "csv", 0.0, 0.0), "cpu_seconds": 0.33, "peak_rss_bytes": 92e6},
            {
                **_row("scalper validate", "csv", 0.06, 3.0),
                "cpu_seconds": 0.39,
                "peak_rss_bytes": 95e6,
            },
        ]
    }

    table = report.cli_md(section).splitlines()

    assert table[0] == "| format | form | CPU s | peak RSS MiB | extra CPU s | extra RSS MB |"
    assert table[3] == "| csv | scalper validate | 0.390 | 90.6 | +0.060 | +3.0 |"


def test_the_forms_of_a_round_run_back_to_back_and_each_round_decides_its_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given processes whose CPU time drifts from round to round, when three rounds are
    measured, then each round runs every form once, back to back, in the order turned
    every other round, and a form's extra is the median of its differences from the API
    run of the same round, not the difference of the medians."""
    calls: list[str] = []
    # CPU seconds by (form, round): the host slows down in the second round.
    cpu = {
        "api": [0.30, 0.90, 0.32],
        "json": [0.31, 0.92, 0.33],
        "table": [0.40, 0.95, 0.34],
    }

    def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
        form = "api" if argv[1] == "-c" else "json" if "--json" in argv else "table"
        calls.append(form)
        return cpu[form][(calls.count(form) - 1) % 3], 30_000_000

    monkeypatch.setattr(cli, "run_process", run)

    section = cli_section(tmp_path, repeats=3)

    per_format = ["api", "json", "table", "table", "json", "api", "api", "json", "table"]
    assert calls == per_format * 2  # NDJSON, then CSV
    table = next(r for r in section["rows"] if r["form"] == "scalper validate")
    # Differences by round: +0.10, +0.05, +0.02; the medians' difference would be 0.08.
    assert table["extra_cpu_seconds"] == pytest.approx(0.05)
    assert table["cpu_seconds"] == pytest.approx(0.40)
