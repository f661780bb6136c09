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
FAILURE_PATH = ["RecordFailure", "TagFailure", "NotifyFailure", "Fail"]


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
    Case("RetriesExhausted", "a Lambda failing past its retries ends FAILED with an alert",
         ["Claim", "TypeCheck", "ValidateSchema", *FAILURE_PATH], status="FAILED",
         retries={"ValidateSchema": -1}, error="Lambda.ServiceException"),
    Case("QuarantineCopyFails", "a failing quarantine copy goes down the failure path",
         [*QUARANTINED, *FAILURE_PATH], status="FAILED", error="ClientError"),
    Case("QuarantineSuperseded", "a newer execution owning the record ends Superseded",
         [*QUARANTINED, "Superseded"]),
    Case("WriteMetadataSuperseded", "a newer execution owning the record ends Superseded",
         [*VALID, "Superseded"]),
    Case("WriteMetadataFails", "a failing metadata write goes down the failure path",
         [*VALID, *FAILURE_PATH], status="FAILED", error="ClientError"),
    Case("ExtractMetadataFails", "a crashing ExtractMetadata goes down the failure path",
         [*VALID[:-1], *FAILURE_PATH], status="FAILED", error="KeyError"),
    Case("TypeCheckFails", "a crashing TypeCheck is not retried and fails the execution",
         ["Claim", "TypeCheck", "UploaderNotRead", *FAILURE_PATH], status="FAILED",
         error="Runtime.ExitError"),
    Case("ClaimFails", "a Claim denied by DynamoDB is not retried and fails the execution",
         ["Claim", "UploaderNotRead", *FAILURE_PATH], status="FAILED",
         error="DynamoDB.AmazonDynamoDBException"),
    Case("FailureRecordSuperseded", "a failure record a newer execution owns ends Superseded",
         ["Claim", "TypeCheck", "UploaderNotRead", "RecordFailure", "Superseded"]),
    Case("FailurePathDegraded",
         "when recording, tagging and alerting all fail the execution still ends FAILED",
         ["Claim", "UploaderNotRead", *FAILURE_PATH], status="FAILED",
         error="DynamoDB.AmazonDynamoDBException"),
]  # fmt: skip
