"""The local stack: the real template, ASL and handlers on moto, offline, on 127.0.0.1.

Public surface (see each module's docstring):

- `LocalStack` / `StackConfig` / `ExecutionReport` (stack): start everything, read the
  endpoints, wait for executions, read their states.
- `LambdaEndpoint`, `Fault` (lambda_endpoint): the Lambda Invoke API and its fault injection.
- `EventBridgeBridge` (bridge): the S3 -> EventBridge -> Step Functions hop.
- `load_template`, `Resolver`, `render_definition` (template): CloudFormation-aware reading.
- `retry`: the knob that shortens Retry waits locally (``SCALPER_RETRY_SCALE``).

Names are imported on first use: the Lambda worker processes import
``scalper.local.worker`` and must not pay for moto and boto3 at every cold start.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scalper.local.bridge import EventBridgeBridge
    from scalper.local.lambda_endpoint import Fault, LambdaEndpoint
    from scalper.local.stack import ExecutionReport, LocalStack, StackConfig, StackError
    from scalper.local.template import Resolver, TemplateError, load_template, render_definition

_EXPORTS = {
    "EventBridgeBridge": "scalper.local.bridge",
    "ExecutionReport": "scalper.local.stack",
    "Fault": "scalper.local.lambda_endpoint",
    "LambdaEndpoint": "scalper.local.lambda_endpoint",
    "LocalStack": "scalper.local.stack",
    "Resolver": "scalper.local.template",
    "StackConfig": "scalper.local.stack",
    "StackError": "scalper.local.stack",
    "TemplateError": "scalper.local.template",
    "load_template": "scalper.local.template",
    "render_definition": "scalper.local.template",
}

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scalper.local' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
