"""Tests of the issue 8 additions (package: its local stack is gone before other packages start)."""
