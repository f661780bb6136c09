"""End-to-end tests through the local stack (a package, so its stack fixture is package-scoped)."""
