"""The local stack: the real template, ASL and handlers on moto, offline, on 127.0.0.1.

Public surface (see each module's docstring):

- `LocalStack` / `StackConfig` (stack): start everything, read endpoints, wait for executions.
- `LambdaEndpoint`, `Fault` (lambda_endpoint): the Lambda Invoke API and its fault injection.
- `EventBridgeBridge` (bridge): the S3 -> EventBridge -> Step Functions hop.
- `load_template`, `Resolver`, `render_definition` (template): CloudFormation-aware reading.
- `retry`: the knob that shortens Retry waits locally (SCALPER_RETRY_SCALE).
"""

from __future__ import annotations

from scalper.local.bridge import EventBridgeBridge
from scalper.local.lambda_endpoint import Fault, LambdaEndpoint
from scalper.local.stack import ExecutionReport, LocalStack, StackConfig, StackError
from scalper.local.template import Resolver, TemplateError, load_template, render_definition

__all__ = [
    "EventBridgeBridge",
    "ExecutionReport",
    "Fault",
    "LambdaEndpoint",
    "LocalStack",
    "Resolver",
    "StackConfig",
    "StackError",
    "TemplateError",
    "load_template",
    "render_definition",
]
