"""Specification of the typed MockConfigFile.json model: what loads, what is refused, and where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scalper.sfn_mock import MockConfig, MockConfigError

RETURN = {"Return": {"StatusCode": 200, "Payload": {}}}
THROW = {"Throw": {"Error": "Lambda.ServiceException", "Cause": "down"}}


def config(responses: dict[str, Any], states: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "StateMachines": {"Pipeline": {"TestCases": {"Case": states or {"Work": "Mocked"}}}},
        "MockedResponses": responses,
    }


def test_given_ranges_with_throws_then_return_when_loaded_then_each_attempt_maps_in_order() -> None:
    loaded = MockConfig.from_json(config({"Mocked": {"1-2": THROW, "0": THROW, "3": RETURN}}))
    response = loaded.test_case("Pipeline", "Case")["Work"]
    assert [response.for_attempt(n).is_throw for n in range(4)] == [True, True, True, False]  # type: ignore[union-attr]
    assert response.for_attempt(4) is None
    assert [r.key() for r, _ in response.sequence()] == ["0", "1-2", "3"]


def test_given_a_loaded_config_when_written_back_then_the_json_is_unchanged() -> None:
    raw = config({"Mocked": {"0": THROW, "1": RETURN}})
    assert MockConfig.from_json(raw).to_json() == raw


@pytest.mark.parametrize(
    ("responses", "located_reason"),
    [
        ({"Mocked": {"1": RETURN}},
         "MockedResponses.Mocked: attempt range '1' starts at 1, expected 0"),
        ({"Mocked": {"0-1": THROW, "1": RETURN}}, "attempt range '1' starts at 1, expected 2"),
        ({"Mocked": {"0": {**RETURN, **THROW}}},
         "MockedResponses.Mocked.0: needs exactly one of Return or Throw"),
        ({"Mocked": {"0": {}}}, "needs exactly one of Return or Throw"),
        ({"Mocked": {"zero": RETURN}},
         "attempt key 'zero' is not a number ('0') or a range ('1-2')"),
        ({"Mocked": {"2-1": RETURN}}, "attempt range '2-1' ends before it starts"),
        ({"Mocked": {"0": {"Throw": {"Error": "X"}}}},
         "MockedResponses.Mocked.0.Throw.Cause: Field required"),
        ({"Mocked": {}}, "defines no attempts"),
        ({"Other": {"0": RETURN}},
         "StateMachines.Pipeline.TestCases.Case.Work: mocked response 'Mocked' is not defined"),
    ],
)  # fmt: skip
def test_given_an_inconsistent_config_when_loaded_then_the_error_names_the_place_and_reason(
    responses: dict[str, Any], located_reason: str
) -> None:
    with pytest.raises(MockConfigError) as raised:
        MockConfig.from_json(config(responses), source="MockConfigFile.json")
    message = str(raised.value)
    assert message.startswith("MockConfigFile.json: ")
    assert located_reason in message


def test_given_a_file_that_is_not_json_when_loaded_then_the_error_has_file_line_and_column(
    tmp_path: Path,
) -> None:
    path = tmp_path / "MockConfigFile.json"
    path.write_text('{\n  "StateMachines": {,\n}', encoding="utf-8")
    with pytest.raises(MockConfigError, match=r"MockConfigFile.json: line 2, column 21: not JSON"):
        MockConfig.load(path)


def test_given_a_missing_file_when_loaded_then_the_error_says_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    with pytest.raises(MockConfigError, match="cannot read"):
        MockConfig.load(tmp_path / "absent.json")


def test_given_an_unknown_test_case_when_looked_up_then_the_defined_ones_are_listed() -> None:
    loaded = MockConfig.from_json(config({"Mocked": {"0": RETURN}}))
    with pytest.raises(KeyError, match=r"test case 'Nope' .* \(defined: Case\)"):
        loaded.test_case("Pipeline", "Nope")
    with pytest.raises(KeyError, match=r"state machine 'Other' .* \(defined: Pipeline\)"):
        loaded.test_case("Other", "Case")


def test_given_the_documented_aws_example_when_loaded_then_it_is_accepted() -> None:
    # The example of the Step Functions Local documentation ("mock configuration file").
    example = json.loads(
        """{"StateMachines": {"LambdaSQSIntegration": {"TestCases": {
             "HappyPath": {"LambdaState": "MockedLambdaSuccess", "SQSState": "MockedSQSSuccess"},
             "RetryPath": {"LambdaState": "MockedLambdaRetry", "SQSState": "MockedSQSSuccess"},
             "HybridPath": {"LambdaState": "MockedLambdaSuccess"}}}},
           "MockedResponses": {
             "MockedLambdaSuccess": {"0": {"Return": {"StatusCode": 200,
                                     "Payload": {"StatusCode": 200, "body": "Hello"}}}},
             "MockedSQSSuccess": {"0": {"Return": {"MessageId": "3bcb"}}},
             "MockedLambdaRetry": {
               "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
               "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
               "3": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello"}}}}}}"""
    )
    loaded = MockConfig.from_json(example)
    assert set(loaded.test_case("LambdaSQSIntegration", "RetryPath")) == {"LambdaState", "SQSState"}
