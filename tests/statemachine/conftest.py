"""Fixtures for the state-transition suite: the deployed definition on a Step Functions backend.

Backends:
- default: moto's engine in this process, with scalper.sfn_mock's hook installed so
  ``stateMachineArn#TestCase`` runs the test cases of MockConfigFile.json, retry backoffs
  and Wait states shortened to a thousandth;
- ``SFN_LOCAL_ENDPOINT`` set (e.g. ``http://localhost:8083``): Amazon's Step Functions Local,
  started with ``SFN_MOCK_CONFIG`` pointing at the same MockConfigFile.json (see docs/testing.md).
  It waits real backoff seconds, so the deadline is longer there.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from transition_cases import MOCK_CONFIG_FILE, OBJECT_CREATED_EVENT

from scalper.sfn_mock import MockConfig, mock_config_installed
from scalper.sfn_mock.definition import RenderedDefinition, load_definition
from scalper.sfn_mock.runner import DeployedStateMachine, deploy_state_machine

REPO = Path(__file__).resolve().parents[2]
SFN_LOCAL_ENDPOINT_ENV = "SFN_LOCAL_ENDPOINT"
REGION = "us-east-1"


def object_created_event() -> dict[str, Any]:
    """The sample EventBridge "Object Created" event from events/ (the execution input)."""
    data: dict[str, Any] = json.loads(OBJECT_CREATED_EVENT.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def object_created() -> dict[str, Any]:
    """The execution input: the sample EventBridge "Object Created" event."""
    return object_created_event()


@pytest.fixture(scope="module")
def mock_config() -> MockConfig:
    """The suite's MockConfigFile.json, loaded and checked."""
    return MockConfig.load(MOCK_CONFIG_FILE)


@pytest.fixture(scope="module")
def rendered() -> RenderedDefinition:
    """pipeline.asl.json with template.yaml's DefinitionSubstitutions resolved."""
    return load_definition(REPO / "template.yaml")


@pytest.fixture(scope="module")
def pipeline(
    rendered: RenderedDefinition, object_created: dict[str, Any]
) -> Iterator[DeployedStateMachine]:
    """The pipeline on moto (default) or on Step Functions Local (``SFN_LOCAL_ENDPOINT``)."""
    event = object_created
    endpoint = os.environ.get(SFN_LOCAL_ENDPOINT_ENV, "").strip()
    if endpoint:
        client = boto3.client(
            "stepfunctions",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        arn = deploy_state_machine(client, rendered.name, rendered.definition)
        # Real backoff: the longest path waits up to ~1 minute of retries.
        yield DeployedStateMachine(
            client, arn, rendered.name, "stepfunctions-local", rendered.definition,
            rendered.substitutions, event, deadline_seconds=300.0,
        )  # fmt: skip
        return
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        mock_config_installed(MOCK_CONFIG_FILE, wait_scale=0.001),
    ):
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = deploy_state_machine(client, rendered.name, rendered.definition)
        yield DeployedStateMachine(
            client, arn, rendered.name, "moto", rendered.definition, rendered.substitutions, event
        )
