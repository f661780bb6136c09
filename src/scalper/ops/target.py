"""Which pipeline the operations commands act on, and the AWS clients to reach it.

Two ways to name it, the same commands either way:

- ``--stack NAME`` (deployed): CloudFormation ``DescribeStacks`` and the template's outputs
  (``StateMachineArn``, ``InputBucketName``, ``QuarantineBucketName``, ``MetadataTableName``,
  ``AlertsTopicArn``, ``DeadLetterQueueUrl``).
- ``--endpoint URL`` or ``AWS_ENDPOINT_URL`` (the local stack of ``scalper local up``, or any
  AWS-compatible endpoint): a CloudFormation stack there is used when one exists (LocalStack
  with a deployed SAM app); otherwise the resources are found the way the local stack
  provisions them, from ``template.yaml`` itself with the local stack's own naming pass, and
  checked against the endpoint. Change the template and the commands follow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from scalper.ops.common import TargetError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation.client import CloudFormationClient
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_sqs.client import SQSClient
    from mypy_boto3_stepfunctions.client import SFNClient

#: The local stack's stack name and the credentials moto accepts.
LOCAL_STACK_NAME = "scalper-local"
LOCAL_CREDENTIALS = ("testing", "testing")
DEFAULT_REGION = "us-east-1"

#: Template outputs the commands read (template.yaml ``Outputs``).
OUTPUTS = {
    "state_machine_arn": "StateMachineArn",
    "input_bucket": "InputBucketName",
    "quarantine_bucket": "QuarantineBucketName",
    "table": "MetadataTableName",
    "topic_arn": "AlertsTopicArn",
    "dlq_url": "DeadLetterQueueUrl",
}
REQUIRED_OUTPUTS = ("StateMachineArn", "MetadataTableName")


@dataclass(frozen=True)
class Target:
    """One deployed (or local) pipeline: its resources and where its API lives."""

    stack: str
    region: str
    state_machine_arn: str
    table: str
    input_bucket: str | None = None
    quarantine_bucket: str | None = None
    topic_arn: str | None = None
    dlq_url: str | None = None
    endpoint_url: str | None = None
    workflow_type: str = "STANDARD"
    #: The state machine's ``TimeoutSeconds`` (None when the definition sets none).
    timeout_seconds: int | None = None
    outputs: Mapping[str, str] = field(default_factory=dict)

    @property
    def local(self) -> bool:
        """True when the commands talk to an endpoint rather than to AWS itself."""
        return self.endpoint_url is not None

    def console_url(self, execution_arn: str) -> str | None:
        """The execution's page in the Step Functions console (None for a local endpoint)."""
        if self.local:
            return None
        base = f"https://{self.region}.console.aws.amazon.com/states/home?region={self.region}"
        if self.workflow_type == "EXPRESS":
            return f"{base}#/express-executions/details/{execution_arn}"
        return f"{base}#/v2/executions/details/{execution_arn}"

    def to_json(self) -> dict[str, Any]:
        """The target as plain data (``--json`` output)."""
        return {
            "stack": self.stack,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "state_machine_arn": self.state_machine_arn,
            "workflow_type": self.workflow_type,
            "table": self.table,
            "input_bucket": self.input_bucket,
            "quarantine_bucket": self.quarantine_bucket,
            "topic_arn": self.topic_arn,
            "dlq_url": self.dlq_url,
        }


