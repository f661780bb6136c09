"""Tag an input object version with its outcome, so S3 users see it without DynamoDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

from silent_scalper.records import Status

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import TaggingTypeDef, TagTypeDef

STATUS_TAG = "scalper-status"
REASON_TAG = "scalper-reason"


def outcome_tags(status: Status, reason: str | None = None) -> list[TagTypeDef]:
    """The tag set for an outcome (S3 tag shape)."""
    tags: list[TagTypeDef] = [{"Key": STATUS_TAG, "Value": status.value}]
    if reason:
        tags.append({"Key": REASON_TAG, "Value": reason})
    return tags


def tag_query(status: Status, reason: str | None = None) -> str:
    """The same tags as the URL-query string ``CopyObject(Tagging=...)`` takes."""
    return "&".join(f"{t['Key']}={t['Value']}" for t in outcome_tags(status, reason))


def tag_outcome(
    s3: S3Client,
    *,
    bucket: str,
    key: str,
    version_id: str | None,
    status: Status,
    reason: str | None = None,
) -> None:
    """Replace the object version's tags with its outcome (the pipeline owns these tags)."""
    tagging: TaggingTypeDef = {"TagSet": outcome_tags(status, reason)}
    if version_id:
        s3.put_object_tagging(Bucket=bucket, Key=key, VersionId=version_id, Tagging=tagging)
    else:
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging=tagging)
