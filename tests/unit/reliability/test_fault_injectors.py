"""The chaos test's tools, on their own: seeded Lambda faults, DynamoDB throttles, the cache.

No local stack here: a Lambda endpoint with one tiny function, and moto's Step Functions
interpreter in-process, so each tool is shown to do exactly what the chaos test relies on.
(Kept out of tests/reliability: ``mock_aws`` here would reset the backends of the local stack
that package keeps running.)
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scalper.local import interpreter_cache, retry
from scalper.local.faults import DynamoDBThrottles, LambdaChaos
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.lambda_runtime import FunctionSpec

REPO = Path(__file__).resolve().parents[3]
ROLE = "arn:aws:iam::123456789012:role/sfn"


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LambdaEndpoint]:
    code = tmp_path_factory.mktemp("function")
    (code / "app.py").write_text("def ok(event, context):\n    return 'ok'\n")
    spec = FunctionSpec(
        logical_id="Ok",
        name="local-Ok",
        arn="arn:aws:lambda:us-east-1:123456789012:function:local-Ok",
        handler="app.ok",
        code_dir=code,
        layer_dirs=(),
        environment={},
    )
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}
    server = LambdaEndpoint([spec], env, tmp_path_factory.mktemp("logs"))
    server.start(prewarm=False)
    try:
        yield server
    finally:
        server.stop()


def outcomes(endpoint: LambdaEndpoint, calls: int) -> list[str | None]:
    """The error of each of ``calls`` direct invocations (None = success)."""
    return [endpoint.invoke("Ok", {}).function_error for _ in range(calls)]


def test_given_lambda_chaos_then_a_seeded_share_of_calls_fail_transiently(
    endpoint: LambdaEndpoint,
) -> None:
    with LambdaChaos(endpoint, 0.5, seed=3) as chaos:
        first = outcomes(endpoint, 40)
    with LambdaChaos(endpoint, 0.5, seed=3):
        second = outcomes(endpoint, 40)

    failures = [error for error in first if error is not None]
    assert 5 < len(failures) < 35
    assert set(failures) <= {"ServiceException", "TooManyRequestsException"}
    assert chaos.injected == {"Ok": len(failures)}
    assert second == first, "the same seed fails the same calls"
    assert outcomes(endpoint, 5) == [None] * 5, "uninstalled: no more faults"


def test_given_lambda_chaos_on_other_functions_then_this_one_is_spared(
    endpoint: LambdaEndpoint,
) -> None:
    with pytest.raises(KeyError):
        LambdaChaos(endpoint, 1.0, functions=["NoSuchFunction"])
    with LambdaChaos(endpoint, 0.0) as chaos:
        assert outcomes(endpoint, 3) == [None] * 3
    assert not chaos.injected


PUT_ITEM = {
    "StartAt": "Put",
    "States": {
        "Put": {
            "Type": "Task",
            "Resource": "arn:aws:states:::dynamodb:putItem",
            "Parameters": {"TableName": "t", "Item": {"pk": {"S.$": "$.pk"}}},
            "End": True,
        }
    },
}


def run(sfn: Any, machine: str, execution_input: dict[str, Any]) -> dict[str, Any]:
    """Start one execution (named, as moto needs) and wait for its end."""
    arn = sfn.start_execution(
        stateMachineArn=machine, name=str(uuid.uuid4()), input=json.dumps(execution_input)
    )["executionArn"]
    deadline = time.monotonic() + 30
    while (described := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return dict(described)


@pytest.fixture
def interpreter() -> Iterator[tuple[Any, Any]]:
    """moto's interpreter in-process: (stepfunctions client, dynamodb client), a table "t"."""
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield boto3.client("stepfunctions", region_name="us-east-1"), dynamodb


