"""State transitions per file for each path through ``statemachine/pipeline.asl.json``.

Two sources, reported side by side:

- **static**: a Choice- and Catch-aware walk of the ASL. Every path from ``StartAt`` to a
  terminal state is enumerated; its transition count is the number of states it enters
  (Step Functions bills one transition per state entered, plus one per retry).
- **history**: executions on moto's Step Functions engine (the real ASL interpreter),
  counting ``*StateEntered`` events (and retries) in each execution's history. See
  :func:`count_history_transitions`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
ASL_PATH = REPO_ROOT / "statemachine" / "pipeline.asl.json"


@dataclass(frozen=True, slots=True)
class AslPath:
    """One path through the state machine: the states entered, in order."""

    states: tuple[str, ...]
    terminal: str  # "Succeed" or "Fail"

    @property
    def transitions(self) -> int:
        """States entered on this path (no retries)."""
        return len(self.states)


def _edges(state: Mapping[str, Any]) -> Iterator[str]:
    """Every state a state can hand over to: Next, Choice branches, Default, Catch."""
    if "Next" in state:
        yield state["Next"]
    for choice in state.get("Choices", ()):
        yield from _choice_targets(choice)
    if "Default" in state:
        yield state["Default"]
    for catcher in state.get("Catch", ()):
        yield catcher["Next"]


def _choice_targets(choice: Mapping[str, Any]) -> Iterator[str]:
    if "Next" in choice:
        yield choice["Next"]


def _is_terminal(state: Mapping[str, Any]) -> bool:
    return state["Type"] in ("Succeed", "Fail") or bool(state.get("End"))


def enumerate_paths(definition: Mapping[str, Any]) -> list[AslPath]:
    """All loop-free paths from ``StartAt`` to a terminal state (depth-first)."""
    states: Mapping[str, Mapping[str, Any]] = definition["States"]
    paths: list[AslPath] = []

    def walk(name: str, trail: tuple[str, ...]) -> None:
        trail = (*trail, name)
        state = states[name]
        if _is_terminal(state):
            paths.append(AslPath(trail, "Fail" if state["Type"] == "Fail" else "Succeed"))
            return
        for target in dict.fromkeys(_edges(state)):  # de-duplicated, in order
            if target not in trail:
                walk(target, trail)

    walk(definition["StartAt"], ())
    return paths


def load_definition(path: Path = ASL_PATH) -> dict[str, Any]:
    """The ASL as committed (``${...}`` substitutions do not change the graph)."""
    definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return definition


def named_paths(paths: Sequence[AslPath]) -> dict[str, AslPath]:
    """Pick the paths a file takes in practice and name them.

    - ``valid``: the shortest path that passes ExtractMetadata and succeeds.
    - ``quarantined``: the shortest that passes Quarantine and succeeds.
    - ``duplicate``: the shortest that succeeds without TypeCheck (Claim refused).
    - ``failed``: the shortest and the longest that end in a Fail state.
    """
    succeeded = [p for p in paths if p.terminal == "Succeed"]
    failed = [p for p in paths if p.terminal == "Fail"]
    out: dict[str, AslPath] = {}

    def shortest(candidates: Sequence[AslPath]) -> AslPath | None:
        return min(candidates, key=lambda p: p.transitions, default=None)

    picks = {
        "valid": shortest([p for p in succeeded if "ExtractMetadata" in p.states]),
        "quarantined": shortest([p for p in succeeded if "Quarantine" in p.states]),
        "duplicate": shortest([p for p in succeeded if "TypeCheck" not in p.states]),
        "failed (earliest)": shortest(failed),
        "failed (latest)": max(failed, key=lambda p: p.transitions, default=None),
    }
    for name, picked in picks.items():
        if picked is not None:
            out[name] = picked
    return out


def count_history_transitions(events: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Transitions billed for one execution, from its ``GetExecutionHistory`` events.

    One per ``*StateEntered`` event, plus one per retry: a Task state that schedules its
    work more than once (``TaskScheduled`` / ``LambdaFunctionScheduled``) was retried.
    """
    entered: list[str] = []
    scheduled_in_state: dict[str, int] = {}
    current: str | None = None
    for event in events:
        kind = str(event.get("type", ""))
        if kind.endswith("StateEntered"):
            details = event.get("stateEnteredEventDetails") or {}
            current = str(details.get("name", "?"))
            entered.append(current)
        elif kind in ("TaskScheduled", "LambdaFunctionScheduled") and current is not None:
            scheduled_in_state[current] = scheduled_in_state.get(current, 0) + 1
    retries = sum(max(0, count - 1) for count in scheduled_in_state.values())
    return {"states": entered, "retries": retries, "transitions": len(entered) + retries}
