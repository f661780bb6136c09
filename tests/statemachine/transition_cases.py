"""The state-transition cases of the pipeline: what each test case of MockConfigFile.json does.

What each case must do lives in MockConfigFile.expectations.json beside the mock config, the
file `scalper sfn-mock run` checks too. Shared by both modes of the suite: mocked responses
(test_transitions.py) and the real handlers through the local stack
(test_transitions_real_handlers.py), which must agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scalper.sfn_mock.expectations import (
    MAX_ATTEMPTS,
    CaseExpectation,
    Expectations,
    expectations_path,
)

#: The execution input of every mocked case (conftest's `object_created` fixture).
OBJECT_CREATED_EVENT = (
    Path(__file__).resolve().parents[2] / "events/eventbridge/object-created.json"
)
#: The suite's mock configuration, in Step Functions Local's format.
MOCK_CONFIG_FILE = Path(__file__).with_name("MockConfigFile.json")
EVENT = json.loads(OBJECT_CREATED_EVENT.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Case:
    """One test case of the mock configuration with what it must do (from the expectations)."""

    name: str
    expectation: CaseExpectation

    @property
    def spec(self) -> str:
        """What the case shows, in one line."""
        return self.expectation.Description

    @property
    def path(self) -> list[str]:
        """Every state entered, in order."""
        return self.expectation.Path

    @property
    def status(self) -> str:
        """The execution's final status."""
        return self.expectation.Status

    @property
    def error(self) -> str | None:
        """The execution's error name (a failed execution)."""
        return self.expectation.Error

    @property
    def retries(self) -> dict[str, int]:
        """State -> retries; -1 for all the retries of the state's first Retrier."""
        return {
            state: -1 if count == MAX_ATTEMPTS else int(count)
            for state, count in self.expectation.Retries.items()
        }

    @property
    def output(self) -> Any:
        """The expected output, None when the case does not check it."""
        return self.expectation.Output if self.expectation.checks_output else None


#: The expectations `scalper sfn-mock run` checks too: one file, beside the mock config.
EXPECTATIONS = Expectations.load(expectations_path(MOCK_CONFIG_FILE))
#: The state machine the test cases are for (the template's deployed name).
(STATE_MACHINE,) = EXPECTATIONS.StateMachines
CASES = [Case(name, expected) for name, expected in EXPECTATIONS.cases(STATE_MACHINE).items()]
