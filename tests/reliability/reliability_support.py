"""Helpers for the reliability tests: generated job files of every kind, records, versions.

Every kind of file the pipeline must sort is generated small, from a seed, with the outcome
it must reach (``None`` reason = ``VALID``). The reason codes come from the design's contract
(``Reason``), not from running the engine: these tests check the pipeline against the
contract, not against itself.
"""

from __future__ import annotations

import gzip
import json
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from silent_scalper.engine import Reason
from silent_scalper.records import item_key

from scalper.local import LocalStack
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

HEADER = "job_id,submitted_at,customer_id,status,priority,amount,notes\n"
#: The local stack's MaxUploadBytes in these tests: TOO_LARGE files stay small.
MAX_UPLOAD_BYTES = 4096


@dataclass(frozen=True)
class JobFile:
    """One generated upload and the outcome the pipeline must give it."""

    name: str  # the file name (the key's last part): decides the format
    body: bytes
    reason: Reason | None  # None: VALID
    kind: str

    @property
    def expected_status(self) -> str:
        """``VALID`` or ``QUARANTINED``."""
        return "VALID" if self.reason is None else "QUARANTINED"


def _row(n: int, *, notes: str = "") -> str:
    when = f"2026-01-05T09:{n % 60:02d}:00Z"
    return f"J-{n:05d},{when},{n % 97 + 1},queued,{n % 5 + 1},{n % 7}.5,{notes}\n"


def _record(n: int) -> dict[str, Any]:
    return {
        "job_id": f"J-{n:05d}",
        "submitted_at": f"2026-01-05T09:{n % 60:02d}:00Z",
        "customer_id": n % 97 + 1,
        "status": "queued",
    }


def _valid_csv(rng: random.Random, i: int) -> JobFile:
    rows = "".join(_row(i * 100 + r) for r in range(rng.randint(1, 20)))
    return JobFile(f"{i:04d}-valid.csv", (HEADER + rows).encode(), None, "valid-csv")


def _valid_csv_formula(rng: random.Random, i: int) -> JobFile:
    rows = _row(i * 100) + _row(i * 100 + 1, notes='"=HYPERLINK(""http://x"")"')
    return JobFile(f"{i:04d}-formula.csv", (HEADER + rows).encode(), None, "valid-formula")


def _valid_json(rng: random.Random, i: int) -> JobFile:
    records = [_record(i * 100 + r) for r in range(rng.randint(1, 10))]
    return JobFile(f"{i:04d}-valid.json", json.dumps(records).encode(), None, "valid-json")


def _valid_ndjson(rng: random.Random, i: int) -> JobFile:
    lines = "".join(json.dumps(_record(i * 100 + r)) + "\n" for r in range(rng.randint(1, 10)))
    return JobFile(f"{i:04d}-valid.ndjson", lines.encode(), None, "valid-ndjson")


def _empty(rng: random.Random, i: int) -> JobFile:
    return JobFile(f"{i:04d}-empty.csv", b"", Reason.EMPTY_FILE, "empty")


