"""DynamoDB's per-item atomic conditional writes, which the local stack gives moto."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from scalper.local import atomic_items, moto_internals

THREADS = 8
ATTEMPTS = 40


@pytest.fixture
def counter_table() -> Iterator[Any]:
    """A moto table holding one counter item at 0, with the item operations made atomic."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="counters",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="counters", Item={"pk": {"S": "c"}, "n": {"N": "0"}})
        atomic_items.install()
        try:
            yield client
        finally:
            atomic_items.uninstall()


def _increment_optimistically(client: Any, successes: list[int]) -> None:
    """Read n, then write n + 1 only if n is still what was read (optimistic locking)."""
    for _ in range(ATTEMPTS):
        item = client.get_item(TableName="counters", Key={"pk": {"S": "c"}}, ConsistentRead=True)
        seen = item["Item"]["n"]["N"]
        try:
            client.put_item(
                TableName="counters",
                Item={"pk": {"S": "c"}, "n": {"N": str(int(seen) + 1)}},
                ConditionExpression="n = :seen",
                ExpressionAttributeValues={":seen": {"N": seen}},
            )
        except ClientError as error:
            # By code, not `client.exceptions.X`: botocore builds a client's exception
            # classes lazily, and threads racing to build them can each get their own.
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            continue
        successes.append(1)


def test_given_racing_conditional_writes_then_every_accepted_write_counts_once(
    counter_table: Any,
) -> None:
    """Given eight threads incrementing one counter, each write conditioned on the value it
    read, when they race (the interpreter switching threads as often as it can), then the
    counter equals the number of writes DynamoDB accepted: no accepted write was lost
    between its condition check and its write.

    Without the lock moto checks, another thread writes, and moto writes over it: the
    count of accepted writes then exceeds the counter.
    """
    successes: list[int] = []
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [
            threading.Thread(target=_increment_optimistically, args=(counter_table, successes))
            for _ in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    final = counter_table.get_item(TableName="counters", Key={"pk": {"S": "c"}})["Item"]["n"]
    assert int(final["N"]) == len(successes) > 0


def test_installing_wraps_every_item_operation_and_uninstalling_restores_them() -> None:
    """Given the wrapping installed twice and uninstalled twice, then every item operation
    is wrapped while a user remains, and afterwards the methods are what they were before
    (moto's own, or the wrapping of a local stack running in this process)."""
    backend = moto_internals.dynamodb_backend_class()
    before = {name: getattr(backend, name) for name in atomic_items.OPERATIONS}
    atomic_items.install()
    atomic_items.install()
    try:
        atomic_items.uninstall()
        assert atomic_items.installed()
        assert all(hasattr(getattr(backend, n), "__wrapped__") for n in atomic_items.OPERATIONS)
    finally:
        atomic_items.uninstall()
    assert {name: getattr(backend, name) for name in atomic_items.OPERATIONS} == before
