"""``scalper report``: the result lines of a period, queried with DuckDB, as one HTML page.

The results bucket holds one JSON line per file outcome under ``results/dt=YYYY-MM-DD/``
(see :mod:`silent_scalper.pipeline.write_result`). The report reads only the day partitions
of the period (the same pruning Athena's partition projection does), loads them into an
in-memory DuckDB database and runs the questions the Athena named queries ask: files and
bytes per day by status, top quarantine reasons, failure rate, plus throughput and latency.
Rendering is in :mod:`scalper.ops.report_html`.

DuckDB reads the lines from a local temporary file rather than from S3 itself: its S3
support is an extension downloaded at first use, and the report must work offline and
against the local stack's endpoint alike.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scalper.ops.common import OpsError
from scalper.ops.target import Target

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

RESULTS_OUTPUT = "ResultsBucketName"
RESULTS_PREFIX = "results/"
STATUSES = ("VALID", "QUARANTINED", "FAILED")

#: The result line's columns and their DuckDB types (the Glue table's, in DuckDB terms).
COLUMNS: dict[str, str] = {
    "pk": "VARCHAR",
    "bucket": "VARCHAR",
    "key": "VARCHAR",
    "status": "VARCHAR",
    "reason": "VARCHAR",
    "size": "BIGINT",
    "records": "BIGINT",
    "invalid_records": "BIGINT",
    "format": "VARCHAR",
    "schema_name": "VARCHAR",
    "job_ids": "BIGINT",
    "event_time": "VARCHAR",
    "processed_at": "VARCHAR",
    "latency_seconds": "DOUBLE",
    "execution_arn": "VARCHAR",
    "failure_error": "VARCHAR",
    "uploader_kind": "VARCHAR",
    "uploader_principal": "VARCHAR",
    "uploader_name": "VARCHAR",
    "dt": "VARCHAR",
}


@dataclass(frozen=True)
class Totals:
    """The period in a few numbers."""

    files: int
    bytes: int
    valid: int
    quarantined: int
    failed: int
    records: int
    uploaders: int
    median_latency: float | None
    p95_latency: float | None

    @property
    def failure_rate(self) -> float:
        """FAILED outcomes as a share of all outcomes (0 when there are none)."""
        return self.failed / self.files if self.files else 0.0

    @property
    def valid_rate(self) -> float:
        """VALID outcomes as a share of all outcomes."""
        return self.valid / self.files if self.files else 0.0


@dataclass(frozen=True)
class ReportData:
    """Everything the HTML page shows."""

    title: str
    since: datetime
    until: datetime
    source: str
    totals: Totals
    #: (day, status, files, bytes), every day of the period, every status.
    per_day: list[tuple[str, str, int, int]]
    #: (reason, files), most frequent first.
    reasons: list[tuple[str, int]]
    #: (bucket start ISO, files, bytes) per hour or per day.
    throughput: list[tuple[str, int, int]]
    throughput_unit: str
    #: (processed_at, key, status, reason or error), the latest problems.
    problems: list[tuple[str, str, str, str]]
    #: (uploader, files, quarantined+failed share).
    uploaders: list[tuple[str, int, float]] = field(default_factory=list)


def days(since: datetime, until: datetime) -> list[date]:
    """Every UTC day from ``since`` to ``until`` inclusive."""
    first, last = since.astimezone(UTC).date(), until.astimezone(UTC).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def buckets(since: datetime, until: datetime, unit: str) -> list[str]:
    """Start of every ``hour`` or ``day`` from ``since`` to ``until`` (UTC, ``%Y-%m-%dT%H:00Z``)."""
    step = timedelta(hours=1) if unit == "hour" else timedelta(days=1)
    start = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    if unit == "day":
        start = start.replace(hour=0)
    out: list[str] = []
    while start <= until.astimezone(UTC):
        out.append(start.strftime("%Y-%m-%dT%H:00Z"))
        start += step
    return out


def results_bucket(target: Target) -> str:
    """The results bucket of the target (its ``ResultsBucketName`` output)."""
    bucket = target.outputs.get(RESULTS_OUTPUT)
    if not bucket:
        raise OpsError(
            f"stack {target.stack!r} has no {RESULTS_OUTPUT} output: deploy a version with "
            "results for Athena"
        )
    return bucket


def download_lines(s3: S3Client, bucket: str, since: datetime, until: datetime, dest: Path) -> int:
    """Write every result line of the period's day partitions to ``dest``; returns the count."""
    keys: list[str] = []
    paginator = s3.get_paginator("list_objects_v2")
    for day in days(since, until):
        for page in paginator.paginate(Bucket=bucket, Prefix=f"{RESULTS_PREFIX}dt={day}/"):
            keys.extend(str(o["Key"]) for o in page.get("Contents", []) if "Key" in o)

    def fetch(key: str) -> bytes:
        return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    count = 0
    with dest.open("wb") as out, ThreadPoolExecutor(max_workers=8) as pool:
        for body in pool.map(fetch, keys):
            for line in body.splitlines():
                if line.strip():
                    out.write(line.strip() + b"\n")
                    count += 1
    return count


