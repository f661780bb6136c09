"""The CloudWatch dashboard, as CloudFormation would deploy it: every metric of ours it shows
is one the code publishes, and the operator's panels are there."""

from __future__ import annotations

import json
import re

from deployed_template import REPO, deployed, of_type


def published_metric_names() -> set[str]:
    """Metric names the handlers and the core publish (read from the code itself)."""
    from silent_scalper.records import Status

    names = {f"Files{s.value.title()}" for s in Status if s is not Status.PROCESSING}
    sources = [*REPO.glob("layers/core/silent_scalper/**/*.py"), *REPO.glob("functions/*/app.py")]
    for path in sources:
        names.update(re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text()))
    return names


def test_the_dashboard_shows_outcomes_validation_time_bytes_failures_and_dlq_depth():
    [board] = of_type(deployed("IAM"), "AWS::CloudWatch::Dashboard").values()
    text, names = board["Properties"]["DashboardBody"]["Fn::Sub"]
    assert set(re.findall(r"\$\{(\w+)\}", text)) <= {*names, "AWS::Region"} | {"AWS"}
    body = json.loads(re.sub(r"\$\{[\w:]+\}", "x", text))
    metrics = [
        tuple(m[:2])
        for w in body["widgets"]
        if w["type"] == "metric"
        for m in w["properties"]["metrics"]
    ]
    ours = {name for namespace, name in metrics if namespace == "SilentScalper"}
    assert ours <= published_metric_names(), ours - published_metric_names()
    for wanted in ("FilesValid", "FilesQuarantined", "ValidationTime", "BytesValidated"):
        assert wanted in ours
    assert ("AWS/States", "ExecutionsFailed") in metrics
    assert ("AWS/SQS", "ApproximateNumberOfMessagesVisible") in metrics
    assert names["DeadLetterQueueName"] == {"Fn::GetAtt": ["PipelineDeadLetterQueue", "QueueName"]}
    titles = {w["properties"]["title"] for w in body["widgets"]}
    assert {"Files by outcome", "Validation time (ms)", "Bytes validated", "Failures"} <= titles
    assert "Dead-letter queue depth" in titles
