"""The uploader identity through the local stack: S3 refuses a POST that edits it.

The presigned POST pins ``x-amz-meta-uploader-*`` with exact-match conditions; the local
stack checks POST policies as S3 does, so a client that changes or drops a field is refused.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from local_stack_support import CREDENTIALS, SAMPLES

from scalper.cli.upload import UploadError, post_file, request_upload
from scalper.local import LocalStack

pytestmark = pytest.mark.e2e

SAMPLE = SAMPLES / "valid" / "jobs.csv"


def presigned(stack: LocalStack) -> dict[str, object]:
    return request_upload(
        stack.api_url,
        file_name="jobs.csv",
        size=SAMPLE.stat().st_size,
        content_type="text/csv",
        credentials=CREDENTIALS,
        region="us-east-1",
    )


def test_given_an_iam_signed_request_then_the_post_pins_the_local_caller(
    local_stack: LocalStack,
) -> None:
    fields = presigned(local_stack)["fields"]
    assert isinstance(fields, dict)
    assert fields["x-amz-meta-uploader-kind"] == "IAM"
    assert fields["x-amz-meta-uploader-principal"] == "arn:aws:iam::123456789012:user/local"


@pytest.mark.parametrize("tamper", ["change", "drop"])
def test_given_a_client_that_edits_the_uploader_then_s3_refuses_the_upload(
    local_stack: LocalStack, tamper: str, tmp_path: Path
) -> None:
    upload = presigned(local_stack)
    fields = dict(upload["fields"])  # type: ignore[call-overload]
    if tamper == "change":
        fields["x-amz-meta-uploader-principal"] = "arn:aws:iam::123456789012:user/someone-else"
    else:
        del fields["x-amz-meta-uploader-principal"]
    with pytest.raises(UploadError) as refused:
        post_file(str(upload["url"]), fields, SAMPLE, "text/csv")
    assert (refused.value.stage, refused.value.code) == ("s3", "AccessDenied")
    assert "x-amz-meta-uploader-principal" in refused.value.message
    head_missing = local_stack.client("s3").list_objects_v2(
        Bucket=local_stack.input_bucket, Prefix=str(upload["key"])
    )
    assert head_missing.get("KeyCount", 0) == 0
