"""``scalper reprocess``: quarantined files back through the pipeline after a schema fix.

The mechanics (release by copying the quarantined version onto its own key, a pending
marker, settle once the new outcome is recorded) live in
:mod:`silent_scalper.pipeline.reprocess_quarantined`, shared with the scheduled
``reprocess_quarantined`` function. This module picks the files, optionally revalidates them
first, releases them, then waits and settles: the quarantine copy and its report are deleted
only once the new record is ``VALID``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError
from silent_scalper.engine import CompiledSchema, Limits, SchemaRegistry
from silent_scalper.pipeline.reprocess_quarantined import (
    PendingMarker,
    QuarantinedFile,
    ReleaseOutcome,
    SettleOutcome,
    find_quarantined,
    read_marker,
    release,
    revalidate,
    schema_picker,
    settle,
)

from scalper.ops.common import iso
from scalper.ops.target import Clients, Target

#: Per-file engine limits when revalidating locally (the deployed default MaxUploadBytes).
DEFAULT_LIMITS = Limits(max_bytes=100 * 1024 * 1024)


@dataclass
class ReprocessItem:
    """One quarantined file and how far it got."""

    file: QuarantinedFile
    release: str
    detail: str = ""
    outcome: str | None = None
    settled: str | None = None

    @property
    def done(self) -> bool:
        """Released and settled (a terminal outcome recorded)."""
        return self.settled in {SettleOutcome.CLEARED_VALID, SettleOutcome.CLEARED_QUARANTINED}

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "bucket": self.file.bucket,
            "key": self.file.key,
            "old_reason": self.file.reason,
            "quarantined_at": self.file.updated_at,
            "release": self.release,
            "detail": self.detail,
            "new_status": self.outcome,
            "settled": self.settled,
        }


def select(
    clients: Clients,
    target: Target,
    *,
    prefix: str | None,
    since: datetime | None,
    reasons: tuple[str, ...] | None,
    limit: int | None = None,
) -> list[QuarantinedFile]:
    """The quarantined files the command works on, oldest first."""
    return find_quarantined(
        clients.dynamodb,
        target.table,
        since=None if since is None else iso(since),
        prefix=prefix,
        reasons=reasons,
        limit=limit,
    )


@dataclass(frozen=True)
class Revalidation:
    """Check each file against the current version of a schema before releasing it.

    ``schema_name`` replaces the schema each file was validated with; None keeps each file's
    own (its record's, or the one its key chooses under ``upload_prefix``, else
    ``default_schema``).
    """

    registry: SchemaRegistry
    schema_name: str | None = None
    limits: Limits = DEFAULT_LIMITS
    upload_prefix: str = "uploads/"
    default_schema: str = "job.v1"

    def schema_of(self, file: QuarantinedFile) -> CompiledSchema:
        """The schema ``file`` is revalidated against."""
        if self.schema_name:
            return self.registry.get(self.schema_name)
        return schema_picker(self.registry, prefix=self.upload_prefix, default=self.default_schema)(
            file
        )


def release_all(
    clients: Clients,
    target: Target,
    files: list[QuarantinedFile],
    *,
    now: datetime,
    dry_run: bool,
    revalidation: Revalidation | None = None,
    progress: Callable[[int], None] = lambda _: None,
) -> list[ReprocessItem]:
    """Release each file (after revalidating it, with ``revalidation``)."""
    items: list[ReprocessItem] = []
    for file in files:
        if revalidation is not None:
            summary = revalidate(
                clients.s3, file, schema=revalidation.schema_of(file), limits=revalidation.limits
            )
            if not summary.valid:
                first = summary.errors[0] if summary.errors else None
                where = f": {first.location}: {first.message}" if first else ""
                items.append(ReprocessItem(file, "still-invalid", f"{summary.reason}{where}"))
                progress(1)
                continue
        released = release(
            clients.s3,
            file,
            now=now,
            dry_run=dry_run,
            quarantine_bucket=target.quarantine_bucket or file.quarantine_bucket,
        )
        items.append(ReprocessItem(file, str(released.outcome), released.detail))
        progress(1)
    return items


def settle_released(
    clients: Clients,
    target: Target,
    items: list[ReprocessItem],
    *,
    timeout: float,
    poll: float = 1.0,
    progress: Callable[[int], None] = lambda _: None,
) -> None:
    """Wait (up to ``timeout`` seconds) for each released file's new outcome, then settle it."""
    waiting = [i for i in items if i.release in {ReleaseOutcome.RELEASED, ReleaseOutcome.PENDING}]
    deadline = time.monotonic() + timeout
    while waiting:
        still: list[ReprocessItem] = []
        for item in waiting:
            qbucket = target.quarantine_bucket or item.file.quarantine_bucket
            if qbucket is None:
                continue
            try:
                marker: PendingMarker = read_marker(clients.s3, qbucket, item.file)
            except ClientError:
                # No marker: another run (or the scheduled function) settled it already.
                item.settled = "settled-elsewhere"
                progress(1)
                continue
            result = settle(clients.s3, clients.dynamodb, target.table, qbucket, marker)
            item.outcome, item.settled = result.status, str(result.outcome)
            item.detail = result.detail
            if result.outcome is SettleOutcome.WAITING:
                still.append(item)
            else:
                progress(1)
        waiting = still
        if not waiting or time.monotonic() >= deadline:
            return
        time.sleep(poll)
