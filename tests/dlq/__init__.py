"""The pipeline's dead-letter queue and ``scalper dlq`` (a package: one local stack for it)."""
