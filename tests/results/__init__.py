"""Result lines for Athena and ``scalper report`` (a package: its local stack is package-scoped)."""
