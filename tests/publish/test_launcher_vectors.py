"""A launcher holding only Service Catalog's end-user policy, one parameter set per attack vector:
each is refused by the portfolio's template constraint before anything is created (its Rules
evaluated with the product's own by `mlflow_cfn.cfn.evaluate`), or cannot succeed under the launch
role's or the permissions boundary's statements (evaluated by tests/publish/iam.py for the exact
request the launch would need).

The portfolio template is evaluated with an admin's allow-lists; Ref to the boundary is its ARN.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlflow_cfn.catalog import portfolio
from mlflow_cfn.catalog.allow_lists import AllowLists
from mlflow_cfn.catalog.portfolio_inputs import ALLOW_LIST_MAX_LENGTH
from mlflow_cfn.cfn.evaluate import ParameterError, evaluate
from mlflow_cfn.cfn.render import to_dict
from mlflow_cfn.versions import DEFAULT_MLFLOW_IMAGE
from tests.conftest import REQUIRED_PARAMETERS, TEMPLATES
from tests.publish.iam import allowed, allowed_within
from tests.publish.stack_resources import StackResource, generated_name, stack_resources
from tests.template.modes import HTTPS, OIDC

ACCOUNT = "123456789012"
REGION = "us-east-1"
BOUNDARY_ARN = f"arn:aws:iam::{ACCOUNT}:policy/PermissionsBoundary-ABC"
SECRETS = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
ALLOWED_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/11111111-1111-1111-1111-111111111111"
OTHER_KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/22222222-2222-2222-2222-222222222222"
ALLOWED_IMAGE = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/mlflow:3.17.2"
STACK = "SC-123456789012-pp-abcdefghijklm"
PORTFOLIO_PARAMETERS = {
    "PortfolioProviderName": "Platform",
    "PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/DataScientist",
    "ProductOwner": "ML",
    "ProductTemplateUrl": "https://bucket.s3.amazonaws.com/mlflow.json",
}
ADMIN_ALLOWS = {
    "AllowedSecretArnPrefixes": f"{SECRETS}mlflow/",
    "AllowedBucketNames": "team-artifacts",
    "AllowedReadOnlyBucketNames": "shared-datasets",
    "AllowedKmsKeyArns": ALLOWED_KEY,
    "AllowedHostedZoneIds": "ZALLOWED123",
    "AllowedImages": ALLOWED_IMAGE,
}
NOTHING_ALLOWED: dict[str, str] = {}


def product(datadog: bool = False) -> dict:
    """The product template; with PermissionsBoundaryArn as the product declares it (added here
    while the product template does not declare it yet)."""
    name = "mlflow-datadog.json" if datadog else "mlflow.json"
    template = json.loads((TEMPLATES / name).read_text())
    template["Parameters"].setdefault("PermissionsBoundaryArn", {"Type": "String", "Default": ""})
    return template


def evaluated_portfolio(allows: dict[str, str], *variants: dict) -> Any:
    """The portfolio template for the product (and its Datadog variant), evaluated with the
    admin's allow-lists."""
    variants = variants or (product(), product(datadog=True))
    template = to_dict(portfolio.build_portfolio_template(list(variants)))
    return evaluate(
        template,
        {**PORTFOLIO_PARAMETERS, **allows},
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: BOUNDARY_ARN},
        account_id=ACCOUNT,
        region=REGION,
    )


@pytest.fixture(scope="module")
def admin() -> Any:
    return evaluated_portfolio(ADMIN_ALLOWS)


@pytest.fixture(scope="module")
def locked() -> Any:
    return evaluated_portfolio(NOTHING_ALLOWED)


@pytest.fixture(scope="module")
def datadog_admin() -> Any:
    """The portfolio offering the Datadog variant alone: its Rules cover its own Parameters."""
    return evaluated_portfolio(ADMIN_ALLOWS, product(datadog=True))


@pytest.fixture(scope="module")
def datadog_locked() -> Any:
    return evaluated_portfolio(NOTHING_ALLOWED, product(datadog=True))


def test_rules_name_only_parameters_every_variant_declares(admin, datadog_admin):
    # Rules naming a Parameter the launched template lacks would refuse every launch of it.
    assert "DatadogApiKeyKmsKeyArnIsAllowed" not in constraint_rules(admin)
    assert "DatadogApiKeyKmsKeyArnIsAllowed" in constraint_rules(datadog_admin)
    assert launch(admin, {}) == launch(admin, {}, datadog=True) == []


def constraint_rules(evaluated: Any) -> dict:
    """The Rules of the evaluated template constraint."""
    rules = evaluated.resource(portfolio.LAUNCH_TEMPLATE_CONSTRAINT)["Properties"]["Rules"]
    return json.loads(rules)


