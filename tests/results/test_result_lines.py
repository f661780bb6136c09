"""Stream records -> result lines: only terminal transitions, one stable object per outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from silent_scalper.pipeline.write_result import ResultsSettings, lines_from_stream, result_line

PK = "in-bucket/uploads/2026-01-05/abc/jobs.csv"
EXEC = "arn:aws:states:us-east-1:123456789012:execution:pipeline:1f0c"


def image(**fields: Any) -> dict[str, Any]:
    serializer = TypeSerializer()
    return {k: serializer.serialize(v) for k, v in fields.items()}


def valid(**extra: Any) -> dict[str, Any]:
    return {
        "pk": PK,
        "bucket": "in-bucket",
        "key": "uploads/2026-01-05/abc/jobs.csv",
        "event_key": "uploads/2026-01-05/abc/jobs.csv",
        "status": "VALID",
        "size": 1234,
        "records": 7,
        "format": "csv",
        "execution_arn": EXEC,
        "event_time": "2026-01-05T23:59:58Z",
        "processed_at": "2026-01-06T00:00:01.500Z",
        "updated_at": "2026-01-06T00:00:01.500Z",
        "uploader": {"kind": "COGNITO", "principal": "7d8ca528", "name": "ana"},
        **extra,
    }


def record(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> dict[str, Any]:
    change: dict[str, Any] = {"SequenceNumber": "100", "Keys": image(pk=PK)}
    if new is not None:
        change["NewImage"] = image(**new)
    if old is not None:
        change["OldImage"] = image(**old)
    return {"eventName": name, "eventSource": "aws:dynamodb", "dynamodb": change}


def test_given_processing_becoming_valid_then_one_line_dated_by_processed_at():
    claim = {"pk": PK, "status": "PROCESSING", "execution_arn": EXEC}
    [line] = lines_from_stream([record("MODIFY", valid(), claim)])
    assert line.status == "VALID"
    assert line.dt == "2026-01-06"
    assert line.object_key().startswith("results/dt=2026-01-06/")
    assert line.latency_seconds == pytest.approx(3.5)
    assert (line.uploader_kind, line.uploader_principal, line.uploader_name) == (
        "COGNITO",
        "7d8ca528",
        "ana",
    )
    parsed = json.loads(line.to_json_line())
    assert parsed["records"] == 7
    assert "\n" not in line.to_json_line()


def test_given_the_claim_itself_then_no_line():
    claim = {"pk": PK, "status": "PROCESSING", "execution_arn": EXEC, "updated_at": "2026-01-06"}
    assert lines_from_stream([record("INSERT", claim, None)]) == []


def test_given_the_same_outcome_rewritten_then_no_second_line():
    assert lines_from_stream([record("MODIFY", valid(size=1234), valid())]) == []


def test_given_a_new_execution_with_the_same_status_then_a_new_line():
    older = valid(execution_arn=EXEC + "-old")
    assert len(lines_from_stream([record("MODIFY", valid(), older)])) == 1


def test_given_recordfailure_s_item_then_the_line_uses_updated_at_and_the_error():
    failed = {
        "pk": PK,
        "bucket": "in-bucket",
        "event_key": "uploads/2026-01-05/abc/jobs.csv",
        "status": "FAILED",
        "execution_arn": EXEC,
        "failure_error": "Lambda.ServiceException",
        "failure_cause": "boom",
        "updated_at": "2026-01-05T12:00:00.000Z",
        "sequencer": "0A1B",
    }
    [line] = lines_from_stream([record("MODIFY", failed, {"pk": PK, "status": "PROCESSING"})])
    assert (line.status, line.dt, line.failure_error) == (
        "FAILED",
        "2026-01-05",
        failed["failure_error"],
    )
    assert line.key == "uploads/2026-01-05/abc/jobs.csv"
    assert line.uploader_principal is None


def test_given_a_removal_then_no_line():
    assert lines_from_stream([record("REMOVE", None, valid())]) == []


def test_the_object_key_depends_on_the_outcome_not_on_delivery():
    first = result_line(valid())
    again = result_line(valid(size=1234))
    other = result_line(valid(execution_arn=EXEC + "-2"))
    assert first.object_key() == again.object_key()
    assert first.object_key() != other.object_key()


def test_given_a_terminal_record_without_any_time_then_a_clear_error():
    broken = valid()
    del broken["processed_at"], broken["updated_at"]
    with pytest.raises(ValueError, match="no processed_at/updated_at"):
        result_line(broken)


def test_given_no_results_bucket_then_the_setting_names_the_variable():
    with pytest.raises(ValueError, match="RESULTS_BUCKET"):
        ResultsSettings.from_env({})
    assert ResultsSettings.from_env({"RESULTS_BUCKET": "b-results"}).results_bucket == "b-results"


@pytest.mark.parametrize(
    ("uploader_attribute", "expected"),
    [
        (
            {"M": {"kind": {"S": "IAM"}, "principal": {"S": "arn:aws:iam::1:user/ana"}}},
            ("IAM", "arn:aws:iam::1:user/ana", None),
        ),
        ({"NULL": True}, (None, None, None)),
    ],
    ids=["uploader read by TypeCheck", "failed before TypeCheck"],
)
def test_given_a_direct_failed_update_then_the_failed_line_carries_its_uploader(
    uploader_attribute: dict[str, Any], expected: tuple[str | None, ...]
) -> None:
    """Given a FAILED item written by a direct DynamoDB update (no processed_at, the
    uploader as TypeCheck's attribute value), then the line names the uploader or nobody."""
    claim = {"pk": PK, "status": "PROCESSING", "execution_arn": EXEC}
    failed = image(
        pk=PK, bucket="in-bucket", event_key="uploads/2026-01-05/abc/jobs.csv", status="FAILED",
        execution_arn=EXEC, failure_error="States.TaskFailed", failure_cause="boom",
        updated_at="2026-01-06T00:00:02.000Z",
    ) | {"uploader": uploader_attribute}  # fmt: skip
    change = {"SequenceNumber": "101", "Keys": image(pk=PK), "NewImage": failed,
              "OldImage": image(**claim)}  # fmt: skip
    [line] = lines_from_stream(
        [{"eventName": "MODIFY", "eventSource": "aws:dynamodb", "dynamodb": change}]
    )
    assert line.status == "FAILED"
    assert (line.uploader_kind, line.uploader_principal, line.uploader_name) == expected
