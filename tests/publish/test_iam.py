"""The tests' IAM evaluator (tests/publish/iam.py): wildcards, Deny, NotAction, conditions."""

from __future__ import annotations

import pytest

from tests.publish.iam import allowed, allowed_within, matches

ALLOW_ALL_S3 = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("arn:aws:s3:::sc-*", "arn:aws:s3:::sc-123-bucket", True),
        ("arn:aws:s3:::sc-*", "arn:aws:s3:::SC-123", False),  # resources are case-sensitive
        ("arn:aws:s3:::sc-*/*", "arn:aws:s3:::sc-1/a/b", True),
        ("arn:aws:s3:::sc-?", "arn:aws:s3:::sc-1", True),
        ("arn:aws:s3:::sc-?", "arn:aws:s3:::sc-12", False),
        ("secret:mlflow/*", "secret:mlflow/oidc-AbCdEf", True),
        ("secret:mlflow/*", "secret:mlflowx-AbCdEf", False),
        ("a.b", "axb", False),  # regular-expression characters are literal
        ("", "", True),
    ],
)
def test_wildcards(pattern, value, expected):
    assert matches(pattern, value) is expected


def test_actions_ignore_case_and_deny_wins():
    deny = {"Effect": "Deny", "Action": "S3:DeleteObject", "Resource": "arn:aws:s3:::b/*"}
    assert allowed([ALLOW_ALL_S3], "s3:getobject", "arn:aws:s3:::b/k")
    assert not allowed([ALLOW_ALL_S3, deny], "s3:DeleteObject", "arn:aws:s3:::b/k")
    assert allowed([ALLOW_ALL_S3, deny], "s3:DeleteObject", "arn:aws:s3:::c/k")
    assert not allowed([], "s3:GetObject", "arn:aws:s3:::b/k")  # implicit deny


