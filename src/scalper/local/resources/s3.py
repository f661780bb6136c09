"""S3 buckets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scalper.local.resources.base import ResourceProvisioner
from scalper.local.template import ResourceRef

if TYPE_CHECKING:
    from scalper.local.provision import Provisioner


class Bucket(ResourceProvisioner):
    """``AWS::S3::Bucket``: created with versioning, public access block, encryption, tags
    and EventBridge notifications (which the local bridge delivers)."""

    resource_type = "AWS::S3::Bucket"

    def assign_names(self, stack: Provisioner, logical_id: str) -> None:
        """``BucketName`` or the lower-cased ``<stack>-<LogicalId>``, and its domain names."""
        name = stack.physical_name(logical_id, "BucketName", lower=True, limit=63)
        region = stack.region
        stack.refs[logical_id] = ResourceRef(
            name,
            {
                "Arn": f"arn:aws:s3:::{name}",
                "DomainName": f"{name}.s3.amazonaws.com",
                "RegionalDomainName": f"{name}.s3.{region}.amazonaws.com",
                "WebsiteURL": f"http://{name}.s3-website-{region}.amazonaws.com",
            },
        )

    def create(self, stack: Provisioner, logical_id: str) -> None:
        """CreateBucket, then each bucket setting the template gives."""
        props = stack.resolve(stack.properties(logical_id), logical_id)
        s3 = stack.client("s3")
        name = stack.refs[logical_id].ref
        if stack.region == "us-east-1":
            s3.create_bucket(Bucket=name)
        else:
            s3.create_bucket(
                Bucket=name, CreateBucketConfiguration={"LocationConstraint": stack.region}
            )
        if (props.get("VersioningConfiguration") or {}).get("Status") == "Enabled":
            s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
            )
        if "BucketEncryption" in props:
            s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={"Rules": _encryption_rules(props)},
            )
            stack.gap("S3 default encryption is recorded but objects are stored in the clear")
        if "LifecycleConfiguration" in props:
            stack.gap("S3 lifecycle rules (expiry, transitions) do not run locally")
        if "Tags" in props:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": props["Tags"]})
        notification = props.get("NotificationConfiguration") or {}
        config = _notification_config(stack, logical_id, notification)
        if config:
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)


def _notification_config(
    stack: Provisioner, logical_id: str, notification: dict[str, Any]
) -> dict[str, Any]:
    """The notifications the local stack delivers (EventBridge); the others are gaps."""
    config: dict[str, Any] = {}
    if (notification.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"):
        config["EventBridgeConfiguration"] = {}
    for key in ("LambdaConfigurations", "QueueConfigurations", "TopicConfigurations"):
        if key in notification:
            stack.gap(f"S3 {key} on {logical_id}: not delivered by the local stack")
    return config


def _encryption_rules(props: dict[str, Any]) -> list[dict[str, Any]]:
    # CloudFormation's ServerSideEncryptionByDefault is the API's
    # ApplyServerSideEncryptionByDefault.
    return [
        {
            "ApplyServerSideEncryptionByDefault": r.get("ServerSideEncryptionByDefault", {}),
            **({"BucketKeyEnabled": r["BucketKeyEnabled"]} if "BucketKeyEnabled" in r else {}),
        }
        for r in props["BucketEncryption"].get("ServerSideEncryptionConfiguration", [])
    ]
