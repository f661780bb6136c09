"""Create the template's resources on moto, from ``template.yaml`` itself.

Two passes, as CloudFormation would see them: first every resource gets its physical
name, ``!Ref`` value and ``!GetAtt`` attributes (deterministic, so resources can refer to
each other in any order); then the ones moto can hold are created with their resolved
properties. What the local stack cannot provide is collected in `Provisioned.gaps`
(printed at start), never skipped silently. A resource whose ``Condition`` is false is
simply not part of the stack, as in CloudFormation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from scalper.local.jwt_auth import JwtAuthorizer
from scalper.local.lambda_runtime import FunctionSpec
from scalper.local.log_subscriptions import (
    ExecutionLogging,
    FilterPatternError,
    LogSubscription,
)
from scalper.local.template import (
    Resolver,
    ResourceRef,
    TemplateError,
    merged_function_properties,
    merged_properties,
    render_definition,
)

LOCAL_ACCESS_KEY = "testing"  # moto's documented dummy credentials
LOCAL_SECRET_KEY = "testing"  # noqa: S105 - not a secret: the local stack's fixed test key


@dataclass(frozen=True)
class Route:
    """One HTTP API route served by a function."""

    api: str  # logical id of the HttpApi
    method: str  # upper case, or "ANY"
    path: str  # e.g. /uploads, may hold {param} segments
    function: str  # logical id
    auth: str  # "NONE", "AWS_IAM" or "JWT"
    payload_format: str = "2.0"
    authorizer: JwtAuthorizer | None = None  # the JWT authoriser of a "JWT" route
    scopes: tuple[str, ...] = ()  # its authorisation scopes (any one is enough)


@dataclass(frozen=True)
class BridgeTarget:
    """A rule target the local EventBridge bridge delivers to."""

    target_id: str
    arn: str
    max_retry_attempts: int = 185
    max_event_age_seconds: int = 86400
    dead_letter_arn: str | None = None
    input_path: str | None = None
    input: str | None = None


@dataclass(frozen=True)
class BridgeRule:
    """An EventBridge rule with its pattern (resolved JSON) and targets."""

    logical_id: str
    name: str
    arn: str
    event_bus: str
    pattern: str
    enabled: bool
    targets: tuple[BridgeTarget, ...]


@dataclass(frozen=True)
class StateMachineInfo:
    """One state machine as created locally."""

    logical_id: str
    name: str
    arn: str
    definition: str
    type: str
    #: Its Logging property: the local stack writes each execution's events there.
    logging: ExecutionLogging | None = None


@dataclass
class Provisioned:
    """Everything the rest of the local stack needs from the template."""

    resolver: Resolver
    functions: dict[str, FunctionSpec] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    rules: list[BridgeRule] = field(default_factory=list)
    state_machines: dict[str, StateMachineInfo] = field(default_factory=dict)
    subscriptions: list[LogSubscription] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    gaps: list[str] = field(default_factory=list)

    def ref(self, logical_id: str) -> str:
        """The ``!Ref`` value of a resource (bucket name, table name, topic ARN, ...)."""
        return self.resolver.resources[logical_id].ref

    def attr(self, logical_id: str, attribute: str) -> Any:
        """A ``!GetAtt`` attribute of a resource."""
        return self.resolver.resources[logical_id].attributes[attribute]

    def of_type(self, resource_type: str) -> list[str]:
        """Logical ids of the provisioned resources of one CloudFormation type."""
        resources: dict[str, Any] = self.resolver.template["Resources"]
        return [
            lid
            for lid, res in resources.items()
            if res.get("Type") == resource_type and lid in self.resolver.resources
        ]


def execution_logging(logging: dict[str, Any]) -> ExecutionLogging | None:
    """A state machine's resolved ``Logging`` property (None when it logs nowhere)."""
    destinations = logging.get("Destinations") or []
    arn = str(
        ((destinations[0] if destinations else {}).get("CloudWatchLogsLogGroup") or {}).get(
            "LogGroupArn", ""
        )
    )
    level = str(logging.get("Level", "OFF"))
    if not arn or level == "OFF":
        return None
    # arn:aws:logs:<region>:<account>:log-group:<name>:*
    group = arn.split(":log-group:", 1)[-1].removesuffix(":*")
    return ExecutionLogging(group, level, bool(logging.get("IncludeExecutionData")))


def _short_hash(text: str, n: int = 10) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


