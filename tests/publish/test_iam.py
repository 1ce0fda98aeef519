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
