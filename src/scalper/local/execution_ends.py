"""What Step Functions does at and after an execution's end, on moto's interpreter.

moto runs the deployed ASL but stops there. The local stack adds, for its own executions:

- **RedriveExecution**, with AWS's rules: Standard only; FAILED, TIMED_OUT or ABORTED only;
  within 14 days of the stop; it resumes at the state the execution ended in, with the input
  that state was entered with, keeps the ARN and the start date, adds one to
  ``redriveCount`` and sets ``redriveDate``. The history keeps every earlier event, then an
  ``ExecutionRedriven`` event, then the new ones. DescribeExecution answers
  ``redriveCount``, ``redriveDate``, ``redriveStatus`` and ``redriveStatusReason``.
- **the end of an execution** reported to a listener (the local stack turns it into the
  ``Step Functions Execution Status Change`` event or the execution's log events, as AWS
  would deliver them to the failure recorder): :class:`EndedRun`.
- **the Express 5-minute cap** (moto applies only ``TimeoutSeconds``), and a scale on
  execution timeouts so tests can make an execution time out without waiting minutes.
- GetExecutionHistory's ``reverseOrder``, ``maxResults`` and ``nextToken`` (moto returns
  every event, oldest first), and StopExecution refused for Express executions.

Every moto name this touches comes from :mod:`scalper.local.moto_internals`; `install`
requires them first, so a moto upgrade fails loudly.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from scalper.local import moto_internals

#: How long after its stop an execution can be redriven.
REDRIVE_WINDOW = timedelta(days=14)
#: Express workflows' maximum execution duration.
EXPRESS_CAP_SECONDS = 300
UNSUCCESSFUL = ("FAILED", "TIMED_OUT", "ABORTED")


@dataclass(frozen=True)
class _Timeout:
    """Stands in for the program's TimeoutSeconds component (moto reads one attribute)."""

    timeout_seconds: float


@dataclass(frozen=True)
class EndedRun:
    """One execution (or one redrive of it) that just ended."""

    arn: str
    state_machine_arn: str
    name: str
    workflow_type: str
    status: str
    start: datetime
    stop: datetime
    input: str
    output: str | None
    error: str | None
    cause: str | None
    redrive_count: int
    redrive_date: datetime | None
    #: The execution's history events (GetExecutionHistory shapes), oldest first.
    events: tuple[dict[str, Any], ...]


def workflow_type(execution: Any) -> str:
    """STANDARD or EXPRESS: the state machine's type (moto's ``sm_type`` says STANDARD always)."""
    declared = getattr(execution.state_machine, "type", None) or execution.sm_type
    return (
        "EXPRESS" if str(getattr(declared, "value", declared)).endswith("EXPRESS") else "STANDARD"
    )


