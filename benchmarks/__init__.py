"""Benchmarks for Silent Scalper, run by ``make bench`` (``python -m benchmarks.run``).

Performance claims are made here, by a run anyone can repeat, never by timed tests:

- ``benchmarks.generate``: deterministic job files (CSV, NDJSON, JSON array) at a target size.
- ``benchmarks.worker``: one measurement in a fresh process (engine, sha256, peers, S3 bytes).
- ``benchmarks.transitions``: state transitions per path through the state machine.
- ``benchmarks.cost``: cost per million files, Standard vs Express, with dated prices.
- ``benchmarks.run``: runs everything, prints a table, writes ``benchmarks/results/``.
"""
