"""The sample events in events/ have the shapes AWS sends and the handlers read."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayProxyEventV2Model,
    CloudWatchLogsModel,
    S3EventNotificationEventBridgeModel,
)
from handler_support import EVENTS
from sam_template import ASL
from silent_scalper.pipeline import (
    ExtractRequest,
    QuarantineRequest,
    StepInput,
    ValidateRequest,
    WriteRequest,
)

STATE_MODELS = {
    "type_check.json": StepInput,
    "validate_schema.json": ValidateRequest,
    "extract_metadata.json": ExtractRequest,
    "write_metadata.json": WriteRequest,
    "quarantine.json": QuarantineRequest,
}


@pytest.mark.parametrize(
    "path", sorted((EVENTS / "eventbridge").glob("object-created*.json")), ids=lambda p: p.name
)
def test_eventbridge_samples_are_s3_object_created_events(path):
    event = S3EventNotificationEventBridgeModel.model_validate_json(path.read_text())
    assert event.detail_type == "Object Created"
    assert event.source == "aws.s3"
    assert event.detail.object.sequencer


def test_the_presign_sample_is_an_http_api_v2_request():
    event = APIGatewayProxyEventV2Model.model_validate_json(
        (EVENTS / "api" / "presign-request.json").read_text()
    )
    assert event.routeKey == "POST /uploads"
    assert event.requestContext.authorizer is not None
    assert json.loads(event.body or "")["file_name"]


def test_every_state_input_sample_parses_into_its_handler_model():
    samples = {p.name for p in (EVENTS / "states").glob("*.json")}
    assert samples == set(STATE_MODELS)
    source = json.loads((EVENTS / "eventbridge" / "object-created.json").read_text())
    for name, model in STATE_MODELS.items():
        step = model.model_validate_json((EVENTS / "states" / name).read_text())
        assert step.bucket
        if name != "quarantine.json":
            # The valid file's states carry the valid sample event's object, as the ASL builds them.
            assert step.object.key == source["detail"]["object"]["key"]
            assert step.object.sequencer == source["detail"]["object"]["sequencer"]


@pytest.mark.parametrize("name", sorted(STATE_MODELS))
def test_given_a_state_input_sample_when_its_model_reads_and_writes_it_then_it_is_unchanged(name):
    """A step payload has one definition, its model in ``pipeline/models.py``: the sample
    read into it and dumped again is the same JSON, nested results (TypeCheck's outcome,
    the summary with its located errors, the record) and nulls included, so a model and a
    sample cannot drift apart."""
    # given: the sample input of one state
    sample = json.loads((EVENTS / "states" / name).read_text())

    # when: its model reads it and writes it back as a handler would
    again = STATE_MODELS[name].model_validate(sample).model_dump(mode="json")

    # then
    assert again == sample


def _fields(selection: dict[str, object]) -> set[str]:
    """The field names an ASL ``Payload``/``ResultSelector`` builds (``"x.$"`` names ``x``)."""
    return {name.removesuffix(".$") for name in selection}


def test_every_state_input_sample_has_exactly_the_fields_the_asl_sends():
    """The samples cannot drift from the ASL: each has the fields its Task's Payload builds,
    and a ``type_check`` exactly the fields TypeCheck's ResultSelector keeps."""
    states = json.loads(ASL.read_text())["States"]
    by_sample = {
        "type_check.json": "TypeCheck",
        "validate_schema.json": "ValidateSchema",
        "extract_metadata.json": "ExtractMetadata",
        "write_metadata.json": "WriteMetadata",
        "quarantine.json": "Quarantine",
    }
    type_check_fields = _fields(states["TypeCheck"]["ResultSelector"])
    for sample, state in by_sample.items():
        data = json.loads((EVENTS / "states" / sample).read_text())
        assert set(data) == _fields(states[state]["Parameters"]["Payload"]), sample
        if "type_check" in data:
            assert set(data["type_check"]) == type_check_fields, sample


def test_the_status_change_sample_is_a_failed_execution_carrying_its_s3_event_input():
    event = json.loads((EVENTS / "eventbridge" / "execution-failed.json").read_text())
    assert (event["source"], event["detail-type"]) == (
        "aws.states",
        "Step Functions Execution Status Change",
    )
    assert event["detail"]["status"] == "FAILED"
    assert event["detail"]["inputDetails"] == {"included": True}
    started = S3EventNotificationEventBridgeModel.model_validate_json(event["detail"]["input"])
    assert started.detail_type == "Object Created"


def test_the_logs_sample_is_a_subscription_batch_of_step_functions_log_events():
    """Powertools' own model of a CloudWatch Logs subscription event decodes it."""
    batch = CloudWatchLogsModel.model_validate_json(
        (EVENTS / "logs" / "execution-failed.json").read_text()
    ).awslogs.decoded_data
    assert batch.messageType == "DATA_MESSAGE"
    (line,) = batch.logEvents
    message = json.loads(line.message)
    assert message["type"] == "ExecutionFailed"
    assert {"id", "details", "previous_event_id", "event_timestamp", "execution_arn"} <= set(
        message
    )
    log = json.loads((EVENTS / "logs" / "execution-log.json").read_text())["events"]
    assert {e["execution_arn"] for e in log} == {message["execution_arn"]}
    assert log[0]["type"] == "ExecutionStarted"


@pytest.mark.parametrize("name", ["get-upload-request.json", "get-upload-request-cognito.json"])
def test_the_status_samples_are_http_api_v2_gets_with_the_upload_id(name):
    event = APIGatewayProxyEventV2Model.model_validate_json((EVENTS / "api" / name).read_text())
    assert event.routeKey == "GET /uploads/{upload_id}"
    assert event.requestContext.authorizer is not None
    assert event.pathParameters == {"upload_id": event.rawPath.rsplit("/", 1)[1]}
    assert event.body is None
