"""Reliability tests on the local stack (one stack for the package, see conftest)."""