def launch(evaluated: Any, parameters: dict[str, str], *, datadog: bool = False) -> list[str]:
    """The errors the product with the constraint's Rules gives for a launcher's ``parameters``
    (empty when the launch would go ahead)."""
    template = product(datadog)
    template["Rules"] = {**template.get("Rules", {}), **constraint_rules(evaluated)}
    base = {**REQUIRED_PARAMETERS, "PermissionsBoundaryArn": BOUNDARY_ARN}
    if datadog:
        base["DatadogApiKeySecretArn"] = f"{SECRETS}mlflow/datadog-AbCdEf"
    try:
        evaluate(template, {**base, **parameters}, account_id=ACCOUNT, region=REGION)
    except ParameterError as error:
        return error.errors
    return []


def statements_of(evaluated: Any, *logical_ids: str) -> list[dict]:
    """The resolved statements of the evaluated managed policies ``logical_ids``."""
    return [
        statement
        for logical_id in logical_ids
        for statement in evaluated.resource(logical_id)["Properties"]["PolicyDocument"]["Statement"]
    ]


def launch_role(evaluated: Any) -> list[dict]:
    """The launch role's resolved statements."""
    policies = [k for k in evaluated.resources if k.startswith(portfolio.LAUNCH_ROLE_POLICY_PREFIX)]
    return statements_of(evaluated, *sorted(policies))


def boundary(evaluated: Any) -> list[dict]:
    """The permissions boundary's resolved statements."""
    return statements_of(evaluated, portfolio.PERMISSIONS_BOUNDARY)


def refused_with(errors: list[str], parameter: str) -> bool:
    """Whether a constraint rule refused ``parameter`` with a description naming it."""
    return any(parameter in e and "the portfolio's" in e for e in errors)


# --- Refused by the template constraint, before anything is created ---------------------------


def test_an_ordinary_launch_is_accepted(admin, locked, datadog_admin):
    assert launch(admin, {}) == []
    assert launch(locked, {}) == []
    assert launch(datadog_admin, {}, datadog=True) == []


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"ArtifactBucketName": "victim-bucket"}, "ArtifactBucketName"),
        ({"ArtifactReadOnlyBucketArns": "arn:aws:s3:::victim-bucket"},
         "ArtifactReadOnlyBucketArns"),
        ({"ArtifactReadOnlyBucketArns": "arn:aws:s3:::team-artifacts,arn:aws:s3:::victim"},
         "ArtifactReadOnlyBucketArns"),
        ({"ArtifactBucketName": "team-artifacts", "ArtifactBucketKmsKeyArn": OTHER_KEY},
         "ArtifactBucketKmsKeyArn"),
        ({"SidecarImage": ALLOWED_IMAGE, "SidecarSecretArn": f"{SECRETS}mlflow/s-AbCdEf",
          "SidecarSecretVariable": "TOKEN", "SidecarSecretKmsKeyArn": OTHER_KEY},
         "SidecarSecretKmsKeyArn"),
        ({"HostedZoneId": "ZVICTIM123", "DomainName": "www.example.com"}, "HostedZoneId"),
        ({"MlflowImage": "attacker.example/evil:latest"}, "MlflowImage"),
        ({"SidecarImage": "attacker.example/evil:latest"}, "SidecarImage"),
        ({"PermissionsBoundaryArn": ""}, "PermissionsBoundaryArn"),
        ({"PermissionsBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
         "PermissionsBoundaryArn"),
    ],
)  # fmt: skip
def test_values_outside_the_allow_lists_are_refused(admin, parameters, refused):
    errors = launch(admin, parameters)
    assert refused_with(errors, refused), errors


def test_the_datadog_key_outside_the_allow_list_is_refused(datadog_admin):
    errors = launch(datadog_admin, {"DatadogApiKeyKmsKeyArn": OTHER_KEY}, datadog=True)
    assert refused_with(errors, "DatadogApiKeyKmsKeyArn"), errors
    assert launch(datadog_admin, {"DatadogApiKeyKmsKeyArn": ALLOWED_KEY}, datadog=True) == []


@pytest.mark.parametrize(
    "parameters",
    [
        {"ArtifactBucketName": "team-artifacts", "ArtifactPrefixPerStack": "true"},
        {"ArtifactBucketName": "team-artifacts", "ArtifactPrefixPerStack": "true",
         "ArtifactBucketKmsKeyArn": ALLOWED_KEY},
        {"ArtifactReadOnlyBucketArns": "arn:aws:s3:::shared-datasets"},
        {"HostedZoneId": "ZALLOWED123", "DomainName": "mlflow.example.com"},
        {"MlflowImage": ALLOWED_IMAGE},
        {"MlflowImage": DEFAULT_MLFLOW_IMAGE},
        {"SidecarImage": ALLOWED_IMAGE, "SidecarSecretArn": f"{SECRETS}mlflow/s-AbCdEf",
         "SidecarSecretVariable": "TOKEN", "SidecarSecretKmsKeyArn": ALLOWED_KEY,
         "TaskMemory": "2048"},
    ],
)  # fmt: skip
def test_values_inside_the_allow_lists_are_accepted(admin, parameters):
    assert launch(admin, parameters) == []


