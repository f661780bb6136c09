"""Every operations command end to end against the local stack, through `scalper` itself.

The suite's shared local stack (tests/e2e/conftest.py): files go in through S3 like real
uploads, the bridge starts executions, and the commands run in-process with ``--endpoint``,
exactly as a user would type them. Each test changes only files of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from failure_support import wait_for_record
from silent_scalper.records import item_key

from scalper.cli import main
from scalper.local import ExecutionReport, Fault, LocalStack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "unit" / "functions" / "data"
PREFIX = "uploads/2026-11-25/ops/"


@dataclass
class World:
    """The stack and the files the module's tests share (each test mutates only its own)."""

    stack: LocalStack
    valid: ExecutionReport
    invalid: ExecutionReport
    failed: ExecutionReport
    input_bucket: str
    table: str

    def put(self, key: str, body: bytes) -> None:
        self.stack.client("s3").put_object(
            Bucket=self.input_bucket, Key=key, Body=body, ContentType="text/csv"
        )

    def wait(self, key: str) -> ExecutionReport:
        return self.stack.wait_for_keys([key], timeout=60)[key]

    def record(self, key: str) -> dict[str, Any]:
        item = self.stack.client("dynamodb").get_item(
            TableName=self.table,
            Key={"pk": {"S": item_key(self.input_bucket, key)}},
            ConsistentRead=True,
        )["Item"]
        return {k: next(iter(v.values())) for k, v in item.items()}


@pytest.fixture(scope="module")
def world(local_stack: LocalStack) -> World:
    """Given a VALID file, a QUARANTINED one and a FAILED one (TypeCheck broken for it)."""
    stack = local_stack
    input_bucket = stack.input_bucket
    table = stack.resource_name("MetadataTable")
    valid, invalid, failing = (PREFIX + n for n in ("valid.csv", "invalid.csv", "failed.csv"))
    s3 = stack.client("s3")
    s3.put_object(Bucket=input_bucket, Key=valid, Body=(DATA / "jobs-valid.csv").read_bytes())
    s3.put_object(Bucket=input_bucket, Key=invalid, Body=(DATA / "jobs-invalid.csv").read_bytes())
    done = stack.wait_for_keys([valid, invalid], timeout=120)
    lambdas = stack.lambdas
    assert lambdas is not None
    lambdas.faults.inject(
        "TypeCheckFunction", Fault.FUNCTION_ERROR, times=None, error_type="BrokenDependency"
    )
    try:
        s3.put_object(Bucket=input_bucket, Key=failing, Body=(DATA / "jobs-valid.csv").read_bytes())
        failed = stack.wait_for_keys([failing], timeout=60)[failing]
    finally:
        lambdas.faults.clear("TypeCheckFunction")
    # The failure recorder writes FAILED once the execution's end reaches it, a moment later.
    wait_for_record(stack, failing, lambda record: record.get("status") == "FAILED")
    return World(stack, done[valid], done[invalid], failed, input_bucket, table)


