"""The DynamoDB Streams -> Lambda hop moto does not make for the local stack.

moto 5.2.5 records stream records for a table with a ``StreamSpecification`` and serves
them through the DynamoDB Streams API, but it never invokes a function of the local Lambda
endpoint for them. This bridge does, for every ``Type: DynamoDB`` event of a template
function, as Lambda's event source mapping does:

- it polls the table's stream from its oldest record (``TRIM_HORIZON``), one thread per
  mapping, reading the records from moto's DynamoDB backend in this process: through
  moto's DynamoDB Streams API each ``GetRecords`` page was serialised by moto and parsed
  again by botocore, about 9 ms of the stack's CPU per file. Each record is handed on in
  the form Lambda gives it (`lambda_record`: the ``GetRecords`` wire form, binary values
  base64, ``ApproximateCreationDateTime`` in epoch seconds rounded down, plus
  ``eventSourceARN``);
- drops records that match none of the mapping's ``FilterCriteria`` patterns (matched by
  moto's EventBridge pattern matcher: Lambda filters use the same pattern syntax);
- invokes the function synchronously through the local Lambda endpoint with batches of at
  most ``BatchSize`` records, in stream order;
- on a function error retries the batch with exponential backoff (scaled like every local
  retry, ``SCALPER_RETRY_SCALE``) up to ``MaximumRetryAttempts``, then sends a failure
  record to the ``DestinationConfig.OnFailure`` SQS queue, if any, and moves on; with
  ``ReportBatchItemFailures`` it retries from the first reported sequence number only.

Hooked into the stack by `LocalStack` (``stack.streams``).
"""

from __future__ import annotations

import base64
import calendar
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from scalper.local import moto_internals, retry
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.provision import Provisioned
from scalper.local.template import merged_function_properties

_FIRST_BACKOFF_SECONDS = 1.0
_MAX_BACKOFF_SECONDS = 60.0
#: An idle stream is read less and less often, up to this interval; a read that finds
#: records, or `StreamsBridge.wait_idle`, brings the next read back to ``poll_interval``.
#: Each read is an HTTP request to moto: at 10 a second per mapping, reads of an idle
#: stream were a steady share of the stack's CPU.
_MAX_IDLE_POLL_SECONDS = 0.5
#: Records read at once (GetRecords' own limit).
_PAGE_LIMIT = 1000


@dataclass(frozen=True)
class StreamSource:
    """One ``Type: DynamoDB`` event of a template function (an event source mapping)."""

    function: str  # logical id
    function_name: str
    table: str
    batch_size: int = 100
    filters: tuple[str, ...] = ()
    max_retry_attempts: int = -1  # -1: until the record expires, as Lambda's default
    on_failure_arn: str | None = None
    report_item_failures: bool = False
    enabled: bool = True


@dataclass
class StreamDelivery:
    """One batch handed to a function, and how it ended (tests read these)."""

    function: str
    sequence_numbers: tuple[str, ...]
    attempts: int = 0
    error: str | None = None
    sent_to_on_failure: bool = False