class Clients:
    """boto3 clients for one target's account, Region and endpoint (created on first use)."""

    def __init__(
        self,
        session: boto3.session.Session,
        *,
        endpoint_url: str | None = None,
        config: Config | None = None,
    ) -> None:
        self.session = session
        self.endpoint_url = endpoint_url
        self.config = config or Config(retries={"mode": "standard", "max_attempts": 5})
        self._cache: dict[str, Any] = {}

    @property
    def region(self) -> str:
        """The session's Region."""
        return self.session.region_name or DEFAULT_REGION

    def client(self, service: str) -> Any:
        """A client for ``service`` (cached)."""
        if service not in self._cache:
            self._cache[service] = self.session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=self.endpoint_url,
                config=self.config,
            )
        return self._cache[service]

    @property
    def sfn(self) -> SFNClient:
        """Step Functions."""
        client: SFNClient = self.client("stepfunctions")
        return client

    @property
    def dynamodb(self) -> DynamoDBClient:
        """DynamoDB."""
        client: DynamoDBClient = self.client("dynamodb")
        return client

    @property
    def s3(self) -> S3Client:
        """S3."""
        client: S3Client = self.client("s3")
        return client

    @property
    def sqs(self) -> SQSClient:
        """SQS."""
        client: SQSClient = self.client("sqs")
        return client

    @property
    def cloudformation(self) -> CloudFormationClient:
        """CloudFormation."""
        client: CloudFormationClient = self.client("cloudformation")
        return client


def make_clients(
    *,
    endpoint_url: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Clients:
    """Clients for AWS (``endpoint_url`` None) or for an endpoint such as the local stack.

    A local endpoint without credentials in the environment gets moto's dummy ones, so
    ``scalper status KEY --endpoint http://127.0.0.1:4566`` works in a fresh shell.
    """
    environ = os.environ if env is None else env
    kwargs: dict[str, Any] = {}
    if profile:
        kwargs["profile_name"] = profile
    region = region or environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if endpoint_url is not None:
        region = region or DEFAULT_REGION
        if not environ.get("AWS_ACCESS_KEY_ID") and not profile:
            kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = LOCAL_CREDENTIALS
    try:
        session = boto3.session.Session(region_name=region, **kwargs)
    except BotoCoreError as exc:
        raise TargetError(f"cannot create an AWS session: {exc}") from None
    if session.region_name is None:
        raise TargetError("no AWS Region: pass --region or set AWS_REGION")
    config = None
    if endpoint_url is not None:
        # A local endpoint is up or it is not: fail in seconds, not after a minute of backoff.
        config = Config(
            retries={"mode": "standard", "max_attempts": 2}, connect_timeout=3, read_timeout=60
        )
    return Clients(session, endpoint_url=endpoint_url, config=config)


def describe_aws_error(exc: BaseException) -> str:
    """One line for an AWS client failure that is about reaching AWS at all."""
    if isinstance(exc, NoCredentialsError):
        return (
            "no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run aws sso login)"
        )
    if isinstance(exc, NoRegionError):
        return "no AWS Region: pass --region or set AWS_REGION"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}: is it running?"
    if isinstance(exc, ClientError):
        return _client_error_line(exc)
    return str(exc) or type(exc).__name__


#: Error codes of credentials AWS refuses (expired, unknown, or a bad signature).
_REJECTED_CREDENTIALS = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)


