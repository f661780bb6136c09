"""End-to-end throughput of the local stack, uploads included, in one fresh process.

``python -m benchmarks.e2e_worker --count N --size BYTES --workdir DIR`` starts the local
stack (``scalper.local.LocalStack``: moto, the local Lambda endpoint with one warm worker
process per function, the HTTP API, the EventBridge bridge), then uploads N generated NDJSON
files the way a client does -- ``POST /uploads`` for a presigned POST, then the multipart
POST to S3, over real HTTP -- from a few client threads, and waits until every file's
execution has ended. Files per second = N / (last execution end - first upload start).
Prints one JSON object on stdout (its last line).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.credentials import Credentials

from benchmarks.generate import Format, generate
from scalper.cli.upload import upload_file
from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY
from scalper.local.stack import LocalStack, StackConfig


def _files(workdir: Path, count: int, size: int) -> list[Path]:
    """``count`` distinct names for one generated file (hard links: no extra disk)."""
    made = generate(workdir, Format.NDJSON, size, invalid=False, name="template.ndjson")
    paths = []
    for i in range(count):
        path = workdir / f"jobs-{i:05d}.ndjson"
        os.link(made.path, path)
        paths.append(path)
    return paths


def run(count: int, size: int, workdir: Path, clients: int, timeout: float) -> dict[str, Any]:
    """Start the stack, upload, wait; the timings and final statuses."""
    paths = _files(workdir, count, size)
    credentials = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)
    started_stack = time.perf_counter()
    with LocalStack(StackConfig()) as stack:
        stack_seconds = time.perf_counter() - started_stack
        api = stack.api_url
        t0 = time.perf_counter()

        def send(path: Path) -> str:
            return upload_file(api, path, credentials=credentials, region="us-east-1").key

        with ThreadPoolExecutor(max_workers=clients) as pool:
            keys = list(pool.map(send, paths))
        uploaded = time.perf_counter() - t0
        statuses = stack.wait_for_statuses(keys, timeout)
        elapsed = time.perf_counter() - t0
        outcomes: Counter[str] = Counter()
        for key in keys:
            report = stack.report(stack.execution_arns_for(key)[-1])
            output = report.output if isinstance(report.output, dict) else {}
            outcomes[str(output.get("status") or report.status)] += 1
    return {
        "files": count,
        "file_bytes": paths[0].stat().st_size if paths else 0,
        "clients": clients,
        "stack_start_seconds": round(stack_seconds, 2),
        "upload_seconds": round(uploaded, 2),
        "seconds": round(elapsed, 2),
        "files_per_second": count / elapsed if elapsed > 0 else None,
        "mb_per_second": count * (paths[0].stat().st_size if paths else 0) / 1e6 / elapsed,
        "statuses": dict(Counter(statuses.values())),
        "outcomes": dict(outcomes),
    }


def main(argv: list[str] | None = None) -> int:
    """Run one end-to-end measurement and print it as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.e2e_worker")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--size", type=int, required=True, help="bytes per file (approximate)")
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=4, help="uploading client threads")
    parser.add_argument("--timeout", type=float, default=1_500)
    args = parser.parse_args(argv)
    result = run(args.count, args.size, args.workdir, args.clients, args.timeout)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
