"""What the operations tests on moto share: the metadata table as template.yaml defines it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from handler_support import TEMPLATE, create_metadata_table
from moto import mock_aws

from scalper.local.template import load_template

#: The metadata table's name in these tests (each test module's Target names it).
TABLE = "records"


@pytest.fixture
def dynamodb(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given the metadata table as template.yaml defines it."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(var, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    template = load_template(TEMPLATE)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        create_metadata_table(client, template, TABLE)
        yield client
