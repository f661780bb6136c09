"""The cost model's arithmetic, checked against sums worked by hand."""

import pytest

from benchmarks.cost import (
    LambdaCall,
    PathProfile,
    Prices,
    Workflow,
    cost_per_million,
    express_gb_seconds,
)

PRICES = Prices()


def _profile() -> PathProfile:
    return PathProfile(
        path="valid",
        state_transitions=7,
        lambda_calls=(
            LambdaCall("TypeCheck", 256, 9.2),  # billed 10 ms
            LambdaCall("ValidateSchema", 1024, 100.0),
        ),
        s3_reads=2,
        s3_writes=2,
        dynamodb_write_units=3,
        sns_publishes=0,
        api_requests=1,
        overhead_ms_per_state=20.0,
    )


def test_given_a_valid_path_when_costed_as_standard_then_each_component_matches_hand_sums() -> None:
    parts = cost_per_million(_profile(), Workflow.STANDARD, PRICES).components

    assert parts["lambda requests"] == pytest.approx(2 * 0.20)
    # 0.25 GB x 0.010 s + 1 GB x 0.100 s = 0.1025 GB-s per file
    assert parts["lambda duration"] == pytest.approx(1e6 * 0.1025 * 0.0000133334)
    assert parts["state transitions"] == pytest.approx(7 * 25.0)
    assert parts["s3 requests"] == pytest.approx(2 * 0.40 + 2 * 5.0)
    assert parts["dynamodb writes"] == pytest.approx(3 * 0.625)
    assert parts["http api"] == pytest.approx(1.0)
    assert parts["sns"] == 0
    assert "express requests" not in parts


def test_given_the_same_path_when_costed_as_express_then_transitions_give_way_to_duration() -> None:
    breakdown = cost_per_million(_profile(), Workflow.EXPRESS, PRICES)
    parts = breakdown.components

    # wall time 9.2 + 100 + 7 x 20 = 249.2 ms -> billed 300 ms at 64 MB
    assert parts["express requests"] == pytest.approx(1.0)
    assert parts["express duration"] == pytest.approx(1e6 * (64 / 1024) * 0.3 * 0.06 / 3600)
    assert "state transitions" not in parts
    assert breakdown.total == pytest.approx(sum(parts.values()))
    assert breakdown.total < cost_per_million(_profile(), Workflow.STANDARD, PRICES).total


@pytest.mark.parametrize(
    ("ms", "mb", "expected"),
    [
        (1.0, 10, 0.0625 * 0.1),  # minimum: 100 ms, 64 MB
        (100.0, 64, 0.0625 * 0.1),
        (100.1, 65, 0.125 * 0.2),  # both round up
    ],
)
def test_express_billing_rounds_duration_to_100_ms_and_memory_to_64_mb(
    ms: float, mb: int, expected: float
) -> None:
    assert express_gb_seconds(ms, mb) == pytest.approx(expected)


def test_prices_carry_the_date_they_were_checked() -> None:
    assert PRICES.as_of == "2026-11-25"
    assert PRICES.region == "us-east-1"


def test_given_a_measured_path_then_the_untagged_cost_drops_one_s3_write_per_tag() -> None:
    from benchmarks.run import cost_section

    run = {
        "status": "SUCCEEDED",
        "outcome": "VALID",
        "states": ["Claim", "TypeCheck", "ValidateSchema", "Route", "WriteMetadata"],
        "retries": 0,
        "calls": {"s3:GetObject": 2, "s3:PutObjectTagging": 1, "dynamodb:PutItem": 1},
        "lambda_ms": {"TypeCheck": 10.0},
        "dynamodb_write_units": 6,
    }
    section = cost_section(
        {"cases": [{"name": "f", "first": run}], "memory_mb": {"TypeCheck": 512}}
    )

    assert section is not None
    (entry,) = section["paths"]
    for workflow in ("STANDARD", "EXPRESS"):
        saved = entry[workflow]["total"] - entry["untagged"][workflow]
        assert saved == pytest.approx(1_000_000 * Prices().s3_write_request)
