"""Nothing the pipeline writes can start the pipeline again (no re-trigger loops)."""

from __future__ import annotations

from scalper.security.checks import as_list, policy_documents, referenced, statements

#: S3 actions that create an object (and so an "Object Created" event).
CREATING_ACTIONS = {"s3:PutObject", "s3:*", "*"}

#: Roles allowed to create input objects: presign signs the client's upload; reprocessing (when
#: deployed) re-uploads a quarantined file once it passes the current schema, a one-way release
#: (a VALID outcome never triggers reprocessing), not a loop.
INPUT_WRITERS = {"PresignFunctionRole", "ReprocessQuarantinedFunctionRole"}


def test_given_the_quarantine_bucket_then_it_sends_no_notifications(cfn_template):
    props = cfn_template["Resources"]["QuarantineBucket"]["Properties"]
    assert "NotificationConfiguration" not in props


def test_given_the_object_created_rule_then_it_matches_only_the_input_bucket(cfn_template):
    rules = [r for r in cfn_template["Resources"].values() if r["Type"] == "AWS::Events::Rule"]
    assert len(rules) == 1
    pattern = rules[0]["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail-type"] == ["Object Created"]
    assert [referenced(b) for b in pattern["detail"]["bucket"]["name"]] == ["InputBucket"]
    keys = pattern["detail"]["object"]["key"]
    assert keys
    assert keys == [{"prefix": {"Ref": "UploadPrefix"}}], "only objects under the upload prefix"


def test_given_the_pipeline_roles_then_none_creates_objects_in_the_input_bucket(cfn_template):
    """Only the client's upload (and a release) may create input objects; the pipeline tags."""
    writers: set[str] = set()
    for owner, document in policy_documents(cfn_template):
        for statement in statements(document):
            actions = set(as_list(statement.get("Action")))
            resources = " ".join(str(r) for r in as_list(statement.get("Resource")))
            allows = statement.get("Effect") == "Allow"
            if allows and actions & CREATING_ACTIONS and "InputBucket" in resources:
                writers.add(owner)
    assert "PresignFunctionRole" in writers
    assert writers <= INPUT_WRITERS, writers - INPUT_WRITERS