def _client_error_line(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    code = error.get("Code", "")
    if code in _REJECTED_CREDENTIALS:
        return f"AWS rejected the credentials ({code}): refresh them and try again"
    if code in {"AccessDenied", "AccessDeniedException"}:
        return f"access denied: {error.get('Message', '')}".rstrip(": ")
    return f"{code}: {error.get('Message', '')}"


def resolve(
    clients: Clients,
    *,
    stack: str | None,
    template: Path | None = None,
) -> Target:
    """Find the target: CloudFormation first, then (for an endpoint) the template's names.

    Raises :class:`TargetError` with one line saying what is missing.
    """
    name = stack or (LOCAL_STACK_NAME if clients.endpoint_url else None)
    if name is None:
        raise TargetError(
            "say which pipeline: --stack NAME (deployed) or --endpoint URL (local stack, "
            "or set AWS_ENDPOINT_URL)"
        )
    try:
        outputs = stack_outputs(clients.cloudformation, name)
    except TargetError:
        if clients.endpoint_url is None:
            raise
        outputs = None
    except (EndpointConnectionError, NoCredentialsError) as exc:
        raise TargetError(describe_aws_error(exc)) from None
    except (ClientError, BotoCoreError) as exc:
        if clients.endpoint_url is None:
            raise TargetError(describe_aws_error(exc)) from None
        outputs = None  # no CloudFormation at this endpoint: the local stack
    if outputs is None:
        outputs = local_outputs(template or default_template(), stack=name, region=clients.region)
    return _finish(clients, name, outputs)


def stack_outputs(cloudformation: CloudFormationClient, name: str) -> dict[str, str]:
    """The outputs of a CloudFormation stack; :class:`TargetError` when there is no such stack."""
    try:
        stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "ValidationError" and "does not exist" in error.get("Message", ""):
            raise TargetError(
                f"no stack named {name!r} in this account and Region (check --stack, "
                "--region and AWS_PROFILE)"
            ) from None
        raise
    if not stacks:
        raise TargetError(f"no stack named {name!r}")
    return {
        str(o["OutputKey"]): str(o["OutputValue"])
        for o in stacks[0].get("Outputs", [])
        if "OutputKey" in o and "OutputValue" in o
    }


def default_template() -> Path:
    """``template.yaml`` in the working directory, else the repository's."""
    here = Path.cwd() / "template.yaml"
    if here.is_file():
        return here
    return Path(__file__).resolve().parents[3] / "template.yaml"


def local_outputs(template: Path, *, stack: str, region: str) -> dict[str, str]:
    """The template's outputs under the names the local stack gives its resources.

    Uses the local stack's own naming pass (no AWS call), so the names are exactly the ones
    ``scalper local up`` provisioned for the same stack name and Region.
    """
    if not template.is_file():
        raise TargetError(
            f"no CloudFormation stack at the endpoint and no template at {template} "
            "(run from the project folder or pass --template)"
        )
    try:
        from scalper.local.template import TemplateError, load_template  # noqa: PLC0415
        from scalper.sfn_mock.definition import local_resolver  # noqa: PLC0415
    except ImportError as exc:  # the [local] extra is not installed
        raise TargetError(f"local mode needs the local extra ({exc.name} is missing)") from None
    try:
        body = load_template(template)
        resolver = local_resolver(body, template.parent, region=region, stack_name=stack)
        outputs: dict[str, str] = {}
        for key, output in (body.get("Outputs") or {}).items():
            if "Condition" in output and not resolver.condition(str(output["Condition"])):
                continue
            value = resolver.resolve(output.get("Value"), f"Outputs.{key}")
            outputs[str(key)] = value if isinstance(value, str) else json.dumps(value)
    except TemplateError as exc:
        raise TargetError(f"{template}: {exc}") from None
    return outputs


def _finish(clients: Clients, name: str, outputs: Mapping[str, str]) -> Target:
    missing = [key for key in REQUIRED_OUTPUTS if not outputs.get(key)]
    if missing:
        raise TargetError(f"stack {name!r} has no output {', '.join(missing)}: is it this app?")
    arn = outputs["StateMachineArn"]
    try:
        described = clients.sfn.describe_state_machine(stateMachineArn=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in {"StateMachineDoesNotExist", "ResourceNotFound"}:
            where = f"at {clients.endpoint_url}" if clients.endpoint_url else "in AWS"
            hint = " (is `scalper local up` running?)" if clients.endpoint_url else ""
            raise TargetError(f"state machine {arn} not found {where}{hint}") from None
        raise TargetError(describe_aws_error(exc)) from None
    except (BotoCoreError, NoCredentialsError) as exc:
        raise TargetError(describe_aws_error(exc)) from None
    timeout: int | None = None
    try:
        value = json.loads(described.get("definition") or "{}").get("TimeoutSeconds")
        timeout = int(value) if value is not None else None
    except (ValueError, TypeError):
        timeout = None
    values = {field_: outputs.get(output) for field_, output in OUTPUTS.items()}
    return Target(
        stack=name,
        region=clients.region,
        state_machine_arn=arn,
        table=outputs["MetadataTableName"],
        input_bucket=values["input_bucket"],
        quarantine_bucket=values["quarantine_bucket"],
        topic_arn=values["topic_arn"],
        dlq_url=values["dlq_url"],
        endpoint_url=clients.endpoint_url,
        workflow_type=str(described.get("type", "STANDARD")),
        timeout_seconds=timeout,
        outputs=dict(outputs),
    )
