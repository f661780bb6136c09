"""Transitions per path from execution histories on moto's Step Functions engine.

``python -m benchmarks.sfn_worker`` runs every test case of the state-transition suite's
``tests/statemachine/MockConfigFile.json`` (Step Functions Local's mock format, one test
case per path through the ASL, retries included) against the deployed definition
(``template.yaml``'s ``DefinitionSubstitutions`` resolved), with the SFN-MOCK helper's
runner, and prints one JSON object: test case -> states entered, retries, transitions.

Runs in its own process because moto's mock is process-wide.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from scalper.sfn_mock import MockConfig, mock_config_installed
from scalper.sfn_mock.definition import load_definition
from scalper.sfn_mock.runner import deploy_state_machine, run_test_case

REPO_ROOT = Path(__file__).resolve().parent.parent
MOCK_CONFIG_FILE = REPO_ROOT / "tests" / "statemachine" / "MockConfigFile.json"
OBJECT_CREATED_EVENT = REPO_ROOT / "events" / "eventbridge" / "object-created.json"
REGION = "us-east-1"


def run_all() -> dict[str, Any]:
    """Every test case of the mock configuration, run once; transitions from its history."""
    rendered = load_definition(REPO_ROOT / "template.yaml")
    config = MockConfig.load(MOCK_CONFIG_FILE)
    event = json.loads(OBJECT_CREATED_EVENT.read_text(encoding="utf-8"))
    raw = json.loads(MOCK_CONFIG_FILE.read_text(encoding="utf-8"))
    cases: list[str] = list(raw["StateMachines"][rendered.name]["TestCases"])
    config.test_case(rendered.name, cases[0])  # fails loudly if the file and template drift
    out: dict[str, Any] = {}
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        # Retry backoffs shortened a thousandfold: counts are what matter here, not waits.
        mock_config_installed(MOCK_CONFIG_FILE, wait_scale=0.001),
    ):
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = deploy_state_machine(client, rendered.name, rendered.definition)
        for case in cases:
            trace = run_test_case(client, arn, case, event, deadline_seconds=60.0)
            retries = sum(trace.retries.values())
            out[case] = {
                "status": trace.status,
                "states": trace.path,
                "retries": retries,
                "transitions": len(trace.path) + retries,
            }
    return out


def main() -> int:
    """Print the per-test-case counts as one JSON object."""
    json.dump({"state_machine": "pipeline", "cases": run_all()}, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
