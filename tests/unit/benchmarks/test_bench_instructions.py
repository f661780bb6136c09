"""The 1 % invalid records' cost counted in instructions: what is counted, what is
subtracted, and how it reads beside the timed target."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import report, run
from benchmarks.generate import Format
from benchmarks.instructions import count, instructions_section


def _counter(counts: dict[str, int], seen: list[list[str]]) -> Callable[[list[str]], int]:
    """A stand-in for cachegrind: the count of each file by its name."""

    def counter(argv: list[str]) -> int:
        seen.append(argv)
        name = Path(argv[-1]).name
        assert Path(argv[-1]).exists()  # counted while the file is there
        return next(n for part, n in counts.items() if part in name)

    return counter


def test_given_counts_then_the_fixed_costs_are_subtracted_and_the_cost_read_as_time_is(
    tmp_path: Path,
) -> None:
    # Given the engine's counts: 100 for a one-block file (the import, the schema load),
    # 1,100 for the valid file and 1,350 for the 1 % invalid one
    seen: list[list[str]] = []
    counter = _counter({"one-block": 100, "valid": 1_100, "1pct": 1_350}, seen)
    # When the section counts NDJSON files of 20 KB
    section = instructions_section(
        tmp_path,
        [Format.NDJSON],
        lambda _: None,
        size=20_000,
        counter=counter,
    )
    # Then the fixed costs are subtracted and the cost is the speed lost (1 - 1,000/1,250)
    (row,) = section["rows"]
    assert (row["format"], row["valid"], row["1% invalid"]) == ("ndjson", 1_000, 1_250)
    assert row["cost"] == pytest.approx(0.2)
    assert section["size"] == "20000B"
    # And each file went to the engine worker, the large ones removed once counted
    assert all(argv[1:5] == ["-m", "benchmarks.worker", "engine", "--format"] for argv in seen)
    assert [p.name for p in tmp_path.iterdir()] == ["one-block.ndjson"]


def test_given_a_count_that_fails_then_the_section_says_so_with_what_it_had(
    tmp_path: Path,
) -> None:
    # Given a count that works for NDJSON and fails on the CSV files
    counts = _counter({"one-block": 100, "valid": 1_100, "1pct": 1_350}, [])

    def failing_on_csv(argv: list[str]) -> int:
        if argv[-1].endswith(".csv"):
            raise RuntimeError("valgrind: out of memory")
        return counts(argv)

    # When both formats are counted
    section = instructions_section(
        tmp_path, [Format.NDJSON, Format.CSV], lambda _: None, size=20_000, counter=failing_on_csv
    )
    # Then the section says why, and keeps the format it counted
    assert section["error"] == "not counted: valgrind: out of memory"
    assert [row["format"] for row in section["rows"]] == ["ndjson"]


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_given_valgrind_then_a_program_doing_more_counts_more_instructions() -> None:
    little = count([sys.executable, "-S", "-c", "pass"])
    more = count([sys.executable, "-S", "-c", "sum(range(2_000_000))"])
    assert 0 < little < more
    with pytest.raises(RuntimeError):
        count([sys.executable, "-S", "-c", "raise SystemExit(3)"])


def test_the_invalid_cost_target_shows_the_counted_cost_beside_the_timed_one() -> None:
    peers = {
        "size": "100MB",
        "rows": [
            {"format": "ndjson", "variant": v, "tools": {"engine": {"cpu_mb_s": mb_s}}}
            for v, mb_s in (("valid", 100.0), ("1% invalid", 80.0))
        ],
    }
    counted = {"size": "10MB", "rows": [{"format": "ndjson", "cost": 0.107}]}

    (target,) = run.invalid_cost_targets(peers, counted)

    assert target["met"] is False  # judged on the time: 20 %
    assert target["measured"].endswith("; +10.7% in instructions (10MB)")
    (plain,) = run.invalid_cost_targets(peers)
    assert "instructions" not in plain["measured"]


def test_the_report_renders_the_counts_and_a_section_that_could_not_count() -> None:
    section = {
        "size": "10MB",
        "rows": [{"format": "json", "valid": 1_900, "1% invalid": 2_150, "cost": 0.116}],
    }
    text = report.instructions_md(section)
    assert "| json | 1,900 | 2,150 | +11.6% |" in text
    assert "valgrind is not installed" in report.instructions_md(
        {"error": "valgrind is not installed: not counted", "rows": []}
    )
