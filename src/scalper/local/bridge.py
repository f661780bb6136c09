"""The EventBridge hop moto does not make: S3 "Object Created" -> rule -> Step Functions.

moto 5.2.5 builds an S3 EventBridge event in ``moto.s3.notifications.
_send_event_bridge_message`` but (a) hands it only to rule targets moto implements
(logs, SQS, event buses) -- a Step Functions target raises inside a bare ``except`` and
is dropped -- and (b) fills it with constants: the same event id and ``sequencer`` for
every object and a float ``time``. The pipeline's Claim state orders events by
``sequencer`` and records ``id`` and ``time``, so the bridge replaces that one function
while the local stack runs with one that builds the event as S3 does (UUID id, ISO time,
a sequencer that grows per bucket, ``etag``, ``version-id`` when versioned, ``reason``
PostObject/PutObject/CopyObject/CompleteMultipartUpload), then delivers it:

- to every rule whose event pattern matches (matched by moto's own EventPattern, the
  rules being the ones provisioned from the template);
- to a Step Functions target by StartExecution with a UUID execution name (as
  EventBridge does: an unnamed execution in moto's interpreter gets the ARN
  ``...:None``, and the second one collides);
- with the target's retry policy: retryable failures (throttling, 5xx, connection
  errors) back off exponentially until ``MaximumRetryAttempts`` or
  ``MaximumEventAgeInSeconds`` is exhausted; then, or at once for a non-retryable
  error, the event goes to the target's dead-letter queue with EventBridge's message
  attributes (RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE,
  EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS).

Delivery runs on background threads: the upload's HTTP response never waits for it,
as in AWS.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from scalper.local import moto_internals, retry
from scalper.local.provision import BridgeRule, BridgeTarget

_REASONS = {
    "s3:ObjectCreated:Put": "PutObject",
    "s3:ObjectCreated:Post": "PostObject",
    "s3:ObjectCreated:Copy": "CopyObject",
    "s3:ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
}
_NON_RETRYABLE = {
    "StateMachineDoesNotExist",
    "InvalidArn",
    "InvalidExecutionInput",
    "InvalidName",
    "ExecutionAlreadyExists",
    "StateMachineDeleting",
    "ValidationException",
    "AccessDeniedException",
    "ResourceNotFoundException",
    "QueueDoesNotExist",
    "AWS.SimpleQueueService.NonExistentQueue",
}
# EventBridge's first retry comes after about a second and backs off exponentially.
_FIRST_BACKOFF_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 60.0


@dataclass
class Delivery:
    """One event handed to one rule target, and how it ended."""

    event: dict[str, Any]
    rule: str
    target: str
    attempts: int = 0
    execution_arn: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    dead_lettered: bool = False
    done: bool = False

    @property
    def key(self) -> str:
        """The object key of an S3 event (empty for other events)."""
        return str(((self.event.get("detail") or {}).get("object") or {}).get("key", ""))


@dataclass
class _TargetFault:
    remaining: int
    code: str
    message: str
    status: int


@dataclass
class BridgeFaults:
    """Make the next N deliveries to a target fail as the service would (tests only)."""

    _rules: list[_TargetFault] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(
        self,
        times: int = 1,
        code: str = "ThrottlingException",
        message: str = "Rate exceeded (injected by the local stack)",
        status: int = 400,
    ) -> None:
        """Fail the next ``times`` delivery attempts with ``code``."""
        with self._lock:
            self._rules.append(_TargetFault(times, code, message, status))

    def take(self) -> _TargetFault | None:
        """The fault for this attempt, if any."""
        with self._lock:
            if not self._rules:
                return None
            rule = self._rules[0]
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.pop(0)
            return rule


class Sequencer:
    """S3-like sequencers: hex strings that grow for each new object event."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def next(self) -> str:
        """An 18-digit upper-case hex value, strictly greater than the previous one."""
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return f"{self._last:018X}"


