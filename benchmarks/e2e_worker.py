"""End-to-end throughput of the local stack, uploads included, in one fresh process.

``python -m benchmarks.e2e_worker --count N --size BYTES --workdir DIR`` starts the local
stack (``scalper.local.LocalStack``: moto, the local Lambda endpoint with one warm worker
process per function, the HTTP API, the EventBridge bridge), then uploads N generated NDJSON
files the way a client does -- ``POST /uploads`` for a presigned POST, then the multipart
POST to S3, over real HTTP -- from a few client threads in a client process of their own,
as a real client (`scalper upload`, a browser) is another process, and waits until every
file's execution has ended. Files per second = N / (last execution end - first upload start).
The client process is started and has imported what it needs before the stack starts; the
clock starts when it is handed the files. Prints one JSON object on stdout (its last line).

``python -m benchmarks.e2e_worker --client`` is that client: it prints ``ready``, reads one
JSON line (``api``, ``paths``, ``clients``) and answers one (``keys``, or ``error``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
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


def _upload_all(api: str, paths: list[Path], clients: int) -> list[str]:
    """Upload every file as a client does, from ``clients`` threads; the object keys."""
    credentials = Credentials(LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY)

    def send(path: Path) -> str:
        return upload_file(api, path, credentials=credentials, region="us-east-1").key

    with ThreadPoolExecutor(max_workers=clients) as pool:
        return list(pool.map(send, paths))


def client_main() -> int:
    """The client process: ``ready``, then one job in and its keys (or error) out."""
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    job = json.loads(sys.stdin.readline())
    try:
        keys = _upload_all(job["api"], [Path(p) for p in job["paths"]], job["clients"])
        answer: dict[str, Any] = {"keys": keys}
    except Exception as exc:  # the stack's process reports it
        answer = {"error": f"{type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


class _Client:
    """The uploading client, a process of its own, started before the stack."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.e2e_worker", "--client"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _line(self) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the upload client exited ({self.process.wait(self.timeout)})")
        return line

    def wait_ready(self) -> None:
        """Block until the client has imported what it needs."""
        if self._line().strip() != "ready":
            raise RuntimeError("the upload client did not start")

    def upload(self, api: str, paths: list[Path], clients: int) -> list[str]:
        """Hand the client every file; the object keys once all are uploaded."""
        assert self.process.stdin is not None
        job = {"api": api, "paths": [str(p) for p in paths], "clients": clients}
        self.process.stdin.write(json.dumps(job) + "\n")
        self.process.stdin.flush()
        answer = json.loads(self._line())
        if "error" in answer:
            raise RuntimeError(f"upload client: {answer['error']}")
        return [str(k) for k in answer["keys"]]

    def close(self) -> None:
        """End the client process."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(self.timeout)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(count: int, size: int, workdir: Path, clients: int, timeout: float) -> dict[str, Any]:
    """Start the stack, upload, wait; the timings and final statuses."""
    paths = _files(workdir, count, size)
    client = _Client(timeout)
    try:
        client.wait_ready()
        started_stack = time.perf_counter()
        with LocalStack(StackConfig()) as stack:
            stack_seconds = time.perf_counter() - started_stack
            cpu0 = _cpu_seconds()
            t0 = time.perf_counter()
            keys = client.upload(stack.api_url, paths, clients)
            uploaded = time.perf_counter() - t0
            statuses = stack.wait_for_statuses(keys, timeout)
            elapsed = time.perf_counter() - t0
            stack_cpu = _cpu_seconds() - cpu0
            outcomes: Counter[str] = Counter()
            for key in keys:
                report = stack.report(stack.execution_arns_for(key)[-1])
                output = report.output if isinstance(report.output, dict) else {}
                outcomes[str(output.get("status") or report.status)] += 1
    finally:
        client.close()
    return {
        "files": count,
        "file_bytes": paths[0].stat().st_size if paths else 0,
        "clients": clients,
        "client": "separate process",
        # The stack's own process from the first upload to the last end (cold starts of the
        # function workers are other processes; their starting is counted here).
        "stack_cpu_seconds_per_file": round(stack_cpu / count, 4) if count else None,
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
    parser.add_argument("--count", type=int)
    parser.add_argument("--size", type=int, help="bytes per file (approximate)")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument(
        "--clients", type=int, default=4, help="uploading threads (in one client process)"
    )
    parser.add_argument("--timeout", type=float, default=1_500)
    parser.add_argument(
        "--client", action="store_true", help="be the upload client (started by a run itself)"
    )
    args = parser.parse_args(argv)
    if args.client:
        return client_main()
    if args.count is None or args.size is None or args.workdir is None:
        parser.error("--count, --size and --workdir are required")
    result = run(args.count, args.size, args.workdir, args.clients, args.timeout)
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