def sources_from(provisioned: Provisioned) -> list[StreamSource]:
    """The DynamoDB stream event sources of the template's (enabled) functions."""
    template = provisioned.resolver.template
    tables = {
        provisioned.attr(lid, "StreamArn"): provisioned.ref(lid)
        for lid in provisioned.of_type("AWS::DynamoDB::Table")
    }
    sources: list[StreamSource] = []
    for lid in provisioned.functions:
        events = merged_function_properties(template, lid).get("Events") or {}
        for event_id, event in events.items():
            if event.get("Type") != "DynamoDB":
                continue
            props = provisioned.resolver.resolve(
                event.get("Properties") or {}, f"{lid}.Events.{event_id}"
            )
            table = tables.get(str(props.get("Stream")))
            if table is None:
                continue
            filters = tuple(
                str(f["Pattern"])
                for f in (props.get("FilterCriteria") or {}).get("Filters") or []
                if "Pattern" in f
            )
            on_failure = ((props.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
                "Destination"
            )
            sources.append(
                StreamSource(
                    function=lid,
                    function_name=provisioned.functions[lid].name,
                    table=table,
                    batch_size=int(props.get("BatchSize", 100)),
                    filters=filters,
                    max_retry_attempts=int(props.get("MaximumRetryAttempts", -1)),
                    on_failure_arn=str(on_failure) if on_failure else None,
                    report_item_failures="ReportBatchItemFailures"
                    in (props.get("FunctionResponseTypes") or []),
                    enabled=bool(props.get("Enabled", True)),
                )
            )
    return sources


class StreamsBridge:
    """Polls the tables' streams and invokes their functions on the local Lambda endpoint."""

    def __init__(
        self,
        sources: Iterable[StreamSource],
        client: Callable[[str], Any],
        lambda_client: Any,
        *,
        account_id: str = "123456789012",
        region: str = "us-east-1",
        poll_interval: float = 0.1,
    ) -> None:
        self.sources = [s for s in sources if s.enabled]
        self._client = client
        self._lambda = lambda_client
        self.account_id = account_id
        self.region = region
        self.poll_interval = poll_interval
        self.deliveries: list[StreamDelivery] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by stop and wait_idle: read now
        self._threads: list[threading.Thread] = []
        self._patterns = {
            s.function: [moto_internals.event_pattern(p) for p in s.filters] for s in self.sources
        }
        self._caught_up: dict[str, float] = {}

    def start(self) -> None:
        """One polling thread per mapping."""
        moto_internals.require("scalper.local.streams")
        for source in self.sources:
            thread = threading.Thread(
                target=self._run, args=(source,), name=f"scalper-streams-{source.function}"
            )
            thread.daemon = True
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        """Stop polling (a batch being delivered finishes first)."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads.clear()

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Wait until every mapping has read its stream to the end, in a read begun after this call.

        Everything written to the tables before the call has then been delivered (or parked).
        """
        asked = time.monotonic()
        deadline = asked + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if all(self._caught_up.get(s.function, 0.0) > asked for s in self.sources):
                    return True
            self._wake.set()  # every mapping's poller, however long its idle pause
            time.sleep(self.poll_interval / 2)
        return False

    # -- polling ---------------------------------------------------------------------
    def _pause(self, seconds: float) -> None:
        """Wait ``seconds``, or less when stopping or someone waits for the stream."""
        if self._wake.wait(seconds) and not self._stop.is_set():
            self._wake.clear()

    def _run(self, source: StreamSource) -> None:
        stream: moto_internals.TableStream | None = None
        position = 0  # records of the stream read so far (from TRIM_HORIZON)
        idle = self.poll_interval
        while not self._stop.is_set():
            try:
                if stream is None:
                    stream = self._open(source)
                    position = 0
                # When this read began: an empty answer proves nothing written before it is left.
                started = time.monotonic()
                page = moto_internals.stream_records(stream, position, _PAGE_LIMIT)
                position += len(page)
                wire = [lambda_record(r, stream.arn) for r in page]
                records = [r for r in wire if self._matches(source, r)]
                for start in range(0, len(records), source.batch_size):
                    self._deliver(source, records[start : start + source.batch_size])
                if page:
                    idle = self.poll_interval
                else:
                    with self._lock:
                        self._caught_up[source.function] = started
                    self._pause(idle)
                    idle = min(_MAX_IDLE_POLL_SECONDS, idle * 2)
            except Exception:  # the table is not there (yet), or stopping
                if self._stop.is_set():
                    return
                stream = None
                self._pause(self.poll_interval)

    def _open(self, source: StreamSource) -> moto_internals.TableStream:
        stream = moto_internals.table_stream(self.account_id, self.region, source.table)
        if stream is None:
            raise LookupError(f"table {source.table} has no stream")
        return stream

    def _matches(self, source: StreamSource, record: dict[str, Any]) -> bool:
        patterns = self._patterns[source.function]
        if not patterns:
            return True
        return any(matches(record) for matches in patterns)

    def _deliver(self, source: StreamSource, batch: list[dict[str, Any]]) -> None:
        delivery = StreamDelivery(
            source.function,
            tuple(str(r["dynamodb"]["SequenceNumber"]) for r in batch),
        )
        with self._lock:
            self.deliveries.append(delivery)
        pending = batch
        for attempt in range(1_000_000):
            delivery.attempts = attempt + 1
            failed_from = self._invoke(source, pending, delivery)
            if failed_from is None:
                return
            pending = pending[failed_from:]
            exhausted = 0 <= source.max_retry_attempts <= attempt
            if exhausted or self._stop.is_set():
                self._on_failure(source, pending, delivery)
                return
            retry.scaled_sleep(min(_MAX_BACKOFF_SECONDS, _FIRST_BACKOFF_SECONDS * 2**attempt))

    def _invoke(
        self, source: StreamSource, batch: list[dict[str, Any]], delivery: StreamDelivery
    ) -> int | None:
        """Invoke once; ``None`` when done, else the index of the first record to retry."""
        payload = json.dumps({"Records": batch})
        try:
            response = self._lambda.invoke(
                FunctionName=source.function_name, Payload=payload.encode()
            )
        except Exception as exc:  # a service error: retried, as Lambda does
            delivery.error = str(exc)
            return 0
        body = response["Payload"].read()
        if response.get("FunctionError"):
            delivery.error = body.decode(errors="replace")[:500]
            return 0
        if not source.report_item_failures:
            return None
        return _first_item_failure(body, batch, delivery)

    def _on_failure(
        self, source: StreamSource, batch: list[dict[str, Any]], delivery: StreamDelivery
    ) -> None:
        if source.on_failure_arn is None or not source.on_failure_arn.startswith("arn:aws:sqs:"):
            return
        sqs = self._client("sqs")
        url = sqs.get_queue_url(QueueName=source.on_failure_arn.rsplit(":", 1)[1])["QueueUrl"]
        numbers = [str(r["dynamodb"]["SequenceNumber"]) for r in batch]
        # The shape Lambda sends to an on-failure destination of a stream mapping.
        message = {
            "requestContext": {
                "condition": "RetryAttemptsExhausted",
                "functionArn": source.function_name,
                "approximateInvokeCount": delivery.attempts,
            },
            "DDBStreamBatchInfo": {
                "startSequenceNumber": numbers[0] if numbers else None,
                "endSequenceNumber": numbers[-1] if numbers else None,
                "batchSize": len(batch),
            },
        }
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps(message))
        delivery.sent_to_on_failure = True