def query(lines: Path, *, since: datetime, until: datetime, title: str, source: str) -> ReportData:
    """Run the report's SQL over a file of result lines."""
    try:
        import duckdb  # noqa: PLC0415 - optional: the report extra
    except ImportError:
        raise OpsError(
            "scalper report needs DuckDB: pip install 'silent-scalper[report]'"
        ) from None
    con = duckdb.connect(":memory:")
    try:
        columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
        if lines.stat().st_size:
            con.execute(
                # The column spec is built from COLUMNS above, never from input.
                "CREATE TABLE raw AS SELECT * FROM read_json(?, format = 'newline_delimited', "  # noqa: S608
                f"columns = {columns})",
                [str(lines)],
            )
        else:
            con.execute(
                "CREATE TABLE raw (" + ", ".join(f"{k} {v}" for k, v in COLUMNS.items()) + ")"
            )
        con.execute(
            # Times are UTC ISO strings ending in Z: compared as naive UTC timestamps, so the
            # result does not depend on the machine's time zone.
            "CREATE TABLE results AS SELECT *, "
            "CAST(replace(processed_at, 'Z', '') AS TIMESTAMP) AS done_at FROM raw "
            "WHERE CAST(replace(processed_at, 'Z', '') AS TIMESTAMP) BETWEEN ? AND ?",
            [_naive_utc(since), _naive_utc(until)],
        )
        return _collect(con, since=since, until=until, title=title, source=source)
    finally:
        con.close()


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _collect(con: Any, *, since: datetime, until: datetime, title: str, source: str) -> ReportData:
    row = con.execute(
        "SELECT count(*), coalesce(sum(size), 0), "
        "count(*) FILTER (WHERE status = 'VALID'), "
        "count(*) FILTER (WHERE status = 'QUARANTINED'), "
        "count(*) FILTER (WHERE status = 'FAILED'), "
        "coalesce(sum(records), 0), count(DISTINCT uploader_principal), "
        "median(latency_seconds), quantile_cont(latency_seconds, 0.95) FROM results"
    ).fetchone()
    totals = Totals(
        files=int(row[0]),
        bytes=int(row[1]),
        valid=int(row[2]),
        quarantined=int(row[3]),
        failed=int(row[4]),
        records=int(row[5]),
        uploaders=int(row[6]),
        median_latency=None if row[7] is None else float(row[7]),
        p95_latency=None if row[8] is None else float(row[8]),
    )
    found = {
        (str(d), str(s)): (int(f), int(b))
        for d, s, f, b in con.execute(
            "SELECT dt, status, count(*), coalesce(sum(size), 0) FROM results GROUP BY dt, status"
        ).fetchall()
    }
    per_day = [
        (str(day), status, *found.get((str(day), status), (0, 0)))
        for day in days(since, until)
        for status in STATUSES
    ]
    reasons = [
        (str(r or "UNKNOWN"), int(n))
        for r, n in con.execute(
            "SELECT reason, count(*) AS n FROM results WHERE status = 'QUARANTINED' "
            "GROUP BY reason ORDER BY n DESC, reason LIMIT 10"
        ).fetchall()
    ]
    hourly = until - since <= timedelta(days=2)
    unit = "hour" if hourly else "day"
    found_buckets = {
        str(t): (int(n), int(b))
        for t, n, b in con.execute(
            f"SELECT strftime(date_trunc('{unit}', done_at), "  # noqa: S608
            "'%Y-%m-%dT%H:00Z') AS t, count(*), coalesce(sum(size), 0) "
            "FROM results GROUP BY t ORDER BY t"
        ).fetchall()
    }
    # Every hour (or day) of the period, empty ones too: gaps in time must show as gaps.
    throughput = [(t, *found_buckets.get(t, (0, 0))) for t in buckets(since, until, unit)]
    problems = [
        (str(at), str(key), str(status), str(why or ""))
        for at, key, status, why in con.execute(
            "SELECT processed_at, key, status, coalesce(reason, failure_error) FROM results "
            "WHERE status <> 'VALID' ORDER BY processed_at DESC LIMIT 12"
        ).fetchall()
    ]
    uploaders = [
        (str(name), int(n), float(bad))
        for name, n, bad in con.execute(
            "SELECT coalesce(uploader_name, uploader_principal) AS who, count(*) AS n, "
            "avg(CASE WHEN status = 'VALID' THEN 0 ELSE 1 END) FROM results "
            "WHERE uploader_principal IS NOT NULL GROUP BY who ORDER BY n DESC LIMIT 8"
        ).fetchall()
    ]
    return ReportData(
        title=title,
        since=since,
        until=until,
        source=source,
        totals=totals,
        per_day=per_day,
        reasons=reasons,
        throughput=throughput,
        throughput_unit=unit,
        problems=problems,
        uploaders=uploaders,
    )


def build_report(
    s3: S3Client, target: Target, *, since: datetime, until: datetime | None = None
) -> ReportData:
    """Download the period's result lines from the target's results bucket and query them."""
    until = until or datetime.now(UTC)
    bucket = results_bucket(target)
    with tempfile.TemporaryDirectory(prefix="scalper-report-") as tmp:
        lines = Path(tmp) / "results.ndjson"
        download_lines(s3, bucket, since, until, lines)
        where = target.endpoint_url or target.region
        return query(
            lines,
            since=since,
            until=until,
            title=f"Silent Scalper — {target.stack}",
            source=f"s3://{bucket}/{RESULTS_PREFIX} ({where})",
        )


def to_json(data: ReportData) -> dict[str, Any]:
    """The report's numbers as plain data (``--json``)."""
    t = data.totals
    return {
        "since": data.since.isoformat(),
        "until": data.until.isoformat(),
        "source": data.source,
        "totals": {
            "files": t.files,
            "bytes": t.bytes,
            "valid": t.valid,
            "quarantined": t.quarantined,
            "failed": t.failed,
            "failure_rate": round(t.failure_rate, 4),
            "records": t.records,
            "uploaders": t.uploaders,
            "median_latency_seconds": t.median_latency,
            "p95_latency_seconds": t.p95_latency,
        },
        "per_day": [{"day": d, "status": s, "files": f, "bytes": b} for d, s, f, b in data.per_day],
        "reasons": [{"reason": r, "files": n} for r, n in data.reasons],
        "throughput": [{"start": t_, "files": n, "bytes": b} for t_, n, b in data.throughput],
    }