class Provisioner:
    """Provision one template on the moto endpoint at ``endpoint_url``."""

    def __init__(
        self,
        template: dict[str, Any],
        template_dir: Path,
        endpoint_url: str,
        *,
        parameters: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        stack_name: str = "scalper-local",
        api_url: Callable[[str], str] | None = None,
        function_env: Mapping[str, str] | None = None,
    ) -> None:
        self.template = template
        self.template_dir = template_dir
        self.endpoint_url = endpoint_url
        self.region = region
        self.stack = stack_name
        self.api_url = api_url or (
            lambda api_id: f"https://{api_id}.execute-api.{region}.amazonaws.com"
        )
        self.function_env = dict(function_env or {})
        self.resolver = Resolver(
            template, region=region, stack_name=stack_name, overrides=dict(parameters or {})
        )
        self.result = Provisioned(self.resolver)
        self._config = Config(retries={"max_attempts": 1}, parameter_validation=True)

    def _client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=LOCAL_ACCESS_KEY,
            aws_secret_access_key=LOCAL_SECRET_KEY,
            config=self._config,
        )

    def gap(self, text: str) -> None:
        """Record something the template asks for that the local stack does not provide."""
        if text not in self.result.gaps:
            self.result.gaps.append(text)

    @property
    def _resources(self) -> dict[str, Any]:
        resources: dict[str, Any] = self.template["Resources"]
        return resources

    def _props(self, logical_id: str) -> dict[str, Any]:
        props: dict[str, Any] = self._resources[logical_id].get("Properties") or {}
        return props

    def _resolve(self, value: Any, where: str) -> Any:
        return self.resolver.resolve(value, where)

    # -- pass 1: names and attributes ------------------------------------------------
    def _name(
        self, logical_id: str, prop: str | None, *, lower: bool = False, limit: int = 64
    ) -> str:
        if prop is not None and prop in self._props(logical_id):
            return str(self._resolve(self._props(logical_id)[prop], f"{logical_id}.{prop}"))
        name = f"{self.stack}-{logical_id}"
        if lower:
            name = name.lower()
        return name[:limit]

    def _assign(self, logical_id: str, kind: str) -> None:
        acct, region = self.resolver.account_id, self.region
        refs = self.resolver.resources
        if kind == "AWS::S3::Bucket":
            name = self._name(logical_id, "BucketName", lower=True, limit=63)
            refs[logical_id] = ResourceRef(
                name,
                {
                    "Arn": f"arn:aws:s3:::{name}",
                    "DomainName": f"{name}.s3.amazonaws.com",
                    "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                    "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
                },
            )
        elif kind == "AWS::DynamoDB::Table":
            name = self._name(logical_id, "TableName", limit=255)
            arn = f"arn:aws:dynamodb:{region}:{acct}:table/{name}"
            refs[logical_id] = ResourceRef(name, {"Arn": arn, "StreamArn": f"{arn}/stream/local"})
        elif kind == "AWS::SNS::Topic":
            name = self._name(logical_id, "TopicName", limit=256)
            if self._props(logical_id).get("FifoTopic") and not name.endswith(".fifo"):
                name += ".fifo"
            arn = f"arn:aws:sns:{region}:{acct}:{name}"
            refs[logical_id] = ResourceRef(arn, {"TopicArn": arn, "TopicName": name})
        elif kind == "AWS::SQS::Queue":
            name = self._name(logical_id, "QueueName", limit=80)
            if self._props(logical_id).get("FifoQueue") and not name.endswith(".fifo"):
                name += ".fifo"
            url = f"https://sqs.{region}.amazonaws.com/{acct}/{name}"
            refs[logical_id] = ResourceRef(
                url,
                {"Arn": f"arn:aws:sqs:{region}:{acct}:{name}", "QueueName": name, "QueueUrl": url},
            )
        elif kind == "AWS::Serverless::Function":
            name = self._name(logical_id, "FunctionName", limit=64)
            arn = f"arn:aws:lambda:{region}:{acct}:function:{name}"
            refs[logical_id] = ResourceRef(name, {"Arn": arn})
            role = f"{logical_id}Role"
            refs.setdefault(
                role,
                ResourceRef(
                    f"{self.stack}-{role}"[:64],
                    {
                        "Arn": f"arn:aws:iam::{acct}:role/{self.stack}-{role}"[:200],
                        "RoleId": "AROALOCAL" + _short_hash(role, 12).upper(),
                    },
                ),
            )
        elif kind == "AWS::Serverless::LayerVersion":
            name = self._name(logical_id, "LayerName", limit=64)
            refs[logical_id] = ResourceRef(f"arn:aws:lambda:{region}:{acct}:layer:{name}:1", {})
        elif kind == "AWS::Serverless::StateMachine":
            name = self._name(logical_id, "Name", limit=80)
            arn = f"arn:aws:states:{region}:{acct}:stateMachine:{name}"
            refs[logical_id] = ResourceRef(arn, {"Arn": arn, "Name": name})
            role = f"{logical_id}Role"
            refs.setdefault(
                role,
                ResourceRef(
                    f"{self.stack}-{role}"[:64],
                    {
                        "Arn": f"arn:aws:iam::{acct}:role/{self.stack}-{role}"[:200],
                        "RoleId": "AROALOCAL" + _short_hash(role, 12).upper(),
                    },
                ),
            )
            for event_id, event in (self._props(logical_id).get("Events") or {}).items():
                if event.get("Type") == "EventBridgeRule":
                    rule_id = f"{logical_id}{event_id}"
                    rule_name = f"{self.stack}-{rule_id}"[:64]
                    refs[rule_id] = ResourceRef(
                        rule_name, {"Arn": f"arn:aws:events:{region}:{acct}:rule/{rule_name}"}
                    )
                    dlq = (event.get("Properties") or {}).get("DeadLetterConfig") or {}
                    if dlq.get("Type") == "SQS":
                        qid = str(dlq.get("QueueLogicalId") or f"{rule_id}Queue")
                        qname = f"{self.stack}-{qid}"[:80]
                        url = f"https://sqs.{region}.amazonaws.com/{acct}/{qname}"
                        refs[qid] = ResourceRef(
                            url,
                            {
                                "Arn": f"arn:aws:sqs:{region}:{acct}:{qname}",
                                "QueueName": qname,
                                "QueueUrl": url,
                            },
                        )
        elif kind in ("AWS::Serverless::HttpApi",):
            api_id = _short_hash(f"{self.stack}/{logical_id}")
            refs[logical_id] = ResourceRef(
                api_id, {"ApiEndpoint": self.api_url(api_id), "ApiId": api_id}
            )
        elif kind == "AWS::Cognito::UserPool":
            # moto chooses the pool id at creation (pools are created before anything that
            # resolves a reference to them); these placeholders are replaced then.
            pool_id = f"{region}_pending{_short_hash(logical_id, 8)}"
            refs[logical_id] = ResourceRef(pool_id, _pool_attributes(region, acct, pool_id))
        elif kind == "AWS::Cognito::UserPoolClient":
            refs[logical_id] = ResourceRef(f"pending{_short_hash(logical_id, 16)}", {})
        elif kind == "AWS::KMS::Key":
            key_id = str(_uuid_from(f"{self.stack}/{logical_id}"))
            refs[logical_id] = ResourceRef(
                key_id,
                {
                    "Arn": f"arn:aws:kms:{region}:{acct}:key/{key_id}",
                    "KeyId": key_id,
                },
            )
        elif kind == "AWS::KMS::Alias":
            refs[logical_id] = ResourceRef(
                str(self._resolve(self._props(logical_id)["AliasName"], logical_id)), {}
            )
        elif kind == "AWS::Logs::LogGroup":
            name = self._name(logical_id, "LogGroupName", limit=512)
            refs[logical_id] = ResourceRef(
                name, {"Arn": f"arn:aws:logs:{region}:{acct}:log-group:{name}:*"}
            )
        elif kind == "AWS::Events::Rule":
            name = self._name(logical_id, "Name", limit=64)
            refs[logical_id] = ResourceRef(
                name, {"Arn": f"arn:aws:events:{region}:{acct}:rule/{name}"}
            )
        elif kind == "AWS::IAM::Role":
            name = self._name(logical_id, "RoleName", limit=64)
            refs[logical_id] = ResourceRef(
                name,
                {
                    "Arn": f"arn:aws:iam::{acct}:role/{name}",
                    "RoleId": "AROALOCAL" + _short_hash(name, 12).upper(),
                },
            )
        elif kind == "AWS::CloudWatch::Alarm":
            name = self._name(logical_id, "AlarmName", limit=255)
            refs[logical_id] = ResourceRef(
                name, {"Arn": f"arn:aws:cloudwatch:{region}:{acct}:alarm:{name}"}
            )
        else:
            # Policies, permissions, subscriptions...: nothing else refers to their attributes.
            refs[logical_id] = ResourceRef(f"{self.stack}-{logical_id}", {})

    # -- pass 2: create --------------------------------------------------------------
    def provision(self) -> Provisioned:
        """Run both passes; returns what was provisioned and the list of gaps."""
        enabled = [lid for lid in self._resources if self.resolver.resource_enabled(lid)]
        for lid in enabled:
            self._assign(lid, str(self._resources[lid].get("Type")))
        order = [
            "AWS::KMS::Key",
            "AWS::KMS::Alias",
            "AWS::Logs::LogGroup",
            "AWS::Cognito::UserPool",
            "AWS::Cognito::UserPoolClient",
            "AWS::SQS::Queue",
            "AWS::SNS::Topic",
            "AWS::S3::Bucket",
            "AWS::DynamoDB::Table",
            "AWS::Serverless::LayerVersion",
            "AWS::Serverless::Function",
            "AWS::Serverless::HttpApi",
            "AWS::Serverless::StateMachine",
            "AWS::Events::Rule",
            "AWS::Logs::SubscriptionFilter",
            "AWS::SNS::Subscription",
        ]
        rank = {kind: i for i, kind in enumerate(order)}
        enabled.sort(key=lambda lid: rank.get(str(self._resources[lid].get("Type")), len(order)))
        for lid in enabled:
            self._create(lid, str(self._resources[lid].get("Type")))
        self._collect_routes(enabled)
        self._check_global_gaps()
        for name, output in (self.template.get("Outputs") or {}).items():
            if "Condition" in output and not self.resolver.condition(str(output["Condition"])):
                continue
            try:
                self.result.outputs[name] = self._resolve(output.get("Value"), f"Outputs.{name}")
            except TemplateError as exc:
                self.gap(f"output {name}: {exc}")
        return self.result

    def _create(self, lid: str, kind: str) -> None:
        handler = {
            "AWS::KMS::Key": self._kms_key,
            "AWS::SQS::Queue": self._queue,
            "AWS::SNS::Topic": self._topic,
            "AWS::S3::Bucket": self._bucket,
            "AWS::DynamoDB::Table": self._table,
            "AWS::Logs::LogGroup": self._log_group,
            "AWS::Serverless::Function": self._function,
            "AWS::Serverless::StateMachine": self._state_machine,
            "AWS::Events::Rule": self._plain_rule,
            "AWS::Logs::SubscriptionFilter": self._log_subscription,
            "AWS::SNS::Subscription": self._subscription,
            "AWS::Cognito::UserPool": self._user_pool,
            "AWS::Cognito::UserPoolClient": self._user_pool_client,
        }.get(kind)
        if handler is not None:
            try:
                handler(lid)
            except TemplateError:
                raise
            except (ClientError, ParamValidationError, KeyError, OSError) as exc:
                raise TemplateError(f"cannot provision {lid} ({kind}) locally: {exc}") from exc
            return
        iam = "IAM roles and policies are not enforced: every local call is allowed"
        not_enforced = {
            "AWS::KMS::Alias": "KMS aliases resolve to their names; nothing is encrypted locally",
            "AWS::IAM::Role": iam,
            "AWS::IAM::Policy": iam,
            "AWS::IAM::ManagedPolicy": iam,
            "AWS::S3::BucketPolicy": "bucket policies (TLS-only, deny rules) are not enforced",
            "AWS::SNS::TopicPolicy": "SNS topic policies are not enforced",
            "AWS::SQS::QueuePolicy": "SQS queue policies are not enforced",
            "AWS::Lambda::Permission": "Lambda resource policies are not enforced",
            "AWS::CloudWatch::Alarm": (
                "CloudWatch alarms are not created: moto never evaluates them, so none could fire"
            ),
            "AWS::Serverless::LayerVersion": "",
            "AWS::Serverless::HttpApi": "",
        }
        if kind in not_enforced:
            if not_enforced[kind]:
                self.gap(not_enforced[kind])
            return
        self.gap(f"{lid} ({kind}): not provided by the local stack")

    def _kms_key(self, lid: str) -> None:
        # Not created in moto: its ARN and id resolve (pass 1) for the topic and policies
        # that name it, and nothing locally encrypts with it.
        self.gap("KMS keys are not created: their ARNs resolve, nothing is encrypted locally")

    def _queue(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        attrs: dict[str, str] = {}
        for key in (
            "DelaySeconds",
            "MaximumMessageSize",
            "MessageRetentionPeriod",
            "ReceiveMessageWaitTimeSeconds",
            "VisibilityTimeout",
            "FifoQueue",
            "ContentBasedDeduplication",
        ):
            if key in props:
                attrs[key] = (
                    str(props[key]).lower() if isinstance(props[key], bool) else str(props[key])
                )
        if "RedrivePolicy" in props:
            attrs["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
        self._client("sqs").create_queue(
            QueueName=self.resolver.resources[lid].attributes["QueueName"], Attributes=attrs
        )

    def _topic(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        attrs: dict[str, str] = {}
        if props.get("FifoTopic"):
            attrs["FifoTopic"] = "true"
        if "KmsMasterKeyId" in props:
            attrs["KmsMasterKeyId"] = str(props["KmsMasterKeyId"])
            self.gap("KMS keys are not created: their ARNs resolve, nothing is encrypted locally")
        name = self.resolver.resources[lid].attributes["TopicName"]
        self._client("sns").create_topic(Name=name, Attributes=attrs)
        for sub in props.get("Subscription") or []:
            self._subscribe(self.resolver.resources[lid].ref, sub["Protocol"], sub["Endpoint"], {})

    def _subscription(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        attrs = {
            k: json.dumps(v) if isinstance(v, dict) else str(v)
            for k, v in props.items()
            if k in ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery")
        }
        self._subscribe(
            str(props["TopicArn"]), str(props["Protocol"]), str(props.get("Endpoint", "")), attrs
        )

    def _subscribe(self, topic: str, protocol: str, endpoint: str, attrs: dict[str, str]) -> None:
        if protocol in ("email", "email-json", "sms", "http", "https", "application", "firehose"):
            self.gap(
                f"SNS {protocol} subscriptions are recorded but nothing is delivered "
                "(subscribe an SQS queue to see alerts locally)"
            )
        if not endpoint:
            return
        self._client("sns").subscribe(
            TopicArn=topic, Protocol=protocol, Endpoint=endpoint, Attributes=attrs
        )

    def _bucket(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        s3 = self._client("s3")
        name = self.resolver.resources[lid].ref
        if self.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
            )
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            rules = [
                {
                    # CloudFormation's ServerSideEncryptionByDefault is the API's
                    # ApplyServerSideEncryptionByDefault.
                    "ApplyServerSideEncryptionByDefault": r.get(
                        "ServerSideEncryptionByDefault", {}
                    ),
                    **(
                        {"BucketKeyEnabled": r["BucketKeyEnabled"]}
                        if "BucketKeyEnabled" in r
                        else {}
                    ),
                }
                for r in props["BucketEncryption"].get("ServerSideEncryptionConfiguration", [])
            ]
            s3.put_bucket_encryption(
                Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules}
            )
            self.gap("S3 default encryption is recorded but objects are stored in the clear")
        if "LifecycleConfiguration" in props:
            self.gap("S3 lifecycle rules (expiry, transitions) do not run locally")
        if "Tags" in props:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
        notification = props.get("NotificationConfiguration") or {}
        config: dict[str, Any] = {}
        if (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
            config["EventBridgeConfiguration"] = {}
        for key in ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations"):
            if key in notification:
                self.gap(f"S3 {key} on {lid}: not delivered by the local stack")
        if config:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)

    def _table(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        args: dict[str, Any] = {
            "TableName": self.resolver.resources[lid].ref,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PROVISIONED"),
        }
        if args["BillingMode"] == "PROVISIONED":
            args["ProvisionedThroughput"] = props.get(
                "ProvisionedThroughput", {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}
            )
        for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
            if key in props:
                args[key] = props[key]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ddb = self._client("dynamodb")
        ddb.create_table(**args)
        if (props.get("TimeToLiveSpecification") or {}).get("Enabled"):
            ddb.update_time_to_live(
                TableName=args["TableName"],
                TimeToLiveSpecification={
                    "Enabled": True,
                    "AttributeName": props["TimeToLiveSpecification"]["AttributeName"],
                },
            )
            self.gap("DynamoDB TTL is recorded but items never expire locally")
        if (props.get("PointInTimeRecoverySpecification") or {}).get("PointInTimeRecoveryEnabled"):
            ddb.update_continuous_backups(
                TableName=args["TableName"],
                PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
            )

    def _user_pool(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        ref = self.resolver.resources[lid]
        args: dict[str, Any] = {"PoolName": str(props.get("UserPoolName") or ref.ref)}
        args.update({k: props[k] for k in _POOL_PROPERTIES if k in props})
        ignored = sorted(set(props) - set(_POOL_PROPERTIES) - {"UserPoolName", "EnabledMfas"})
        if ignored:
            self.gap(f"{lid}: {', '.join(ignored)} not applied by the local user pool")
        idp = self._client("cognito-idp")
        pool = idp.create_user_pool(**args)["UserPool"]
        pool_id = str(pool["Id"])
        mfa = str(props.get("MfaConfiguration", "OFF"))
        if mfa != "OFF" and "SOFTWARE_TOKEN_MFA" in (props.get("EnabledMfas") or []):
            idp.set_user_pool_mfa_config(
                UserPoolId=pool_id,
                SoftwareTokenMfaConfiguration={"Enabled": True},
                MfaConfiguration=mfa,
            )
        ref.ref = pool_id
        ref.attributes = _pool_attributes(self.region, self.resolver.account_id, pool_id)
        self.gap(
            "Cognito (moto): sign-in does not check the SRP password proof (any password "
            "signs in), app client auth flows are not enforced, and no e-mail is sent"
        )

    def _user_pool_client(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        ref = self.resolver.resources[lid]
        args: dict[str, Any] = {
            "UserPoolId": str(props["UserPoolId"]),
            "ClientName": str(props.get("ClientName") or f"{self.stack}-{lid}"),
        }
        args.update({k: props[k] for k in _CLIENT_PROPERTIES if k in props})
        client = self._client("cognito-idp").create_user_pool_client(**args)["UserPoolClient"]
        ref.ref = str(client["ClientId"])
        ref.attributes = {"ClientId": ref.ref, "Name": str(client["ClientName"])}
        if client.get("ClientSecret"):
            ref.attributes["ClientSecret"] = str(client["ClientSecret"])

    def _log_group(self, lid: str) -> None:
        self._client("logs").create_log_group(logGroupName=self.resolver.resources[lid].ref)

    def _log_subscription(self, lid: str) -> None:
        """A subscription filter: the local stack hands matching log events to its Lambda
        destination as CloudWatch Logs would (moto neither evaluates JSON patterns nor runs
        the template's functions)."""
        props = self._resolve(self._props(lid), lid)
        destination = str(props["DestinationArn"])
        if not destination.startswith("arn:aws:lambda:"):
            self.gap(f"{lid}: only Lambda destinations are delivered locally")
            return
        subscription = LogSubscription(
            logical_id=lid,
            name=str(props.get("FilterName") or f"{self.stack}-{lid}"),
            log_group=str(props["LogGroupName"]),
            pattern=str(props.get("FilterPattern", "")),
            destination_arn=destination,
        )
        try:
            subscription.matches({})
        except FilterPatternError as exc:
            raise TemplateError(f"{lid}.FilterPattern: {exc}") from exc
        self.resolver.resources[lid] = ResourceRef(ref=subscription.name)
        self.result.subscriptions.append(subscription)

    def _function(self, lid: str) -> None:
        props = merged_function_properties(self.template, lid)
        props = self._resolve(props, lid)
        code_uri = props.get("CodeUri", ".")
        if not isinstance(code_uri, str) or code_uri.startswith("s3://"):
            raise TemplateError(
                f"{lid}.CodeUri: the local stack runs local code only, got {code_uri!r}"
            )
        code_dir = (self.template_dir / code_uri).resolve()
        if not code_dir.is_dir():
            raise TemplateError(f"{lid}.CodeUri: {code_dir} is not a directory")
        runtime = str(props.get("Runtime", ""))
        if not runtime.startswith("python3"):
            raise TemplateError(
                f"{lid}.Runtime: the local stack runs Python functions only, got {runtime!r}"
            )
        layer_dirs: list[Path] = []
        for layer_arn in props.get("Layers") or []:
            layer_dirs.append(self._layer_dir(lid, str(layer_arn)))
        env = {
            k: _env_text(v)
            for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
        }
        self.gap(
            "Lambda logs go to one file per function in the log directory, not CloudWatch Logs"
        )
        if "MemorySize" in props:
            self.gap("Lambda MemorySize is not enforced (and CPU does not scale with it)")
        if props.get("Tracing") == "Active":
            self.gap("X-Ray tracing: no daemon locally, Tracer is disabled in the workers")
        if "ReservedConcurrentExecutions" in props or "ProvisionedConcurrencyConfig" in props:
            self.gap("Lambda concurrency settings are not applied (two warm workers per function)")
        if props.get("Architectures") and props["Architectures"] != ["x86_64"]:
            self.gap(
                f"Lambda architecture {props['Architectures'][0]}: "
                "functions run on this machine's CPU"
            )
        ref = self.resolver.resources[lid]
        self.result.functions[lid] = FunctionSpec(
            logical_id=lid,
            name=ref.ref,
            arn=ref.attributes["Arn"],
            handler=str(props["Handler"]),
            code_dir=code_dir,
            layer_dirs=tuple(layer_dirs),
            environment={**env, **self.function_env},
            timeout=int(props.get("Timeout", 3)),
            memory_size=int(props.get("MemorySize", 128)),
        )

    def _layer_dir(self, lid: str, arn: str) -> Path:
        for layer_id in self.result.of_type("AWS::Serverless::LayerVersion"):
            if self.resolver.resources[layer_id].ref == arn:
                props = self._props(layer_id)
                content = self.template_dir / str(
                    self._resolve(props.get("ContentUri", "."), layer_id)
                )
                # A built layer keeps packages under python/ (what Lambda puts on sys.path
                # from /opt/python); a source layer with BuildMethod is the folder itself.
                return (content / "python") if (content / "python").is_dir() else content.resolve()
        raise TemplateError(
            f"{lid}.Layers: {arn} is not a layer of this template "
            "(external layers are not available locally)"
        )

    def _state_machine(self, lid: str) -> None:
        props = merged_properties(self.template, lid, "StateMachine")
        ref = self.resolver.resources[lid]
        if props.get("Role"):
            props["Role"] = self._resolve(props["Role"], f"{lid}.Role")
        subs = self._resolve(
            props.get("DefinitionSubstitutions") or {}, f"{lid}.DefinitionSubstitutions"
        )
        if "DefinitionUri" in props:
            uri = self._resolve(props["DefinitionUri"], f"{lid}.DefinitionUri")
            if not isinstance(uri, str):
                raise TemplateError(f"{lid}.DefinitionUri: the local stack reads local files only")
            text = (self.template_dir / uri).read_text(encoding="utf-8")
        elif "Definition" in props:
            text = json.dumps(self._resolve(props["Definition"], f"{lid}.Definition"))
        else:
            raise TemplateError(f"{lid}: neither DefinitionUri nor Definition")
        definition = render_definition(text, subs)
        sm_type = str(self._resolve(props.get("Type", "STANDARD"), f"{lid}.Type"))
        role_arn = str(props.get("Role") or self.resolver.resources[f"{lid}Role"].attributes["Arn"])
        self._client("stepfunctions").create_state_machine(
            name=ref.attributes["Name"],
            definition=definition,
            roleArn=role_arn,
            type=sm_type,
        )
        self.result.state_machines[lid] = StateMachineInfo(
            lid,
            ref.attributes["Name"],
            ref.ref,
            definition,
            sm_type,
            execution_logging(self._resolve(props.get("Logging") or {}, f"{lid}.Logging")),
        )
        if (props.get("Tracing") or {}).get("Enabled"):
            self.gap("X-Ray tracing: no daemon locally, Tracer is disabled in the workers")
        for event_id, event in (props.get("Events") or {}).items():
            if event.get("Type") != "EventBridgeRule":
                self.gap(
                    f"{lid}.Events.{event_id} ({event.get('Type')}): "
                    "not provided by the local stack"
                )
                continue
            self._sam_rule(
                lid,
                event_id,
                self._resolve(event.get("Properties") or {}, f"{lid}.Events.{event_id}"),
            )

    def _sam_rule(self, sm: str, event_id: str, props: dict[str, Any]) -> None:
        rule_id = f"{sm}{event_id}"
        dlq = props.get("DeadLetterConfig") or {}
        dlq_arn: str | None = None
        if "Arn" in dlq:
            dlq_arn = str(dlq["Arn"])
        elif dlq.get("Type") == "SQS":
            qid = str(dlq.get("QueueLogicalId") or f"{rule_id}Queue")
            dlq_arn = self.resolver.resources[qid].attributes["Arn"]
            self._client("sqs").create_queue(
                QueueName=self.resolver.resources[qid].attributes["QueueName"]
            )
        retry = props.get("RetryPolicy") or {}
        target = BridgeTarget(
            target_id=str(
                (props.get("Target") or {}).get("Id") or f"{sm}{event_id}StepFunctionsTarget"
            ),
            arn=self.resolver.resources[sm].ref,
            max_retry_attempts=int(retry.get("MaximumRetryAttempts", 185)),
            max_event_age_seconds=int(retry.get("MaximumEventAgeInSeconds", 86400)),
            dead_letter_arn=dlq_arn,
            input_path=props.get("InputPath"),
            input=props.get("Input"),
        )
        if "InputTransformer" in props:
            self.gap(f"{rule_id}: InputTransformer is not applied by the local bridge")
        self._put_rule(
            rule_id,
            name=str(props.get("RuleName") or self.resolver.resources[rule_id].ref),
            pattern=props.get("Pattern") or {},
            bus=str(props.get("EventBusName") or "default"),
            state=str(props.get("State") or "ENABLED"),
            targets=(target,),
        )

    def _plain_rule(self, lid: str) -> None:
        props = self._resolve(self._props(lid), lid)
        targets: list[BridgeTarget] = []
        for t in props.get("Targets") or []:
            retry = t.get("RetryPolicy") or {}
            targets.append(
                BridgeTarget(
                    target_id=str(t["Id"]),
                    arn=str(t["Arn"]),
                    max_retry_attempts=int(retry.get("MaximumRetryAttempts", 185)),
                    max_event_age_seconds=int(retry.get("MaximumEventAgeInSeconds", 86400)),
                    dead_letter_arn=(t.get("DeadLetterConfig") or {}).get("Arn"),
                    input_path=t.get("InputPath"),
                    input=t.get("Input"),
                )
            )
        if "ScheduleExpression" in props:
            self.gap(f"{lid}: scheduled rules do not fire locally")
        self._put_rule(
            lid,
            name=self.resolver.resources[lid].ref,
            pattern=props.get("EventPattern") or {},
            bus=str(props.get("EventBusName") or "default"),
            state=str(props.get("State") or "ENABLED"),
            targets=tuple(targets),
        )

    def _put_rule(
        self,
        lid: str,
        *,
        name: str,
        pattern: dict[str, Any],
        bus: str,
        state: str,
        targets: tuple[BridgeTarget, ...],
    ) -> None:
        events = self._client("events")
        pattern_json = json.dumps(pattern)
        rule_arn = events.put_rule(
            Name=name, EventPattern=pattern_json, State=state, EventBusName=bus
        )["RuleArn"]
        api_targets: list[dict[str, Any]] = []
        for t in targets:
            entry: dict[str, Any] = {
                "Id": t.target_id,
                "Arn": t.arn,
                "RetryPolicy": {
                    "MaximumRetryAttempts": t.max_retry_attempts,
                    "MaximumEventAgeInSeconds": t.max_event_age_seconds,
                },
            }
            if t.dead_letter_arn:
                entry["DeadLetterConfig"] = {"Arn": t.dead_letter_arn}
            api_targets.append(entry)
            if not t.arn.startswith(("arn:aws:states:", "arn:aws:sqs:", "arn:aws:lambda:")):
                self.gap(
                    f"{lid}: target {t.target_id} ({t.arn.split(':')[2]}) is not delivered locally"
                )
        if api_targets:
            events.put_targets(Rule=name, EventBusName=bus, Targets=api_targets)
        self.result.rules.append(
            BridgeRule(lid, name, rule_arn, bus, pattern_json, state == "ENABLED", targets)
        )

    def _collect_routes(self, enabled: list[str]) -> None:
        apis = {
            lid for lid in enabled if self._resources[lid].get("Type") == "AWS::Serverless::HttpApi"
        }
        for lid in enabled:
            if self._resources[lid].get("Type") != "AWS::Serverless::Function":
                continue
            events = merged_function_properties(self.template, lid).get("Events") or {}
            for event_id, event in events.items():
                kind = event.get("Type")
                props = self._resolve(event.get("Properties") or {}, f"{lid}.Events.{event_id}")
                if kind == "HttpApi":
                    api = self._api_logical_id(event.get("Properties") or {})
                    if api == "ServerlessHttpApi" and api not in self.resolver.resources:
                        self._assign(api, "AWS::Serverless::HttpApi")
                    api_props = (
                        self._resolve(merged_properties(self.template, api, "HttpApi"), api)
                        if api in apis
                        else {}
                    )
                    method = str(props.get("Method", "ANY")).upper()
                    path = str(props.get("Path", "/$default"))
                    auth, authorizer, scopes = self._route_auth(lid, props, api_props, method, path)
                    self.result.routes.append(
                        Route(
                            api=api,
                            method=method,
                            path=path,
                            function=lid,
                            auth=auth,
                            payload_format=str(props.get("PayloadFormatVersion", "2.0")),
                            authorizer=authorizer,
                            scopes=scopes,
                        )
                    )
                    if api_props.get("DefaultRouteSettings") or api_props.get("RouteSettings"):
                        self.gap("HTTP API throttling (route settings) is not applied locally")
                    if api_props.get("AccessLogSettings"):
                        self.gap("HTTP API access logs are not written locally")
                    if api_props.get("Domain"):
                        self.gap("HTTP API custom domain: served on 127.0.0.1 only")
                elif kind == "DynamoDB":
                    self.gap(
                        f"{lid}.Events.{event_id}: DynamoDB stream records are polled and "
                        "delivered by the local streams bridge"
                    )
                else:
                    self.gap(f"{lid}.Events.{event_id} ({kind}): not provided by the local stack")

    @staticmethod
    def _api_logical_id(props: dict[str, Any]) -> str:
        api = props.get("ApiId")
        if isinstance(api, dict) and "Ref" in api:
            return str(api["Ref"])
        return "ServerlessHttpApi"

    def _route_auth(
        self,
        lid: str,
        props: dict[str, Any],
        api_props: dict[str, Any],
        method: str,
        path: str,
    ) -> tuple[str, JwtAuthorizer | None, tuple[str, ...]]:
        """The route's authorisation as SAM builds it: the event's ``Auth.Authorizer``,
        else the route's own ``security`` in the (resolved) OpenAPI ``DefinitionBody`` --
        SAM keeps a non-empty one -- else the API's ``DefaultAuthorizer``."""
        event_auth = props.get("Auth") or {}
        api_auth = api_props.get("Auth") or {}
        name = event_auth.get("Authorizer")
        scopes = event_auth.get("AuthorizationScopes")
        if name is None:
            security = _body_security(api_props.get("DefinitionBody"), method, path)
            if security:
                if len(security) > 1:
                    self.gap(
                        f"{method} {path}: only the first OpenAPI security requirement "
                        "is applied locally"
                    )
                first = security[0] if isinstance(security[0], dict) else {}
                if not first:
                    return "NONE", None, ()
                name, scopes = next(iter(first.items()))
            else:
                name = api_auth.get("DefaultAuthorizer", "NONE")
        if api_auth.get("EnableIamAuthorizer") is False and name == "AWS_IAM":
            name = "NONE"
        if name in ("NONE", None):
            return "NONE", None, ()
        if name == "AWS_IAM":
            self.gap("HTTP API IAM authorisation: a SigV4 signature is required, but not verified")
            return "AWS_IAM", None, ()
        declared = (api_auth.get("Authorizers") or {}).get(name) or {}
        jwt = declared.get("JwtConfiguration")
        if not isinstance(jwt, dict):
            self.gap(
                f"{lid}: HTTP API authoriser {name!r} is not provided; its routes are open locally"
            )
            return "NONE", None, ()
        authorizer = self._jwt_authorizer(str(name), declared, jwt)
        chosen = scopes if scopes else declared.get("AuthorizationScopes")
        return "JWT", authorizer, tuple(str(s) for s in chosen or ())

    def _jwt_authorizer(
        self, name: str, declared: dict[str, Any], jwt: dict[str, Any]
    ) -> JwtAuthorizer:
        issuer = str(jwt.get("issuer", jwt.get("Issuer", "")))
        audience = jwt.get("audience", jwt.get("Audience")) or []
        source = str(declared.get("IdentitySource", "$request.header.Authorization"))
        header = "authorization"
        if source.startswith("$request.header.") and "," not in source:
            header = source.removeprefix("$request.header.").lower()
        else:
            self.gap(f"JWT authoriser {name}: identity source {source} is read as Authorization")
        pools = {self.resolver.resources[p].ref for p in self.result.of_type(_USER_POOL)}
        prefix = f"https://cognito-idp.{self.region}.amazonaws.com/"
        pool_id = issuer.removeprefix(prefix) if issuer.startswith(prefix) else None
        jwks_url = None
        if pool_id in pools:
            # moto serves each pool's keys where Cognito does, under the AWS endpoint.
            jwks_url = f"{self.endpoint_url}/{pool_id}/.well-known/jwks.json"
        else:
            self.gap(
                f"JWT authoriser {name}: issuer {issuer} is not a user pool of this stack; "
                "its routes refuse every token locally"
            )
        return JwtAuthorizer(
            name=name,
            issuer=issuer,
            audience=tuple(str(a) for a in audience),
            header=header,
            jwks_url=jwks_url,
        )

    def _check_global_gaps(self) -> None:
        if self.result.state_machines:
            self.gap(
                "EventBridge -> Step Functions delivery is done by the local bridge "
                "(moto does not deliver it)"
            )


_USER_POOL = "AWS::Cognito::UserPool"
#: UserPool properties passed to CreateUserPool as they are (CloudFormation's names are the API's).
_POOL_PROPERTIES = (
    "Policies",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "UsernameConfiguration",
    "MfaConfiguration",
    "AdminCreateUserConfig",
    "AccountRecoverySetting",
    "UserPoolTags",
    "Schema",
    "DeviceConfiguration",
    "VerificationMessageTemplate",
    "DeletionProtection",
)
#: UserPoolClient properties passed to CreateUserPoolClient as they are.
_CLIENT_PROPERTIES = (
    "GenerateSecret",
    "ExplicitAuthFlows",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "AccessTokenValidity",
    "IdTokenValidity",
    "RefreshTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AuthSessionValidity",
)


def _pool_attributes(region: str, account: str, pool_id: str) -> dict[str, Any]:
    provider = f"cognito-idp.{region}.amazonaws.com/{pool_id}"
    return {
        "Arn": f"arn:aws:cognito-idp:{region}:{account}:userpool/{pool_id}",
        "ProviderName": provider,
        "ProviderURL": f"https://{provider}",
        "UserPoolId": pool_id,
    }


def _body_security(body: Any, method: str, path: str) -> list[Any] | None:
    """The ``security`` of one operation in an OpenAPI body (None when it sets none)."""
    if not isinstance(body, dict):
        return None
    item = (body.get("paths") or {}).get(path)
    if not isinstance(item, dict):
        return None
    operation = item.get("x-amazon-apigateway-any-method" if method == "ANY" else method.lower())
    security = operation.get("security") if isinstance(operation, dict) else None
    return security if isinstance(security, list) else None


def _env_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return "" if value is None else str(value)


def _uuid_from(text: str) -> str:
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"
