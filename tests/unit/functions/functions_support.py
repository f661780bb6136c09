"""Shared names and helpers of the handler tests (imported by conftest.py and the tests).

A uniquely named module rather than ``from conftest import``: several test folders have a
conftest.py, and which one that import finds depends on what pytest collected first. What the
security tests share with these (names, environment, context, events) is in
``tests/handler_support.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handler_support import names
from silent_scalper.settings import Settings

STACK = "silent-scalper-dev"
DATA = Path(__file__).with_name("data")

#: What the template's Refs resolve to in these tests (names as the sample events use them).
NAMES: dict[str, Any] = names(STACK)


@dataclass
class Stack:
    """The moto resources and the settings/environment the handlers run with."""

    env: dict[str, str]
    settings: Settings
    s3: Any
    dynamodb: Any
    sns: Any
    sqs: Any
    alerts_queue_url: str

    def alerts(self) -> list[dict[str, Any]]:
        """SNS messages that reached the alerts topic (via its SQS subscriber), parsed."""
        out = self.sqs.receive_message(QueueUrl=self.alerts_queue_url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]

    def put(self, key: str, body: bytes) -> str:
        """Upload an object to the input bucket; returns its version id."""
        out = self.s3.put_object(Bucket=self.settings.input_bucket, Key=key, Body=body)
        return str(out["VersionId"])


def published_metrics(stdout: str) -> set[str]:
    """Names of the metrics in the CloudWatch EMF documents Powertools printed to stdout."""
    names: set[str] = set()
    for line in stdout.splitlines():
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if isinstance(document, dict) and "_aws" in document:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                names.update(metric["Name"] for metric in directive["Metrics"])
    return names


def empty_flushes(caught: Any) -> list[str]:
    """Powertools' "no application metrics" warnings among pytest's recorded warnings."""
    return [str(w.message) for w in caught if "No application metrics" in str(w.message)]
