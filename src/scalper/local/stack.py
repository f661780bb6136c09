"""The whole pipeline offline: moto + local Lambda endpoint + HTTP API + EventBridge bridge.

`LocalStack` starts, on 127.0.0.1 only:

- an AWS endpoint: moto's server (S3, DynamoDB, SNS, SQS, EventBridge, CloudWatch Logs,
  Step Functions, Cognito user pools) behind a presigned-POST policy check, while a
  ``mock_aws(config={"stepfunctions": {"execute_state_machine": True}})`` stays active in
  this process so the Step Functions interpreter's own SDK calls reach the same
  backends in-process;
- the Lambda Invoke API for the template's functions (`LambdaEndpoint`), with
  ``AWS_ENDPOINT_URL_LAMBDA`` set in this process so the interpreter's Lambda tasks go
  there; the workers reach moto through ``AWS_ENDPOINT_URL``;
- the template's HTTP API (`HttpApi`), with its IAM or JWT (Cognito) authorisation;
- the EventBridge bridge (`EventBridgeBridge`) for the rule's Step Functions target.

Everything is provisioned from ``template.yaml`` (`Provisioner`); `LocalStack.gaps` lists
what the template asks for that the local stack cannot provide. moto's interpreter pays
a few costs again on every execution (parsing the ASL, compiling JSONPaths, building SDK
clients, deep-copying state data); `scalper.local.interpreter_cache` pays them once, or
less, while the stack runs. Its Lambda tasks and the streams bridge reach the Lambda
endpoint in this process without the loopback HTTP hop (`LambdaEndpoint.serve_in_process`).

One stack per process: moto's mock is process-wide.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto import mock_aws
from werkzeug.serving import BaseWSGIServer

from scalper.local import atomic_items, interpreter_cache, moto_internals, retry, s3_policy
from scalper.local._http import (
    LOOPBACK,
    ReusedThreadsMixIn,
    check_host,
    port_error,
    port_is_free,
)
from scalper.local.bridge import EventBridgeBridge
from scalper.local.execution_ends import (
    EndedRun,
    StepFunctionsExtensions,
    log_lines,
    log_stream,
    status_change_event,
)
from scalper.local.http_api import HttpApi
from scalper.local.lambda_endpoint import LambdaEndpoint
from scalper.local.log_subscriptions import ExecutionLogging
from scalper.local.provision import (
    LOCAL_ACCESS_KEY,
    LOCAL_SECRET_KEY,
    Deployment,
    Provisioned,
    Provisioner,
)
from scalper.local.s3_policy import PostPolicyMiddleware
from scalper.local.streams import StreamsBridge, start_for
from scalper.local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[3]
_SFN_LOGGER = moto_internals.SFN_LOGGER
TERMINAL = ("SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED")
#: Lambda's asynchronous invocation: a function error is retried twice; throttles and
#: service errors are retried with backoff (for up to 6 hours on AWS; a bounded number here).
_ASYNC_FUNCTION_RETRIES = 2
_ASYNC_SERVICE_ATTEMPTS = 12

# Variables the workers inherit from this process; nothing else leaks in (moto's mock
# puts fake credentials in os.environ, the workers get the stack's own).
# PYTHONPATH too: the worker module itself must import when scalper is not installed.
_INHERITED = (
    "PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "VIRTUAL_ENV", "SYSTEMROOT", "PYTHONPATH",
)  # fmt: skip


@dataclass
class StackConfig:
    """How to start the local stack. Port 0 means any free port."""

    template: Path = REPO_ROOT / "template.yaml"
    host: str = LOOPBACK
    aws_port: int = 0
    lambda_port: int = 0
    api_port: int = 0
    parameters: Mapping[str, str] = field(default_factory=dict)
    retry_scale: float = 1.0
    log_dir: Path | None = None
    prewarm: bool = True
    max_concurrency: int = 2
    #: Fork workers from one interpreter with the heavy libraries imported (see
    #: `scalper.local.forkserver`); False starts a new interpreter for each.
    forks: bool = True
    region: str = "us-east-1"
    stack_name: str = "scalper-local"


@dataclass(frozen=True)
class ExecutionReport:
    """Where one execution ended and how it got there."""

    arn: str
    status: str
    states: tuple[str, ...]
    output: Any
    error: str | None
    cause: str | None
    input: dict[str, Any]

    @property
    def key(self) -> str:
        """The object key of the S3 event that started it."""
        return str(((self.input.get("detail") or {}).get("object") or {}).get("key", ""))


class _MotoServer(ReusedThreadsMixIn, BaseWSGIServer):
    """werkzeug's threaded WSGI server (``make_server(threaded=True)``), its request threads
    reused: about seven requests a file reach moto."""

    multithread = True  # what werkzeug tells the WSGI application (wsgi.multithread)


class StackError(RuntimeError):
    """The local stack could not start; the message says why in one line."""


class LocalStack:
    """The local stack; use as a context manager or call `start` / `stop`."""

    _active_lock = threading.Lock()
    _active: LocalStack | None = None

    def __init__(self, config: StackConfig | None = None) -> None:
        self.config = config or StackConfig()
        self.config.host = check_host(self.config.host)
        self._mock: Any = None
        self._moto_server: Any = None
        self._atomic_items = False
        self._froze_gc = False
        self._moto_thread: threading.Thread | None = None
        self.policy: PostPolicyMiddleware | None = None
        self.lambdas: LambdaEndpoint | None = None
        self.api: HttpApi | None = None
        self.bridge: EventBridgeBridge | None = None
        self.streams: StreamsBridge | None = None
        self.extensions: StepFunctionsExtensions | None = None
        self.provisioned: Provisioned | None = None
        self._endings: set[threading.Thread] = set()
        self._clients: dict[str, Any] = {}
        self._in_process_clients: dict[str, Any] = {}
        self._clients_lock = threading.Lock()
        self._session: boto3.session.Session | None = None
        self._saved_env: dict[str, str | None] = {}
        self._own_log_dir = False
        self.log_dir: Path = self.config.log_dir or Path()
        self.aws_url = ""

    # -- lifecycle -------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LocalStack:
        """Start everything; on any failure, stop what started and raise."""
        cfg = self.config
        for port, what, flag in (
            (cfg.aws_port, "aws endpoint", "--port"),
            (cfg.lambda_port, "lambda endpoint", "--lambda-port"),
            (cfg.api_port, "http api", "--api-port"),
        ):
            if port and not port_is_free(cfg.host, port):
                raise port_error(what, cfg.host, port, flag)
        if len({p for p in (cfg.aws_port, cfg.lambda_port, cfg.api_port) if p}) < len(
            [p for p in (cfg.aws_port, cfg.lambda_port, cfg.api_port) if p]
        ):
            raise StackError("the aws, lambda and api ports must differ")
        template = load_template(cfg.template)
        with LocalStack._active_lock:
            if LocalStack._active is not None:
                raise StackError(
                    "a local stack is already running in this process (moto's mock is process-wide)"
                )
            LocalStack._active = self
        try:
            self._start(template)
        except BaseException:
            self.stop()
            raise
        # What exists now (imported modules, moto's backends, the provisioned resources)
        # lives as long as the stack. Each full collection of the cyclic garbage collector
        # would walk all of it again -- a few hundred thousand objects, about 2 ms of this
        # process's CPU a file at the stack's rate -- to find nothing; frozen, it is not
        # walked until `stop` (which is also when what froze can become garbage again).
        if gc.get_freeze_count() == 0:
            gc.freeze()
            self._froze_gc = True
        return self

    def _start(self, template: dict[str, Any]) -> None:
        cfg = self.config
        logging.getLogger(_SFN_LOGGER).setLevel(logging.NOTSET)
        if cfg.log_dir is None:
            self.log_dir = Path(tempfile.mkdtemp(prefix="scalper-local-"))
            self._own_log_dir = True
        else:
            self.log_dir = cfg.log_dir
            self.log_dir.mkdir(parents=True, exist_ok=True)

        self._mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        self._mock.start()
        self._start_moto(cfg.host, cfg.aws_port)

        self.api = HttpApi(account_id="123456789012", host=cfg.host, port=cfg.api_port)
        api_base = self.api.url.rstrip("/")
        worker_env = {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            "AWS_REGION": cfg.region,
            "AWS_DEFAULT_REGION": cfg.region,
            # No X-Ray daemon locally: Powertools Tracer would only log send errors.
            "POWERTOOLS_TRACE_DISABLED": "true",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
        }
        provisioner = Provisioner(
            template,
            cfg.template.parent,
            self.aws_url,
            Deployment(cfg.stack_name, cfg.region, dict(cfg.parameters)),
            api_url=lambda _api_id: api_base,
            function_env=worker_env,
        )
        self.provisioned = provisioned = provisioner.provision()

        base_env = {k: os.environ[k] for k in _INHERITED if k in os.environ}
        self.lambdas = LambdaEndpoint(
            provisioned.functions.values(),
            base_env,
            self.log_dir,
            host=cfg.host,
            port=cfg.lambda_port,
            max_concurrency=cfg.max_concurrency,
            forks=cfg.forks,
        )
        # The HTTP API was bound first (its URL is a template attribute); now give it routes.
        api_ids = sorted({r.api for r in provisioned.routes})
        if len(api_ids) > 1:
            provisioner.gap(f"only the first HTTP API ({api_ids[0]}) is served locally")
        api_routes = [r for r in provisioned.routes if api_ids and r.api == api_ids[0]]
        stage = "$default"
        if api_ids and api_ids[0] in template["Resources"]:
            props = template["Resources"][api_ids[0]].get("Properties") or {}
            stage = str(provisioned.resolver.resolve(props.get("StageName", "$default")))
        self.api.configure(
            api_routes,
            self.lambdas,
            api_id=provisioned.ref(api_ids[0]) if api_ids else "none",
            stage=stage,
        )

        retry.install(cfg.retry_scale)
        # DynamoDB's per-item atomic conditional writes (moto's are not): the ownership rule.
        atomic_items.install()
        self._atomic_items = True
        self.bridge = EventBridgeBridge(
            provisioned.rules,
            self._in_process_client,
            account_id=provisioned.resolver.account_id,
            region=cfg.region,
            invoke_lambda=self._invoke_event,
        )
        self.bridge.install()
        # RedriveExecution, the Express cap, and each execution's end delivered as AWS would.
        self.extensions = StepFunctionsExtensions(self._execution_ended)
        self.extensions.install()

        self._set_env("AWS_ENDPOINT_URL_LAMBDA", self.lambdas.url)
        # After the variable above: the interpreter's cached Lambda client reads it once.
        interpreter_cache.install(self._prepare_interpreter_client)
        self.lambdas.start(prewarm=cfg.prewarm)
        self.api.start()
        # DynamoDB Streams -> Lambda event sources (scalper.local.streams), e.g. write_result.
        self.streams = start_for(provisioned, self._in_process_client, self.lambdas, cfg.region)

    def _prepare_interpreter_client(self, service: str, client: Any) -> None:
        """The interpreter's Lambda tasks reach the Lambda endpoint in this process."""
        if service == "lambda" and self.lambdas is not None:
            self.lambdas.serve_in_process(client)

    def _start_moto(self, host: str, port: int) -> None:
        moto_internals.require("scalper.local.stack")
        # A browser upload's body is parsed once: by the policy check, for moto too.
        s3_policy.reuse_parsed_forms()
        self.policy = PostPolicyMiddleware(
            moto_internals.server_application(),
            {LOCAL_ACCESS_KEY: LOCAL_SECRET_KEY},
            form_parsing=moto_internals.server_form_parsing(),
        )
        try:
            server = _MotoServer(host, port, self.policy, moto_internals.quiet_request_handler())
        except OSError as exc:
            raise port_error("aws endpoint", host, port, "--port") from exc
        except SystemExit as exc:  # werkzeug exits instead of raising on a taken port
            raise port_error("aws endpoint", host, port, "--port") from exc
        self._moto_server = server
        self.aws_url = f"http://{host}:{server.server_address[1]}"
        self._moto_thread = threading.Thread(
            target=server.serve_forever, name="scalper-moto", daemon=True
        )
        self._moto_thread.start()

    def _unpatch_moto(self) -> None:
        """Undo what `start` changed inside moto (each undo is safe when never done)."""
        retry.uninstall()
        if self._atomic_items:
            atomic_items.uninstall()
            self._atomic_items = False
        interpreter_cache.uninstall()
        s3_policy.restore_form_parsing()

    def stop(self) -> None:
        """Stop everything that started, in reverse order; safe to call twice."""
        # Executions still running when the stack stops lose their Lambda endpoint; moto's
        # interpreter would log each as an error. They are being stopped, not failing.
        logging.getLogger(_SFN_LOGGER).setLevel(logging.CRITICAL)
        if self.extensions is not None:
            self.extensions.uninstall()
            self.extensions = None
        if self.bridge is not None:
            self.bridge.close()
            self.bridge = None
        if self.streams is not None:
            self.streams.close()
            self.streams = None
        if self.api is not None:
            self.api.stop()
            self.api = None
        if self.lambdas is not None:
            self.lambdas.stop()
            self.lambdas = None
        if self._moto_server is not None:
            self._moto_server.shutdown()
            self._moto_server.server_close()
            self._moto_server = None
        self._unpatch_moto()
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env.clear()
        if self._mock is not None:
            self._mock.stop()
            self._mock = None
        with self._clients_lock:
            self._in_process_clients.clear()
        if self._own_log_dir:
            shutil.rmtree(self.log_dir, ignore_errors=True)
            self._own_log_dir = False
        self._unfreeze_gc()
        with LocalStack._active_lock:
            if LocalStack._active is self:
                LocalStack._active = None

    def _unfreeze_gc(self) -> None:
        """Give what `start` froze back to the collector (safe when nothing was frozen)."""
        if self._froze_gc:
            gc.unfreeze()
            self._froze_gc = False

    def _set_env(self, name: str, value: str) -> None:
        self._saved_env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    # -- the end of an execution, as AWS delivers it -----------------------------------
    def _invoke_event(self, function_arn: str, payload: str) -> tuple[str | None, str]:
        """An asynchronous Invoke (``InvocationType=Event``) of a template function, as
        Lambda runs one: accepted at once, then run with Lambda's asynchronous retries (a
        throttle or service error is retried with backoff, a function error twice more).
        `wait_for_endings` waits for these runs too."""
        lambdas = self._require(self.lambdas)
        try:
            lambdas.logical_id(function_arn)
        except KeyError:
            return "ResourceNotFoundException", f"Function not found: {function_arn}"
        self._start_ending(self._run_event, function_arn, payload.encode())
        return None, ""

    def _run_event(self, function_arn: str, body: bytes) -> None:
        path = f"/2015-03-31/functions/{quote(function_arn, safe='')}/invocations"
        function_errors = 0
        try:
            for attempt in range(_ASYNC_SERVICE_ATTEMPTS):
                lambdas = self.lambdas
                if lambdas is None:
                    return
                reply = lambdas.handle(path, body, "RequestResponse")
                if reply.status >= 400:  # throttled or a service error: Lambda retries
                    time.sleep(min(60.0, 2.0**attempt) * retry.current_scale())
                    continue
                if "X-Amz-Function-Error" not in reply.headers:
                    return
                function_errors += 1
                if function_errors > _ASYNC_FUNCTION_RETRIES:
                    return
                time.sleep(min(60.0, 2.0**attempt) * retry.current_scale())
        finally:
            with self._clients_lock:
                self._endings.discard(threading.current_thread())

    def _execution_ended(self, run: EndedRun) -> None:
        """Called on moto's interpreter thread when an execution (or a redrive) ends."""
        self._start_ending(self._deliver_end, run)

    def _start_ending(self, target: Callable[..., None], *args: Any) -> None:
        """Run ``target`` on a thread `wait_for_endings` waits for (it discards itself).

        Started while the lock is held, so a waiter never sees a thread it cannot join yet
        (``start`` returns once the thread runs; the thread takes the lock only to end).
        """
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._clients_lock:
            self._endings.add(thread)
            thread.start()

    def _deliver_end(self, run: EndedRun) -> None:
        try:
            provisioned = self.provisioned
            if provisioned is None:
                return
            machine = next(
                (m for m in provisioned.state_machines.values() if m.arn == run.state_machine_arn),
                None,
            )
            if run.workflow_type.endswith("STANDARD") and self.bridge is not None:
                account = provisioned.resolver.account_id
                self.bridge.publish(
                    status_change_event(run, account=account, region=self.config.region)
                )
            if machine is not None and machine.logging is not None:
                self._write_execution_log(run, machine.logging)
        finally:
            with self._clients_lock:
                self._endings.discard(threading.current_thread())

    def _write_execution_log(self, run: EndedRun, logging_config: ExecutionLogging) -> None:
        """Write the execution's events to its log group as Step Functions would, then hand
        the ones each subscription filter matches to its destination."""
        lines = log_lines(run, level=logging_config.level, include_data=logging_config.include_data)
        if not lines:
            return
        logs = self._in_process_client("logs")  # the stack's own call, once per execution
        stream = log_stream(run.state_machine_arn, run.arn)
        try:
            logs.create_log_stream(logGroupName=logging_config.group, logStreamName=stream)
        except ClientError as error:
            # A redrive's run logs to its execution's stream again. Matched by code: the
            # client is shared by the ending threads, and botocore builds a client's
            # exception classes lazily, without a lock, so two threads can build two sets.
            if error.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise
        events: list[dict[str, Any]] = [
            {"timestamp": int(line["event_timestamp"]), "message": json.dumps(line, default=str)}
            for line in lines
        ]
        logs.put_log_events(
            logGroupName=logging_config.group, logStreamName=stream, logEvents=events
        )
        provisioned = self._require(self.provisioned)
        for subscription in provisioned.subscriptions:
            if subscription.log_group != logging_config.group:
                continue
            matched = [e for e in events if subscription.matches(json.loads(e["message"]))]
            if matched:
                self._invoke_event(
                    subscription.destination_arn,
                    json.dumps(
                        subscription.payload(
                            matched,
                            owner=provisioned.resolver.account_id,
                            log_group=logging_config.group,
                            log_stream=stream,
                        )
                    ),
                )

    def wait_for_endings(self, timeout: float = 30.0) -> bool:
        """Wait until every ended execution's event or log has been handed on."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._clients_lock:
                pending = list(self._endings)
            if not pending:
                return self._require(self.bridge).wait_idle(max(0.1, deadline - time.monotonic()))
            for thread in pending:
                thread.join(max(0.0, deadline - time.monotonic()))
        return False

    def redrive(self, arn: str) -> datetime:
        """RedriveExecution of one of this stack's executions (AWS's rules)."""
        response = self.client("stepfunctions").redrive_execution(executionArn=arn)
        return response["redriveDate"]  # type: ignore[no-any-return]

    # -- what users and tests read ---------------------------------------------------
    @property
    def lambda_url(self) -> str:
        """The Lambda Invoke API endpoint (``AWS_ENDPOINT_URL_LAMBDA`` / ``LAMBDA_ENDPOINT``)."""
        return self._require(self.lambdas).url

    @property
    def api_url(self) -> str:
        """The HTTP API's base URL (ends with ``/``)."""
        return self._require(self.api).url

    @property
    def gaps(self) -> list[str]:
        """What the template asks for that the local stack does not provide."""
        return list(self._require(self.provisioned).gaps)

    @property
    def env(self) -> dict[str, str]:
        """The environment that points the AWS CLI, boto3 and `scalper` at this stack
        (with ``AuthMode=COGNITO``, also the user pool and app client `scalper login` uses)."""
        env = {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": LOCAL_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": LOCAL_SECRET_KEY,
            "AWS_DEFAULT_REGION": self.config.region,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_url,
            "SCALPER_API_URL": self.api_url,
        }
        outputs = self._require(self.provisioned).outputs
        for output, name in (
            ("UserPoolId", "SCALPER_USER_POOL_ID"),
            ("UserPoolClientId", "SCALPER_CLIENT_ID"),
        ):
            if outputs.get(output):
                env[name] = str(outputs[output])
        return env

    def client(self, service: str) -> Any:
        """A boto3 client for ``service`` on this stack's AWS endpoint (cached, thread-safe)."""
        with self._clients_lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = boto3.session.Session(
                        aws_access_key_id=LOCAL_ACCESS_KEY,
                        aws_secret_access_key=LOCAL_SECRET_KEY,
                        region_name=self.config.region,
                    )
                self._clients[service] = self._session.client(
                    service,  # type: ignore[call-overload]
                    endpoint_url=self.aws_url,
                    config=Config(retries={"max_attempts": 2}, max_pool_connections=32),
                )
            return self._clients[service]

    def _in_process_client(self, service: str) -> Any:
        """A client for the stack's own calls (the bridges, waiting for executions).

        It reaches the same moto backends through the mock active in this process instead
        of the HTTP endpoint: a third of the CPU per call (no HTTP server, WSGI app or
        socket on either side), and these calls run many times a second while files flow.
        Endpoint variables in the environment (``AWS_ENDPOINT_URL``...) are ignored: they
        may point anywhere, this stack included.
        """
        if self._mock is None:  # without the mock these calls would leave for AWS
            raise StackError("the local stack is not running")
        with self._clients_lock:
            if service not in self._in_process_clients:
                session = boto3.session.Session(
                    aws_access_key_id=LOCAL_ACCESS_KEY,
                    aws_secret_access_key=LOCAL_SECRET_KEY,
                    region_name=self.config.region,
                )
                self._in_process_clients[service] = session.client(
                    service,  # type: ignore[call-overload]
                    config=Config(
                        retries={"max_attempts": 2},
                        max_pool_connections=32,
                        # In botocore since 1.31; its type stubs lag behind.
                        ignore_configured_endpoint_urls=True,  # type: ignore[call-arg]
                    ),
                )
            return self._in_process_clients[service]

    def resource_name(self, logical_id: str) -> str:
        """The physical name (the ``!Ref`` value) of a template resource."""
        return self._require(self.provisioned).ref(logical_id)

    def buckets(self) -> dict[str, str]:
        """Bucket logical id -> bucket name."""
        p = self._require(self.provisioned)
        return {lid: p.ref(lid) for lid in p.of_type("AWS::S3::Bucket")}

    @property
    def input_bucket(self) -> str:
        """The bucket whose Object Created events start the pipeline (EventBridge on)."""
        template = self._require(self.provisioned).resolver.template
        for lid, name in self.buckets().items():
            props = template["Resources"][lid].get("Properties") or {}
            if (
                (props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {}
            ).get("EventBridgeEnabled"):
                return name
        raise StackError("no bucket of the template has EventBridge notifications on")

    @property
    def state_machine_arn(self) -> str:
        """The ARN of the (first) state machine."""
        machines = self._require(self.provisioned).state_machines
        if not machines:
            raise StackError("the template has no state machine")
        return next(iter(machines.values())).arn

    def add_user(self, username: str, password: str) -> str:
        """Create a confirmed user (no e-mail, permanent password) in the template's user
        pool (``AuthMode=COGNITO``), as an administrator would; returns its ``sub``."""
        pool = self._require(self.provisioned).outputs.get("UserPoolId")
        if not pool:
            raise StackError("the stack has no user pool (start it with AuthMode=COGNITO)")
        idp = self.client("cognito-idp")
        created = idp.admin_create_user(
            UserPoolId=pool, Username=username, MessageAction="SUPPRESS"
        )
        idp.admin_set_user_password(
            UserPoolId=pool, Username=username, Password=password, Permanent=True
        )
        attributes = {a["Name"]: a["Value"] for a in created["User"].get("Attributes", [])}
        return str(attributes["sub"])

    def subscribe_queue(
        self,
        topic_arn: str,
        name: str = "scalper-local-alerts",
        filter_policy: dict[str, Any] | None = None,
    ) -> str:
        """Subscribe a new SQS queue to an SNS topic (raw delivery off); returns its URL.

        The local way to see alerts: SNS e-mail is not delivered, a queue is.
        ``filter_policy``: an SNS subscription filter policy on the message attributes
        (``{"event": ["FAILED"]}``: failure alerts only).
        """
        sqs, sns = self.client("sqs"), self.client("sns")
        url = str(sqs.create_queue(QueueName=name)["QueueUrl"])
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        attributes = {} if filter_policy is None else {"FilterPolicy": json.dumps(filter_policy)}
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        return url

    def execution_arns_for(self, key: str) -> list[str]:
        """Executions the bridge started for an object key, oldest first."""
        return self._require(self.bridge).executions_for(key)

    def ended(self, arns: Iterable[str]) -> dict[str, str]:
        """Of these executions, the ones that have ended: ARN -> status.

        Read from moto's Step Functions backend in this process: no request, nothing
        serialised, whatever the number of executions -- waiting for many files costs the
        stack (and the machine) next to nothing. Polling ``ListExecutions`` instead had
        moto serialise every running execution on every poll, a third of the stack's CPU
        while hundreds of files were in flight. Executions of other state machines are
        described through the API.
        """
        wanted = list(dict.fromkeys(arns))
        if not wanted:
            return {}
        statuses = self._backend_statuses()
        # Executions of other state machines (a test's own) are described through the API.
        sfn = self._in_process_client("stepfunctions")
        for arn in wanted:
            if arn not in statuses:
                statuses[arn] = str(sfn.describe_execution(executionArn=arn)["status"])
        # PENDING_REDRIVE is neither running nor ended.
        return {a: statuses[a] for a in wanted if statuses[a] in TERMINAL}

    def _backend_statuses(self) -> dict[str, str]:
        """Every execution of the template's state machines -> status, from moto's backend
        (a hook point `moto_internals.require` checked when the stack started)."""
        provisioned = self._require(self.provisioned)
        return moto_internals.execution_statuses(
            provisioned.resolver.account_id,
            self.config.region,
            [machine.arn for machine in provisioned.state_machines.values()],
        )

    def wait_for_statuses(
        self, keys: Iterable[str], timeout: float = 60.0, poll: float = 0.1
    ) -> dict[str, str]:
        """Wait until every key has an execution and it ended; key -> its latest status.

        Raises `TimeoutError` naming the keys still open at the deadline.
        """
        pending = list(dict.fromkeys(keys))
        deadline = time.monotonic() + timeout
        done: dict[str, str] = {}
        while True:
            latest = {k: arns[-1] for k in pending if (arns := self.execution_arns_for(k))}
            ended = self.ended(latest.values())
            for key, arn in latest.items():
                if arn in ended:
                    done[key] = ended[arn]
            pending = [k for k in pending if k not in done]
            if not pending:
                return done
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"no terminal execution after {timeout:.0f}s for: {', '.join(pending)}"
                )
            time.sleep(poll)

    def wait_for_keys(
        self, keys: Iterable[str], timeout: float = 60.0
    ) -> dict[str, ExecutionReport]:
        """Wait until every key has an execution and it ended; key -> its latest execution.

        Raises `TimeoutError` naming the keys still open at the deadline.
        """
        wanted = list(keys)
        self.wait_for_statuses(wanted, timeout)
        return {key: self.report(self.execution_arns_for(key)[-1]) for key in wanted}

    def wait_for_execution(self, arn: str, timeout: float = 60.0) -> ExecutionReport:
        """Wait for one execution to end."""
        deadline = time.monotonic() + timeout
        sfn = self.client("stepfunctions")
        while sfn.describe_execution(executionArn=arn)["status"] not in TERMINAL:
            if time.monotonic() > deadline:
                raise TimeoutError(f"execution {arn} still running after {timeout:.0f}s")
            time.sleep(0.1)
        return self.report(arn)

    def report(self, arn: str) -> ExecutionReport:
        """Status, states entered (in order), output and error of one execution."""
        sfn = self.client("stepfunctions")
        described = sfn.describe_execution(executionArn=arn)
        states: list[str] = []
        kwargs: dict[str, Any] = {"executionArn": arn, "maxResults": 1000}
        while True:
            page = sfn.get_execution_history(**kwargs)
            for event in page["events"]:
                details = event.get("stateEnteredEventDetails")
                if event["type"].endswith("StateEntered") and details:
                    states.append(str(details["name"]))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        output = described.get("output")
        return ExecutionReport(
            arn=arn,
            status=str(described["status"]),
            states=tuple(states),
            output=json.loads(output) if output else None,
            error=described.get("error"),
            cause=described.get("cause"),
            input=json.loads(described.get("input") or "{}"),
        )

    @staticmethod
    def _require[T](value: T | None) -> T:
        if value is None:
            raise StackError("the local stack is not running")
        return value
