"""``TagObjects`` (the template parameter, ``TAG_OBJECTS``): the outcome tag is a request of its
own per file, and a deployment may turn it off.

Given/when/then against moto through the core steps the handlers call, with the settings the
template builds: on by default, the input version gets its outcome tags; off, it gets none,
while the record (and the quarantine copy, whose tags ride on the copy request) are the same.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from silent_scalper.pipeline import (
    QuarantineRequest,
    StepInput,
    WriteRequest,
    quarantine,
    write_metadata,
)
from silent_scalper.pipeline.extract_metadata import build_record
from silent_scalper.records import MetadataRecord, Status
from silent_scalper.settings import ENV_FIELDS, Settings


def _tags(stack: Any, bucket: str, key: str, version_id: str) -> dict[str, str]:
    tagging = stack.s3.get_object_tagging(Bucket=bucket, Key=key, VersionId=version_id)
    return {t["Key"]: t["Value"] for t in tagging["TagSet"]}


def _record(stack: Any, pk: str) -> MetadataRecord:
    item = stack.dynamodb.get_item(TableName=stack.settings.table_name, Key={"pk": {"S": pk}})
    return MetadataRecord.from_item(item["Item"])


def test_the_template_passes_tag_objects_to_every_function_on_by_default(
    template: dict[str, Any],
) -> None:
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    env = {
        "INPUT_BUCKET": "in-bucket",
        "QUARANTINE_BUCKET": "q-bucket",
        "METADATA_TABLE": "records",
        "ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    }

    assert variables["TAG_OBJECTS"] == {"Ref": "TagObjects"}
    assert template["Parameters"]["TagObjects"]["Default"] == "true"
    assert ENV_FIELDS["TAG_OBJECTS"] == "tag_objects"
    assert Settings.from_env(env).tag_objects is True
    assert Settings.from_env({**env, "TAG_OBJECTS": "false"}).tag_objects is False


@pytest.mark.parametrize(
    ("tag_objects", "expected"), [(True, {"scalper-status": "VALID"}), (False, {})]
)
def test_given_the_setting_when_a_valid_record_is_written_then_the_object_is_tagged_or_not(
    object_event: Any, claim: Any, stack: Any, tag_objects: bool, expected: dict[str, str]
) -> None:
    step_event = object_event("states/write_metadata.json", "jobs-valid.csv")
    claim(step_event)
    step = StepInput.model_validate(step_event)
    settings = stack.settings.model_copy(update={"tag_objects": tag_objects})
    record = build_record(
        step, key=step.object.key, status=Status.VALID, settings=settings, now=datetime.now(UTC)
    )

    write_metadata(
        stack.dynamodb,
        stack.s3,
        WriteRequest.model_validate({**step_event, "record": record}),
        settings=settings,
    )

    assert _record(stack, step.pk).status is Status.VALID
    assert _tags(stack, step.bucket, record.key, step_event["object"]["version-id"]) == expected


@pytest.mark.parametrize(("tag_objects", "tagged"), [(True, True), (False, False)])
def test_given_the_setting_when_quarantined_then_only_the_input_tag_follows_it(
    object_event: Any, claim: Any, stack: Any, tag_objects: bool, tagged: bool
) -> None:
    step_event = object_event("states/quarantine.json", "jobs-invalid.csv")
    claim(step_event)
    request = QuarantineRequest.model_validate(step_event)
    settings = stack.settings.model_copy(update={"tag_objects": tag_objects})

    outcome = quarantine(
        stack.s3, stack.dynamodb, stack.sns, request, settings=settings, now=datetime.now(UTC)
    )

    record = _record(stack, request.pk)
    assert record.status is Status.QUARANTINED
    input_tags = _tags(stack, request.bucket, record.key, step_event["object"]["version-id"])
    assert ("scalper-status" in input_tags) is tagged
    copy_key = outcome.location.split("/", 3)[3]
    copy_tags = stack.s3.get_object_tagging(Bucket=settings.quarantine_bucket, Key=copy_key)
    assert {t["Key"] for t in copy_tags["TagSet"]} >= {"scalper-status"}
