"""Per-file accounting through the real pipeline on moto, in one fresh process.

``python -m benchmarks.pipeline_worker CASES_JSON`` runs the deployed ASL
(``statemachine/pipeline.asl.json`` with ``template.yaml``'s substitutions resolved) on moto's
Step Functions engine; its Lambda tasks reach the real handlers (``functions/*/app.py``, the
template's environment) through a minimal in-process endpoint speaking the Lambda Invoke
API (``scalper.local.in_process_lambda``, the one the handler tests use), and every AWS
call they make -- and the state machine's direct DynamoDB and SNS integrations -- lands on
the same in-process moto backends.

For each case (a generated file uploaded to the input bucket, then one execution with the
EventBridge event S3 would send) it records:

- bytes S3 sent for every ``GetObject`` (``ContentLength`` of each response; ranged GETs
  count their range) and the bytes the handlers actually read from the bodies;
- every AWS request by service and operation (S3 GET/PUT/COPY, DynamoDB writes, SNS, Lambda);
- DynamoDB write request units (item size, plus the ``by-status`` index writes);
- the states entered and each handler's wall time.

A case may ask for the same event to be delivered again (the duplicate path).
Prints one JSON object on stdout (its last line).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalper.local.in_process_lambda import Handler

REPO_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = REPO_ROOT / "template.yaml"
EVENT = REPO_ROOT / "events" / "eventbridge" / "object-created.json"
REGION = "us-east-1"
KIB = 1024


@dataclass
class Meter:
    """What the process's AWS clients asked for and received (reset per case)."""

    calls: Counter[str] = field(default_factory=Counter)
    get_object_bytes: int = 0
    body_bytes_read: int = 0
    dynamodb_writes: list[tuple[str, str, int]] = field(default_factory=list)  # op, pk, size
    lambda_ms: dict[str, list[float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    paused: bool = False  # the benchmark's own reads are not the pipeline's

    def reset(self) -> None:
        """Forget everything counted so far."""
        with self.lock:
            self.calls.clear()
            self.get_object_bytes = 0
            self.body_bytes_read = 0
            self.dynamodb_writes.clear()
            self.lambda_ms.clear()


METER = Meter()


def _attr_size(value: Mapping[str, Any]) -> int:
    """Approximate DynamoDB size of one attribute value (the documented rules, simplified)."""
    (kind, inner), *_ = value.items()
    size = _ATTR_SIZES.get(kind)
    return 0 if size is None else size(inner)


#: The size of an attribute value's payload, by DynamoDB type.
_ATTR_SIZES: dict[str, Callable[[Any], int]] = {
    "S": lambda inner: len(str(inner).encode()),
    "N": lambda inner: len(str(inner).lstrip("-").replace(".", "")) // 2 + 2,
    "B": len,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "M": lambda inner: 3 + sum(len(k.encode()) + _attr_size(v) for k, v in inner.items()),
    "L": lambda inner: 3 + sum(1 + _attr_size(v) for v in inner),
    "SS": lambda inner: sum(len(str(v).encode()) for v in inner),
    "NS": lambda inner: sum(len(str(v).encode()) for v in inner),
    "BS": lambda inner: sum(len(str(v).encode()) for v in inner),
}


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Approximate DynamoDB item size in bytes: attribute names plus values."""
    return sum(len(name.encode()) + _attr_size(value) for name, value in item.items())


def install_meter() -> None:
    """Count every AWS request of this process, and the S3 body bytes read.

    Patched at the botocore level so that every client counts: the handlers' own, and the
    ones moto's Step Functions engine creates for its direct integrations.
    """
    from botocore.client import BaseClient  # noqa: PLC0415 - after the env is set
    from botocore.response import StreamingBody  # noqa: PLC0415

    # botocore's stubs do not declare this private method; it is what every client calls.
    original_call = BaseClient._make_api_call  # type: ignore[attr-defined]
    original_read = StreamingBody.read

    def make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = self.meta.service_model.service_name
        response = original_call(self, operation_name, api_params)
        # The harness's own Step Functions polling is not the pipeline's work.
        if METER.paused or service == "stepfunctions":
            return response
        with METER.lock:
            METER.calls[f"{service}:{operation_name}"] += 1
            if service == "s3" and operation_name == "GetObject":
                METER.get_object_bytes += int(response.get("ContentLength") or 0)
                # Only object bodies are counted on read (Lambda payloads are bodies too).
                response["Body"]._bench_s3_body = True
            if service == "dynamodb" and operation_name in ("PutItem", "UpdateItem"):
                key = api_params.get("Item") or api_params.get("Key") or {}
                pk = str((key.get("pk") or {}).get("S", ""))
                size = item_size(api_params["Item"]) if "Item" in api_params else -1
                METER.dynamodb_writes.append((operation_name, pk, size))
        return response

    def read(self: Any, amt: int | None = None) -> bytes:
        data: bytes = original_read(self, amt)
        if METER.paused or not getattr(self, "_bench_s3_body", False):
            return data
        with METER.lock:
            METER.body_bytes_read += len(data)
        return data

    original_readinto = StreamingBody.readinto

    def readinto(self: Any, b: Any) -> int:
        count: int = original_readinto(self, b)
        if not METER.paused and getattr(self, "_bench_s3_body", False):
            with METER.lock:
                METER.body_bytes_read += count
        return count

    BaseClient._make_api_call = make_api_call  # type: ignore[attr-defined]
    StreamingBody.read = read  # type: ignore[method-assign]
    StreamingBody.readinto = readinto  # type: ignore[method-assign]


def load_handler(code_dir: Path, logical_id: str) -> ModuleType:
    """Import ``<CodeUri>/app.py`` as its own module (the template's ``Handler: app.handler``)."""
    spec = importlib.util.spec_from_file_location(f"bench_{logical_id}_app", code_dir / "app.py")
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {code_dir / 'app.py'}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _timed(function: str, elapsed_ms: float) -> None:
    with METER.lock:
        METER.lambda_ms.setdefault(function, []).append(elapsed_ms)


def globals_environment(template: Mapping[str, Any], resolver: Any) -> dict[str, str]:
    """The functions' environment as ``template``'s Globals set it, each value resolved
    by ``resolver`` (``scalper.sfn_mock.definition.local_resolver``'s, for a local stack)."""
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {k: str(resolver.resolve(v, f"Globals.{k}")) for k, v in variables.items()}


@contextmanager
def pipeline(max_upload_bytes: int) -> Iterator[dict[str, Any]]:
    """moto + resources named as the template names them + handlers + the state machine."""
    from scalper.local.in_process_lambda import serve_in_process  # noqa: PLC0415
    from scalper.local.template import load_template  # noqa: PLC0415
    from scalper.sfn_mock.definition import load_definition, local_resolver  # noqa: PLC0415

    template = load_template(TEMPLATE)
    resolver = local_resolver(template, REPO_ROOT)
    env = globals_environment(template, resolver)
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            # The benchmark's own limit: files up to the largest measured size are accepted.
            "MAX_UPLOAD_BYTES": str(max_upload_bytes),
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    os.environ.update(env)

    import boto3  # noqa: PLC0415 - after the environment is set
    from moto import mock_aws  # noqa: PLC0415

    install_meter()
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        s3 = boto3.client("s3", region_name=REGION)
        for bucket in (env["INPUT_BUCKET"], env["QUARANTINE_BUCKET"]):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        table = resolver.resolve(template["Resources"]["MetadataTable"]["Properties"], "table")
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=env["METADATA_TABLE"],
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=table["AttributeDefinitions"],
            KeySchema=table["KeySchema"],
            GlobalSecondaryIndexes=table.get("GlobalSecondaryIndexes", []),
        )
        boto3.client("sns", region_name=REGION).create_topic(
            Name=env["ALERTS_TOPIC_ARN"].rsplit(":", 1)[-1]
        )
        rendered = load_definition(TEMPLATE)
        # Only the functions the state machine invokes (its DefinitionSubstitutions' ARNs).
        invoked = {str(v) for v in rendered.substitutions.values() if ":function:" in str(v)}
        handlers: dict[str, Handler] = {}
        memory: dict[str, int] = {}
        glob_memory = int(template["Globals"]["Function"].get("MemorySize", 128))
        for lid, res in template["Resources"].items():
            if res.get("Type") != "AWS::Serverless::Function":
                continue
            arn = str(resolver.resources[lid].attributes["Arn"])
            if arn not in invoked:
                continue
            name = arn.rsplit(":", 1)[-1]
            props = res["Properties"]
            # Each handler reads its settings at import: its own variables over the globals.
            own = (props.get("Environment") or {}).get("Variables") or {}
            os.environ.update(env)
            os.environ.update({k: str(resolver.resolve(v, f"{lid}.{k}")) for k, v in own.items()})
            handlers[name] = load_handler(REPO_ROOT / props["CodeUri"], lid).handler
            memory[name] = int(props.get("MemorySize", glob_memory))
        server = serve_in_process(handlers, on_invoked=_timed)
        os.environ["AWS_ENDPOINT_URL_LAMBDA"] = server.url
        sfn = boto3.client("stepfunctions", region_name=REGION)
        arn = sfn.create_state_machine(
            name=rendered.name,
            definition=rendered.definition,
            roleArn="arn:aws:iam::123456789012:role/bench",
        )["stateMachineArn"]
        try:
            yield {
                "s3": s3,
                "sfn": sfn,
                "arn": arn,
                "env": env,
                "memory": memory,
                "index_projection": index_projection(template),
            }
        finally:
            server.stop()


def _execute(ctx: Mapping[str, Any], event: Mapping[str, Any]) -> dict[str, Any]:
    """One execution with ``event`` as input; its states entered, retries and wall time."""
    sfn = ctx["sfn"]
    execution = sfn.start_execution(
        stateMachineArn=ctx["arn"], name=str(uuid.uuid4()), input=json.dumps(event)
    )["executionArn"]
    deadline = time.monotonic() + 600
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution still running after 600 s: {execution}")
        time.sleep(0.02)
    events: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"executionArn": execution}
    while True:
        page = sfn.get_execution_history(**kwargs)
        events.extend(page["events"])
        if not page.get("nextToken"):
            break
        kwargs["nextToken"] = page["nextToken"]
    states = [
        e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
    ]
    scheduled = sum(1 for e in events if str(e["type"]).endswith("Scheduled"))
    tasks = sum(1 for e in events if e["type"] == "TaskStateEntered")
    started, ended = events[0]["timestamp"], events[-1]["timestamp"]
    output = json.loads(described.get("output") or "null")
    return {
        "status": described["status"],
        "states": states,
        "retries": max(0, scheduled - tasks),
        "execution_ms": (ended - started).total_seconds() * 1000,
        "outcome": output.get("status") if isinstance(output, dict) else None,
        "reason": output.get("reason") if isinstance(output, dict) else None,
    }


def dynamodb_write_units(
    writes: list[tuple[str, str, int]], final_size: int, index_projection: str = "ALL"
) -> int:
    """Write request units: the item (1 KiB units) and the ``by-status`` index writes.

    The first write of an item puts it in the index; a later write that changes its status
    deletes the old index entry and puts a new one (two index writes). An UpdateItem's size
    is taken as the item's final size (DynamoDB bills the larger of before and after). An
    index entry is billed by its own size: the whole item with an ``ALL`` projection, the
    keys alone (table and index keys, well under 1 KiB) with ``KEYS_ONLY``.
    """
    units = 0
    seen: set[str] = set()
    for _op, pk, size in writes:
        kib = max(1, math.ceil((size if size >= 0 else final_size) / KIB))
        if index_projection == "ALL":
            entry_kib = kib
        else:  # pk + status + updated_at with their names
            entry_kib = max(1, math.ceil((len(pk.encode()) + 2 + 6 + 16 + 10 + 32) / KIB))
        units += kib + entry_kib * (1 if pk not in seen else 2)
        seen.add(pk)
    return units


def index_projection(template: Mapping[str, Any]) -> str:
    """The ``by-status`` index's ProjectionType in ``template.yaml``."""
    table = template["Resources"]["MetadataTable"]["Properties"]
    for index in table.get("GlobalSecondaryIndexes", []):
        if index["IndexName"] == "by-status":
            return str(index["Projection"]["ProjectionType"])
    return "ALL"


def run_case(ctx: Mapping[str, Any], case: Mapping[str, Any], workdir: Path) -> dict[str, Any]:
    """Upload one generated file, run its execution (and its duplicate), measure both."""
    from benchmarks.generate import Format, generate  # noqa: PLC0415

    made = generate(
        workdir,
        Format(case["format"]),
        int(case["size"]),
        invalid=bool(case.get("invalid")),
        name=f"{uuid.uuid4().hex[:8]}-{case['name']}.{case['format']}",
    )
    try:
        s3, env = ctx["s3"], ctx["env"]
        key = f"{env['UPLOAD_PREFIX']}2026-11-25/{uuid.uuid4().hex}/{made.path.name}"
        with made.path.open("rb") as body:
            put = s3.put_object(Bucket=env["INPUT_BUCKET"], Key=key, Body=body)
    finally:
        made.path.unlink(missing_ok=True)
    event = json.loads(EVENT.read_text(encoding="utf-8"))
    event["id"] = str(uuid.uuid4())
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event["resources"] = [f"arn:aws:s3:::{env['INPUT_BUCKET']}"]
    event["detail"]["bucket"]["name"] = env["INPUT_BUCKET"]
    event["detail"]["object"].update(
        {
            "key": key,
            "size": made.size,
            "etag": str(put["ETag"]).strip('"'),
            "version-id": put["VersionId"],
            "sequencer": f"{time.time_ns():020X}",
        }
    )
    results: dict[str, Any] = {"name": case["name"], "size": made.size, "records": made.records}
    runs = [("first", event)]
    if case.get("duplicate"):
        runs.append(("duplicate", event))
    for label, ev in runs:
        METER.reset()
        execution = _execute(ctx, ev)
        item = item_bytes_now(env["METADATA_TABLE"], f"{env['INPUT_BUCKET']}/{key}")
        with METER.lock:
            results[label] = {
                **execution,
                "bytes_read": METER.get_object_bytes,
                "body_bytes_read": METER.body_bytes_read,
                "calls": dict(sorted(METER.calls.items())),
                "dynamodb_write_units": dynamodb_write_units(
                    list(METER.dynamodb_writes), item, ctx["index_projection"]
                ),
                "lambda_ms": {k: sum(v) for k, v in METER.lambda_ms.items()},
                "item_bytes": item,
            }
    return results


def item_bytes_now(table: str, pk: str) -> int:
    """Size of the metadata item now (0 when absent); this read is not counted."""
    import boto3  # noqa: PLC0415

    METER.paused = True
    try:
        client = boto3.client("dynamodb", region_name=REGION)
        item = client.get_item(TableName=table, Key={"pk": {"S": pk}}).get("Item") or {}
    finally:
        METER.paused = False
    return item_size(item)


def main(argv: list[str] | None = None) -> int:
    """Run the cases given as a JSON list; print the results as one JSON object."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pipeline_worker")
    parser.add_argument("cases", help="JSON list of {name, format, size, invalid, duplicate}")
    parser.add_argument("--workdir", type=Path, required=True)
    args = parser.parse_args(argv)
    cases: list[dict[str, Any]] = json.loads(args.cases)
    biggest = max(int(c["size"]) for c in cases)
    out: dict[str, Any] = {"cases": []}
    with pipeline(max_upload_bytes=2 * biggest + 10 * 1024 * 1024) as ctx:
        out["memory_mb"] = ctx["memory"]
        for case in cases:
            out["cases"].append(run_case(ctx, case, args.workdir))
    sys.stdout.write("\n" + json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