@pytest.mark.parametrize(
    ("parameters", "refused", "datadog"),
    [
        ({"ArtifactBucketName": "team-artifacts"}, "ArtifactBucketName", False),
        ({"HostedZoneId": "ZALLOWED123", "DomainName": "m.example.com"}, "HostedZoneId", False),
        ({"MlflowImage": ALLOWED_IMAGE}, "MlflowImage", False),
        ({"AuthMode": "oidc", "OidcClientSecretArn": f"{SECRETS}mlflow/oidc-AbCdEf"},
         "OidcClientSecretArn", False),
        ({"SidecarImage": DEFAULT_MLFLOW_IMAGE, "SidecarSecretArn": f"{SECRETS}x-AbCdEf",
          "SidecarSecretVariable": "TOKEN"}, "SidecarSecretArn", False),
    ],
)  # fmt: skip
def test_by_default_nothing_outside_the_product_is_allowed(locked, parameters, refused, datadog):
    errors = launch(locked, parameters, datadog=datadog)
    assert refused_with(errors, refused), errors
    assert launch(locked, {"MlflowImage": DEFAULT_MLFLOW_IMAGE}) == []


def test_by_default_the_datadog_variant_needs_an_allowed_secret(datadog_locked):
    errors = launch(datadog_locked, {}, datadog=True)
    assert refused_with(errors, "DatadogApiKeySecretArn"), errors


def test_each_refusal_names_the_parameter_and_what_is_allowed(admin):
    (error,) = [e for e in launch(admin, {"ArtifactBucketName": "victim"}) if "IsAllowed" in e]
    assert "ArtifactBucketName" in error
    assert "(allowed: team-artifacts)" in error


# --- Impossible under the launch role ---------------------------------------------------------


@pytest.mark.parametrize(
    ("secret", "readable"),
    [
        ("prod/database-AbCdEf", False),
        ("rds!cluster-0123abcd-AbCdEf", False),
        ("mlflowx-AbCdEf", False),
        ("mlflow/oidc-AbCdEf", True),
    ],
)
def test_the_oidc_client_secret_is_resolved_only_within_the_allowed_prefixes(
    admin, locked, secret, readable
):
    # CloudFormation resolves {{resolve:secretsmanager:<OidcClientSecretArn>...}} as the launch
    # role: a secret outside the allowed prefixes is never read.
    request = ("secretsmanager:GetSecretValue", f"{SECRETS}{secret}")
    assert allowed(launch_role(admin), *request) is readable
    assert not allowed(launch_role(locked), *request)


def test_records_go_only_into_allowed_hosted_zones(admin, locked):
    for action in ("route53:ChangeResourceRecordSets", "route53:GetHostedZone"):
        assert allowed(launch_role(admin), action, "arn:aws:route53:::hostedzone/ZALLOWED123")
        assert not allowed(launch_role(admin), action, "arn:aws:route53:::hostedzone/ZVICTIM123")
        assert not allowed(launch_role(locked), action, "arn:aws:route53:::hostedzone/ZALLOWED123")


PRODUCT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/{STACK}-TaskRole-ABCDEFGHIJKL"
OTHER_PRODUCT_ROLE = f"arn:aws:iam::{ACCOUNT}:role/SC-{ACCOUNT}-pp-otherproduct-Admin-X"
WITH_BOUNDARY = {"iam:PermissionsBoundary": BOUNDARY_ARN}


