"""With WorkflowType=EXPRESS every path of the pipeline fits the 5-minute Express cap, and the
template refuses (with a CloudFormation Rules assertion) what cannot.

The worst case of a path, read from the deployed ASL and the template's Express function
timeouts: for every Task, every retry's full backoff (the jitter's upper bound), each retried
attempt as a quick service error, and one full run: a Lambda's whole timeout, a direct
integration's call. Retried Lambda errors (throttles, service errors) come back before the
function runs; a run that times out is not retried.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from functions_support import NAMES
from handler_support import resolver
from sam_template import ASL

from scalper.local.template import Resolver, TemplateError

#: Express's maximum execution duration.
EXPRESS_CAP_SECONDS = 300
#: A retried attempt (a service error) or one direct service integration call.
CALL_SECONDS = 0.5
#: The slowest engine throughput of docs/performance.md (CSV, 1 % invalid records, one core).
SLOWEST_MB_PER_S = 15.0
LAMBDA_STATES = {
    "TypeCheck": "TypeCheckFunction",
    "ValidateSchema": "ValidateSchemaFunction",
    "ExtractMetadata": "ExtractMetadataFunction",
    "WriteMetadata": "WriteMetadataFunction",
    "Quarantine": "QuarantineFunction",
}


def backoff(retrier: Mapping[str, Any]) -> float:
    """The longest a Retrier waits in total: each delay at its cap, before jitter."""
    interval, rate = retrier.get("IntervalSeconds", 1), retrier.get("BackoffRate", 2.0)
    cap = retrier.get("MaxDelaySeconds", float("inf"))
    return sum(min(interval * rate**k, cap) for k in range(retrier.get("MaxAttempts", 3)))


def task_seconds(state: Mapping[str, Any], run_seconds: float) -> float:
    retriers = state.get("Retry", [])
    retried = sum(r.get("MaxAttempts", 3) for r in retriers)
    return sum(backoff(r) for r in retriers) + retried * CALL_SECONDS + run_seconds


def paths(states: Mapping[str, Any], name: str) -> Iterator[list[str]]:
    """Every path from ``name`` to an end (the definition has no loops)."""
    state = states[name]
    targets = [c["Next"] for c in state.get("Choices", [])] + [
        c["Next"] for c in state.get("Catch", [])
    ]
    targets += [state[k] for k in ("Next", "Default") if k in state]
    if not targets:
        yield [name]
    for target in dict.fromkeys(targets):
        for rest in paths(states, target):
            yield [name, *rest]


@pytest.fixture
def express(template: dict[str, Any]) -> Resolver:
    return resolver_for(template, {"WorkflowType": "EXPRESS"})


def resolver_for(template: dict[str, Any], overrides: Mapping[str, str]) -> Resolver:
    return resolver(template, {**NAMES, **overrides})


def test_given_express_then_the_worst_case_of_every_path_fits_five_minutes(
    template: dict[str, Any], express: Resolver
) -> None:
    definition = json.loads(ASL.read_text(encoding="utf-8"))
    states = definition["States"]
    timeouts = {
        state: float(
            express.resolve(
                template["Resources"][function]["Properties"].get(
                    "Timeout", template["Globals"]["Function"]["Timeout"]
                )
            )
        )
        for state, function in LAMBDA_STATES.items()
    }
    worst = {
        " -> ".join(path): sum(
            task_seconds(states[name], timeouts.get(name, CALL_SECONDS))
            for name in path
            if states[name]["Type"] == "Task"
        )
        for path in paths(states, definition["StartAt"])
    }
    assert len(worst) > 5
    longest = max(worst, key=worst.__getitem__)
    assert worst[longest] <= EXPRESS_CAP_SECONDS, (longest, worst[longest])


def test_given_express_then_every_allowed_upload_size_is_validated_within_its_timeout(
    template: dict[str, Any], express: Resolver
) -> None:
    (assertion,) = template["Rules"]["ExpressFitsFiveMinutes"]["Assertions"]
    allowed = [int(size) for size in assertion["Assert"]["Fn::Contains"][0]]
    timeout = express.resolve(
        template["Resources"]["ValidateSchemaFunction"]["Properties"]["Timeout"]
    )
    assert max(allowed) / 1e6 / SLOWEST_MB_PER_S < 0.75 * float(timeout)
    assert str(template["Parameters"]["MaxUploadBytes"]["Default"]) in {str(a) for a in allowed}


@pytest.mark.parametrize(
    ("overrides", "accepted"),
    [
        ({"WorkflowType": "EXPRESS", "MaxUploadBytes": "5368709120"}, False),
        ({"WorkflowType": "EXPRESS", "MaxUploadBytes": "123456789"}, False),
        ({"WorkflowType": "EXPRESS", "MaxUploadBytes": "104857600"}, True),
        ({"WorkflowType": "STANDARD", "MaxUploadBytes": "5368709120"}, True),
    ],
)
def test_given_parameters_then_the_rules_refuse_an_express_upload_limit_too_large_to_validate(
    template: dict[str, Any], overrides: dict[str, str], accepted: bool
) -> None:
    """What CloudFormation does with the template's Rules, done by the local stack too."""
    if accepted:
        resolver_for(template, overrides)
    else:
        with pytest.raises(TemplateError, match="rule ExpressFitsFiveMinutes: With WorkflowType"):
            resolver_for(template, overrides)