def _too_large(rng: random.Random, i: int) -> JobFile:
    rows = "".join(_row(i * 1000 + r) for r in range(MAX_UPLOAD_BYTES // 40 + 10))
    body = (HEADER + rows).encode()
    assert len(body) > MAX_UPLOAD_BYTES
    return JobFile(f"{i:04d}-large.csv", body, Reason.TOO_LARGE, "too-large")


def _gzip_as_csv(rng: random.Random, i: int) -> JobFile:
    body = gzip.compress((HEADER + _row(i)).encode(), mtime=0)
    return JobFile(f"{i:04d}-gzip.csv", body, Reason.UNSUPPORTED_TYPE, "gzip-renamed")


def _zip_as_csv(rng: random.Random, i: int) -> JobFile:
    body = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(rng.randrange(256) for _ in range(40))
    return JobFile(f"{i:04d}-zip.csv", body, Reason.UNSUPPORTED_TYPE, "zip-renamed")


def _utf16(rng: random.Random, i: int) -> JobFile:
    body = (json.dumps(_record(i)) + "\n").encode("utf-16")
    return JobFile(f"{i:04d}-utf16.ndjson", body, Reason.BAD_ENCODING, "utf16-bom")


def _latin1(rng: random.Random, i: int) -> JobFile:
    body = (HEADER + _row(i, notes="Zürich")).encode("latin-1")
    return JobFile(f"{i:04d}-latin1.csv", body, Reason.BAD_ENCODING, "latin1")


def _malformed_json(rng: random.Random, i: int) -> JobFile:
    body = b'[{"job_id": "J-00001", "customer_id": 3,}]'
    return JobFile(f"{i:04d}-malformed.json", body, Reason.MALFORMED, "malformed-json")


def _malformed_csv(rng: random.Random, i: int) -> JobFile:
    body = (HEADER + _row(i) + "J-99999,2026-01-05T09:00:00Z,7\n").encode()
    return JobFile(f"{i:04d}-malformed.csv", body, Reason.MALFORMED, "malformed-csv")


def _schema_csv(rng: random.Random, i: int) -> JobFile:
    body = (HEADER + _row(i) + "J-99999,2026-01-05T09:00:00Z,seven,queued,,,\n").encode()
    return JobFile(f"{i:04d}-schema.csv", body, Reason.SCHEMA_VIOLATION, "schema-csv")


def _schema_ndjson(rng: random.Random, i: int) -> JobFile:
    bad = dict(_record(i), status="lost")
    body = (json.dumps(_record(i + 1)) + "\n" + json.dumps(bad) + "\n").encode()
    return JobFile(f"{i:04d}-schema.ndjson", body, Reason.SCHEMA_VIOLATION, "schema-ndjson")


#: Every kind, with its weight in a mix: about half the files are valid.
KINDS: tuple[tuple[Callable[[random.Random, int], JobFile], int], ...] = (
    (_valid_csv, 10),
    (_valid_csv_formula, 2),
    (_valid_json, 6),
    (_valid_ndjson, 6),
    (_empty, 2),
    (_too_large, 2),
    (_gzip_as_csv, 2),
    (_zip_as_csv, 1),
    (_utf16, 2),
    (_latin1, 1),
    (_malformed_json, 2),
    (_malformed_csv, 2),
    (_schema_csv, 2),
    (_schema_ndjson, 2),
)


def job_files(count: int, *, seed: int) -> list[JobFile]:
    """``count`` files: one of every kind first, then a seeded weighted mix."""
    rng = random.Random(seed)  # reproducible test data
    makers = [maker for maker, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    chosen = makers[:count] + rng.choices(makers, weights, k=max(0, count - len(makers)))
    return [maker(rng, i) for i, maker in enumerate(chosen)]


def table_items(
    dynamodb: DynamoDBClient,
    table: str,
    bucket: str,
    prefix: str,
    fields: Sequence[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """pk -> plain attributes of every record of an object in ``bucket`` under ``prefix``
    (only ``fields`` of them, with the key's, when given).

    The pk is a hash of the key, so the readable ``event_key`` is what is filtered.
    """
    items: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if fields is not None:
        wanted = sorted({"pk", "bucket", "event_key", *fields})
        kwargs["ProjectionExpression"] = ", ".join(f"#f{i}" for i in range(len(wanted)))
        kwargs["ExpressionAttributeNames"] = {f"#f{i}": name for i, name in enumerate(wanted)}
    while True:
        page = dynamodb.scan(**kwargs)
        for item in page["Items"]:
            plain = {name: next(iter(value.values())) for name, value in item.items()}
            if plain.get("bucket") == bucket and str(plain.get("event_key")).startswith(prefix):
                items[str(plain["pk"])] = plain
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def version_counts(s3: S3Client, bucket: str, prefix: str) -> dict[str, int]:
    """Key -> how many versions it has (delete markers included) under ``prefix``."""
    counts: dict[str, int] = {}
    paginator = s3.get_paginator("list_object_versions")
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        entries: Iterable[Any] = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        for entry in entries:
            counts[entry["Key"]] = counts.get(entry["Key"], 0) + 1
    return counts


@contextmanager
def held_events(stack: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """Hold back the bridge's S3 events; the test delivers them with `bridge.publish`."""
    bridge = stack.bridge
    assert bridge is not None
    events: list[Any] = []
    lock = threading.Lock()

    def hold(event: dict[str, Any]) -> None:
        with lock:
            events.append(event)

    with monkeypatch.context() as patch:
        patch.setattr(bridge, "publish", hold)
        yield events


def wait_until_quiet(stack: LocalStack, timeout: float) -> None:
    """Wait until the bridge delivered everything, no execution is running and every ended
    execution's status change reached the failure recorder and its run ended."""
    deadline = time.monotonic() + timeout
    bridge, sfn = stack.bridge, stack.client("stepfunctions")
    assert bridge is not None
    assert bridge.wait_idle(timeout), "the bridge did not deliver every event in time"
    while sfn.list_executions(
        stateMachineArn=stack.state_machine_arn, statusFilter="RUNNING", maxResults=1
    )["executions"]:
        assert time.monotonic() < deadline, "executions still running at the deadline"
        time.sleep(0.1)
    remaining = max(1.0, deadline - time.monotonic())
    assert stack.wait_for_endings(remaining), "the failure recorder did not finish in time"


def record(stack: LocalStack, key: str) -> dict[str, Any]:
    """The metadata record of ``key`` in the input bucket (plain values), as the event names it."""
    item = stack.client("dynamodb").get_item(
        TableName=stack.resource_name("MetadataTable"),
        Key={"pk": {"S": item_key(stack.input_bucket, key)}},
        ConsistentRead=True,
    )["Item"]
    return {name: next(iter(value.values())) for name, value in item.items()}


def target_of(stack: LocalStack) -> Target:
    """The ops commands' view of the local stack."""
    return Target(
        stack="scalper-local",
        region=stack.config.region,
        state_machine_arn=stack.state_machine_arn,
        table=stack.resource_name("MetadataTable"),
        input_bucket=stack.input_bucket,
        quarantine_bucket=stack.resource_name("QuarantineBucket"),
        topic_arn=stack.resource_name("AlertsTopic"),
        endpoint_url=stack.aws_url,
    )
