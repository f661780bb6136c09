"""Write a starting mock-config test case for one path through a state machine.

Given a path (a list of states, or the Choice branches to take), every Task on it gets a
mocked response: ``Return`` placeholders shaped like that integration's result when the path
goes on by ``Next``, or a ``Throw`` (repeated past the matching Retry's attempts) when the path
leaves through a ``Catch`` or stops at that Task (the execution fails there).
Lambda results are ``{"StatusCode": 200, "Payload": ...}`` with
the Payload fields the state's ``ResultSelector`` reads; a Choice on the path sets the field
its rule tests so the generated case really takes that branch. The rest of each Payload is
``null`` for the user to fill in with what the function returns.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

from scalper.sfn_mock.asl import WILDCARD_ERRORS, Definition, PathError, Transition
from scalper.sfn_mock.model import MockConfig, MockConfigError

#: Cause written into scaffolded Throw entries.
SCAFFOLD_CAUSE = "Mocked failure written by scalper sfn-mock scaffold"
_REQUEST_METADATA = {
    "SdkHttpMetadata": {"HttpStatusCode": 200},
    "SdkResponseMetadata": {"RequestId": "00000000-0000-0000-0000-000000000000"},
}
_EQUALITY_OPERATORS = ("BooleanEquals", "StringEquals", "NumericEquals")


def _set_path(target: dict[str, Any], keys: Sequence[str], value: Any) -> None:
    for key in keys[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = {}
            target[key] = child
        target = child
    target[keys[-1]] = value


def _payload_skeleton(state: Mapping[str, Any]) -> dict[str, Any]:
    """The Payload fields a Lambda Task's ResultSelector reads, each ``None``."""
    payload: dict[str, Any] = {}
    for key, source in (state.get("ResultSelector") or {}).items():
        if key.endswith(".$") and isinstance(source, str) and source.startswith("$.Payload."):
            _set_path(payload, source.removeprefix("$.Payload.").split("."), None)
    return payload


def result_placeholder(state: Mapping[str, Any]) -> Any:
    """A ``Return`` value shaped like the result of the Task's integration."""
    resource = str(state.get("Resource", ""))
    service = resource.removeprefix("arn:aws:states:::").split(".")[0]
    if service in ("lambda:invoke", "lambda:invoke.waitForTaskToken") or resource.startswith(
        "arn:aws:lambda:"
    ):
        result: dict[str, Any] = {
            "ExecutedVersion": "$LATEST",
            "Payload": _payload_skeleton(state),
            "StatusCode": 200,
        }
        return result if service.startswith("lambda:") else result["Payload"]
    return copy.deepcopy(_SERVICE_RESULTS.get(service, {}))


#: The result skeleton of each service integration the pipeline's Tasks use (a Lambda
#: Task's is built from its Payload selectors instead).
_SERVICE_RESULTS: dict[str, dict[str, Any]] = {
    "dynamodb:getItem": {"Item": {}, **_REQUEST_METADATA},
    "dynamodb:putItem": dict(_REQUEST_METADATA),
    "dynamodb:updateItem": dict(_REQUEST_METADATA),
    "dynamodb:deleteItem": dict(_REQUEST_METADATA),
    "sns:publish": {"MessageId": "00000000-0000-0000-0000-000000000000", **_REQUEST_METADATA},
    "sqs:sendMessage": {
        "MD5OfMessageBody": "00000000000000000000000000000000",
        "MessageId": "00000000-0000-0000-0000-000000000000",
        **_REQUEST_METADATA,
    },
    "aws-sdk:s3:putObjectTagging": {"VersionId": None},
}


def _thrown_error(transition: Transition) -> str:
    """An error name the Catch of ``transition`` catches (and no earlier Catch does)."""
    specific = [e for e in transition.errors if e not in WILDCARD_ERRORS]
    return specific[0] if specific else "States.TaskFailed"


def _retry_attempts(state: Mapping[str, Any], error: str) -> int:
    """How many retries the first Retrier matching ``error`` grants (0 when none matches)."""
    for retrier in state.get("Retry", []):
        equals = retrier.get("ErrorEquals", [])
        if error in equals or any(e in WILDCARD_ERRORS for e in equals):
            return int(retrier.get("MaxAttempts", 3))
        if error != "States.Timeout" and "States.TaskFailed" in equals:
            return int(retrier.get("MaxAttempts", 3))
    return 0


def _uncaught_error(definition: Definition, name: str) -> str:
    """An error that fails the execution at Task ``name``: its first retried error no Catch
    takes (so the retries are exhausted too), else one nothing retries or catches."""
    catches = [t for t in definition.transitions_from(name) if t.kind == "catch"]
    if any(e in WILDCARD_ERRORS for t in catches for e in t.errors):
        raise PathError(f"{name!r} catches States.ALL: the execution cannot fail there")
    caught = {e for t in catches for e in t.errors}
    for retrier in definition.state(name).get("Retry", []):
        for error in retrier.get("ErrorEquals", []):
            if error not in WILDCARD_ERRORS and error not in caught:
                return str(error)
    return "Scaffold.TaskFailed"