@pytest.mark.parametrize(
    "action", ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy",
               "iam:PutRolePermissionsBoundary"],
)  # fmt: skip
def test_roles_are_created_and_changed_only_with_the_portfolios_boundary(admin, action):
    statements = launch_role(admin)
    assert allowed(statements, action, PRODUCT_ROLE, WITH_BOUNDARY)
    # No boundary (another product's role, or a role created without it), or another boundary.
    assert not allowed(statements, action, OTHER_PRODUCT_ROLE)
    other = {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not allowed(statements, action, PRODUCT_ROLE, other)


def test_the_boundary_is_never_removed_and_policies_attach_only_with_it(admin):
    statements = launch_role(admin)
    assert not allowed(statements, "iam:DeleteRolePermissionsBoundary", PRODUCT_ROLE,
                       WITH_BOUNDARY)  # fmt: skip
    monitoring = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
    policy = {"iam:PolicyARN": monitoring}
    assert allowed(statements, "iam:AttachRolePolicy", PRODUCT_ROLE, {**policy, **WITH_BOUNDARY})
    assert not allowed(statements, "iam:AttachRolePolicy", OTHER_PRODUCT_ROLE, policy)
    admin_policy = {"iam:PolicyARN": "arn:aws:iam::aws:policy/AdministratorAccess"}
    assert not allowed(
        statements, "iam:AttachRolePolicy", PRODUCT_ROLE, {**admin_policy, **WITH_BOUNDARY}
    )


OWNED = {"aws:ResourceTag/aws:cloudformation:stack-name": STACK}
#: The tag RDS puts on the master user secret it manages, as a request for it carries it: the
#: product's database cluster (RDS's provider names it <stack>-<logical id>-<random>, lower-cased).
DATABASE_TAG = "aws:ResourceTag/aws:rds:primaryDBClusterArn"
OWN_DATABASE = {
    DATABASE_TAG: f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:{STACK.lower()}-databasecluster-abcd"
}
OTHER_DATABASE = {DATABASE_TAG: f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:prod-db"}
OTHER_SC_DATABASE = {
    DATABASE_TAG: f"arn:aws:rds:{REGION}:{ACCOUNT}:cluster:sc-123456789012-pp-other-payments-x"
}
SOMEONE_ELSES = {"aws:ResourceTag/aws:cloudformation:stack-name": "prod-database"}
HERE = f"{REGION}:{ACCOUNT}"


def presented(logical_id: str) -> StackResource:
    """The product's resource ``logical_id`` as AWS presents it in a Service Catalog stack
    (tests/publish/stack_resources.py)."""
    (found,) = [
        r
        for r in stack_resources(product(), STACK, region=REGION, account=ACCOUNT)
        if r.logical_id == logical_id
    ]
    return found


@pytest.mark.parametrize(
    ("action", "logical_id"),
    [
        ("rds:DeleteDBCluster", "DatabaseCluster"),
        ("rds:DeleteDBInstance", "DatabaseWriter"),
        ("rds:ModifyDBClusterParameterGroup", "DatabaseClusterParameterGroup"),
        ("ec2:RevokeSecurityGroupIngress", "DatabaseSecurityGroup"),
        ("ec2:DeleteSecurityGroup", "ServiceSecurityGroup"),
        ("ec2:AuthorizeSecurityGroupIngress", "LoadBalancerSecurityGroup"),
        ("elasticloadbalancing:DeleteLoadBalancer", "LoadBalancer"),
        ("elasticloadbalancing:SetSecurityGroups", "LoadBalancer"),
        ("elasticloadbalancing:DeleteTargetGroup", "TargetGroup"),
        ("cognito-idp:DeleteUserPool", "CognitoUserPool"),
        ("cognito-idp:UpdateUserPoolClient", "CognitoUserPool"),
    ],
)
def test_destructive_actions_reach_only_resources_of_service_catalog_stacks(
    admin, action, logical_id
):
    statements = launch_role(admin)
    resource = presented(logical_id)
    assert allowed(statements, action, resource.arn, resource.context)
    elsewhere = {**resource.context, **SOMEONE_ELSES}
    assert not allowed(statements, action, resource.arn, elsewhere)
    assert not allowed(statements, action, resource.arn)  # untagged: not made by CloudFormation


@pytest.mark.parametrize("action", ["ecs:DeleteService", "ecs:UpdateService"])
def test_services_are_reached_only_by_the_names_a_service_catalog_stack_gives_them(admin, action):
    # CloudFormation puts no system tag on an ECS service (its provider schema says
    # cloudFormationSystemTags false), so a tag proves nothing either way: names do.
    ours = f"arn:aws:ecs:{HERE}:service/{STACK}-EcsCluster-ABC/{STACK}-Service-DEF"
    assert allowed(launch_role(admin), action, ours)
    for other in ("service/prod/api", f"service/{STACK}-EcsCluster-ABC/prod-api",
                  f"service/prod/{STACK}-Service-DEF"):  # fmt: skip
        assert not allowed(launch_role(admin), action, f"arn:aws:ecs:{HERE}:{other}", OWNED)


@pytest.mark.parametrize(
    "action", ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey",
               "kms:DisableKeyRotation"],
)  # fmt: skip
def test_keys_are_changed_only_with_the_products_aliases(admin, action):
    # KMS keys carry no system tag either (the KMS provider: "KMS does not support system tags
    # currently"): the key's aliases, which the stack names after itself, tell whose it is.
    aliases = "kms:ResourceAliases"
    assert allowed(launch_role(admin), action, OTHER_KEY, {aliases: [f"alias/{STACK}/database"]})
    for context in ({aliases: ["alias/prod/database"]}, {aliases: []}, OWNED, {}):
        assert not allowed(launch_role(admin), action, OTHER_KEY, context)


def test_new_resources_of_a_request_need_no_tag(admin):
    # IAM authorizes each resource of a request: the cluster needs the tag, its final snapshot
    # (new, named by the RDS provider) cannot have one; the same for a security group and its new
    # rule.
    name = generated_name(STACK, "Snapshot-DatabaseCluster", 255).lower()
    snapshot = f"arn:aws:rds:{HERE}:cluster-snapshot:{name}"
    assert allowed(launch_role(admin), "rds:DeleteDBCluster", snapshot)
    assert not allowed(launch_role(admin), "rds:DeleteDBInstance", snapshot)
    rule = f"arn:aws:ec2:{HERE}:security-group-rule/sgr-0123"
    assert allowed(launch_role(admin), "ec2:AuthorizeSecurityGroupIngress", rule)
    assert not allowed(launch_role(admin), "ec2:RevokeSecurityGroupIngress", rule)


@pytest.mark.parametrize("action", ["ecs:PutAccountSetting", "ecs:PutAccountSettingDefault"])
def test_no_account_wide_settings(admin, action):
    assert not allowed(launch_role(admin), action, "*")


def test_keys_are_never_used_directly(admin):
    for action in ("kms:Decrypt", "kms:GenerateDataKey"):
        assert not allowed(launch_role(admin), action, OTHER_KEY)
        assert not allowed(launch_role(admin), action, OTHER_KEY, {"kms:ViaService": "s3.x"})


@pytest.mark.parametrize(
    ("secret", "decryptable"),
    [
        ("rds!cluster-0123abcd-AbCdEf", True),  # the RDS-managed master user secret
        ("mlflow/oidc-AbCdEf", True),  # allowed by the admin
        ("prod/database-AbCdEf", False),
    ],
)
def test_keys_decrypt_through_secrets_manager_only_the_reachable_secrets(
    admin, secret, decryptable
):
    context = {
        "kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
        "kms:EncryptionContext:SecretARN": f"{SECRETS}{secret}",
    }
    assert allowed(launch_role(admin), "kms:Decrypt", OTHER_KEY, context) is decryptable


# --- Impossible under the permissions boundary (a launcher's image under the product's roles) --

TASK_ROLE_WIDE_OPEN = [{"Effect": "Allow", "Action": "*", "Resource": "*"}]


@pytest.mark.parametrize(
    ("action", "resource", "context"),
    [
        ("s3:GetObject", "arn:aws:s3:::victim-bucket/secret.csv", {}),
        ("s3:PutObject", "arn:aws:s3:::victim-bucket/x", {}),
        ("s3:ListBucket", "arn:aws:s3:::victim-bucket", {}),
        ("s3:DeleteBucket", f"arn:aws:s3:::{STACK.lower()}-artifactbucket-x", {}),
        ("secretsmanager:GetSecretValue", f"{SECRETS}prod/database-AbCdEf", {}),
        ("kms:Decrypt", OTHER_KEY, {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}),
        ("kms:Decrypt", OTHER_KEY, {"kms:ResourceAliases": [f"alias/{STACK}/artifacts"]}),
        ("iam:CreateRole", PRODUCT_ROLE, {}),
        ("sts:AssumeRole", OTHER_PRODUCT_ROLE, {}),
        ("ecs:UpdateService", f"arn:aws:ecs:{HERE}:service/prod/api", {}),
    ],
)
def test_the_boundary_caps_whatever_a_role_is_given(admin, locked, action, resource, context):
    for evaluated in (admin, locked):
        assert not allowed_within(
            TASK_ROLE_WIDE_OPEN, boundary(evaluated), action, resource, context
        )


@pytest.mark.parametrize(
    "parameter", ["SidecarSecretArn", "DatadogApiKeySecretArn", "OidcClientSecretArn"]
)
def test_no_launcher_names_another_databases_master_password(admin, datadog_admin, parameter):
    # A secret whose name has "!" is managed by another service (rds!cluster-<id> is a database's
    # master password): no secret Parameter takes one, whatever prefix the admin allows.
    managed = f"{SECRETS}rds!cluster-0123abcd-4567-89ef-AbCdEf"
    given = {
        "SidecarSecretArn": {"SidecarImage": ALLOWED_IMAGE, "SidecarSecretVariable": "TOKEN",
                             "SidecarSecretArn": managed, "TaskMemory": "2048"},
        "DatadogApiKeySecretArn": {"DatadogApiKeySecretArn": managed},
        "OidcClientSecretArn": {**OIDC, **HTTPS, "OidcClientSecretArn": managed},
    }[parameter]  # fmt: skip
    evaluated = datadog_admin if parameter == "DatadogApiKeySecretArn" else admin
    errors = launch(evaluated, given, datadog=parameter == "DatadogApiKeySecretArn")
    assert any(parameter in e and "failed to satisfy constraint" in e for e in errors), errors


@pytest.mark.parametrize(
    ("database", "readable"),
    [(OWN_DATABASE, True), (OTHER_DATABASE, False), (OTHER_SC_DATABASE, False), ({}, False)],
)
def test_the_boundary_reads_only_the_products_own_database_secret(admin, database, readable):
    secret = f"{SECRETS}rds!cluster-0123abcd-AbCdEf"
    request = ("secretsmanager:GetSecretValue", secret, database)
    assert allowed_within(TASK_ROLE_WIDE_OPEN, boundary(admin), *request) is readable
    # Even a boundary that an admin's list made admit every secret keeps the others out.
    every_secret = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                    "Resource": f"{SECRETS}*"}  # fmt: skip
    widened = [*boundary(admin), every_secret]
    assert allowed_within(TASK_ROLE_WIDE_OPEN, widened, *request) is readable
    assert allowed_within(TASK_ROLE_WIDE_OPEN, widened, "secretsmanager:GetSecretValue",
                          f"{SECRETS}mlflow/sidecar-AbCdEf")  # fmt: skip