def test_not_action_and_not_resource():
    statement = {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x"}
    assert allowed([statement], "s3:GetObject", "arn:aws:s3:::y")
    assert not allowed([statement], "iam:CreateRole", "arn:aws:s3:::y")
    assert not allowed([statement], "s3:GetObject", "arn:aws:s3:::x")


def test_conditions_all_operators_must_hold_and_missing_keys():
    statement = {
        "Effect": "Allow",
        "Action": "iam:CreateRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:PermissionsBoundary": "B"}},
    }
    assert allowed([statement], "iam:CreateRole", "r", {"iam:PermissionsBoundary": "B"})
    assert not allowed([statement], "iam:CreateRole", "r", {"iam:PermissionsBoundary": "C"})
    assert not allowed([statement], "iam:CreateRole", "r")  # missing key: positive is false
    deny = {**statement, "Effect": "Deny", "Condition": {"StringNotEquals": statement[
        "Condition"]["StringEquals"]}}  # fmt: skip
    allow_all = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert not allowed([allow_all, deny], "iam:CreateRole", "r")  # missing: negated is true
    assert allowed([allow_all, deny], "iam:CreateRole", "r", {"iam:PermissionsBoundary": "B"})
    two = {**statement, "Condition": {"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}}
    assert allowed([two], "iam:CreateRole", "r", {"a": "1", "b": "xy"})
    assert not allowed([two], "iam:CreateRole", "r", {"a": "1", "b": "y"})


def test_multi_valued_keys_and_if_exists():
    aliases = {
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": "*",
        "Condition": {"ForAnyValue:StringLike": {"kms:ResourceAliases": "alias/SC-*"}},
    }
    two_aliases = {"kms:ResourceAliases": ["alias/x", "alias/SC-1"]}
    assert allowed([aliases], "kms:Decrypt", "k", two_aliases)
    assert not allowed([aliases], "kms:Decrypt", "k", {"kms:ResourceAliases": ["alias/x"]})
    assert not allowed([aliases], "kms:Decrypt", "k")
    if_exists = {**aliases, "Condition": {"StringEqualsIfExists": {"k": "v"}}}
    assert allowed([if_exists], "kms:Decrypt", "k")
    assert not allowed([if_exists], "kms:Decrypt", "k", {"k": "w"})
    listed = {**aliases, "Condition": {"StringEquals": {"k": ["v", "w"]}}}
    assert allowed([listed], "kms:Decrypt", "k", {"k": "w"})


def test_a_boundary_caps_the_identity_policy():
    boundary = [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::sc-*/*"}]
    assert allowed_within([ALLOW_ALL_S3], boundary, "s3:GetObject", "arn:aws:s3:::sc-1/k")
    assert not allowed_within([ALLOW_ALL_S3], boundary, "s3:GetObject", "arn:aws:s3:::prod/k")
    assert not allowed_within([ALLOW_ALL_S3], boundary, "s3:PutObject", "arn:aws:s3:::sc-1/k")


# --- The IAM User Guide's own examples ---------------------------------------------------------


def test_set_operators_on_a_missing_or_empty_key_as_the_guide_says():
    # "Set operators for multivalued context keys": ForAllValues "also returns true if there are
    # no context keys in the request"; ForAnyValue "if the key is not present, it returns false".
    # The guide's example: allow tagging only with the keys environment and cost-center.
    only_these_tags = {
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["environment", "cost-center"]}},
    }
    assert allowed([only_these_tags], "ec2:CreateTags", "r", {"aws:TagKeys": ["environment"]})
    assert not allowed([only_these_tags], "ec2:CreateTags", "r", {"aws:TagKeys": ["owner"]})
    assert allowed([only_these_tags], "ec2:CreateTags", "r")  # no tags at all: true
    any_of = {**only_these_tags, "Condition": {"ForAnyValue:StringEquals": {
        "aws:TagKeys": ["environment", "cost-center"]}}}  # fmt: skip
    assert allowed([any_of], "ec2:CreateTags", "r", {"aws:TagKeys": ["owner", "environment"]})
    assert not allowed([any_of], "ec2:CreateTags", "r")
    assert not allowed([any_of], "ec2:CreateTags", "r", {"aws:TagKeys": []})


def test_multiple_keys_are_and_multiple_values_are_or_as_the_guide_says():
    # "Creating a condition with multiple keys or values": the guide's example allows a request
    # whose principal tag department is one of finance, hr, legal AND role is audit or security.
    statement = {
        "Effect": "Allow",
        "Action": "iam:ListUsers",
        "Resource": "*",
        "Condition": {"StringEquals": {
            "aws:PrincipalTag/department": ["finance", "hr", "legal"],
            "aws:PrincipalTag/role": ["audit", "security"]}},
    }  # fmt: skip
    ok = {"aws:PrincipalTag/department": "hr", "aws:PrincipalTag/role": "audit"}
    assert allowed([statement], "iam:ListUsers", "*", ok)
    assert not allowed([statement], "iam:ListUsers", "*", {**ok, "aws:PrincipalTag/role": "dev"})
    assert not allowed([statement], "iam:ListUsers", "*", {"aws:PrincipalTag/department": "hr"})


def test_service_principals_in_resource_policies_as_the_guide_says():
    from tests.publish.iam import allowed_by_resource_policy

    # Amazon SNS Developer Guide, "Example cases for Amazon SNS access control": CloudWatch
    # alarms of account 111122223333 may publish to MyTopic.
    topic = "arn:aws:sns:us-east-2:444455556666:MyTopic"
    alarms_publish = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudwatch.amazonaws.com"},
        "Action": "SNS:Publish",
        "Resource": topic,
        "Condition": {
            "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-2:111122223333:alarm:*"}
        },
    }
    cloudwatch = ("Service", "cloudwatch.amazonaws.com")
    alarm = {"aws:SourceArn": "arn:aws:cloudwatch:us-east-2:111122223333:alarm:MyAlarm"}
    assert allowed_by_resource_policy([alarms_publish], cloudwatch, "sns:Publish", topic, alarm)
    other = {"aws:SourceArn": "arn:aws:cloudwatch:us-east-2:999999999999:alarm:MyAlarm"}
    assert not allowed_by_resource_policy([alarms_publish], cloudwatch, "sns:Publish", topic, other)
    events = ("Service", "events.amazonaws.com")
    assert not allowed_by_resource_policy([alarms_publish], events, "sns:Publish", topic, alarm)
    # AWS KMS Developer Guide, "Default key policy": the account statement lets IAM policies of
    # the account grant access; it gives a service principal nothing by itself.
    root = {
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*",
        "Resource": "*",
    }
    assert not allowed_by_resource_policy([root], cloudwatch, "kms:Decrypt", "key")
    assert allowed_by_resource_policy(
        [root], ("AWS", "arn:aws:iam::111122223333:root"), "kms:Decrypt", "key"
    )
    everyone = {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": topic}
    assert allowed_by_resource_policy([everyone], events, "sns:Publish", topic)
