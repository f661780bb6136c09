"""Uploads through the local stack's API (a package: its local stack is package-scoped)."""
