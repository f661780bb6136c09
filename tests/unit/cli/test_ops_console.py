"""The operator commands' tables show keys and messages as they are."""

from __future__ import annotations

from rich.table import Table

from scalper.cli._ops import console


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
