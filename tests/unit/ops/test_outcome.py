"""A file's outcome beside its execution, and when a replay of the same event is pointless."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scalper.ops.outcome import FileOutcome

REPO = Path(__file__).resolve().parents[3]
EVENT: dict[str, Any] = json.loads(
    (REPO / "events" / "eventbridge" / "object-created.json").read_text(encoding="utf-8")
)
SEQUENCER = str(EVENT["detail"]["object"]["sequencer"])


def event_with(sequencer: str) -> dict[str, Any]:
    detail = {**EVENT["detail"], "object": {**EVENT["detail"]["object"], "sequencer": sequencer}}
    return {**EVENT, "detail": detail}


@pytest.mark.parametrize("status", ["VALID", "QUARANTINED"])
def test_given_a_verdict_for_the_same_event_then_a_replay_cannot_change_it(status: str) -> None:
    outcome = FileOutcome(status, decided_here=True, sequencer=SEQUENCER)

    assert outcome.decides(EVENT)


@pytest.mark.parametrize("status", ["FAILED", "PROCESSING", None])
def test_given_no_verdict_then_a_replay_may_run(status: str | None) -> None:
    """Claim lets the same event in over a FAILED record (and releases abandoned claims)."""
    assert not FileOutcome(status, sequencer=SEQUENCER).decides(EVENT)


def test_given_a_verdict_on_an_older_object_version_then_a_replay_of_the_newer_event_may_run() -> (
    None
):
    """Claim takes the record over for a newer event (a greater sequencer): new bytes."""
    outcome = FileOutcome("VALID", sequencer=SEQUENCER)

    assert not outcome.decides(event_with(SEQUENCER + "1"))
    assert outcome.decides(event_with(SEQUENCER[:-1]))


def test_labels_say_the_outcome_its_reason_and_whether_this_execution_decided_it() -> None:
    assert FileOutcome("VALID", decided_here=True).label == "VALID"
    assert (
        FileOutcome("QUARANTINED", "MALFORMED", decided_here=True).label == "QUARANTINED\nMALFORMED"
    )
    assert FileOutcome("VALID").label == "VALID\nother execution"
    assert FileOutcome(None).label == "no record"
