"""The state-transition cases of the pipeline: what each test case of MockConfigFile.json does.

Shared by both modes of the suite: mocked responses (test_transitions.py) and the real
handlers through the local stack (test_transitions_real_handlers.py), which must agree.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from silent_scalper.engine import Reason
from silent_scalper.records import item_key

#: The execution input of every mocked case (conftest's `object_created` fixture).
OBJECT_CREATED_EVENT = (
    Path(__file__).resolve().parents[2] / "events/eventbridge/object-created.json"
)
#: The suite's mock configuration, in Step Functions Local's format.
MOCK_CONFIG_FILE = Path(__file__).with_name("MockConfigFile.json")
EVENT = json.loads(OBJECT_CREATED_EVENT.read_text(encoding="utf-8"))
BUCKET = EVENT["detail"]["bucket"]["name"]
KEY = EVENT["detail"]["object"]["key"]
#: The record's partition key: the bucket and the SHA-256 of the key (as Claim builds it).
PK = item_key(BUCKET, KEY)
#: What WriteMetadata returns for a VALID file: the object stays where it is.
VALID_OUTPUT = {"status": "VALID", "pk": PK, "reason": None, "location": f"s3://{BUCKET}/{KEY}"}
QUARANTINE = "s3://scalper-local-quarantinebucket/"

VALID = ["Claim", "TypeCheck", "ValidateSchema", "Route", "ExtractMetadata", "WriteMetadata"]
QUARANTINED = ["Claim", "TypeCheck", "ValidateSchema", "Route", "Quarantine"]
#: The one caught failure path: the object was deleted before it was processed.
OBJECT_GONE = ["RecordObjectGone", "AlertObjectGone", "ObjectGone"]


@dataclass(frozen=True)
class Case:
    """What one test case of the mock configuration must do."""

    name: str
    spec: str
    path: list[str]
    status: str = "SUCCEEDED"
    retries: dict[str, int] = field(default_factory=dict)
    output: dict[str, Any] | None = None
    error: str | None = None


def quarantined(reason: Reason) -> dict[str, Any]:
    return {
        "status": "QUARANTINED",
        "pk": PK,
        "reason": str(reason),
        "location": f"{QUARANTINE}{BUCKET}/{KEY}",
    }


def _camel(reason: Reason) -> str:
    return "".join(part.capitalize() for part in str(reason).split("_"))


CASES = [
    Case("ValidCsv", "a valid CSV is extracted and recorded VALID", [*VALID, "Done"],
         output=VALID_OUTPUT),
    Case("ValidJson", "a valid JSON file is extracted and recorded VALID", [*VALID, "Done"],
         output=VALID_OUTPUT),
    *[
        Case(f"Quarantine{_camel(reason)}", f"a file with {reason} is routed to Quarantine",
             [*QUARANTINED, "Done"],
             output=quarantined(reason))
        for reason in Reason
    ],
    Case("DuplicateEvent", "a duplicate or out-of-date event ends at Claim",
         ["Claim", "AlreadyProcessed"]),
    Case("TransientLambdaErrorRetried", "transient Lambda errors are retried, then it succeeds",
         [*VALID, "Done"], retries={"TypeCheck": 2},
         output=VALID_OUTPUT),
    Case("DynamoDbThrottleRetried", "a throttled Claim is retried, then the file goes through",
         [*VALID, "Done"], retries={"Claim": 2},
         output=VALID_OUTPUT),
    Case("RetriesExhausted", "a Lambda failing past its retries fails the execution at that Task",
         ["Claim", "TypeCheck", "ValidateSchema"], status="FAILED",
         retries={"ValidateSchema": -1}, error="Lambda.ServiceException"),
    Case("ClaimRetriesExhausted", "a Claim throttled past its retries fails the execution at Claim",
         ["Claim"], status="FAILED", retries={"Claim": -1},
         error="DynamoDB.ProvisionedThroughputExceededException"),
    *[
        Case(f"{task}RetriesExhausted",
             f"{task} failing past its retries fails the execution at {task}",
             [*path, task], status="FAILED", retries={task: -1},
             error="Lambda.ServiceException")
        for task, path in (
            ("TypeCheck", ["Claim"]),
            ("ExtractMetadata", VALID[:4]),
            ("WriteMetadata", VALID[:5]),
            ("Quarantine", QUARANTINED[:4]),
        )
    ],
    Case("QuarantineCopyFails", "a failing quarantine copy fails the execution at Quarantine",
         QUARANTINED, status="FAILED", error="ClientError"),
    Case("QuarantineSuperseded", "a newer execution owning the record ends Superseded",
         [*QUARANTINED, "Superseded"]),
    Case("WriteMetadataSuperseded", "a newer execution owning the record ends Superseded",
         [*VALID, "Superseded"]),
    Case("WriteMetadataFails", "a failing metadata write fails the execution at WriteMetadata",
         VALID, status="FAILED", error="ClientError"),
    Case("ExtractMetadataFails", "a crashing ExtractMetadata fails the execution there",
         VALID[:-1], status="FAILED", error="KeyError"),
    Case("TypeCheckFails", "a crashing TypeCheck is not retried and fails the execution there",
         ["Claim", "TypeCheck"], status="FAILED", error="Runtime.ExitError"),
    Case("ClaimFails", "a Claim denied by DynamoDB is not retried and fails the execution there",
         ["Claim"], status="FAILED", error="DynamoDB.AmazonDynamoDBException"),
    *[
        Case(f"{task}ObjectGone",
             f"an object deleted before {task} read it is recorded FAILED and alerted",
             [*path, task, *OBJECT_GONE])
        for task, path in (
            ("TypeCheck", ["Claim"]),
            ("ValidateSchema", ["Claim", "TypeCheck"]),
            ("WriteMetadata", VALID[:-1]),
            ("Quarantine", QUARANTINED[:-1]),
        )
    ],
    Case("ObjectGoneSuperseded",
         "a gone object whose record a newer execution owns ends Superseded",
         ["Claim", "TypeCheck", "RecordObjectGone", "Superseded"]),
    Case("ObjectGoneRecordRetriesExhausted",
         "a gone object's record throttled past its retries fails the execution there",
         ["Claim", "TypeCheck", "RecordObjectGone"], status="FAILED",
         retries={"RecordObjectGone": -1}, error="DynamoDB.ThrottlingException"),
    Case("ObjectGoneAlertRetriesExhausted",
         "a gone object's alert throttled past its retries fails the execution there",
         ["Claim", "TypeCheck", *OBJECT_GONE[:2]], status="FAILED",
         retries={"AlertObjectGone": -1}, error="SNS.ThrottledException"),
]  # fmt: skip
