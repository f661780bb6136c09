"""Typed model of Step Functions Local's mock configuration file (``MockConfigFile.json``).

The format is Amazon's (Step Functions Local, "mocked service integrations"); LocalStack and
our moto hook read the same file::

    {
      "StateMachines": {
        "<state machine name>": {
          "TestCases": {"<test case>": {"<state name>": "<mocked response name>"}}
        }
      },
      "MockedResponses": {
        "<mocked response name>": {
          "0":   {"Throw": {"Error": "Lambda.ServiceException", "Cause": "..."}},
          "1-2": {"Return": {"StatusCode": 200, "Payload": {...}}}
        }
      }
    }

The keys of a mocked response are attempt numbers ("0" is the first attempt, "1-2" the first
two retries); each entry has exactly one of ``Return`` or ``Throw``. Loading checks everything
Step Functions Local would reject at execution time -- unknown mocked response names, gaps or
overlaps in the attempt ranges, both or neither of Return/Throw -- and reports it with the
file and the JSON location, so a typo fails before any execution starts.

This module does not import moto: the model also serves ``scalper sfn-mock scaffold`` and
the Step Functions Local backend, where moto plays no part.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    field_validator,
    model_validator,
)

_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


class MockConfigError(ValueError):
    """The mock configuration is unreadable or inconsistent; the message names file and place."""


class AttemptRange(BaseModel):
    """An inclusive range of attempt numbers: attempt 0 is the first try, 1 the first retry."""

    model_config = ConfigDict(frozen=True)

    first: int = Field(ge=0)
    last: int = Field(ge=0)

    @classmethod
    def parse(cls, key: str) -> AttemptRange:
        """Parse a key such as ``"0"`` or ``"1-2"``; raise ``ValueError`` naming the key."""
        match = _RANGE.match(key)
        if match is None:
            raise ValueError(f"attempt key {key!r} is not a number ('0') or a range ('1-2')")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ValueError(f"attempt range {key!r} ends before it starts")
        return cls(first=first, last=last)

    def key(self) -> str:
        """The canonical key for this range, as the file writes it."""
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


class ThrowSpec(BaseModel):
    """A mocked failure: the task fails with this error name and cause."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Error: str = Field(min_length=1)
    Cause: str


class MockedAttempt(BaseModel):
    """What one attempt (or a range of attempts) of a mocked state returns or throws."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    Return: JsonValue = None
    Throw: ThrowSpec | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        has_return = "Return" in self.model_fields_set
        has_throw = self.Throw is not None
        if has_return == has_throw:
            raise ValueError("needs exactly one of Return or Throw")
        return self

    @property
    def is_throw(self) -> bool:
        """True when this attempt fails (``Throw``), False when it returns a result."""
        return self.Throw is not None

    def to_json(self) -> dict[str, Any]:
        """The JSON object as the file writes it."""
        if self.Throw is not None:
            return {"Throw": self.Throw.model_dump()}
        return {"Return": self.Return}


class MockedResponse(BaseModel):
    """One named mocked response: attempt ranges, consecutive from attempt 0, no gaps."""

    model_config = ConfigDict(frozen=True)

    attempts: dict[str, MockedAttempt]

    @field_validator("attempts")
    @classmethod
    def _consecutive(cls, attempts: dict[str, MockedAttempt]) -> dict[str, MockedAttempt]:
        if not attempts:
            raise ValueError("defines no attempts (expected at least a '0' entry)")
        ranges = sorted(
            ((AttemptRange.parse(key), key) for key in attempts),
            key=lambda pair: (pair[0].first, pair[0].last),
        )
        expected = 0
        for attempt_range, key in ranges:
            if attempt_range.first != expected:
                raise ValueError(
                    f"attempt range {key!r} starts at {attempt_range.first}, expected "
                    f"{expected}: ranges must be consecutive from 0 with no gap or overlap"
                )
            expected = attempt_range.last + 1
        return attempts

    def sequence(self) -> list[tuple[AttemptRange, MockedAttempt]]:
        """The attempt ranges in attempt order, each with what it returns or throws."""
        return sorted(
            ((AttemptRange.parse(key), attempt) for key, attempt in self.attempts.items()),
            key=lambda pair: pair[0].first,
        )

    def for_attempt(self, attempt: int) -> MockedAttempt | None:
        """The mocked result of attempt number ``attempt`` (0 = first try), None past the end."""
        for attempt_range, mocked in self.sequence():
            if attempt_range.first <= attempt <= attempt_range.last:
                return mocked
        return None

    def to_json(self) -> dict[str, Any]:
        """The JSON object as the file writes it."""
        return {key: attempt.to_json() for key, attempt in self.attempts.items()}


class StateMachineMocks(BaseModel):
    """The test cases of one state machine: test case name -> state name -> response name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    TestCases: dict[str, dict[str, str]]