@pytest.mark.parametrize(
    ("action", "resource", "context", "allowed_by_default"),
    [
        # The task role: artifacts of the product's bucket with its key.
        ("s3:PutObject", f"arn:aws:s3:::{STACK.lower()}-artifactbucket-x/artifacts/1", {}, True),
        ("s3:ListBucket", f"arn:aws:s3:::{STACK.lower()}-artifactbucket-x", {}, True),
        ("kms:GenerateDataKey", OTHER_KEY,
         {"kms:ViaService": f"s3.{REGION}.amazonaws.com",
          "kms:ResourceAliases": [f"alias/{STACK}/artifacts"]}, True),
        # The task execution role: images, logs, the database secret.
        ("ecr:BatchGetImage", f"arn:aws:ecr:{HERE}:repository/mlflow", {}, True),
        ("ecr:GetAuthorizationToken", "*", {}, True),
        ("logs:PutLogEvents", f"arn:aws:logs:{HERE}:log-group:{STACK}-LogGroup-X:log-stream:a",
         {}, True),
        ("secretsmanager:GetSecretValue", f"{SECRETS}rds!cluster-0123-AbCdEf", OWN_DATABASE,
         True),
        ("kms:Decrypt", OTHER_KEY,
         {"kms:ViaService": f"secretsmanager.{REGION}.amazonaws.com",
          "kms:ResourceAliases": [f"alias/{STACK}/database"]}, True),
        # The rotation roles and RDS enhanced monitoring.
        ("ecs:UpdateService", f"arn:aws:ecs:{HERE}:service/{STACK}-EcsCluster-X/{STACK}-S", {},
         True),
        ("states:StartExecution",
         f"arn:aws:states:{HERE}:stateMachine:RotationRedeployStateMachine-abcdefghijkl", {},
         True),
        ("logs:CreateLogStream", f"arn:aws:logs:{HERE}:log-group:RDSOSMetrics", {}, True),
        # What the admin allows.
        ("s3:GetObject", "arn:aws:s3:::shared-datasets/data.csv", {}, False),
        ("secretsmanager:GetSecretValue", f"{SECRETS}mlflow/sidecar-AbCdEf", {}, False),
        ("kms:Decrypt", ALLOWED_KEY, {}, False),
    ],
)  # fmt: skip
def test_the_boundary_allows_what_the_products_roles_need(
    admin, locked, action, resource, context, allowed_by_default
):
    assert allowed(boundary(admin), action, resource, context)
    assert allowed(boundary(locked), action, resource, context) is allowed_by_default


