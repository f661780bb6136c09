"""The transition graph of an ASL definition's top-level states.

Used to scaffold mock test cases (which states a path enters and how it leaves each) and to
check that a suite of test cases takes every transition of the definition. Only the
top-level ``States`` are walked: Map and Parallel branches run inside their parent state.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

TransitionKind = Literal["next", "choice", "default", "catch"]

#: Error names a Catch or Retry with these in ErrorEquals matches, besides its own list.
WILDCARD_ERRORS = ("States.ALL",)


class PathError(ValueError):
    """A list of states that is not a path through the definition; the message says where."""


@dataclass(frozen=True)
class Transition:
    """One edge: ``source`` hands over to ``target`` by ``kind``.

    ``errors`` lists a Catch's ErrorEquals; ``rule`` is the index of a Choice rule.
    """

    source: str
    target: str
    kind: TransitionKind
    errors: tuple[str, ...] = ()
    rule: int | None = None

    def label(self) -> str:
        """A short human label, e.g. ``Claim -catch[DynamoDB.ConditionalCheckFailed]-> X``."""
        extra = ""
        if self.kind == "catch":
            extra = f"[{', '.join(self.errors)}]"
        elif self.rule is not None:
            extra = f"[{self.rule}]"
        return f"{self.source} -{self.kind}{extra}-> {self.target}"


class Definition:
    """A parsed ASL document with its transitions."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        states = document.get("States")
        if not isinstance(states, Mapping) or "StartAt" not in document:
            raise ValueError("an ASL definition needs StartAt and States")
        self.document = document
        self.start_at = str(document["StartAt"])
        self.states: Mapping[str, Mapping[str, Any]] = states

    @classmethod
    def from_json(cls, text: str) -> Definition:
        """Parse an ASL JSON document."""
        return cls(json.loads(text))

    def state(self, name: str) -> Mapping[str, Any]:
        """The state called ``name``; ``PathError`` when there is none."""
        try:
            return self.states[name]
        except KeyError:
            raise PathError(
                f"no state {name!r} in the definition (states: {', '.join(self.states)})"
            ) from None

    def is_task(self, name: str) -> bool:
        """True for Task states: the ones a mock configuration can mock."""
        return self.state(name).get("Type") == "Task"

    def transitions_from(self, name: str) -> list[Transition]:
        """Every edge out of state ``name``, in definition order."""
        state = self.state(name)
        out: list[Transition] = []
        if state.get("Type") == "Choice":
            for index, rule in enumerate(state.get("Choices", [])):
                out.append(Transition(name, str(rule["Next"]), "choice", rule=index))
            if "Default" in state:
                out.append(Transition(name, str(state["Default"]), "default"))
            return out
        if "Next" in state:
            out.append(Transition(name, str(state["Next"]), "next"))
        for catcher in state.get("Catch", []):
            errors = tuple(str(e) for e in catcher.get("ErrorEquals", []))
            out.append(Transition(name, str(catcher["Next"]), "catch", errors=errors))
        return out

    def transitions(self) -> list[Transition]:
        """Every edge of the definition."""
        return [t for name in self.states for t in self.transitions_from(name)]

    def is_terminal(self, name: str) -> bool:
        """True when the state can end the execution (End, Succeed, Fail)."""
        state = self.state(name)
        return bool(state.get("End")) or state.get("Type") in ("Succeed", "Fail")

    def walk(self, states: Sequence[str]) -> list[Transition]:
        """The edges a path takes; ``PathError`` when it is not a path from StartAt to an end.

        A path may also stop at a Task that does not end the execution: the execution fails
        there (an error no Catch takes), which is where a redrive resumes.
        Where both are possible, a plain ``next`` is preferred over a Catch to the same state.
        """
        if not states:
            raise PathError("a path needs at least one state")
        for name in states:
            self.state(name)  # an unknown name is the clearest error, so it comes first
        if states[0] != self.start_at:
            raise PathError(f"a path starts at {self.start_at!r}, not {states[0]!r}")
        taken: list[Transition] = []
        for source, target in itertools.pairwise(states):
            candidates = [t for t in self.transitions_from(source) if t.target == target]
            if not candidates:
                reachable = ", ".join(t.target for t in self.transitions_from(source)) or "none"
                raise PathError(f"{source!r} cannot go to {target!r} (it can go to: {reachable})")
            taken.append(candidates[0])
        if not (self.is_terminal(states[-1]) or self.is_task(states[-1])):
            raise PathError(f"the path stops at {states[-1]!r}, which does not end the execution")
        return taken

    def path_by_choices(self, choices: Mapping[str, str] | None = None) -> list[str]:
        """The path that takes each Task's ``Next`` and, at each Choice, the branch to the state
        named in ``choices`` (default: the Choice's first rule)."""
        choices = dict(choices or {})
        unknown = sorted(set(choices) - set(self.states))
        if unknown:
            raise PathError(f"no Choice state {', '.join(map(repr, unknown))} in the definition")
        path = [self.start_at]
        while not self.is_terminal(path[-1]):
            current = path[-1]
            edges = self.transitions_from(current)
            if self.state(current).get("Type") == "Choice":
                wanted = choices.pop(current, None)
                if wanted is None:
                    edge = edges[0]
                else:
                    matching = [e for e in edges if e.target == wanted]
                    if not matching:
                        options = ", ".join(e.target for e in edges)
                        raise PathError(
                            f"Choice {current!r} has no branch to {wanted!r} ({options})"
                        )
                    edge = matching[0]
            else:
                plain = [e for e in edges if e.kind == "next"]
                if not plain:
                    raise PathError(f"{current!r} has no Next and does not end the execution")
                edge = plain[0]
            if edge.target in path:
                raise PathError(f"the path loops back to {edge.target!r}; list the states instead")
            path.append(edge.target)
        if choices:
            raise PathError(f"the path never reaches Choice {', '.join(map(repr, choices))}")
        return path
