"""``mlflow-cfn publish --allow-*``: the TEMPLATE constraint with the allow-list Rules, created,
updated or left alone (Stubber), its Rules evaluated on the published template, and the flags."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import ANY

from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.catalog.publish import PublishError, publish
from mlflow_cfn.catalog.template_constraint import DESCRIPTION
from mlflow_cfn.cfn.evaluate import ParameterError, evaluate
from mlflow_cfn.commands.publish import register as add_publish_parser
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE
from tests.publish.test_publish import (
    PA_OLD,
    PORT_ID,
    PROD_ID,
    Catalog,
    request,
    sha_of,
    url_of,
    version,
    write_template,
)

GUARDED = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {
        "ArtifactBucketName": {"Type": "String", "Default": ""},
        "MlflowImage": {"Type": "String", "Default": DEFAULT_MLFLOW_IMAGE},
        "OidcClientSecretArn": {"Type": "String", "Default": ""},
        "PermissionsBoundaryArn": {"Type": "String", "Default": ""},
    },
    "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
}
BOUNDARY = "arn:aws:iam::123456789012:policy/MlflowBoundary"
ALLOW = AllowLists(buckets=("team-artifacts",))


def rules_of(parameters: str) -> dict:
    return json.loads(parameters)["Rules"]


def expect_existing_product(sc: Catalog) -> None:
    """Portfolio, product and version v0.1.0 of GUARDED exist and are associated."""
    sc.portfolios((PORT_ID, "Data Science"))
    sc.products((PROD_ID, "MLflow"))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "AVAILABLE", url_of(sha_of(GUARDED)))
    sc.associated_portfolios(PORT_ID)


def expect_constraints(sc: Catalog, rules: dict | None) -> None:
    """ListConstraintsForPortfolio with (or without) our TEMPLATE constraint holding ``rules``."""
    details = [{"ConstraintId": "cons-other", "Type": "TEMPLATE", "Description": "someone's"}]
    if rules is not None:
        details.append(
            {"ConstraintId": "cons-ours", "Type": "TEMPLATE", "Description": DESCRIPTION}
        )
    sc.expect(
        "list_constraints_for_portfolio",
        {"PortfolioId": PORT_ID, "ProductId": PROD_ID},
        {"ConstraintDetails": details},
    )
    if rules is not None:
        sc.expect(
            "describe_constraint",
            {"Id": "cons-ours"},
            {"ConstraintParameters": json.dumps({"Rules": rules}), "Status": "AVAILABLE"},
        )


def wanted(sc: Catalog, tmp_path: Path, allow: AllowLists = ALLOW) -> dict:
    """The Rules a publish with ``allow`` creates (captured from a first constraint creation)."""
    captured: dict[str, Any] = {}
    expect_existing_product(sc)
    expect_constraints(sc, None)
    sc.stubber.add_response(
        "create_constraint",
        {"ConstraintDetail": {"ConstraintId": "cons-ours", "Type": "TEMPLATE"}},
        {
            "PortfolioId": PORT_ID,
            "ProductId": PROD_ID,
            "Type": "TEMPLATE",
            "Parameters": ANY,
            "Description": DESCRIPTION,
            "IdempotencyToken": ANY,
        },
    )
    original = sc.client.create_constraint

    def spy(**kwargs: Any) -> Any:
        captured.update(kwargs)
        return original(**kwargs)

    sc.client.create_constraint = spy  # type: ignore[method-assign]
    lines: list[str] = []
    publish(
        request(write_template(tmp_path, GUARDED), allow=allow, permissions_boundary_arn=BOUNDARY),
        sc=sc.client,
        s3=None,
        out=lines.append,
    )
    assert lines[0].startswith("version v0.1.0 already published")
    assert lines[1].startswith("added template constraint (") and "cons-ours" in lines[1]
    return rules_of(captured["Parameters"])


def launch(rules: dict, parameters: dict[str, str]) -> list[str]:
    """The errors of launching GUARDED with ``rules`` as a template constraint."""
    try:
        evaluate({**GUARDED, "Rules": rules}, parameters)
    except ParameterError as error:
        return error.errors
    return []


def test_publish_adds_the_template_constraint_whose_rules_refuse_the_rest(sc, tmp_path):
    rules = wanted(sc, tmp_path)
    assert set(rules) == {
        "ArtifactBucketNameIsAllowed",
        "MlflowImageIsAllowed",
        "OidcClientSecretArnIsAllowed",
        "PermissionsBoundaryArnIsThePortfolios",
    }
    boundary = {"PermissionsBoundaryArn": BOUNDARY}
    assert launch(rules, boundary) == []
    assert launch(rules, {**boundary, "ArtifactBucketName": "team-artifacts"}) == []
    for refused in (
        {"ArtifactBucketName": "victim"},
        {"MlflowImage": "attacker/evil:1"},
        {"OidcClientSecretArn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"},
        {"PermissionsBoundaryArn": ""},
    ):
        (error,) = launch(rules, {**boundary, **refused})
        assert next(iter(refused)) in error


def test_same_rules_are_left_alone_and_different_ones_updated(sc, tmp_path):
    rules = wanted(sc, tmp_path)
    expect_existing_product(sc)
    expect_constraints(sc, rules)
    lines: list[str] = []
    same = request(
        write_template(tmp_path, GUARDED), allow=ALLOW, permissions_boundary_arn=BOUNDARY
    )
    publish(same, sc=sc.client, s3=None, out=lines.append)
    assert not any("constraint" in line for line in lines)

    expect_existing_product(sc)
    expect_constraints(sc, rules)
    sc.expect(
        "update_constraint",
        {"Id": "cons-ours", "Description": DESCRIPTION, "Parameters": ANY},
        {"ConstraintDetail": {"ConstraintId": "cons-ours"}},
    )
    lines = []
    publish(
        request(write_template(tmp_path, GUARDED), permissions_boundary_arn=BOUNDARY),
        sc=sc.client, s3=None, out=lines.append,
    )  # fmt: skip
    assert any(line.startswith("updated template constraint (") for line in lines)


def test_a_template_without_guarded_parameters_needs_no_constraint(sc, tmp_path):
    plain = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": GUARDED["Resources"]}
    sc.portfolios((PORT_ID, "Data Science"))
    sc.products((PROD_ID, "MLflow"))
    sc.versions(version(PA_OLD, "v0.1.0"))
    sc.describe_version(PA_OLD, "AVAILABLE", url_of(sha_of(plain)))
    sc.associated_portfolios(PORT_ID)
    lines: list[str] = []
    publish(request(write_template(tmp_path, plain), allow=ALLOW), sc=sc.client, s3=None,
            out=lines.append)  # fmt: skip
    assert not any("constraint" in line for line in lines)


def parse(*flags: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_publish_parser(parser.add_subparsers(dest="command"))
    names = ["--portfolio", "P", "--product", "Q", "--bucket", "B", "--version", "v1"]
    return parser.parse_args(["publish", *names, *flags])


def test_the_flags_fill_the_allow_lists():
    from mlflow_cfn.commands.publish import _request

    key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    args = parse(
        "--allow-bucket", "a-bucket", "--allow-bucket", "b-bucket", "--allow-kms-key", key,
        "--allow-hosted-zone", "Z123", "--allow-image", "repo/mlflow:1",
        "--allow-secret-arn-prefix", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ml/",
        "--permissions-boundary-arn", BOUNDARY,
    )  # fmt: skip
    made = _request(args)
    assert made.allow == AllowLists(
        secret_prefixes=("arn:aws:secretsmanager:eu-west-1:123456789012:secret:ml/",),
        buckets=("a-bucket", "b-bucket"),
        kms_keys=(key,),
        hosted_zones=("Z123",),
        images=("repo/mlflow:1",),
    )
    assert made.permissions_boundary_arn == BOUNDARY
    assert _request(parse()).allow == AllowLists()
    assert _request(parse()).allow.exposure == "internal"


EXPOSED = {
    **GUARDED,
    "Parameters": {
        **GUARDED["Parameters"],
        "LoadBalancerScheme": {"Type": "String", "Default": "internal"},
        "AuthMode": {"Type": "String", "Default": "none"},
    },
}


def test_the_admin_flag_decides_where_launchers_may_expose_mlflow():
    from mlflow_cfn.catalog.allow_lists import RuleValues, template_rules
    from mlflow_cfn.commands.publish import _request

    def errors(exposure_flags: tuple[str, ...], scheme: str, login: str) -> list[str]:
        allow = _request(parse(*exposure_flags)).allow
        rules = template_rules(EXPOSED["Parameters"], RuleValues(allow, "aws", None))
        try:
            evaluate({**EXPOSED, "Rules": rules},
                     {"LoadBalancerScheme": scheme, "AuthMode": login})  # fmt: skip
        except ParameterError as error:
            return error.errors
        return []

    assert errors((), "internal", "none") == []
    (error,) = errors((), "internet-facing", "cognito")
    assert "LoadBalancerScheme must be internal" in error
    login = ("--allow-exposure", "internet-facing-with-login")
    assert errors(login, "internet-facing", "oidc") == []
    (error,) = errors(login, "internet-facing", "none")
    assert "needs AuthMode" in error
    assert errors(("--allow-exposure", "internet-facing"), "internet-facing", "none") == []
    with pytest.raises(SystemExit):
        parse("--allow-exposure", "public")


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (("--allow-bucket", "sc-*"), "buckets: 'sc-*'"),
        (("--allow-secret-arn-prefix", "mlflow/"), "secret_prefixes: 'mlflow/'"),
        (("--allow-image", 'x"]'), "images"),
        (("--permissions-boundary-arn", "Admin"), "not an IAM policy ARN"),
    ],
)
def test_bad_allow_list_entries_are_refused(flags, message):
    from mlflow_cfn.commands.publish import _request

    with pytest.raises(PublishError, match=message.replace("*", r"\*")):
        _request(parse(*flags))
