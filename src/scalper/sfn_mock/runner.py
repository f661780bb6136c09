"""Run one mock-config test case on any Step Functions endpoint and read back what happened.

The same functions drive moto (with :func:`scalper.sfn_mock.mock_config_installed`) and
Amazon's Step Functions Local: create or update the state machine under the name the mock
configuration uses, start ``stateMachineArn#TestCase``, poll until the execution reaches any
terminal status (a path ending in a Fail state returns at once; a deadline stops a hang), and
turn ``GetExecutionHistory`` into an :class:`ExecutionTrace`: the states entered in order,
each Task's attempts and errors, the final status and output.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from scalper.sfn_mock.asl import Definition

if TYPE_CHECKING:
    from mypy_boto3_stepfunctions import SFNClient
    from mypy_boto3_stepfunctions.type_defs import HistoryEventTypeDef

#: Statuses after which an execution never changes again (RUNNING is the only other one).
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"})

#: Role ARN for local state machines (neither moto nor Step Functions Local checks it).
LOCAL_ROLE_ARN = "arn:aws:iam::123456789012:role/StepFunctionsLocalRole"


class ExecutionDeadlineError(AssertionError):
    """An execution was still running at the deadline; the message carries its trace so far."""


@dataclass(frozen=True)
class StateVisit:
    """One entry into a state: for a Task, every attempt and the error of each failed one."""

    name: str
    attempts: int = 0
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExecutionTrace:
    """What one execution did, read from its history."""

    execution_arn: str
    status: str
    visits: tuple[StateVisit, ...]
    output: Any = None
    error: str | None = None
    cause: str | None = None
    events: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    @property
    def path(self) -> list[str]:
        """The names of the states entered, in order."""
        return [visit.name for visit in self.visits]

    @property
    def retries(self) -> dict[str, int]:
        """State name -> retries (attempts beyond the first), for states that retried."""
        counts: dict[str, int] = {}
        for visit in self.visits:
            if visit.attempts > 1:
                counts[visit.name] = counts.get(visit.name, 0) + visit.attempts - 1
        return counts

    def visit(self, name: str) -> StateVisit:
        """The (first) visit of state ``name``; ``KeyError`` when the path never entered it."""
        for visit in self.visits:
            if visit.name == name:
                return visit
        raise KeyError(f"state {name!r} was not entered; path: {' -> '.join(self.path)}")

    def scheduled_parameters(self, name: str) -> list[Any]:
        """The parsed parameters of every attempt of Task ``name``, in order (what it sent)."""
        sent: list[Any] = []
        current = None
        for event in self.events:
            entered = event.get("stateEnteredEventDetails")
            if entered is not None:
                current = entered.get("name")
            details = event.get("taskScheduledEventDetails")
            if details is not None and current == name:
                sent.append(json.loads(details.get("parameters") or "null"))
        return sent

    def state_output(self, name: str) -> Any:
        """The parsed output of state ``name`` as it exited (None when it did not exit)."""
        for event in self.events:
            details = event.get("stateExitedEventDetails")
            if details and details.get("name") == name:
                return json.loads(details.get("output") or "null")
        return None


def deploy_state_machine(
    client: SFNClient, name: str, definition: str, *, role_arn: str = LOCAL_ROLE_ARN
) -> str:
    """Create the state machine ``name`` or update its definition; return its ARN."""
    for page in client.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["name"] == name:
                arn = machine["stateMachineArn"]
                client.update_state_machine(stateMachineArn=arn, definition=definition)
                return arn
    return client.create_state_machine(name=name, definition=definition, roleArn=role_arn)[
        "stateMachineArn"
    ]


def trace_from_history(
    execution_arn: str, status: str, events: Sequence[Mapping[str, Any]], **extra: Any
) -> ExecutionTrace:
    """Fold a ``GetExecutionHistory`` event list into states entered, attempts and errors."""
    visits: list[StateVisit] = []
    for event in events:
        entered = event.get("stateEnteredEventDetails")
        if entered is not None:
            visits.append(StateVisit(name=str(entered["name"])))
            continue
        if not visits:
            continue
        kind = str(event.get("type", ""))
        current = visits[-1]
        # Every attempt of a Task is scheduled once, whatever the integration.
        if kind.endswith("Scheduled"):
            visits[-1] = StateVisit(current.name, current.attempts + 1, current.errors)
        elif kind.endswith("Failed") or kind.endswith("TimedOut"):
            details: Any = next((v for k, v in event.items() if k.endswith("EventDetails")), {})
            error = str(details.get("error", kind)) if isinstance(details, Mapping) else kind
            if kind != "ExecutionFailed":
                visits[-1] = StateVisit(current.name, current.attempts, (*current.errors, error))
    return ExecutionTrace(
        execution_arn=execution_arn,
        status=status,
        visits=tuple(visits),
        events=tuple(events),
        **extra,
    )


def _history(client: SFNClient, execution_arn: str) -> list[HistoryEventTypeDef]:
    events: list[HistoryEventTypeDef] = []
    for page in client.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def wait_for_execution(
    client: SFNClient,
    execution_arn: str,
    *,
    deadline_seconds: float = 20.0,
    poll_seconds: float = 0.02,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ExecutionTrace:
    """Poll until the execution reaches any terminal status; raise at the deadline."""
    deadline = clock() + deadline_seconds
    while True:
        described = client.describe_execution(executionArn=execution_arn)
        status = described["status"]
        if status in TERMINAL_STATUSES:
            output = described.get("output")
            return trace_from_history(
                execution_arn,
                status,
                _history(client, execution_arn),
                output=json.loads(output) if output is not None else None,
                error=described.get("error"),
                cause=described.get("cause"),
            )
        if clock() >= deadline:
            so_far = trace_from_history(execution_arn, status, _history(client, execution_arn))
            raise ExecutionDeadlineError(
                f"{execution_arn} still {status} after {deadline_seconds:g}s; "
                f"path so far: {' -> '.join(so_far.path) or '(none)'}"
            )
        sleep(poll_seconds)


def run_test_case(
    client: SFNClient,
    state_machine_arn: str,
    test_case: str | None,
    execution_input: Any,
    *,
    deadline_seconds: float = 20.0,
) -> ExecutionTrace:
    """Start ``state_machine_arn#test_case`` (plain ARN when None) and wait for its end."""
    target = f"{state_machine_arn}#{test_case}" if test_case else state_machine_arn
    started = client.start_execution(
        stateMachineArn=target,
        name=f"{test_case or 'run'}-{uuid.uuid4().hex[:12]}",
        input=json.dumps(execution_input),
    )
    return wait_for_execution(client, started["executionArn"], deadline_seconds=deadline_seconds)


@dataclass
class DeployedStateMachine:
    """A state machine deployed on one backend, with the runs of its test cases cached.

    ``substitutions`` are the resolved DefinitionSubstitutions it was deployed with;
    ``execution_input`` is what every test case starts with.
    """

    client: SFNClient
    arn: str
    name: str
    backend: str
    definition_text: str
    substitutions: Mapping[str, Any]
    execution_input: Any
    deadline_seconds: float = 20.0
    _traces: dict[str, ExecutionTrace] = field(default_factory=dict, repr=False)

    @property
    def definition(self) -> Definition:
        """The deployed definition's transition graph."""
        return Definition.from_json(self.definition_text)

    def run(self, test_case: str) -> ExecutionTrace:
        """Run ``test_case`` once; later calls return the same trace."""
        if test_case not in self._traces:
            self._traces[test_case] = run_test_case(
                self.client,
                self.arn,
                test_case,
                self.execution_input,
                deadline_seconds=self.deadline_seconds,
            )
        return self._traces[test_case]