class EventBridgeBridge:
    """Delivers S3 EventBridge events to the template's rules on the local stack."""

    def __init__(
        self,
        rules: Iterable[BridgeRule],
        client: Callable[[str], Any],
        *,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        max_workers: int = 8,
    ) -> None:
        self.rules = list(rules)
        # moto's own matcher (what its rules use for the targets it does deliver).
        self._patterns = {r.arn: moto_internals.event_pattern(r.pattern) for r in self.rules}
        self._client = client
        self.account_id = account_id
        self.region = region
        self.sequencer = Sequencer()
        self.faults = BridgeFaults()
        self.deliveries: list[Delivery] = []
        # Object key -> executions started for it, oldest first: waiting for hundreds of
        # files asks this once per file and poll, so it must not scan every delivery.
        self._executions: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="scalper-bridge"
        )
        self._pending: set[Future[None]] = set()
        self._original: Callable[..., None] | None = None
        self._module: Any = None
        self._closed = False
        self._stopping = threading.Event()

    # -- the moto hook -----------------------------------------------------------
    def install(self) -> None:
        """Replace moto's S3 -> EventBridge sender with `on_s3_event` (until `uninstall`)."""
        moto_internals.require("scalper.local.bridge")
        module = moto_internals.s3_notifications_module()
        original = module._send_event_bridge_message
        self._module, self._original = module, original

        def hook(account_id: str, bucket: Any, event_name: str, key: Any) -> None:
            # moto passes an S3NotificationEvent (a str enum): its value is the event name.
            self.on_s3_event(account_id, bucket, str(getattr(event_name, "value", event_name)), key)

        setattr(module, "_send_event_bridge_message", hook)  # noqa: B010 - a private name

    def uninstall(self) -> None:
        """Put moto's own sender back."""
        if self._module is not None and self._original is not None:
            self._module._send_event_bridge_message = self._original
            self._module = self._original = None

    def on_s3_event(self, account_id: str, bucket: Any, event_name: str, key: Any) -> None:
        """Called by moto (in the S3 request's thread) for a bucket with EventBridge on."""
        reason = _REASONS.get(event_name)
        if reason is None:
            return  # deletions, tags, ACLs... never start the pipeline; nothing to bridge
        obj: dict[str, Any] = {
            # As captured EventBridge events show it: the key raw, not form-encoded as in
            # classic notifications (docs/aws-behaviour.md, "Object keys"). The pipeline
            # resolves either spelling against the object, and the tests deliver both.
            "key": key.name,
            "size": key.size,
            "etag": str(key.etag).replace('"', ""),
        }
        if getattr(bucket, "is_versioned", False) and key.version_id not in (None, "null"):
            obj["version-id"] = key.version_id
        obj["sequencer"] = self.sequencer.next()
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Object Created",
            "source": "aws.s3",
            "account": account_id,
            "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": bucket.region_name,
            "resources": [f"arn:aws:s3:::{bucket.name}"],
            "detail": {
                "version": "0",
                "bucket": {"name": bucket.name},
                "object": obj,
                "request-id": uuid.uuid4().hex[:16].upper(),
                "requester": account_id,
                "source-ip-address": "127.0.0.1",
                "reason": reason,
            },
        }
        self.publish(event)

    # -- delivery -----------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> Future[None] | None:
        """Match ``event`` against every enabled rule and deliver it to their targets.

        Public so tests can deliver the same event twice (at-least-once delivery).
        Matching and delivery run on the bridge's threads; the returned future ends
        when every target has the event (or its dead-letter queue has it).
        """
        with self._lock:
            if self._closed:
                return None
            future = self._pool.submit(self._route, event)
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)

    def _route(self, event: dict[str, Any]) -> None:
        for rule in self.rules:
            if not rule.enabled or not self._matches(rule, event):
                continue
            for target in rule.targets:
                delivery = Delivery(event=event, rule=rule.arn, target=target.arn)
                with self._lock:
                    self.deliveries.append(delivery)
                self._deliver(rule, target, delivery)

    def _matches(self, rule: BridgeRule, event: dict[str, Any]) -> bool:
        return self._patterns[rule.arn](event)

    def _deliver(self, rule: BridgeRule, target: BridgeTarget, delivery: Delivery) -> None:
        payload = _target_input(target, delivery.event)
        waited = 0.0  # the event's age in unscaled seconds: what the policy limits
        try:
            for attempt in itertools.count():
                delivery.attempts = attempt + 1
                code, message = self._attempt(target, payload, delivery)
                if code is None:
                    return
                delivery.error_code, delivery.error_message = code, message
                if code in _NON_RETRYABLE:
                    self._dead_letter(rule, target, delivery, None)
                    return
                if attempt >= target.max_retry_attempts:
                    self._dead_letter(rule, target, delivery, "MaximumRetryAttemptsExhausted")
                    return
                backoff = min(_MAX_BACKOFF_SECONDS, _FIRST_BACKOFF_SECONDS * 2**attempt)
                waited += backoff
                if waited > target.max_event_age_seconds:
                    self._dead_letter(rule, target, delivery, "MaximumEventAgeExhausted")
                    return
                if self._closed:
                    return
                # Interruptible: stopping the stack must not wait out a real-time backoff.
                if self._stopping.wait(backoff * retry.current_scale()):
                    return
        finally:
            delivery.done = True

    def _attempt(
        self, target: BridgeTarget, payload: str, delivery: Delivery
    ) -> tuple[str | None, str]:
        fault = self.faults.take()
        if fault is not None:
            return fault.code, fault.message
        try:
            if target.arn.startswith("arn:aws:states:"):
                response = self._client("stepfunctions").start_execution(
                    stateMachineArn=target.arn, name=str(uuid.uuid4()), input=payload
                )
                delivery.execution_arn = str(response["executionArn"])
                with self._lock:
                    self._executions.setdefault(delivery.key, []).append(delivery.execution_arn)
            elif target.arn.startswith("arn:aws:sqs:"):
                sqs = self._client("sqs")
                url = sqs.get_queue_url(QueueName=target.arn.rsplit(":", 1)[1])["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody=payload)
            else:
                return "UnsupportedTarget", f"the local bridge does not deliver to {target.arn}"
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return str(error.get("Code", "ClientError")), str(error.get("Message", exc))
        except BotoCoreError as exc:
            return "ServiceUnavailable", str(exc)
        return None, ""

    def _dead_letter(
        self, rule: BridgeRule, target: BridgeTarget, delivery: Delivery, exhausted: str | None
    ) -> None:
        if target.dead_letter_arn is None:
            return
        attributes = {
            "RULE_ARN": rule.arn,
            "TARGET_ARN": target.arn,
            "ERROR_CODE": delivery.error_code or "",
            "ERROR_MESSAGE": delivery.error_message or "",
            "RETRY_ATTEMPTS": str(delivery.attempts - 1),
        }
        if exhausted:
            attributes["EXHAUSTED_RETRY_CONDITION"] = exhausted
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=target.dead_letter_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs.send_message(
            QueueUrl=url,
            MessageBody=json.dumps(delivery.event),
            MessageAttributes={
                k: {"DataType": "String", "StringValue": v or "-"} for k, v in attributes.items()
            },
        )
        delivery.dead_lettered = True

    def executions_for(self, key: str) -> list[str]:
        """The executions started for an object key, oldest first."""
        with self._lock:
            return list(self._executions.get(key, ()))

    @property
    def idle(self) -> bool:
        """True when no event is being matched or delivered right now."""
        with self._lock:
            return not self._pending

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every delivery started so far has ended; False on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                pending = list(self._pending)
            if not pending:
                return True
            for future in pending:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                try:
                    future.result(timeout=remaining)
                except TimeoutError:
                    return False
        return False

    def close(self) -> None:
        """Stop accepting events and let running deliveries finish (no new retries)."""
        with self._lock:
            self._closed = True
        self._stopping.set()
        self.uninstall()
        self._pool.shutdown(wait=True, cancel_futures=True)


def _target_input(target: BridgeTarget, event: dict[str, Any]) -> str:
    """The target's input: the event, ``Input`` verbatim, or the ``InputPath`` selection."""
    if target.input is not None:
        return target.input if isinstance(target.input, str) else json.dumps(target.input)
    if target.input_path:
        value: Any = event
        for part in target.input_path.lstrip("$").strip(".").split("."):
            if part:
                value = value.get(part) if isinstance(value, dict) else None
        return json.dumps(value)
    return json.dumps(event)
