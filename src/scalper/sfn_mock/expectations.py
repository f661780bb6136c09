"""What each test case of a mock configuration must do: the expectations file beside it.

``MockConfigFile.json`` says what each mocked state returns; it does not say where the
execution should end up. The expectations file, ``<mock file stem>.expectations.json`` in
the same folder, says it once for every reader -- ``scalper sfn-mock run`` and the pytest
state-transition suite check the same file::

    {
      "Input": "../../events/eventbridge/object-created.json",
      "StateMachines": {
        "<state machine name>": {
          "TestCases": {
            "<test case>": {
              "Description": "what the case shows, in one line",
              "Path": ["Claim", "TypeCheck", "..."],
              "Status": "FAILED",
              "Error": "Lambda.ServiceException",
              "Retries": {"ValidateSchema": "MaxAttempts", "Claim": 2},
              "Output": {"status": "VALID"}
            }
          }
        }
      }
    }

``Path`` (every state entered, in order), ``Status`` (default ``SUCCEEDED``) and ``Error``
(default none: the execution's error name, for a failed one) are always checked.
``Retries`` (state -> retries beyond the first attempt; ``"MaxAttempts"`` for the
MaxAttempts of the state's first Retrier, read from the definition) is checked exactly: a
state that retried and is not listed is a mismatch. ``Output`` is checked when given, and
only for the execution input the file names in ``Input`` (relative to the file), since
outputs echo the input's bucket and key. A case that is expected to fail holds when it
fails as expected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError

from scalper.sfn_mock.asl import Definition, PathError
from scalper.sfn_mock.model import read_json_file
from scalper.sfn_mock.runner import ExecutionTrace

#: How the expectations file is named beside its mock file.
SUFFIX = ".expectations.json"
#: ``Retries`` value standing for the MaxAttempts of the state's first Retrier.
MAX_ATTEMPTS = "MaxAttempts"


class ExpectationsError(ValueError):
    """The expectations file is unreadable or malformed; the message names file and place."""


class CaseExpectation(BaseModel):
    """Where one test case must end up."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Description: str = ""
    Path: list[str] = Field(min_length=1)
    Status: Literal["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"] = "SUCCEEDED"
    Error: str | None = None
    Retries: dict[str, int | Literal["MaxAttempts"]] = Field(default_factory=dict)
    Output: JsonValue = None

    @property
    def checks_output(self) -> bool:
        """Whether the file gives an ``Output`` for this case (``null`` included)."""
        return "Output" in self.model_fields_set

    def retries_against(self, definition: Definition) -> dict[str, int]:
        """``Retries`` with ``"MaxAttempts"`` resolved from the definition's Retriers."""
        resolved: dict[str, int] = {}
        for state, count in self.Retries.items():
            found = definition.state(state)  # PathError for a state the definition lacks
            if count == MAX_ATTEMPTS:
                retriers = found.get("Retry") or [{}]
                # Step Functions' default MaxAttempts is 3.
                resolved[state] = int(retriers[0].get("MaxAttempts", 3))
            else:
                resolved[state] = int(count)
        return {state: count for state, count in resolved.items() if count}

    def mismatches(
        self, trace: ExecutionTrace, definition: Definition, *, check_output: bool = True
    ) -> list[str]:
        """How ``trace`` differs from this expectation, one sentence each; empty: it holds."""
        problems: list[str] = []
        if trace.path != self.Path:
            problems.append(
                f"path: expected {' -> '.join(self.Path)}; got {' -> '.join(trace.path)}"
            )
        if trace.status != self.Status:
            problems.append(f"status: expected {self.Status}; got {trace.status}")
        if trace.error != self.Error:
            problems.append(f"error: expected {self.Error}; got {trace.error}")
        try:
            retries = self.retries_against(definition)
        except PathError as exc:
            problems.append(f"retries: {exc}")
        else:
            if trace.retries != retries:
                problems.append(
                    f"retries: expected {retries or 'none'}; got {trace.retries or 'none'}"
                )
        if check_output and self.checks_output and trace.output != self.Output:
            problems.append(
                f"output: expected {json.dumps(self.Output, sort_keys=True)}; "
                f"got {json.dumps(trace.output, sort_keys=True, default=str)}"
            )
        return problems


class MachineExpectations(BaseModel):
    """The expectations of one state machine's test cases."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TestCases: dict[str, CaseExpectation]


class Expectations(BaseModel):
    """A whole expectations file."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    Input: str | None = None
    StateMachines: dict[str, MachineExpectations]
    comment: str | None = Field(default=None, alias="$comment")

    #: Where the file was read from (for relative paths); not part of the document.
    source: Path | None = Field(default=None, exclude=True)

    @property
    def input_path(self) -> Path | None:
        """The execution input the outputs were written for, resolved against the file."""
        if self.Input is None:
            return None
        base = self.source.parent if self.source is not None else Path()
        return (base / self.Input).resolve()

    def cases(self, state_machine: str) -> Mapping[str, CaseExpectation]:
        """Test case -> expectation for ``state_machine`` (empty when it has none)."""
        machine = self.StateMachines.get(state_machine)
        return {} if machine is None else machine.TestCases

    @classmethod
    def load(cls, path: Path) -> Expectations:
        """Read and check an expectations file."""
        data = read_json_file(path, ExpectationsError)
        try:
            loaded = cls.model_validate(data)
        except ValidationError as exc:
            problems = [
                f"{'.'.join(str(p) for p in error['loc']) or '(top level)'}: {error['msg']}"
                for error in exc.errors()
            ]
            raise ExpectationsError(f"{path}: " + "; ".join(problems)) from None
        return loaded.model_copy(update={"source": path})


def expectations_path(mock_file: Path) -> Path:
    """``MockConfigFile.json`` -> ``MockConfigFile.expectations.json`` beside it."""
    return mock_file.with_name(mock_file.stem + SUFFIX)


def problems_between(
    expectations: Expectations, test_cases: Mapping[str, object], state_machine: str
) -> list[str]:
    """Test cases without an expectation, and expectations without a test case."""
    expected = expectations.cases(state_machine)
    where = f"StateMachines.{state_machine}.TestCases"
    problems = [f"{where}.{name}: no expectation" for name in test_cases if name not in expected]
    problems.extend(
        f"{where}.{name}: an expectation for a test case the mock file does not define"
        for name in expected
        if name not in test_cases
    )
    return problems