def _catch_reaches(definition: Definition, transition: Transition, error: str) -> bool:
    """True when ``error`` is caught by the Catch of ``transition`` (no earlier Catch wins)."""
    for edge in definition.transitions_from(transition.source):
        if edge.kind != "catch":
            continue
        if error in edge.errors or any(e in WILDCARD_ERRORS for e in edge.errors):
            return edge == transition
    return False


def _choice_requirements(definition: Definition, transition: Transition) -> list[tuple[str, Any]]:
    """(variable, value) pairs that make a Choice take ``transition``, where derivable."""
    rules = definition.state(transition.source).get("Choices", [])

    def operator(rule: Mapping[str, Any]) -> tuple[str, Any] | None:
        for name in _EQUALITY_OPERATORS:
            if name in rule and isinstance(rule.get("Variable"), str):
                return name, rule[name]
        return None

    def negation(name: str, value: Any) -> Any:
        if name == "BooleanEquals":
            return not value
        if name == "NumericEquals":
            return value + 1
        return f"not {value}"

    if transition.kind == "choice" and transition.rule is not None:
        found = operator(rules[transition.rule])
        return [(rules[transition.rule]["Variable"], found[1])] if found else []
    requirements = []
    for rule in rules:
        found = operator(rule)
        if found:
            requirements.append((rule["Variable"], negation(*found)))
    return requirements


def _apply_requirement(
    definition: Definition,
    path: Sequence[str],
    returns: Mapping[str, Any],
    variable: str,
    value: Any,
) -> None:
    """Set ``value`` where an earlier Task's Return produces ``variable`` (JSONPath ``$.a.b``)."""
    for name in reversed(path):
        if name not in returns or not isinstance(returns[name], dict):
            continue
        result_path = definition.state(name).get("ResultPath", "$")
        if not isinstance(result_path, str) or not variable.startswith(result_path + "."):
            continue
        rest = variable.removeprefix(result_path + ".").split(".")
        selector = definition.state(name).get("ResultSelector") or {}
        source = selector.get(f"{rest[0]}.$")
        if isinstance(source, str) and source.startswith("$."):
            keys = source.removeprefix("$.").split(".") + rest[1:]
        else:
            keys = rest
        _set_path(returns[name], keys, value)
        return


def scaffold_test_case(
    definition: Definition, path: Sequence[str], *, test_case: str
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Mocked states and responses for ``path``: ({state: response name}, {name: attempts})."""
    taken = definition.walk(path)
    leaving: dict[str, Transition] = {t.source: t for t in taken}
    returns: dict[str, Any] = {}
    responses: dict[str, dict[str, Any]] = {}
    mapping: dict[str, str] = {}
    for index, name in enumerate(path):
        state = definition.state(name)
        transition = leaving.get(name) if index < len(path) - 1 else None
        if transition is not None and transition.kind in ("choice", "default"):
            for variable, value in _choice_requirements(definition, transition):
                _apply_requirement(definition, path[:index], returns, variable, value)
        if not definition.is_task(name):
            continue
        response_name = f"{test_case}{name}"
        mapping[name] = response_name
        if transition is not None and transition.kind == "catch":
            error = _thrown_error(transition)
            if not _catch_reaches(definition, transition, error):
                raise PathError(f"cannot scaffold a Throw that {transition.label()} catches")
            retries = _retry_attempts(state, error)
            key = "0" if retries == 0 else f"0-{retries}"
            responses[response_name] = {key: {"Throw": {"Error": error, "Cause": SCAFFOLD_CAUSE}}}
        elif index == len(path) - 1 and not definition.is_terminal(name):
            error = _uncaught_error(definition, name)
            retries = _retry_attempts(state, error)
            key = "0" if retries == 0 else f"0-{retries}"
            responses[response_name] = {key: {"Throw": {"Error": error, "Cause": SCAFFOLD_CAUSE}}}
        else:
            returns[name] = copy.deepcopy(result_placeholder(state))
            responses[response_name] = {"0": {"Return": returns[name]}}
    return mapping, responses


def merge_test_case(
    existing: MockConfig | None,
    *,
    state_machine: str,
    test_case: str,
    mapping: Mapping[str, str],
    responses: Mapping[str, Mapping[str, Any]],
    replace: bool = False,
) -> MockConfig:
    """Add one test case to a mock configuration (a new one when ``existing`` is None).

    An existing test case of that name is refused unless ``replace``; a mocked response name
    already defined differently is refused, so merging never changes another test case.
    """
    document = existing.to_json() if existing is not None else {}
    machines = document.setdefault("StateMachines", {})
    cases = machines.setdefault(state_machine, {"TestCases": {}})["TestCases"]
    if test_case in cases and not replace:
        raise MockConfigError(
            f"test case {test_case!r} of {state_machine!r} already exists (use --replace)"
        )
    cases[test_case] = dict(mapping)
    defined = document.setdefault("MockedResponses", {})
    for name, attempts in responses.items():
        if name in defined and defined[name] != attempts and not replace:
            raise MockConfigError(f"mocked response {name!r} already exists with other content")
        defined[name] = copy.deepcopy(dict(attempts))
    return MockConfig.from_json(document, source="merged mock configuration")