def test_the_product_passes_the_boundary_to_every_role_it_creates():
    for template in (product(), product(datadog=True)):
        roles = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
        assert roles
        for logical_id, role in roles.items():
            assert role["Properties"]["PermissionsBoundary"] == {
                "Fn::If": [
                    "HasPermissionsBoundary",
                    {"Ref": "PermissionsBoundaryArn"},
                    {"Ref": "AWS::NoValue"},
                ]
            }, logical_id


# --- The admin's lists, however long they may be, keep every policy within IAM's limits -------

SHORTEST_ENTRIES = {
    "secret_prefixes": "arn:aws:secretsmanager:a:123456789012:secret:/",
    "image_cache_secret_prefixes": (
        "arn:aws:secretsmanager:a:123456789012:secret:ecr-pullthroughcache/"
    ),
    "buckets": "abc",
    "read_only_buckets": "abc",
    "kms_keys": "arn:aws:kms:a:123456789012:key/a",
    "hosted_zones": "Z1",
    "images": "a:1",
}


def longest_lists() -> dict[str, str]:
    """Each allow-list at its MaxLength, of its shortest entries (the most ARNs it resolves to)."""
    lists = {}
    for list_name, (parameter, *_) in portfolio.ALLOW_LIST_PARAMETERS.items():
        entry, limit = SHORTEST_ENTRIES[list_name], ALLOW_LIST_MAX_LENGTH[list_name]
        lists[parameter] = ",".join([entry] * ((limit + 1) // (len(entry) + 1)))
    return lists


def test_the_longest_allow_lists_keep_every_policy_within_iams_size_limit():
    # Both products offered, so that the network's launch role and list are measured too.
    template = to_dict(portfolio.build_portfolio_template(
        [product(), product(datadog=True)],
        network=json.loads((TEMPLATES / "network.json").read_text())))  # fmt: skip
    url = "https://my-sc-templates.s3.amazonaws.com/network.json"
    evaluated = evaluate(
        template,
        {**PORTFOLIO_PARAMETERS, **longest_lists(), "NetworkProductTemplateUrl": url},
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: BOUNDARY_ARN},
        account_id=ACCOUNT,
        region=REGION,
    )
    policies = evaluated.of_type("AWS::IAM::ManagedPolicy")
    assert "NetworkLaunchRolePolicy1" in policies
    assert portfolio.PERMISSIONS_BOUNDARY in policies
    for logical_id, policy in policies.items():
        text = json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))
        assert len(text) < 6_144, (logical_id, len(text))