def test_given_dynamodb_throttles_then_the_task_fails_as_throttled_before_writing(
    interpreter: tuple[Any, Any],
) -> None:
    sfn, dynamodb = interpreter
    machine = sfn.create_state_machine(name="put", definition=json.dumps(PUT_ITEM), roleArn=ROLE)[
        "stateMachineArn"
    ]

    with DynamoDBThrottles(1.0, seed=1) as throttles:
        throttled = run(sfn, machine, {"pk": "a"})
    done = run(sfn, machine, {"pk": "b"})

    assert (throttled["status"], throttled["error"]) == (
        "FAILED",
        "DynamoDB.ProvisionedThroughputExceededException",
    )
    assert throttles.throttled == {"put_item": 1}
    assert "Item" not in dynamodb.get_item(TableName="t", Key={"pk": {"S": "a"}})
    assert done["status"] == "SUCCEEDED", "uninstalled: no more throttles"
    assert "Item" in dynamodb.get_item(TableName="t", Key={"pk": {"S": "b"}})


def test_given_throttles_and_a_retry_then_the_asl_retries_through_them(
    interpreter: tuple[Any, Any],
) -> None:
    sfn, _ = interpreter
    definition = json.loads(json.dumps(PUT_ITEM))
    definition["States"]["Put"]["Retry"] = [
        {
            "ErrorEquals": ["DynamoDB.ProvisionedThroughputExceededException"],
            "IntervalSeconds": 1,
            "MaxAttempts": 20,
        }
    ]
    machine = sfn.create_state_machine(
        name="put-retry", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    retry.install(0.001)
    try:
        with DynamoDBThrottles(0.5, seed=1) as throttles:
            results = [run(sfn, machine, {"pk": f"k{i}"}) for i in range(6)]
    finally:
        retry.uninstall()

    assert [r["status"] for r in results] == ["SUCCEEDED"] * 6
    assert throttles.throttled["put_item"] > 0


def test_given_the_interpreter_cache_then_one_parse_serves_every_execution(
    interpreter: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    sfn, _ = interpreter
    parses: list[str] = []
    original = AmazonStateLanguageParser.parse

    def counting(definition: str) -> Any:
        parses.append(definition)
        return original(definition)

    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(counting))
    machine = sfn.create_state_machine(
        name="cached", definition=json.dumps(PUT_ITEM), roleArn=ROLE
    )["stateMachineArn"]
    interpreter_cache.install()
    try:
        before = len(parses)
        results = [run(sfn, machine, {"pk": f"c{i}"}) for i in range(3)]
        cached = len(parses) - before
    finally:
        interpreter_cache.uninstall()
    before = len(parses)
    after = run(sfn, machine, {"pk": "d"})

    assert [r["status"] for r in [*results, after]] == ["SUCCEEDED"] * 4
    assert cached == 1, "one parse serves three executions"
    assert len(parses) - before == 1, "uninstalled: parsed per execution again"


def test_given_executions_starting_together_then_the_cache_parses_their_definition_once(
    interpreter: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given eight executions of one definition started at once, each parse slowed so
    that they all reach the cache before the first ends, then one parse serves them all."""
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    sfn, _ = interpreter
    parses: list[str] = []
    original = AmazonStateLanguageParser.parse

    def slow(definition: str) -> Any:
        parses.append(definition)
        time.sleep(0.5)
        return original(definition)

    machine = sfn.create_state_machine(name="burst", definition=json.dumps(PUT_ITEM), roleArn=ROLE)[
        "stateMachineArn"
    ]
    monkeypatch.setattr(AmazonStateLanguageParser, "parse", staticmethod(slow))
    interpreter_cache.install()
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: run(sfn, machine, {"pk": f"b{i}"}), range(8)))
    finally:
        interpreter_cache.uninstall()

    assert [r["status"] for r in results] == ["SUCCEEDED"] * 8
    assert len(parses) == 1


@pytest.mark.parametrize(
    ("definition", "shareable"),
    [
        ((REPO / "statemachine" / "pipeline.asl.json").read_text(), True),
        (json.dumps({"StartAt": "M", "States": {"M": {"Type": "Map", "End": True}}}), False),
        (json.dumps({"StartAt": "P", "States": {"P": {"Type": "Parallel", "End": True}}}), False),
        ("not json", False),
    ],
)
def test_only_definitions_without_map_or_parallel_are_shared(
    definition: str, shareable: bool
) -> None:
    assert interpreter_cache.shareable(definition) is shareable


def test_given_the_interpreter_cache_then_each_json_path_text_is_compiled_once() -> None:
    from moto.stepfunctions.parser.asl.utils import json_path

    original = json_path.parse
    interpreter_cache.install()
    try:
        first, again = (
            json_path.parse("$.detail.object.key"),
            json_path.parse("$.detail.object.key"),
        )
        found = json_path.extract_json("$.detail.object.key", {"detail": {"object": {"key": "k"}}})
    finally:
        interpreter_cache.uninstall()

    assert first is again, "one compilation serves every use of the same text"
    assert found == "k"
    assert json_path.parse is original, "uninstalled: compiled per use again"


def test_given_the_interpreter_cache_then_each_result_path_text_is_compiled_once() -> None:
    """Given the cache, when a ResultPath is applied twice, then its text was compiled once
    and each application still writes the result into its own input."""
    from moto.stepfunctions.parser.asl.component.common.path import result_path

    original = result_path.parse
    interpreter_cache.install()
    try:
        first, again = result_path.parse("$.claim.result"), result_path.parse("$.claim.result")
        one = first.update_or_create({"id": 1}, {"ok": True})
        two = again.update_or_create({"id": 2, "claim": {"old": 0}}, {"ok": False})
    finally:
        interpreter_cache.uninstall()

    assert first is again, "one compilation serves every use of the same text"
    assert one == {"id": 1, "claim": {"result": {"ok": True}}}
    assert two == {"id": 2, "claim": {"old": 0, "result": {"ok": False}}}
    assert result_path.parse is original, "uninstalled: compiled per use again"


def test_given_the_interpreter_cache_then_a_result_path_state_keeps_its_input_and_result(
    interpreter: tuple[Any, Any],
) -> None:
    """Given the cache, when two executions run a Pass state with a ResultPath, then each
    output is its own input with its own result at the path (nothing shared between them)."""
    sfn, _ = interpreter
    definition = {
        "StartAt": "Keep",
        "States": {
            "Keep": {
                "Type": "Pass",
                "Parameters": {"seen.$": "$.pk"},
                "ResultPath": "$.kept",
                "End": True,
            }
        },
    }
    machine = sfn.create_state_machine(
        name="result-path", definition=json.dumps(definition), roleArn=ROLE
    )["stateMachineArn"]
    interpreter_cache.install()
    try:
        results = [run(sfn, machine, {"pk": pk}) for pk in ("a", "b")]
    finally:
        interpreter_cache.uninstall()

    assert [json.loads(r["output"]) for r in results] == [
        {"pk": "a", "kept": {"seen": "a"}},
        {"pk": "b", "kept": {"seen": "b"}},
    ]


def test_given_a_state_input_then_the_json_copy_equals_a_deep_copy_and_shares_nothing() -> None:
    """Given a state input of the pipeline (with a timestamp, a tuple and an object that
    are not JSON), then json_copy equals copy.deepcopy, and changing the copy anywhere
    leaves the original as it was."""
    import copy
    from datetime import UTC, datetime

    original: dict[str, Any] = json.loads((REPO / "events/states/validate_schema.json").read_text())
    original["extra"] = {"when": datetime(2026, 1, 5, tzinfo=UTC), "pair": (1, [2]), "n": 1.5}
    copied = interpreter_cache.json_copy(original)

    assert copied == copy.deepcopy(original)
    copied["type_check"]["uploader"]["kind"] = "changed"
    copied["extra"]["pair"][1].append(3)
    assert original["type_check"]["uploader"]["kind"] == "IAM"
    assert original["extra"]["pair"] == (1, [2])


def test_given_the_interpreter_cache_then_state_data_is_copied_by_json_copy() -> None:
    from moto.stepfunctions.parser.asl.eval import states

    interpreter_cache.install()
    try:
        installed = states.copy.deepcopy
    finally:
        interpreter_cache.uninstall()

    assert installed is interpreter_cache.json_copy
    assert states.copy.deepcopy.__module__ == "copy", "uninstalled: copy.deepcopy again"