def lambda_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record of moto's as Lambda's event source hands it to the function.

    That is the record of the ``GetRecords`` answer, in its JSON wire form: binary (``B``,
    ``BS``) values base64-encoded, ``ApproximateCreationDateTime`` in UNIX epoch seconds
    rounded down (DynamoDB's own precision); plus ``eventSourceARN``, the stream's ARN,
    which Lambda adds to each record. A new dict: moto's own is never handed on.
    """
    out: dict[str, Any] = json.loads(json.dumps(record, default=_wire_value))
    out.setdefault("eventSource", "aws:dynamodb")
    out["eventSourceARN"] = stream_arn
    return out


def _wire_value(value: object) -> object:
    """JSON for the two non-JSON types of moto's stream records."""
    if isinstance(value, datetime):  # moto's are naive UTC
        return calendar.timegm(value.utctimetuple())
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"a stream record holds a {type(value).__name__}")


def start_for(
    provisioned: Provisioned, client: Callable[[str], Any], lambdas: LambdaEndpoint, region: str
) -> StreamsBridge | None:
    """Start the bridge for the template's stream event sources (``None`` when it has none)."""
    sources = sources_from(provisioned)
    if not sources:
        return None
    import boto3  # noqa: PLC0415 - only when the template has stream sources
    from botocore.config import Config  # noqa: PLC0415

    from scalper.local.provision import LOCAL_ACCESS_KEY, LOCAL_SECRET_KEY  # noqa: PLC0415

    lambda_client = boto3.client(
        "lambda",
        endpoint_url=lambdas.url,
        region_name=region,
        aws_access_key_id=LOCAL_ACCESS_KEY,
        aws_secret_access_key=LOCAL_SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, read_timeout=900),
    )
    # The same Invoke requests, answered in this process: no loopback HTTP hop.
    lambdas.serve_in_process(lambda_client)
    bridge = StreamsBridge(
        sources,
        client,
        lambda_client,
        account_id=provisioned.resolver.account_id,
        region=region,
    )
    bridge.start()
    return bridge


def _first_item_failure(
    body: bytes, batch: list[dict[str, Any]], delivery: StreamDelivery
) -> int | None:
    """Where a ReportBatchItemFailures answer says to resume: ``None`` when every record
    succeeded, else the index of the first failed one (0 for an answer Lambda cannot read)."""
    try:
        failures = json.loads(body or b"{}").get("batchItemFailures") or []
    except (ValueError, AttributeError):
        return 0
    if not failures:
        return None
    failed = {str(f.get("itemIdentifier")) for f in failures}
    for index, record in enumerate(batch):
        if str(record["dynamodb"]["SequenceNumber"]) in failed:
            delivery.error = "batch item failure"
            return index
    return 0  # an identifier not in the batch: Lambda retries the whole batch