# --- Every statement of every role the product creates still works under the boundary ---------

OWN_KEY = f"arn:aws:kms:{HERE}:key/33333333-3333-3333-3333-333333333333"
#: The product's resources as a Service Catalog stack names them (what its role policies name).
STACK_ATTRIBUTES = {
    "ArtifactBucket.Arn": f"arn:aws:s3:::{STACK.lower()}-artifactbucket-abcdefghijkl",
    "ArtifactKey.Arn": OWN_KEY,
    "DatabaseCluster.MasterUserSecret.SecretArn": f"{SECRETS}rds!cluster-0123abcd-AbCdEf",
    "DatabaseKey.Arn": OWN_KEY,
    "LogGroup.Arn": f"arn:aws:logs:{HERE}:log-group:{STACK}-LogGroup-ABCDEFGHIJKL:*",
    "WakeFunctionLogGroup.Arn": (
        f"arn:aws:logs:{HERE}:log-group:{STACK}-WakeFunctionLogGroup-ABCDEFGHIJKL:*"
    ),
}
#: A load balancer's name: the stack name's first 6 characters, the logical id's first 5, a random
#: part (tests/publish/stack_resources.py, NAME_LIMITS).
_LISTENER = f"arn:aws:elasticloadbalancing:{HERE}:listener/app/{STACK[:6]}-LoadB-ABCDEFGHIJKL"
STACK_IDS = {
    "HttpListener": f"{_LISTENER}/0123456789abcdef/1111111111111111",
    "HttpsListener": f"{_LISTENER}/0123456789abcdef/2222222222222222",
    "Service": f"arn:aws:ecs:{HERE}:service/{STACK}-EcsCluster-ABC/{STACK}-Service-DEF",
    "RotationRedeployStateMachine": (
        f"arn:aws:states:{HERE}:stateMachine:RotationRedeployStateMachine-abcdefghijkl"
    ),
}
#: A launch using everything the admin allows: an existing bucket, its key, a read-only bucket,
#: a sidecar with a secret and its key (and the Datadog API key).
EVERYTHING_ALLOWED = {
    "ArtifactReadOnlyBucketArns": "arn:aws:s3:::shared-datasets",
    "SidecarImage": ALLOWED_IMAGE,
    "SidecarSecretArn": f"{SECRETS}mlflow/sidecar-AbCdEf",
    "SidecarSecretVariable": "TOKEN",
    "SidecarSecretKmsKeyArn": ALLOWED_KEY,
    "TaskMemory": "2048",
}


def requests_of(statement: dict) -> list[tuple[str, str, dict]]:
    """The requests a role statement allows: each action on each resource (a wildcard filled
    in), in the context its conditions describe and the resource's own keys bring (the stack's
    own keys carry its alias, its database secret the tag RDS puts on it)."""
    context: dict = {}
    for keys in statement.get("Condition", {}).values():
        for key, value in keys.items():
            context[key] = str(value).replace("*", REGION)
    resources = statement["Resource"] if isinstance(statement["Resource"], list) else [
        statement["Resource"]
    ]  # fmt: skip
    requests = []
    for action in statement["Action"]:
        for resource in resources:
            extra = {
                OWN_KEY: {"kms:ResourceAliases": [f"alias/{STACK}/artifacts"]},
                STACK_ATTRIBUTES["DatabaseCluster.MasterUserSecret.SecretArn"]: OWN_DATABASE,
            }.get(resource, {})
            requests.append((action, resource.replace("*", "x"), {**context, **extra}))
    return requests


@pytest.mark.parametrize("datadog", [False, True])
@pytest.mark.parametrize("own_bucket", [True, False])
def test_every_role_statement_of_the_product_works_under_the_boundary(admin, datadog, own_bucket):
    parameters = {
        **REQUIRED_PARAMETERS,
        **EVERYTHING_ALLOWED,
        "PermissionsBoundaryArn": BOUNDARY_ARN,
        "IdleShutdownMinutes": "30",  # the wake function's role too
    }
    if not own_bucket:
        parameters |= {
            "ArtifactBucketName": "team-artifacts",
            "ArtifactPrefixPerStack": "true",
            "ArtifactBucketKmsKeyArn": ALLOWED_KEY,
        }
    if datadog:
        parameters |= {"DatadogApiKeySecretArn": f"{SECRETS}mlflow/datadog-AbCdEf",
                       "DatadogApiKeyKmsKeyArn": ALLOWED_KEY}  # fmt: skip
    created = evaluate(
        product(datadog), parameters, account_id=ACCOUNT, region=REGION,
        attributes=STACK_ATTRIBUTES, physical_ids=STACK_IDS, stack_name=STACK,
    )  # fmt: skip
    checked = 0
    for logical_id, role in created.of_type("AWS::IAM::Role").items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                for action, resource, context in requests_of(statement):
                    checked += 1
                    assert allowed(boundary(admin), action, resource, context), (
                        logical_id, action, resource, context
                    )  # fmt: skip
    assert checked > 20