def read_json_file(path: Path, error: type[Exception]) -> object:
    """The JSON in ``path``; ``error`` naming the file (and the line and column of bad JSON)
    when it cannot be read or parsed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(f"{path}: line {exc.lineno}, column {exc.colno}: not JSON: {exc.msg}") from None


class MockConfig(BaseModel):
    """A whole ``MockConfigFile.json``, checked for consistency."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    StateMachines: dict[str, StateMachineMocks]
    MockedResponses: dict[str, MockedResponse]

    @field_validator("MockedResponses", mode="before")
    @classmethod
    def _wrap_attempts(cls, value: object) -> object:
        # The file maps a response name straight to its attempt keys; the model keeps them
        # under `attempts` so the range checks live on MockedResponse.
        if isinstance(value, dict):
            return {name: {"attempts": attempts} for name, attempts in value.items()}
        return value

    @model_validator(mode="after")
    def _references_resolve(self) -> Self:
        for machine, mocks in self.StateMachines.items():
            for case, states in mocks.TestCases.items():
                for state, response in states.items():
                    if response not in self.MockedResponses:
                        raise ValueError(
                            f"StateMachines.{machine}.TestCases.{case}.{state}: mocked response "
                            f"{response!r} is not defined in MockedResponses"
                        )
        return self

    @classmethod
    def from_json(cls, data: object, *, source: str = "<mock config>") -> MockConfig:
        """Build from parsed JSON; raise ``MockConfigError`` naming ``source`` and the place."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise MockConfigError(_describe(exc, source)) from None

    @classmethod
    def load(cls, path: Path) -> MockConfig:
        """Read and check a ``MockConfigFile.json``."""
        return cls.from_json(read_json_file(path, MockConfigError), source=str(path))

    def test_case(self, state_machine: str, test_case: str) -> dict[str, MockedResponse]:
        """State name -> mocked response of one test case; ``KeyError`` says what is missing."""
        mocks = self.StateMachines.get(state_machine)
        if mocks is None:
            known = ", ".join(sorted(self.StateMachines)) or "none"
            raise KeyError(
                f"state machine {state_machine!r} has no test cases in the mock config "
                f"(defined: {known})"
            )
        states = mocks.TestCases.get(test_case)
        if states is None:
            known = ", ".join(sorted(mocks.TestCases)) or "none"
            raise KeyError(
                f"test case {test_case!r} is not defined for state machine {state_machine!r} "
                f"(defined: {known})"
            )
        return {state: self.MockedResponses[name] for state, name in states.items()}

    def to_json(self) -> dict[str, Any]:
        """The JSON document in Step Functions Local's layout."""
        return {
            "StateMachines": {
                machine: {
                    "TestCases": {case: dict(states) for case, states in mocks.TestCases.items()}
                }
                for machine, mocks in self.StateMachines.items()
            },
            "MockedResponses": {
                name: response.to_json() for name, response in self.MockedResponses.items()
            },
        }


def _describe(exc: ValidationError, source: str) -> str:
    problems = []
    for error in exc.errors():
        # Drop the model's internal `attempts` level so locations read like the file.
        location = ".".join(str(part) for part in error["loc"] if part != "attempts")
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{location or '(top level)'}: {message}")
    return f"{source}: " + "; ".join(problems)


def problems_against(config: MockConfig, state_machine: str, task_states: set[str]) -> list[str]:
    """What in ``config`` cannot apply to ``state_machine`` with these Task states.

    Step Functions Local only notices at execution time, if at all: a test case for a state
    machine of another name never runs, and a mocked state that is not a Task of the
    definition (a typo, a renamed state) is silently ignored, so the real service is called.
    """
    problems: list[str] = []
    if state_machine not in config.StateMachines:
        known = ", ".join(sorted(config.StateMachines)) or "none"
        problems.append(
            f"StateMachines: no test cases for state machine {state_machine!r} (found: {known})"
        )
        return problems
    for case, states in config.StateMachines[state_machine].TestCases.items():
        for state in states:
            if state not in task_states:
                problems.append(
                    f"StateMachines.{state_machine}.TestCases.{case}.{state}: "
                    "not a Task state of the definition"
                )
    used = {
        name
        for mocks in config.StateMachines.values()
        for states in mocks.TestCases.values()
        for name in states.values()
    }
    problems.extend(
        f"MockedResponses.{name}: not used by any test case"
        for name in config.MockedResponses
        if name not in used
    )
    return problems