class StepFunctionsExtensions:
    """Install with a listener for ended executions; `uninstall` puts moto back."""

    def __init__(self, on_end: Callable[[EndedRun], None]) -> None:
        self._on_end = on_end
        self._patched: list[tuple[Any, str, Any]] = []
        self._lock = threading.Lock()
        #: Multiplies every execution timeout (1.0 = real time); tests make it tiny.
        self.timeout_scale = 1.0

    # -- installing --------------------------------------------------------------
    # One place lists every moto patch, in the order they must go in: a table, not logic.
    def install(self) -> None:  # noqa: PLR0915
        """Patch moto's interpreter and Step Functions responses (until `uninstall`)."""
        moto_internals.require("scalper.local.execution_ends")
        execution_module = moto_internals.execution_module()
        execution_cls = execution_module.Execution
        comm_cls = execution_module.BaseExecutionWorkerCommunication
        program_cls = moto_internals.program_class()
        responses_cls = moto_internals.step_functions_responses_class()
        extensions = self

        original_terminated = comm_cls.terminated

        def terminated(comm: Any) -> None:
            original_terminated(comm)
            execution = comm.execution
            if getattr(execution, "_scalper_stopped", False):
                # A stop always ends ABORTED on AWS; moto may report the Task it interrupted
                # as failed instead.
                execution.exec_status = moto_internals.sfn_api_module().ExecutionStatus.ABORTED
                execution._scalper_stopped = False
            extensions._ended(execution)

        original_history = execution_cls.to_history_output

        def to_history_output(execution: Any) -> Any:
            return {"events": extensions.history(execution, original_history(execution))}

        original_details = execution_cls.get_start_state_machine_details
        details_module = moto_internals.evaluation_details_module()
        machine_type = moto_internals.sfn_api_module().StateMachineType

        def get_start_state_machine_details(execution: Any) -> Any:
            # moto runs every execution as STANDARD: give the interpreter the real type, so
            # Express rules (and the 5-minute cap below) apply.
            details = original_details(execution)
            return details_module.StateMachineDetails(
                arn=details.arn,
                name=details.name,
                typ=machine_type(workflow_type(execution)),
                definition=details.definition,
            )

        original_eval = program_cls.eval

        def program_eval(program: Any, env: Any) -> None:
            extensions._eval_with_cap(program, env, original_eval)

        original_describe = responses_cls.describe_execution

        def describe_execution(response: Any) -> Any:
            result = original_describe(response)
            arn = response._get_param("executionArn")
            execution = response.stepfunction_backend.describe_execution(arn)
            result.result.update(extensions.redrive_fields(execution))
            if execution.status == "TIMED_OUT" and execution.stop_date is not None:
                result.result["stopDate"] = execution.stop_date  # moto leaves it out
            return result

        original_history_response = responses_cls.get_execution_history

        def get_execution_history(response: Any) -> Any:
            result = original_history_response(response)
            events = list(result.result.get("events", []))
            if response._get_param("reverseOrder"):
                events.reverse()
            start = int(response._get_param("nextToken") or 0)
            size = int(response._get_param("maxResults") or 1000) or 1000
            page: dict[str, Any] = {"events": events[start : start + size]}
            if start + size < len(events):
                page["nextToken"] = str(start + size)
            result.result.clear()
            result.result.update(page)
            return result

        original_stop = responses_cls.stop_execution

        def stop_execution(response: Any) -> Any:
            arn = response._get_param("executionArn")
            execution = response.stepfunction_backend.describe_execution(arn)
            if workflow_type(execution) == "EXPRESS":
                raise moto_internals.json_error(
                    "ValidationException",
                    "This API action is not supported by EXPRESS state machines.",
                )
            execution._scalper_stopped = True
            return original_stop(response)

        def redrive_execution(response: Any) -> Any:
            arn = response._get_param("executionArn")
            execution = response.stepfunction_backend.describe_execution(arn)
            date = extensions.redrive(execution, now=datetime.now(UTC))
            return moto_internals.action_result({"redriveDate": date})

        for owner, name, value in (
            (comm_cls, "terminated", terminated),
            (execution_cls, "to_history_output", to_history_output),
            (execution_cls, "get_start_state_machine_details", get_start_state_machine_details),
            (program_cls, "eval", program_eval),
            (responses_cls, "describe_execution", describe_execution),
            (responses_cls, "get_execution_history", get_execution_history),
            (responses_cls, "stop_execution", stop_execution),
            (responses_cls, "redrive_execution", redrive_execution),
        ):
            self._patched.append((owner, name, owner.__dict__.get(name)))
            setattr(owner, name, value)

    def uninstall(self) -> None:
        """Put back what `install` replaced."""
        for owner, name, original in reversed(self._patched):
            if original is None:
                delattr(owner, name)
            else:
                setattr(owner, name, original)
        self._patched.clear()

    # -- the end of an execution ------------------------------------------------
    def _ended(self, execution: Any) -> None:
        run = EndedRun(
            arn=str(execution.exec_arn),
            state_machine_arn=str(execution.state_machine_arn),
            name=str(execution.name),
            workflow_type=workflow_type(execution),
            status=str(execution.status),
            start=execution.start_date,
            stop=execution.stop_date or datetime.now(UTC),
            input=json.dumps(execution.input_data, separators=(",", ":")),
            output=None if execution.output is None else json.dumps(execution.output),
            error=execution.error,
            cause=execution.cause,
            redrive_count=int(getattr(execution, "_scalper_redrive_count", 0)),
            redrive_date=getattr(execution, "_scalper_redrive_date", None),
            events=_with_ending(execution, list(execution.to_history_output()["events"])),
        )
        self._on_end(run)

    def _eval_with_cap(self, program: Any, env: Any, original: Callable[..., None]) -> None:
        """Run the program with its timeout scaled, and Express capped at 5 minutes."""
        declared = program.timeout_seconds
        seconds = declared.timeout_seconds if declared is not None else None
        if str(getattr(env, "execution_type", "")).endswith("EXPRESS"):
            seconds = min(seconds or EXPRESS_CAP_SECONDS, EXPRESS_CAP_SECONDS)
        if seconds is not None:
            effective = seconds * self.timeout_scale
            if declared is None or effective != declared.timeout_seconds:
                program.timeout_seconds = _Timeout(effective)
        try:
            original(program, env)
        finally:
            program.timeout_seconds = declared

    # -- redrive ---------------------------------------------------------------
    @staticmethod
    def history(execution: Any, current: Any) -> list[dict[str, Any]]:
        """Earlier attempts' events, ``ExecutionRedriven``, then this attempt's (renumbered)."""
        events: list[dict[str, Any]] = list((current or {}).get("events", []))
        prior: list[dict[str, Any]] = list(getattr(execution, "_scalper_prior_events", []))
        if not prior:
            return events
        redriven_id = len(prior) + 1
        merged = [
            *prior,
            {
                "id": redriven_id,
                "previousEventId": redriven_id - 1,
                "timestamp": getattr(execution, "_scalper_redrive_date", None),
                "type": "ExecutionRedriven",
                "executionRedrivenEventDetails": {
                    "redriveCount": int(getattr(execution, "_scalper_redrive_count", 0))
                },
            },
        ]
        # The resumed attempt's own ExecutionStarted is not an event of the execution.
        attempt = [e for e in events if e.get("type") != "ExecutionStarted"]
        offset = redriven_id - 1
        for event in attempt:
            renumbered = dict(event)
            renumbered["id"] = int(event["id"]) + offset
            previous = int(event.get("previousEventId") or 0)
            renumbered["previousEventId"] = previous + offset if previous > 1 else redriven_id
            merged.append(renumbered)
        return merged

    @staticmethod
    def redrive_fields(execution: Any) -> dict[str, Any]:
        """DescribeExecution's redrive fields for ``execution``."""
        fields: dict[str, Any] = {
            "redriveCount": int(getattr(execution, "_scalper_redrive_count", 0))
        }
        date = getattr(execution, "_scalper_redrive_date", None)
        if date is not None:
            fields["redriveDate"] = date
        refusal = StepFunctionsExtensions.refusal(execution, now=datetime.now(UTC))
        fields["redriveStatus"] = "REDRIVABLE" if refusal is None else "NOT_REDRIVABLE"
        if refusal is not None:
            fields["redriveStatusReason"] = refusal
        return fields

    @staticmethod
    def refusal(execution: Any, *, now: datetime) -> str | None:
        """Why Step Functions would refuse to redrive ``execution`` (None: it would not)."""
        if workflow_type(execution) != "STANDARD":
            return "Express executions cannot be redriven"
        status = str(execution.status)
        if status not in UNSUCCESSFUL:
            return f"Execution is {status} and cannot be redriven"
        stopped = execution.stop_date
        if stopped is not None and now - stopped > REDRIVE_WINDOW:
            return "Execution has exceeded the max redrivable period (14 days)"
        return None

    def redrive(self, execution: Any, *, now: datetime) -> datetime:
        """RedriveExecution: resume ``execution`` at the state it ended in."""
        refusal = self.refusal(execution, now=now)
        if refusal is not None:
            raise moto_internals.json_error("ExecutionNotRedrivable", refusal)
        with self._lock:
            events = execution.to_history_output()["events"]
            entered = [
                e
                for e in events
                if str(e.get("type", "")).endswith("StateEntered")
                and e.get("stateEnteredEventDetails")
            ]
            definition = json.loads(execution.state_machine.definition)
            if entered:
                details = entered[-1]["stateEnteredEventDetails"]
                definition["StartAt"] = details["name"]
                state_input = json.loads(details.get("input") or "{}")
            else:
                state_input = execution.input_data
            worker = self._worker(execution, json.dumps(definition), state_input)
            execution._scalper_prior_events = events
            count = int(getattr(execution, "_scalper_redrive_count", 0)) + 1
            execution._scalper_redrive_count = count
            execution._scalper_redrive_date = now
            execution.stop_date = None
            execution.error = None
            execution.cause = None
            execution.output = None
            execution.exec_status = moto_internals.sfn_api_module().ExecutionStatus.RUNNING
            execution.exec_worker = worker
        worker.start()
        return now

    @staticmethod
    def _worker(execution: Any, definition: str, state_input: Any) -> Any:
        details = moto_internals.evaluation_details_module()
        machine = execution.state_machine
        worker_cls = moto_internals.execution_worker_class()
        return worker_cls(
            evaluation_details=details.EvaluationDetails(
                aws_execution_details=execution._get_start_aws_execution_details(),
                execution_details=details.ExecutionDetails(
                    arn=execution.exec_arn,
                    name=execution.name,
                    role_arn=execution.role_arn,
                    inpt=state_input,
                    start_time=execution.start_date,
                ),
                state_machine_details=details.StateMachineDetails(
                    arn=machine.arn, name=machine.name, typ=machine.sm_type, definition=definition
                ),
            ),
            exec_comm=execution._get_start_execution_worker_comm(),
            cloud_watch_logging_session=None,
            activity_store=execution._activity_store,
        )


