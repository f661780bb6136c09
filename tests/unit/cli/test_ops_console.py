"""The operator commands' and the demo's tables show keys and names as they are."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.table import Table

from scalper.cli._ops import console, progress
from scalper.cli.demo import Row
from scalper.cli.demo import _table as demo_table


def test_given_cells_that_look_like_rich_markup_then_a_table_prints_them_as_they_are() -> None:
    """Given an object key with a closing tag, a style-like word and an emoji code, when the
    operator console prints a table of them, then each is printed as written (no markup
    error, nothing swallowed or replaced)."""
    cells = ["uploads/a[/]b.csv", "uploads/jobs[draft].csv", "failed: :smile: at [bold]x"]
    table = Table("key")
    for cell in cells:
        table.add_row(cell)
    out = console()

    with out.capture() as captured:
        out.print(table)

    printed = captured.get()
    for cell in cells:
        assert cell in printed


def test_given_a_demo_file_named_like_rich_markup_then_its_row_shows_the_name() -> None:
    """Given a demo folder whose file names hold a closing tag and a style-like word, when
    the demo's table is printed, then each name appears as it is."""
    folder = Path("/demo")
    names = ["a[/]b.csv", "jobs[draft].csv"]
    rows = {folder / n: Row(folder / n, "VALID", records="1") for n in names}
    out = Console(width=200)

    with out.capture() as captured:
        out.print(demo_table(rows, folder))

    printed = captured.get()
    for name in names:
        assert name in printed


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so the progress bar draws."""

    def isatty(self) -> bool:
        return True


def test_given_a_description_that_looks_like_rich_markup_then_the_progress_bar_shows_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a terminal, when a progress bar's description holds a closing tag and a
    style-like word, then it is drawn as written (no markup error, nothing swallowed)."""
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    description = "reading a[/]b [draft]"

    with progress(description, 2, enabled=True) as advance:
        advance(2)

    assert description in terminal.getvalue()
