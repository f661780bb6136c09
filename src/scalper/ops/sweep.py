"""``scalper sweep``: records stuck in PROCESSING past the state machine's timeout, replayed.

A record stays ``PROCESSING`` only while its execution runs; every way an execution ends
records an outcome, except being aborted or timing out, or its failure path failing too.
Such a record outlives the state machine's ``TimeoutSeconds``. Each one found is replayed
with its execution's original input, after its claim is released to ``FAILED`` (Claim
lets the same S3 event in again only after it failed, so duplicates never do the work
twice); when that execution cannot be described (an Express workflow, or history past
its 90-day retention) the Object Created event is rebuilt from the record and the object.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError
from silent_scalper.pipeline.keys import key_forms
from silent_scalper.records import Status
from silent_scalper.reprocess import iter_records

from scalper.ops.common import NotFoundError, iso
from scalper.ops.executions import describe, release_abandoned_claim, start
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef
    from mypy_boto3_stepfunctions.client import SFNClient


@dataclass(frozen=True)
class StuckRecord:
    """One stuck record and what the sweep did about it."""

    pk: str
    key: str
    claimed_at: str
    execution_arn: str | None
    execution_status: str | None
    action: str
    new_arn: str | None = None
    detail: str = ""
    console_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Plain data."""
        return {
            "pk": self.pk,
            "key": self.key,
            "claimed_at": self.claimed_at,
            "execution_arn": self.execution_arn,
            "execution_status": self.execution_status,
            "action": self.action,
            "new_arn": self.new_arn,
            "detail": self.detail,
            "console_url": self.console_url,
        }


def threshold(target: Target, older_than: timedelta) -> tuple[timedelta, str]:
    """The age past which a claim is stuck: never less than the state machine's timeout."""
    if target.timeout_seconds and older_than.total_seconds() < target.timeout_seconds:
        timeout = timedelta(seconds=target.timeout_seconds)
        return timeout, (
            f"--older-than raised to the state machine's timeout ({target.timeout_seconds}s): "
            "younger claims may still be running"
        )
    return older_than, ""


def find_stuck(
    dynamodb: DynamoDBClient, target: Target, *, older_than: timedelta, now: datetime
) -> list[dict[str, Any]]:
    """``PROCESSING`` records claimed more than ``older_than`` ago, oldest first."""
    cutoff = iso(now - older_than)
    return [
        record
        for record in iter_records(dynamodb, target.table, Status.PROCESSING, until=cutoff)
        if isinstance(record, dict)
    ]


def _head_of_any_form(s3: S3Client, bucket: str, event_key: str) -> HeadObjectOutputTypeDef:
    """The current version's head under the first spelling of the key that exists.

    A claim records no version id, so this is the best a rebuild can do; the replayed
    execution resolves the key against the version again (``key_forms``' order).
    """
    forms = key_forms(event_key)
    for form in forms[:-1]:
        try:
            return s3.head_object(Bucket=bucket, Key=form)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in {"404", "NoSuchKey", "NotFound"}:
                raise
    return s3.head_object(Bucket=bucket, Key=forms[-1])


def rebuild_event(s3: S3Client, record: dict[str, Any], target: Target) -> dict[str, Any]:
    """The Object Created event a claim came from, from the record and the object's head."""
    bucket = str(record["bucket"])
    event_key = str(record["event_key"])
    head = _head_of_any_form(s3, bucket, event_key)
    account = target.state_machine_arn.split(":")[4]
    return {
        "version": "0",
        "id": str(record.get("event_id", "")),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": str(record.get("event_time", "")),
        "region": target.region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": event_key,
                "size": int(head.get("ContentLength", 0)),
                "etag": str(head.get("ETag", "")).strip('"'),
                "version-id": head.get("VersionId") or "null",
                "sequencer": str(record.get("sequencer", "")),
            },
            "reason": "PutObject",
        },
    }


def sweep(
    dynamodb: DynamoDBClient,
    sfn: SFNClient,
    s3: S3Client,
    target: Target,
    *,
    older_than: timedelta,
    now: datetime,
    dry_run: bool = False,
) -> list[StuckRecord]:
    """Find stuck records and replay each (see the module docstring)."""
    results: list[StuckRecord] = []
    for record in find_stuck(dynamodb, target, older_than=older_than, now=now):
        results.append(_one(dynamodb, sfn, s3, target, record, dry_run=dry_run))
    return results


def _one(
    dynamodb: DynamoDBClient,
    sfn: SFNClient,
    s3: S3Client,
    target: Target,
    record: dict[str, Any],
    *,
    dry_run: bool,
) -> StuckRecord:
    pk = str(record["pk"])
    key = str(record.get("key") or record.get("event_key") or "")
    claimed = str(record.get("claimed_at") or record.get("updated_at") or "")
    arn = record.get("execution_arn")
    arn = arn if isinstance(arn, str) else None
    base: dict[str, Any] = {"pk": pk, "key": key, "claimed_at": claimed, "execution_arn": arn}
    event: dict[str, Any] | None = None
    status: str | None = None
    note = ""
    if arn is not None:
        try:
            info = describe(sfn, arn, target)
            status, event = info.status, info.input
        except NotFoundError:
            note = "execution not found: event rebuilt from the record"
    if status == "RUNNING":
        return StuckRecord(
            **base,
            execution_status=status,
            action="still-running",
            detail="its execution is still running (Standard executions end at the timeout)",
        )
    if event is None:
        try:
            event = rebuild_event(s3, record, target)
        except (ClientError, KeyError) as exc:
            return StuckRecord(
                **base,
                execution_status=status,
                action="cannot-replay",
                detail=f"the object is gone or the record is incomplete ({exc})",
            )
    if dry_run:
        return StuckRecord(**base, execution_status=status, action="would-replay", detail=note)
    if not release_abandoned_claim(
        dynamodb, target, event, arn, f"stuck in PROCESSING since {claimed or 'unknown'}"
    ):
        return StuckRecord(
            **base,
            execution_status=status,
            action="moved-on",
            detail="the record changed while sweeping: left alone",
        )
    new = start(sfn, target, event)
    return StuckRecord(
        **base,
        execution_status=status,
        action="replayed",
        new_arn=new,
        detail=note,
        console_url=target.console_url(new),
    )