_ENDINGS = {
    "FAILED": ("ExecutionFailed", "executionFailedEventDetails"),
    "TIMED_OUT": ("ExecutionTimedOut", "executionTimedOutEventDetails"),
    "ABORTED": ("ExecutionAborted", "executionAbortedEventDetails"),
    "SUCCEEDED": ("ExecutionSucceeded", "executionSucceededEventDetails"),
}


def _with_ending(execution: Any, events: list[dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """The history with its ending event. moto's interpreter adds ``ExecutionTimedOut`` (and
    ``ExecutionAborted``) from the abandoned worker thread, after the execution is reported
    ended; Step Functions always has it, so it is added here when it is not there yet."""
    ending = _ENDINGS.get(str(execution.status))
    if ending is None or any(event_type(e) == ending[0] for e in events):
        return tuple(events)
    last = int(events[-1]["id"]) if events else 0
    details: dict[str, Any] = {}
    if execution.error:
        details["error"] = execution.error
    if execution.cause:
        details["cause"] = execution.cause
    return (
        *events,
        {
            "id": last + 1,
            "previousEventId": last,
            "timestamp": execution.stop_date or datetime.now(UTC),
            "type": ending[0],
            ending[1]: details,
        },
    )


def event_type(event: dict[str, Any]) -> str:
    """A history event's type as AWS spells it (moto keeps an enum in-process)."""
    kind = event.get("type", "")
    return str(getattr(kind, "value", kind))


def _as_datetime(value: Any) -> datetime | None:
    """A history timestamp: moto keeps a datetime or an ISO string (``...Z``)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _epoch_ms(stamp: datetime | None) -> int | None:
    return None if stamp is None else int(stamp.timestamp() * 1000)


def status_change_event(run: EndedRun, *, account: str, region: str) -> dict[str, Any]:
    """The ``Step Functions Execution Status Change`` event Step Functions sends to the
    default bus for a Standard execution's new status (the input included)."""
    refusal = (
        None if run.status in UNSUCCESSFUL else f"Execution is {run.status} and cannot be redriven"
    )
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": account,
        "time": run.stop.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [run.arn],
        "detail": {
            "executionArn": run.arn,
            "stateMachineArn": run.state_machine_arn,
            "name": run.name,
            "status": run.status,
            "startDate": _epoch_ms(run.start),
            "stopDate": _epoch_ms(run.stop),
            "input": run.input,
            "output": run.output,
            "inputDetails": {"included": True},
            "outputDetails": {"included": True} if run.output is not None else None,
            "error": run.error,
            "cause": run.cause,
            "redriveCount": run.redrive_count,
            "redriveDate": _epoch_ms(run.redrive_date),
            "redriveStatus": "REDRIVABLE" if refusal is None else "NOT_REDRIVABLE",
            "redriveStatusReason": refusal,
        },
    }


#: The history event types each logging level writes to CloudWatch Logs.
_ERROR_TYPES = ("Failed", "TimedOut", "Aborted", "ScheduleFailed", "StartFailed", "SubmitFailed")
_FATAL_TYPES = ("ExecutionFailed", "ExecutionTimedOut", "ExecutionAborted")


def logged(event_type: str, level: str) -> bool:
    """Whether Step Functions logs a history event of ``event_type`` at ``level``."""
    if level == "ALL":
        return True
    if level == "ERROR":
        return event_type.endswith(_ERROR_TYPES) or event_type == "FailStateEntered"
    if level == "FATAL":
        return event_type in _FATAL_TYPES
    return False


def log_stream(state_machine_arn: str, execution_arn: str) -> str:
    """The log stream an execution's lines go to: ``states/<machine>/<execution id>``."""
    return f"states/{state_machine_arn.rsplit(':', 1)[-1]}/{execution_arn.rsplit(':', 1)[-1]}"


def log_lines(run: EndedRun, *, level: str, include_data: bool) -> list[dict[str, Any]]:
    """The execution's history as Step Functions writes it to its log group: one JSON
    object per event (``id``, ``type``, ``details``, ``previous_event_id``,
    ``event_timestamp``, ``execution_arn``, ``redrive_count``), filtered by ``level``;
    without ``include_data`` inputs and outputs are left out. A redrive's end logs its own
    events, from its ``ExecutionRedriven`` on: the earlier runs' were logged as they ended
    (Step Functions logs events as they happen, once)."""
    events = run.events
    if run.redrive_count:
        starts = [i for i, event in enumerate(events) if event_type(event) == "ExecutionRedriven"]
        if starts:
            events = events[starts[-1] :]
    lines: list[dict[str, Any]] = []
    for event in events:
        kind = event_type(event)
        if not logged(kind, level):
            continue
        details: dict[str, Any] = next(
            (
                dict(v)
                for k, v in event.items()
                if k.endswith("EventDetails") and isinstance(v, dict)
            ),
            {},
        )
        if not include_data:
            for key in ("input", "output", "inputDetails", "outputDetails"):
                details.pop(key, None)
        stamp = _as_datetime(event.get("timestamp")) or run.stop
        lines.append(
            {
                "id": str(event.get("id")),
                "type": kind,
                "details": details,
                "previous_event_id": str(event.get("previousEventId", 0)),
                "event_timestamp": str(_epoch_ms(stamp)),
                "execution_arn": run.arn,
                "redrive_count": str(run.redrive_count),
            }
        )
    return lines