def invoke_scheduled(world: World, task: str) -> dict[str, Any]:
    """Invoke reprocess_quarantined over the Lambda API with its schedule's input."""
    client = boto3.client(
        "lambda",
        endpoint_url=world.stack.lambda_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    response = client.invoke(
        FunctionName=world.stack.resource_name("ReprocessQuarantinedFunction"),
        Payload=json.dumps({"task": task}).encode(),
    )
    assert "FunctionError" not in response, response["Payload"].read()
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def scalper(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    """Run `scalper ARGV --endpoint URL --json`; (exit code, parsed JSON output)."""
    capsys.readouterr()
    code = main([*argv, "--endpoint", world.stack.aws_url, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else None


def test_status_of_a_valid_file_shows_its_record_and_every_state_with_times(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "status", world.valid.key)

    assert code == 0
    assert out["status"] == "VALID"
    assert out["record"]["records"] > 0
    assert [s["name"] for s in out["states"]] == list(world.valid.states)
    assert all(s["entered"] for s in out["states"])
    assert out["execution"]["arn"] == world.valid.arn
    assert out["execution"]["console_url"] is None  # no console for a local endpoint


def test_status_of_a_quarantined_file_exits_1_with_its_reason(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "status", f"s3://{world.input_bucket}/{world.invalid.key}")

    assert code == 1
    assert out["status"] == "QUARANTINED"
    assert out["record"]["reason"] == "SCHEMA_VIOLATION"
    assert "Quarantine" in [s["name"] for s in out["states"]]


def test_status_of_an_unknown_key_is_one_clear_line(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "status", PREFIX + "never-uploaded.csv")

    assert code == 1
    assert out["error"].startswith("no record for")


def test_no_stack_at_the_endpoint_is_a_usage_error(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["executions", "--endpoint", world.stack.aws_url, "--stack", "nope"])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_executions_lists_each_file_and_exits_1_when_some_failed(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "executions", "--since", "1h", "--limit", "100")

    by_key = {e["key"]: e for e in out["executions"]}
    assert by_key[world.valid.key]["status"] == "SUCCEEDED"
    assert by_key[world.failed.key]["status"] == "FAILED"
    assert code == 1

    code, out = scalper(world, capsys, "executions", "--status", "FAILED", "--since", "1h")
    assert {e["key"] for e in out["executions"]} >= {world.failed.key}
    assert {e["status"] for e in out["executions"]} == {"FAILED"}
    failed = next(e for e in out["executions"] if e["arn"] == world.failed.arn)
    assert (failed["failed_state"], failed["error"]) == ("TypeCheck", "BrokenDependency")
    assert (failed["redrivable"], failed["not_redrivable_because"]) == (True, "")


def test_executions_show_each_files_outcome_beside_the_execution_status(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a VALID, a QUARANTINED and a FAILED file, then each row says which it is."""
    code, out = scalper(world, capsys, "executions", "--since", "1h", "--limit", "100")

    assert code == 1  # the FAILED execution
    by_arn = {e["arn"]: e for e in out["executions"]}
    valid, invalid, failed = (by_arn[r.arn] for r in (world.valid, world.invalid, world.failed))
    assert (valid["status"], valid["outcome"]["status"]) == ("SUCCEEDED", "VALID")
    assert (invalid["status"], invalid["outcome"]["status"]) == ("SUCCEEDED", "QUARANTINED")
    assert invalid["outcome"]["reason"] == world.record(world.invalid.key)["reason"]
    assert (failed["status"], failed["outcome"]["status"]) == ("FAILED", "FAILED")
    assert all(e["outcome"]["decided_here"] for e in (valid, invalid, failed))

    capsys.readouterr()
    main(["executions", "--since", "1h", "--limit", "100", "--endpoint", world.stack.aws_url])
    table = capsys.readouterr().out
    assert "outcome" in table
    assert "QUARANTINED" in table


def test_replay_of_a_valid_or_quarantined_file_starts_nothing_and_points_to_reprocess(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given files with a verdict, when replayed, then no execution starts and the reason why."""
    sfn = world.stack.client("stepfunctions")
    machine = world.stack.state_machine_arn
    before = len(sfn.list_executions(stateMachineArn=machine)["executions"])

    for dry_run in (["--dry-run"], []):
        code, out = scalper(world, capsys, "replay", world.valid.arn, world.invalid.arn, *dry_run)

        assert code == 1
        valid, invalid = out["results"]
        assert (valid["status"], valid["new_arn"]) == ("already-final", None)
        assert (invalid["status"], invalid["new_arn"]) == ("already-final", None)
        assert "already VALID" in valid["detail"]
        assert "cannot change the verdict" in valid["detail"]
        assert "already QUARANTINED" in invalid["detail"]
        assert f"scalper reprocess --prefix {world.invalid.key}" in invalid["detail"]

    assert len(sfn.list_executions(stateMachineArn=machine)["executions"]) == before
    assert world.record(world.valid.key)["execution_arn"] == world.valid.arn


def test_report_json_cut_short_by_its_reader_ends_without_a_traceback(world: World) -> None:
    """Given `scalper report --json | head`, when head has gone, then exit 141 and no noise."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before the first byte: the first write fails
    try:
        finished = subprocess.run(
            [sys.executable, "-m", "scalper", "report", "--json"],
            env={**os.environ, "AWS_ENDPOINT_URL": world.stack.aws_url},
            stdout=write_end,
            stderr=subprocess.PIPE,
            cwd=REPO,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)

    assert finished.stderr.decode() == ""
    assert finished.returncode == 141


def test_redrive_resumes_a_failed_execution_at_its_failed_state_and_status_shows_valid(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a file whose execution failed at TypeCheck (the fault now gone), when
    `scalper redrive` runs, then the same execution resumes there and the file ends VALID."""
    key = PREFIX + "redrive.csv"
    lambdas = world.stack.lambdas
    assert lambdas is not None
    lambdas.faults.inject("TypeCheckFunction", Fault.FUNCTION_ERROR, times=None)
    try:
        world.put(key, (DATA / "jobs-valid.csv").read_bytes())
        failed = world.wait(key)
    finally:
        lambdas.faults.clear("TypeCheckFunction")
    assert (failed.status, failed.states[-1]) == ("FAILED", "TypeCheck")

    code, out = scalper(world, capsys, "redrive", failed.arn, "--dry-run")
    [item] = out["results"]
    assert (code, item["outcome"], item["failed_state"]) == (0, "would-redrive", "TypeCheck")

    code, out = scalper(world, capsys, "redrive", failed.arn)
    assert (code, out["results"][0]["outcome"]) == (0, "redriven")
    report = world.stack.wait_for_execution(failed.arn, timeout=60)
    assert (report.arn, report.status, report.states[-1]) == (failed.arn, "SUCCEEDED", "Done")
    code, out = scalper(world, capsys, "status", key)
    assert (code, out["status"], out["execution"]["redrive_count"]) == (0, "VALID", 1)

    code, out = scalper(world, capsys, "redrive", "--all-failed", "--since", "1h", "--dry-run")
    assert failed.arn not in [r["arn"] for r in out["results"]]


def test_replay_of_the_failed_execution_runs_the_file_again_to_valid(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "replay", world.failed.arn, "--dry-run")
    assert (code, out["results"][0]["status"]) == (0, "would-replay")

    code, out = scalper(world, capsys, "replay", world.failed.arn)

    assert code == 0
    [result] = out["results"]
    assert result["status"] == "replayed"
    assert result["new_arn"] != world.failed.arn
    report = world.stack.wait_for_execution(result["new_arn"], timeout=60)
    assert report.status == "SUCCEEDED"
    assert world.record(world.failed.key)["status"] == "VALID"

    # The old execution is superseded now: redriving it would only end in Superseded.
    code, out = scalper(world, capsys, "redrive", world.failed.arn, "--dry-run")
    assert (code, out["results"][0]["outcome"]) == (0, "superseded")

    # ...and its row in `executions` shows the file's new outcome, decided by the replay.
    _, out = scalper(world, capsys, "executions", "--since", "1h", "--limit", "100")
    outcomes = {e["arn"]: e["outcome"] for e in out["executions"]}
    assert outcomes[world.failed.arn] == {
        "status": "VALID",
        "reason": None,
        "owner_arn": result["new_arn"],
        "decided_here": False,
    }
    assert outcomes[result["new_arn"]]["decided_here"] is True


def test_reprocess_dry_run_lists_quarantined_files_and_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = scalper(world, capsys, "reprocess", "--prefix", PREFIX, "--dry-run")

    assert code == 0
    releases = {f["key"]: f["release"] for f in out["files"]}
    assert releases[world.invalid.key] == "would-release"
    assert world.record(world.invalid.key)["status"] == "QUARANTINED"


def test_reprocess_with_check_releases_nothing_while_the_schema_still_rejects_the_file(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    before = world.record(world.invalid.key)["sequencer"]

    code, out = scalper(world, capsys, "reprocess", "--prefix", world.invalid.key, "--check")

    assert code == 1
    assert out["files"][0]["release"] == "still-invalid"
    assert "SCHEMA_VIOLATION" in out["files"][0]["detail"]
    assert world.record(world.invalid.key)["sequencer"] == before


def test_reprocess_of_a_file_that_still_fails_keeps_a_fresh_quarantine_copy(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    key = PREFIX + "still-bad.csv"
    world.put(key, (DATA / "jobs-invalid.csv").read_bytes())
    first = world.wait(key)
    old = world.record(key)

    code, out = scalper(world, capsys, "reprocess", "--prefix", key, "--wait", "60")

    assert code == 1
    [item] = out["files"]
    assert (item["release"], item["new_status"], item["settled"]) == (
        "released",
        "QUARANTINED",
        "quarantined-again",
    )
    new = world.record(key)
    assert new["status"] == "QUARANTINED"
    assert new["sequencer"] > old["sequencer"]
    assert new["execution_arn"] != first.arn
    s3 = world.stack.client("s3")
    bucket, _, copy_key = new["quarantine_location"][5:].partition("/")
    s3.head_object(Bucket=bucket, Key=copy_key)
    s3.head_object(Bucket=bucket, Key=copy_key + ".report.json")
    pending = s3.list_objects_v2(Bucket=bucket, Prefix="_reprocess/pending/" + world.input_bucket)
    assert pending["KeyCount"] == 0


def test_reprocess_after_a_schema_fix_ends_valid_and_only_then_drops_the_quarantine_copy(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a file quarantined under an older, stricter schema (its record and copy as the
    Quarantine step leaves them), reprocessing with today's schema makes it VALID."""
    key = PREFIX + "fixed-by-schema.csv"
    world.put(key, (DATA / "jobs-valid.csv").read_bytes())
    world.wait(key)
    ddb, s3 = world.stack.client("dynamodb"), world.stack.client("s3")
    qbucket = world.stack.resource_name("QuarantineBucket")
    copy_key = f"{world.input_bucket}/{key}"
    s3.put_object(Bucket=qbucket, Key=copy_key, Body=(DATA / "jobs-valid.csv").read_bytes())
    s3.put_object(Bucket=qbucket, Key=copy_key + ".report.json", Body=b'{"reason": "old"}')
    ddb.update_item(
        TableName=world.table,
        Key={"pk": {"S": item_key(world.input_bucket, key)}},
        UpdateExpression="SET #s = :q, reason = :r, quarantine_location = :c, report_location = :p",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={
            ":q": {"S": "QUARANTINED"},
            ":r": {"S": "SCHEMA_VIOLATION"},
            ":c": {"S": f"s3://{qbucket}/{copy_key}"},
            ":p": {"S": f"s3://{qbucket}/{copy_key}.report.json"},
        },
    )

    code, out = scalper(world, capsys, "reprocess", "--prefix", key, "--check", "--wait", "60")

    assert code == 0
    [item] = out["files"]
    assert (item["release"], item["new_status"]) == ("released", "VALID")
    assert world.record(key)["status"] == "VALID"
    listed = s3.list_objects_v2(Bucket=qbucket, Prefix=copy_key).get("Contents", [])
    assert listed == []  # copy and report gone, now that the VALID record exists


def test_sweep_replays_a_record_stuck_in_processing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a claim two hours old whose execution is gone (it died without an outcome)."""
    key = PREFIX + "stuck.csv"
    world.put(key, (DATA / "jobs-valid.csv").read_bytes())
    world.wait(key)
    record = world.record(key)
    ghost = world.valid.arn.rsplit(":", 1)[0] + ":00000000-0000-4000-8000-000000000000"
    world.stack.client("dynamodb").put_item(
        TableName=world.table,
        Item={
            "pk": {"S": record["pk"]},
            "bucket": {"S": world.input_bucket},
            "event_key": {"S": key},
            "sequencer": {"S": record["sequencer"]},
            "status": {"S": "PROCESSING"},
            "execution_arn": {"S": ghost},
            "claimed_at": {"S": "2020-01-01T00:00:00.000Z"},
            "updated_at": {"S": "2020-01-01T00:00:00.000Z"},
            "event_id": {"S": "5e1d3c44-0000-4000-8000-000000000001"},
            "event_time": {"S": "2020-01-01T00:00:00Z"},
        },
    )

    assert invoke_scheduled(world, "stuck-records")["stuck_records"] >= 1

    code, out = scalper(world, capsys, "sweep", "--dry-run")
    assert code == 1
    assert [s["key"] for s in out["stuck"]] == [key]
    assert out["stuck"][0]["action"] == "would-replay"

    code, out = scalper(world, capsys, "sweep", "--older-than", "30m")

    assert code == 0
    [stuck] = out["stuck"]
    assert stuck["action"] == "replayed"
    assert "rebuilt" in stuck["detail"]
    report = world.stack.wait_for_execution(stuck["new_arn"], timeout=60)
    assert "TypeCheck" in report.states
    assert world.record(key)["status"] == "VALID"
    code, out = scalper(world, capsys, "sweep")
    assert (code, out["stuck"]) == (0, [])
    assert invoke_scheduled(world, "stuck-records") == {"stuck_records": 0}


def test_the_scheduled_reprocessing_releases_nothing_the_current_schema_still_rejects(
    world: World,
) -> None:
    """The function its (disabled by default) schedule invokes, run as the schedule would."""
    before = world.record(world.invalid.key)["sequencer"]

    summary = invoke_scheduled(world, "reprocess")

    assert summary["checked"] >= 1
    assert summary["still_invalid"] >= 1
    assert summary["released"] == 0
    assert world.record(world.invalid.key)["sequencer"] == before
