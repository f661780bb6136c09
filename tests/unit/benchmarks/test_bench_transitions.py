"""Counting state transitions: the static ASL walk and the execution-history count."""

from typing import Any

from benchmarks.transitions import count_history_transitions, enumerate_paths, named_paths

ASL: dict[str, Any] = {
    "StartAt": "Claim",
    "States": {
        "Claim": {
            "Type": "Task",
            "Next": "Check",
            "Catch": [
                {"ErrorEquals": ["Dup"], "Next": "Duplicate"},
                {"ErrorEquals": ["States.ALL"], "Next": "Failed"},
            ],
        },
        "Duplicate": {"Type": "Succeed"},
        "Check": {"Type": "Task", "Next": "Route"},
        "Route": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "ExtractMetadata"}],
            "Default": "Quarantine",
        },
        "ExtractMetadata": {"Type": "Task", "Next": "Done"},
        "Quarantine": {"Type": "Task", "Next": "Done"},
        "Done": {"Type": "Succeed"},
        "Failed": {"Type": "Fail"},
    },
}


def test_given_a_choice_and_catchers_when_walked_then_every_terminal_path_is_found() -> None:
    paths = {p.states for p in enumerate_paths(ASL)}

    assert paths == {
        ("Claim", "Check", "Route", "ExtractMetadata", "Done"),
        ("Claim", "Check", "Route", "Quarantine", "Done"),
        ("Claim", "Duplicate"),
        ("Claim", "Failed"),
    }


def test_named_paths_pick_the_valid_quarantine_duplicate_and_failure_paths() -> None:
    named = named_paths(enumerate_paths(ASL))

    assert named["valid"].transitions == 5
    assert named["quarantined"].states[-2] == "Quarantine"
    assert named["duplicate"].states == ("Claim", "Duplicate")
    assert named["failed (earliest)"].terminal == "Fail"


def test_given_a_history_with_a_retried_task_then_each_retry_is_one_more_transition() -> None:
    def entered(name: str) -> dict[str, Any]:
        return {"type": "TaskStateEntered", "stateEnteredEventDetails": {"name": name}}

    events = [
        {"type": "ExecutionStarted"},
        entered("Claim"),
        {"type": "TaskScheduled"},
        {"type": "TaskSucceeded"},
        entered("TypeCheck"),
        {"type": "TaskScheduled"},
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},  # retry 1
        {"type": "TaskFailed"},
        {"type": "TaskScheduled"},  # retry 2
        {"type": "TaskSucceeded"},
        {"type": "ChoiceStateEntered", "stateEnteredEventDetails": {"name": "Route"}},
        {"type": "SucceedStateEntered", "stateEnteredEventDetails": {"name": "Done"}},
        {"type": "ExecutionSucceeded"},
    ]

    counted = count_history_transitions(events)

    assert counted["states"] == ["Claim", "TypeCheck", "Route", "Done"]
    assert counted["retries"] == 2
    assert counted["transitions"] == 6
