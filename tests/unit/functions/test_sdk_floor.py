"""The installed SDK accepts every request parameter the pipeline sends.

Quarantine copies with ``IfNoneMatch``/``IfMatch`` on ``CopyObject`` (S3's conditional copy);
botocore learnt those parameters in 1.40.61. An older botocore refuses the call before it
leaves the function (``ParamValidationError``), so every quarantine would fail: the floor in
pyproject.toml and layers/core/requirements.txt, and this test, keep that from happening.
"""

from __future__ import annotations

import re
from pathlib import Path

import boto3
import botocore
import pytest
from botocore.stub import Stubber

REPO = Path(__file__).resolve().parents[3]
FLOOR = (1, 40, 61)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


@pytest.mark.parametrize("condition", [{"IfNoneMatch": "*"}, {"IfMatch": '"abc123"'}])
def test_given_the_installed_botocore_then_copy_object_takes_the_conditions(
    condition: dict[str, str],
) -> None:
    client = boto3.client(
        "s3", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    request = {"Bucket": "q", "Key": "k", "CopySource": {"Bucket": "b", "Key": "k"}}
    with Stubber(client) as stub:
        stub.add_response("copy_object", {}, {**request, **condition})
        client.copy_object(**request, **condition)  # type: ignore[arg-type]
        stub.assert_no_pending_responses()


def test_the_declared_floors_are_the_version_that_brought_conditional_copy() -> None:
    assert _version(botocore.__version__) >= FLOOR
    for path in (REPO / "pyproject.toml", REPO / "layers" / "core" / "requirements.txt"):
        text = path.read_text(encoding="utf-8")
        for package in ("boto3", "botocore"):
            found = re.search(rf'^\s*"?{package}>=([0-9.]+)', text, re.MULTILINE)
            assert found, f"{path.name} declares no {package} floor"
            assert _version(found.group(1)) >= FLOOR, f"{path.name}: {package}>={found.group(1)}"