# --- Each product's secrets from its own list (issue 23, items 3 and 8) -----------------------

NETWORK_TEMPLATE = json.loads((TEMPLATES / "network.json").read_text())
CACHE_PREFIX = f"{SECRETS}ecr-pullthroughcache/"


def evaluated_with_network(allows: dict[str, str]) -> Any:
    template = to_dict(portfolio.build_portfolio_template(
        [product(), product(datadog=True)], network=NETWORK_TEMPLATE))  # fmt: skip
    url = "https://my-sc-templates.s3.amazonaws.com/network.json"
    return evaluate(
        template,
        {**PORTFOLIO_PARAMETERS, **allows, "NetworkProductTemplateUrl": url},
        physical_ids={portfolio.PERMISSIONS_BOUNDARY: BOUNDARY_ARN},
        account_id=ACCOUNT,
        region=REGION,
    )


def test_the_image_caches_credentials_are_never_an_mlflow_secret():
    # The load balancer posts OidcClientSecretArn's value to the launcher's token endpoint: the
    # registry token of the image cache must never be readable as one.
    evaluated = evaluated_with_network({
        "AllowedSecretArnPrefixes": f"{SECRETS}mlflow/",
        "AllowedImageCacheSecretArnPrefixes": CACHE_PREFIX,
    })  # fmt: skip
    mlflow_role = launch_role(evaluated)
    network_role = [
        s
        for k in sorted(evaluated.resources)
        if k.startswith("NetworkLaunchRolePolicy")
        for s in evaluated.resource(k)["Properties"]["PolicyDocument"]["Statement"]
    ]
    read = "secretsmanager:GetSecretValue"
    cache_secret = f"{CACHE_PREFIX}ghcr-AbCdEf"
    assert not allowed(mlflow_role, read, cache_secret)
    assert allowed(network_role, read, cache_secret)
    assert allowed(mlflow_role, read, f"{SECRETS}mlflow/oidc-AbCdEf")
    assert not allowed(network_role, read, f"{SECRETS}mlflow/oidc-AbCdEf")
    assert not allowed_within(TASK_ROLE_WIDE_OPEN, boundary(evaluated), read, cache_secret)


@pytest.mark.parametrize(
    "prefix",
    [
        f"{SECRETS}ecr-pullthroughcache/",  # the image cache's credentials
        f"{SECRETS}ecr-",  # a prefix of them
        f"{SECRETS}mlflow",  # matches mlflowx-... and mlflow-prod/... too
        f"{SECRETS}mlflow/oidc",  # matches mlflow/oidc2-...
    ],
)
def test_the_admin_cannot_allow_more_secrets_than_meant(prefix):
    with pytest.raises(ParameterError, match="AllowedSecretArnPrefixes"):
        evaluated_portfolio({"AllowedSecretArnPrefixes": prefix})
    with pytest.raises(ValueError, match="secret_prefixes"):
        AllowLists(secret_prefixes=(prefix,))
    assert evaluated_portfolio({"AllowedSecretArnPrefixes": f"{SECRETS}mlflow/oidc-"})


# --- Exposure is the admin's decision (issue 23, item 5) --------------------------------------

INTERNET = {"LoadBalancerScheme": "internet-facing", **HTTPS}
NO_LOGIN_BUT_CONSENT = {"AllowPublicAccessWithoutLogin": "true",
                        "LoadBalancerIngressCidrs": "10.0.0.0/8,0.0.0.0/0"}  # fmt: skip
COGNITO_LOGIN = {"AuthMode": "cognito"}


@pytest.mark.parametrize(
    ("exposure", "parameters", "refused"),
    [
        ("internal", {**INTERNET, **NO_LOGIN_BUT_CONSENT}, "LoadBalancerScheme must be internal"),
        ("internal", {**INTERNET, **COGNITO_LOGIN}, "LoadBalancerScheme must be internal"),
        ("internet-facing-with-login", {**INTERNET, **NO_LOGIN_BUT_CONSENT},
         "needs AuthMode (cognito or oidc)"),
        ("internet-facing-with-login", {**INTERNET, **COGNITO_LOGIN}, None),
        ("internet-facing", {**INTERNET, **NO_LOGIN_BUT_CONSENT}, None),
        ("internal", {}, None),
    ],
)  # fmt: skip
def test_the_admin_not_the_launcher_decides_the_exposure(exposure, parameters, refused):
    evaluated = evaluated_portfolio({**ADMIN_ALLOWS, "AllowedExposure": exposure})
    errors = launch(evaluated, parameters)
    if refused is None:
        assert errors == []
    else:
        assert any(refused in e for e in errors), errors
