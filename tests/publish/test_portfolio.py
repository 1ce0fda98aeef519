"""The Service Catalog portfolio template: linters, the launch role's derived policy, the wiring."""

from __future__ import annotations

import json
import re
import subprocess
from fnmatch import fnmatchcase

import pytest
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from mlflow_cfn.catalog import (
    conditioned_grants,
    launch_actions,
    owned_grants,
    portfolio,
    schema_actions,
    scopes,
)
from mlflow_cfn.cfn.render import to_dict
from tests.conftest import ROOT, TEMPLATES, lint
from tests.publish.stack_resources import generated_name

CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: IAM's size limit of a managed policy document, whitespace not counted.
IAM_MANAGED_POLICY_LIMIT = 6_144
DIGEST = "sha256:" + "0123456789abcdef" * 4
PRODUCT_FILE = TEMPLATES / "mlflow.json"
#: The launch role serves the product alone, or the product and its variants together.
PRODUCT_VARIANTS = {
    "mlflow": (PRODUCT_FILE,),
    "mlflow+datadog": (PRODUCT_FILE, TEMPLATES / "mlflow-datadog.json"),
}
#: Wildcard exceptions IAM does define on resources, whose requests still name none we can write.
SCOPABLE_BUT_UNNAMEABLE = {
    "s3:GetObject",
    "cloudformation:GetTemplateSummary",
    "cloudwatch:GetMetricData",
}
#: The types of the optional modes (authentication, autoscaling, DNS): the tests below check
#: their grants, so the product must still have them.
OPTIONAL_MODE_TYPES = {
    "AWS::ApplicationAutoScaling::ScalableTarget",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::ElasticLoadBalancingV2::ListenerRule",
    "AWS::Route53::RecordSet",
}
#: The types that redeploy the service when its database secret rotates: the tests below check
#: their grants, so the product must still have them.
ROTATION_TYPES = {"AWS::Events::Rule", "AWS::StepFunctions::StateMachine"}
#: The ARN prefix of this account's and region's resources of an IAM service prefix.
ACCOUNT_REGION = "arn:${{AWS::Partition}}:{}:${{AWS::Region}}:${{AWS::AccountId}}:"
#: A Service Catalog stack name as long as they get: ``SC-<account>-pp-<13-character id>``.
SERVICE_CATALOG_STACK = "SC-123456789012-pp-abcdefghijklm"


@pytest.fixture(scope="module")
def product() -> dict:
    """The committed product template."""
    return json.loads(PRODUCT_FILE.read_text())


@pytest.fixture(scope="module", params=sorted(PRODUCT_VARIANTS))
def variants(request: pytest.FixtureRequest) -> list[dict]:
    """The product template(s) one launch role serves."""
    return [json.loads(path.read_text()) for path in PRODUCT_VARIANTS[request.param]]


@pytest.fixture(scope="module")
def template(variants: list[dict]) -> dict:
    """The portfolio template for the committed product (and variant), as JSON data."""
    return to_dict(portfolio.build_portfolio_template(variants))


def resources_of(template: dict, kind: str) -> dict[str, dict]:
    """The template's resources of type ``kind`` by logical id."""
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def launch_policies(template: dict) -> dict[str, dict]:
    """The launch role's managed policies by logical id."""
    return {
        k: p
        for k, p in resources_of(template, "AWS::IAM::ManagedPolicy").items()
        if k.startswith(portfolio.LAUNCH_ROLE_POLICY_PREFIX)
    }


def unwrapped(statement: dict) -> dict:
    """A statement, or the statement an ``Fn::If`` adds when its condition holds."""
    return statement["Fn::If"][1] if "Fn::If" in statement else statement


def statements(template: dict) -> list[dict]:
    """Every statement of the launch role's managed policies (those an Fn::If adds included)."""
    return [
        unwrapped(statement)
        for policy in launch_policies(template).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def statements_with(template: dict, action: str) -> list[dict]:
    """The statements that allow ``action`` (case-insensitive)."""
    return [
        statement
        for statement in statements(template)
        if action.lower() in {a.lower() for a in statement["Action"]}
    ]


def arns(statement: dict) -> list[str]:
    """The statement's resources: ``*`` or the Fn::Sub ARN patterns; none for the ARNs the admin
    allows (an Fn::Split of an allow-list Parameter)."""
    if isinstance(statement["Resource"], dict):
        return []
    return [r if r == "*" else r["Fn::Sub"] for r in statement["Resource"]]


def scope_of(template: dict, service: str) -> dict[str, list[str]]:
    """Each granted action of IAM service prefix ``service`` -> the resources it is granted on."""
    return {
        action: arns(statement)
        for statement in statements(template)
        for action in statement["Action"]
        if action.split(":")[0] == service
    }


def product_types(variants: list[dict]) -> set[str]:
    """The resource types of every product variant."""
    return {r["Type"] for variant in variants for r in variant["Resources"].values()}


def granted(template: dict) -> set[str]:
    """The actions the launch role's policies allow, lower-cased (IAM ignores case)."""
    return {
        action.lower()
        for statement in statements(template)
        if statement["Effect"] == "Allow"
        for action in statement["Action"]
    }


def product_resources(variants: list[dict], kind: str) -> dict[str, dict]:
    """The properties of the product's resources of type ``kind``, by logical id."""
    return {
        logical_id: resource.get("Properties", {})
        for variant in variants
        for logical_id, resource in variant["Resources"].items()
        if resource["Type"] == kind
    }


def trusted_services(variants: list[dict]) -> set[str]:
    """The service principals the product's roles trust, read straight from the product."""
    services = set()
    for role in product_resources(variants, "AWS::IAM::Role").values():
        for statement in role["AssumeRolePolicyDocument"]["Statement"]:
            principal = statement["Principal"]["Service"]
            services.update(principal if isinstance(principal, list) else [principal])
    return services


def role_of(variants: list[dict], role_arn: dict) -> dict:
    """The product role ``{"Fn::GetAtt": [<role>, "Arn"]}`` names."""
    logical_id, attribute = role_arn["Fn::GetAtt"]
    assert attribute == "Arn"
    return product_resources(variants, "AWS::IAM::Role")[logical_id]


def schema_permissions(resource_type: str, handlers: tuple[str, ...]) -> set[str]:
    """The permissions ``handlers`` of ``resource_type`` list, read straight from cfn-lint."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return {
        permission
        for name, handler in schema.get("handlers", {}).items()
        if name in handlers
        for permission in handler.get("permissions", [])
    }


# --- Linters ---------------------------------------------------------------------------------


def test_cfn_lint_is_clean(template):
    assert lint(template) == []


def test_cfn_lint_has_no_informational_findings(template):
    assert lint(template, informational=True) == []


def test_checkov_has_no_failed_check(template, tmp_path):
    if not CHECKOV.exists():
        pytest.fail(f"checkov is not installed at {CHECKOV}: create the .venv-checkov virtualenv")
    path = tmp_path / "portfolio.json"
    path.write_text(json.dumps(template))
    result = subprocess.run(
        [str(CHECKOV), "-f", str(path), "--framework", "cloudformation", "--skip-download",
         "--compact", "--quiet", "-o", "json"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert report["results"]["failed_checks"] == [], result.stdout
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0
    assert summary["passed"] > 0  # checkov really read the launch role and its policies
    assert result.returncode == 0, result.stderr


# --- The action table ------------------------------------------------------------------------


def test_every_product_resource_type_has_actions_or_a_reason_for_none(variants):
    table = portfolio.action_table(variants)
    assert set(table) == product_types(variants)
    for resource_type, actions in table.items():
        if resource_type in portfolio.NO_HANDLER_TYPES:
            assert actions == frozenset()
            assert not schema_permissions(resource_type, portfolio.HANDLERS)
            assert len(portfolio.NO_HANDLER_TYPES[resource_type]) > 20
        else:
            assert actions, resource_type


def test_every_handler_permission_of_the_schemas_is_granted(variants, template):
    allowed = granted(template)
    missing = {}
    for resource_type in product_types(variants):
        for permission in schema_permissions(resource_type, ("create", "read", "update", "delete")):
            if permission in portfolio.SCHEMA_PERMISSIONS_NOT_IAM:
                continue
            if permission.lower() in {a.lower() for a in launch_actions.REFUSED_ACTIONS}:
                assert permission.lower() not in allowed, permission
                continue
            action = portfolio.SCHEMA_PERMISSION_ALIASES.get(permission, permission)
            if action.lower() not in allowed:
                missing.setdefault(resource_type, []).append(permission)
    assert missing == {}


def test_extra_and_launch_actions_are_granted(template):
    allowed = granted(template)
    extras = [a for actions, _ in portfolio.EXTRA_ACTIONS.values() for a in actions]
    for action in [*extras, *portfolio.LAUNCH_ACTIONS]:
        assert action.lower() in allowed, action
    assert all(len(reason) > 20 for _, reason in portfolio.EXTRA_ACTIONS.values())


def test_schema_fixes_are_about_names_iam_does_not_know():
    iam = load_resource(AdditionalSpecs, "Policies.json")

    def known(action: str) -> bool:
        service, name = action.lower().split(":", 1)
        return name in iam.get(service, {}).get("Actions", {})

    for permission, action in portfolio.SCHEMA_PERMISSION_ALIASES.items():
        assert not known(permission) and known(action), permission
    for permission, reason in portfolio.SCHEMA_PERMISSIONS_NOT_IAM.items():
        assert not known(permission) and len(reason) > 20, permission


@pytest.mark.parametrize(
    ("resource_type", "message"),
    [
        ("AWS::SQS::Queue", "add 'sqs' to RESOURCE_SCOPES"),
        ("AWS::CloudFormation::WaitCondition", "NO_HANDLER_TYPES"),
        ("Custom::Thing", "EXTRA_ACTIONS"),
    ],
)
def test_a_resource_type_the_tables_do_not_cover_is_refused(resource_type, message):
    product = {"Resources": {"Thing": {"Type": resource_type}}}
    with pytest.raises(ValueError, match=re.escape(message)):
        portfolio.build_portfolio_template(product)


def test_a_schema_permission_iam_does_not_know_is_refused(product, monkeypatch):
    aliases = dict(portfolio.SCHEMA_PERMISSION_ALIASES)
    del aliases["s3:DeleteBucketCors"]
    monkeypatch.setattr(schema_actions, "SCHEMA_PERMISSION_ALIASES", aliases)
    with pytest.raises(ValueError, match="s3:DeleteBucketCors are no IAM actions"):
        portfolio.build_portfolio_template(product)


def test_an_unscoped_action_without_a_written_exception_is_refused(product, monkeypatch):
    exceptions = dict(portfolio.WILDCARD_RESOURCE_EXCEPTIONS)
    del exceptions["kms:CreateKey"]
    monkeypatch.setattr(scopes, "WILDCARD_RESOURCE_EXCEPTIONS", exceptions)
    with pytest.raises(ValueError, match="kms:CreateKey"):
        portfolio.build_portfolio_template(product)


def test_a_service_linked_role_the_table_does_not_name_is_refused(product, monkeypatch):
    services = dict(portfolio.SERVICE_LINKED_ROLE_SERVICES)
    del services["AWS::Cognito"]
    monkeypatch.setattr(conditioned_grants, "SERVICE_LINKED_ROLE_SERVICES", services)
    with pytest.raises(ValueError, match="add AWS::Cognito to SERVICE_LINKED_ROLE_SERVICES"):
        portfolio.build_portfolio_template(product)


def test_a_dynamic_reference_the_table_does_not_cover_is_refused(product):
    resources = {
        **product["Resources"],
        "Thing": {
            "Type": "AWS::Logs::LogGroup",
            "Properties": {"LogGroupName": "{{resolve:ssm:/x}}"},
        },
    }
    with pytest.raises(ValueError, match=r"dynamic references to ssm: add them to DYNAMIC_REF"):
        portfolio.build_portfolio_template({**product, "Resources": resources})


def test_an_unknown_aws_parameter_type_is_refused(product):
    changed = {**product, "Parameters": {"Key": {"Type": "AWS::EC2::KeyPair::KeyName"}}}
    with pytest.raises(ValueError, match="AWS::EC2::KeyPair::KeyName"):
        portfolio.build_portfolio_template(changed)


# --- The launch policy -----------------------------------------------------------------------


def test_no_statement_allows_every_action_of_a_service(template):
    for statement in statements(template):
        assert "NotAction" not in statement and "NotResource" not in statement
        for action in statement["Action"]:
            assert action != "*" and not action.endswith(":*"), statement["Sid"]
            assert "*" not in action and "?" not in action, statement["Sid"]


def test_star_resource_statements_list_only_written_exceptions(template):
    exceptions = {a.lower() for a in portfolio.WILDCARD_RESOURCE_EXCEPTIONS}
    wildcard_statements = [
        s for s in statements(template) if s["Effect"] == "Allow" and "*" in s["Resource"]
    ]
    assert wildcard_statements
    for statement in wildcard_statements:
        assert statement["Resource"] == ["*"], statement["Sid"]
        assert {a.lower() for a in statement["Action"]} <= exceptions, statement["Sid"]


def test_every_wildcard_exception_is_used_reasoned_and_unscopable(template):
    iam = load_resource(AdditionalSpecs, "Policies.json")
    on_any = {
        a.lower()
        for s in statements(template)
        if s["Resource"] == ["*"] and s["Effect"] == "Allow"
        for a in s["Action"]
    }
    for action, reason in portfolio.WILDCARD_RESOURCE_EXCEPTIONS.items():
        assert action.lower() in on_any, f"{action} is no longer needed: remove it"
        assert len(reason) > 30, action
        service, name = action.lower().split(":", 1)
        resource_types = iam[service]["Actions"][name].get("Resources")
        assert not resource_types or action in SCOPABLE_BUT_UNNAMEABLE, action


def test_scoped_statements_stay_in_this_account_or_on_the_products_buckets(template):
    # Route 53 ARNs name no account, and Route 53 has no resource-based policies: only this
    # account's hosted zones and changes can match.
    global_arns = (
        "arn:${AWS::Partition}:s3:::sc-",
        "arn:${AWS::Partition}:route53:::change/*",
    )
    for statement in statements(template):
        for arn in arns(statement):
            if arn == "*":
                continue
            assert arn.startswith("arn:${AWS::Partition}:"), arn
            assert "${AWS::AccountId}" in arn or arn.startswith(global_arns), arn
            if "${AWS::AccountId}" in arn and ":iam::" not in arn and ":cloudfront::" not in arn:
                # Aurora global clusters and CloudWatch dashboards are global (no region).
                assert (
                    "${AWS::Region}" in arn
                    or ":global-cluster:" in arn
                    or (arn.endswith(":dashboard/SC-*"))
                ), arn


def test_action_scopes_are_reasoned_and_used_alone(template):
    for action, (patterns, reason) in portfolio.ACTION_SCOPES.items():
        assert len(reason) > 30, action
        (statement,) = statements_with(template, action)
        assert statement["Action"] == [action]
        assert arns(statement) == list(patterns)


def test_roles_go_only_to_the_services_the_products_roles_trust(variants, template):
    pass_role = [s for s in statements(template) if "iam:PassRole" in s["Action"]]
    assert len(pass_role) == 1
    (statement,) = pass_role
    assert statement["Action"] == ["iam:PassRole"]
    # Only the product's own roles, by the names CloudFormation generates for their logical ids.
    roles = sorted(product_resources(variants, "AWS::IAM::Role"))
    assert statement["Resource"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/SC-*-{role}-*"}
        for role in roles
    ]
    passed = [
        "ecs-tasks.amazonaws.com",
        "events.amazonaws.com",
        "lambda.amazonaws.com",
        "monitoring.rds.amazonaws.com",
        "states.amazonaws.com",
    ]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": passed}}
    assert set(passed) == trusted_services(variants)  # derived from the trust policies


def test_conditioned_actions_appear_only_with_their_condition(template):
    owned = {owned_grants.OWNED_TAG, owned_grants.LOGICAL_ID_TAG}
    bounded = {"iam:PermissionsBoundary"}
    expected_keys = {
        "iam:createservicelinkedrole": {"iam:AWSServiceName"},
        "iam:attachrolepolicy": {"iam:PolicyARN", *bounded},
        "iam:detachrolepolicy": {"iam:PolicyARN", *bounded},
        **{action.lower(): bounded for action in conditioned_grants.BOUNDED_ROLE_ACTIONS},
        "kms:creategrant": {"kms:GrantIsForAWSResource"},
        **{action.lower(): {"kms:ViaService"} for action in portfolio.KEY_USE_ACTIONS},
        "s3:getobject": {"s3:ExistingObjectTag/servicecatalog:provisioning"},
        **{
            action.lower(): owned
            for actions, _ in owned_grants.OWNED_ONLY_ACTIONS.values()
            for action in actions
        },
        # CloudFormation tags no key: only keys with the product's aliases.
        **{a.lower(): {"kms:ResourceAliases"} for a in owned_grants.ALIASED_KEY_ACTIONS},
    }
    plain = {
        "RdsFinalSnapshotOfTheProductsDeletedCluster": (
            ["rds:DeleteDBCluster"],
            # The final snapshot the RDS provider names after the cluster's logical id.
            [ACCOUNT_REGION.format("rds") + "cluster-snapshot:sc-*-snapshot-databasecluster-*"]),
        "Ec2NewRulesOfTheProductsSecurityGroups": (
            ["ec2:AuthorizeSecurityGroupEgress", "ec2:AuthorizeSecurityGroupIngress"],
            [ACCOUNT_REGION.format("ec2") + "security-group-rule/*"]),
    }  # fmt: skip
    assert {sid for sid, *_ in owned_grants.OWNED_ONLY_PLAIN.values()} == set(plain)
    seen = set()
    for statement in statements(template):
        if statement["Sid"] in plain:  # new resources: no tag yet, change nothing alone
            assert (statement["Action"], arns(statement)) == plain[statement["Sid"]]
            continue
        for action in statement["Action"]:
            if action.lower() in expected_keys:
                seen.add(action.lower())
                keys = {k for test in statement["Condition"].values() for k in test}
                if action in portfolio.KEY_USE_ACTIONS:  # through Secrets Manager: which secret
                    keys -= {"kms:EncryptionContext:SecretARN"}
                assert keys == expected_keys[action.lower()], statement["Sid"]
    assert seen <= set(expected_keys)
    assert {"iam:createrole", "rds:deletedbcluster", "kms:schedulekeydeletion"} <= seen


def test_keys_are_used_only_through_the_products_services(template):
    rds_and_cognito, rds_secrets, allowed_secrets = statements_with(template, "kms:Decrypt")
    assert rds_and_cognito["Action"] == rds_secrets["Action"] == list(portfolio.KEY_USE_ACTIONS)
    assert arns(rds_and_cognito) == arns(rds_secrets) == [portfolio.ACCOUNT_KEYS]
    assert rds_and_cognito["Condition"] == {
        "StringEquals": {
            "kms:ViaService": [
                {"Fn::Sub": f"{service}.${{AWS::Region}}.${{AWS::URLSuffix}}"}
                for service in ("cognito-idp", "rds")
            ]
        }
    }
    # Through Secrets Manager only for the RDS-managed secrets and the secrets the admin allows.
    via_secrets_manager = {"Fn::Sub": "secretsmanager.${AWS::Region}.${AWS::URLSuffix}"}
    assert rds_secrets["Condition"] == {
        "StringEquals": {"kms:ViaService": via_secrets_manager},
        "StringLike": {"kms:EncryptionContext:SecretARN": {
            "Fn::Sub": ACCOUNT_REGION.format("secretsmanager") + "secret:rds!*"}},
    }  # fmt: skip
    assert allowed_secrets["Action"] == ["kms:Decrypt"]
    condition = allowed_secrets["Condition"]
    assert condition["StringEquals"] == {"kms:ViaService": via_secrets_manager}
    assert "AllowedSecretArnPrefixes" in json.dumps(condition["StringLike"])


def test_service_linked_roles_are_only_those_of_the_products_services(template):
    (statement,) = statements_with(template, "iam:CreateServiceLinkedRole")
    assert statement["Condition"] == {
        "StringEquals": {
            "iam:AWSServiceName": [
                "ecs.amazonaws.com",
                "ecs.application-autoscaling.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "email.cognito-idp.amazonaws.com",
                "rds.amazonaws.com",
            ]
        }
    }


def test_managed_policies_fit_iams_size_limit(template):
    policies = launch_policies(template)
    assert 1 <= len(policies) <= 10  # IAM's default quota of managed policies per role
    for logical_id, policy in resources_of(template, "AWS::IAM::ManagedPolicy").items():
        text = json.dumps(policy["Properties"]["PolicyDocument"], separators=(",", ":"))
        assert len(text) < IAM_MANAGED_POLICY_LIMIT, logical_id
        assert "Roles" not in policy["Properties"]  # attached by the role, see below
    role = template["Resources"][portfolio.LAUNCH_ROLE]["Properties"]
    assert role["ManagedPolicyArns"] == [{"Ref": k} for k in sorted(policies)]
    assert "Policies" not in role


def test_launch_role_trusts_service_catalog_as_its_guide_documents(template):
    # Service Catalog Administrator Guide, "AWS Service Catalog launch constraints": a trust
    # relationship with AWS Service Catalog; no condition key (one Service Catalog does not send
    # would refuse every launch).
    trust = template["Resources"][portfolio.LAUNCH_ROLE]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "servicecatalog.amazonaws.com"},
            "Action": ["sts:AssumeRole"],
        }
    ]


# --- The optional modes: authentication, autoscaling, DNS ------------------------------------


def test_the_product_has_the_optional_modes_types(variants):
    assert product_types(variants) >= OPTIONAL_MODE_TYPES


def test_route53_changes_only_the_hosted_zones_the_admin_allows(template):
    route53 = scope_of(template, "route53")
    assert route53 == {
        "route53:ChangeResourceRecordSets": [],
        "route53:GetChange": ["arn:${AWS::Partition}:route53:::change/*"],
        "route53:GetHostedZone": [],
        "route53:ListHostedZones": ["*"],
        "route53:ListResourceRecordSets": [],
    }
    (statement,) = statements_with(template, "route53:ChangeResourceRecordSets")
    assert statement["Resource"] == {"Fn::Split": [",", {"Fn::Join": ["", [
        "arn:*:route53:::hostedzone/",
        {"Fn::Join": [",arn:*:route53:::hostedzone/",
                      {"Fn::Split": [",", {"Ref": "AllowedHostedZoneIds"}]}]},
        "",
    ]]}]}  # fmt: skip


def test_application_autoscaling_acts_on_this_accounts_scalable_targets(variants, template):
    targets = "arn:${AWS::Partition}:application-autoscaling:${AWS::Region}:${AWS::AccountId}:"
    scaling = scope_of(template, "application-autoscaling")
    assert {"application-autoscaling:RegisterScalableTarget",
            "application-autoscaling:PutScalingPolicy",
            "application-autoscaling:PutScheduledAction",
            "application-autoscaling:DeregisterScalableTarget"} <= set(scaling)  # fmt: skip
    for action, resources in scaling.items():
        if action.split(":")[1].startswith("Describe"):
            assert resources == ["*"], action
        else:
            assert resources == [f"{targets}scalable-target/*"], action
    alarm = "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
    # The product names its dashboard after the stack; CloudFormation names its alarms.
    dashboards = "arn:${AWS::Partition}:cloudwatch::${AWS::AccountId}:dashboard/SC-*"
    cloudwatch = scope_of(template, "cloudwatch")
    assert cloudwatch.pop("cloudwatch:GetMetricData") == ["*"]
    needed = (
        "DeleteAlarms",
        "DescribeAlarms",
        "PutMetricAlarm",
        "PutDashboard",
        "DeleteDashboards",
    )
    assert {f"cloudwatch:{action}" for action in needed} <= set(cloudwatch)
    # Reads on every alarm; changes on the product's alarms, by their generated names, and on the
    # request naming no alarm (Application Auto Scaling's permission check): never
    # Application Auto Scaling's target tracking alarms, which it changes with its own role.
    own = [
        f"{alarm}SC-*-{i}-*" for i in sorted(product_resources(variants, "AWS::CloudWatch::Alarm"))
    ]
    for action, resources in cloudwatch.items():
        if action.split(":")[1].startswith(("Describe", "List")):
            assert resources == [f"{alarm}*", dashboards], action
        else:
            assert resources == [*own, alarm, dashboards], action
    # Registering an ECS service needs the caller's permission on that service: describing any
    # of this account's, updating the product's (by the names CloudFormation generates).
    ecs = scope_of(template, "ecs")
    services = "arn:${AWS::Partition}:ecs:${AWS::Region}:${AWS::AccountId}:service/"
    assert f"{services}*" in ecs["ecs:DescribeServices"]
    assert ecs["ecs:UpdateService"] == [f"{services}SC-*-EcsCluster-*/SC-*-Service-*"]
    functions = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:SC-*"
    provisioned_concurrency = scope_of(template, "lambda")
    assert provisioned_concurrency
    assert all(resources == [functions] for resources in provisioned_concurrency.values())


def test_cognito_acts_on_this_accounts_user_pools(template):
    pools = "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/*"
    cognito = scope_of(template, "cognito-idp")
    assert {"cognito-idp:CreateUserPool", "cognito-idp:CreateUserPoolClient",
            "cognito-idp:CreateUserPoolDomain", "cognito-idp:CreateResourceServer",
            "cognito-idp:DescribeUserPoolClient"} <= set(cognito)  # fmt: skip
    unscoped = {a for a, resources in cognito.items() if resources == ["*"]}
    assert unscoped == {"cognito-idp:CreateUserPool", "cognito-idp:DescribeUserPoolDomain"}
    assert all(resources == [pools] for a, resources in cognito.items() if a not in unscoped)
    # The domain handlers list CloudFront for custom domains; the product's is a prefix domain.
    assert statements_with(template, "cloudfront:UpdateDistribution") == []


def test_the_oidc_client_secret_is_readable_only_under_the_allowed_prefixes(variants, template):
    assert all("{{resolve:secretsmanager:" in json.dumps(variant) for variant in variants)
    secretsmanager = scope_of(template, "secretsmanager")
    secrets = "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:"
    assert secretsmanager.pop("secretsmanager:GetSecretValue") == []
    (statement,) = statements_with(template, "secretsmanager:GetSecretValue")
    assert statement["Resource"]["Fn::Split"][1]["Fn::Join"][1][1]["Fn::Join"][0] == "*,"
    # Everything else the product does with secrets stays on the RDS-managed ones.
    assert secretsmanager
    assert all(resources == [f"{secrets}rds!*"] for resources in secretsmanager.values())


# --- Redeployment on secret rotation: EventBridge and Step Functions -------------------------


def test_the_product_has_the_rotation_types(variants):
    assert product_types(variants) >= ROTATION_TYPES


def test_eventbridge_acts_on_rules_service_catalog_stacks_named(variants, template):
    rules = product_resources(variants, "AWS::Events::Rule")
    assert rules
    for logical_id, rule in rules.items():
        # CloudFormation names the rule, on the default event bus (ARN rule/<name>).
        assert "Name" not in rule and "EventBusName" not in rule, logical_id
        name = generated_name(SERVICE_CATALOG_STACK, logical_id, 64)
        assert len(name) <= 64 and name.startswith(SERVICE_CATALOG_STACK[:25]), name
        assert fnmatchcase(f"rule/{name}", "rule/SC-*")
    events = scope_of(template, "events")
    assert {"events:PutRule", "events:PutTargets", "events:DescribeRule",
            "events:RemoveTargets", "events:DeleteRule"} <= set(events)  # fmt: skip
    rule_arns = [ACCOUNT_REGION.format("events") + "rule/SC-*"]
    assert all(resources == rule_arns for resources in events.values()), events
    assert set(events) == {
        a for a in schema_permissions("AWS::Events::Rule", portfolio.HANDLERS)
        if a.startswith("events:")
    }  # fmt: skip


def test_eventbridge_targets_get_only_roles_that_trust_eventbridge(variants, template):
    for logical_id, rule in product_resources(variants, "AWS::Events::Rule").items():
        for target in rule["Targets"]:
            if "RoleArn" not in target and "Fn::GetAtt" in target["Arn"]:
                # A Lambda function: its own resource policy lets this rule invoke it.
                function = target["Arn"]["Fn::GetAtt"][0]
                permits = list(product_resources(variants, "AWS::Lambda::Permission").values())
                assert {
                    "Action": "lambda:InvokeFunction",
                    "Principal": "events.amazonaws.com",
                    "FunctionName": {"Fn::GetAtt": [function, "Arn"]},
                    "SourceArn": {"Fn::GetAtt": [logical_id, "Arn"]},
                } in permits, logical_id
                continue
            if "RoleArn" not in target:  # an SNS topic: its own policy lets the rule publish
                assert target["Arn"] == {"Ref": "AlarmTopic"}, logical_id
                continue
            trust = role_of(variants, target["RoleArn"])["AssumeRolePolicyDocument"]
            assert [s["Principal"] for s in trust["Statement"]] == [
                {"Service": "events.amazonaws.com"}
            ], logical_id
    (statement,) = statements_with(template, "iam:PassRole")
    assert "events.amazonaws.com" in statement["Condition"]["StringEquals"]["iam:PassedToService"]


def test_step_functions_acts_on_the_products_state_machines_by_logical_id(variants, template):
    machines = product_resources(variants, "AWS::StepFunctions::StateMachine")
    assert machines
    states = scope_of(template, "states")
    assert {"states:CreateStateMachine", "states:UpdateStateMachine",
            "states:DescribeStateMachine", "states:DeleteStateMachine"} <= set(states)  # fmt: skip
    machine_arns = [
        f"{ACCOUNT_REGION.format('states')}stateMachine:{i}-*" for i in sorted(machines)
    ]
    assert all(resources == machine_arns for resources in states.values()), states
    for logical_id, machine in machines.items():
        # Step Functions names it <logical id>-<12 random characters>, not after the stack.
        assert "StateMachineName" not in machine, logical_id
        assert len(logical_id) + portfolio.GENERATED_NAME_SUFFIX <= 80, logical_id
        # Its role goes only to Step Functions.
        trust = role_of(variants, machine["RoleArn"])["AssumeRolePolicyDocument"]
        assert [s["Principal"] for s in trust["Statement"]] == [{"Service": "states.amazonaws.com"}]


def test_state_machines_use_no_key_or_definition_the_launch_role_cannot_reach(variants):
    # The handlers list KMS key use and S3 reads for properties the product does not set: key use
    # is granted only via KEY_USE_VIA_SERVICES (not Step Functions), S3 reads only on sc-* buckets
    # and Service Catalog's copy of the template.
    assert "states" not in portfolio.KEY_USE_VIA_SERVICES
    for logical_id, machine in product_resources(
        variants, "AWS::StepFunctions::StateMachine"
    ).items():
        assert "EncryptionConfiguration" not in machine, logical_id
        assert "DefinitionS3Location" not in machine, logical_id
        assert "DefinitionString" in machine, logical_id


def test_a_long_state_machine_logical_id_is_cut_like_step_functions_cuts_it(product):
    logical_id = "M" * 75
    resources = {
        **product["Resources"],
        logical_id: product["Resources"]["RotationRedeployStateMachine"],
    }
    states = scope_of(
        to_dict(portfolio.build_portfolio_template({**product, "Resources": resources})), "states"
    )
    prefix = f"{ACCOUNT_REGION.format('states')}stateMachine:"
    assert states["states:CreateStateMachine"] == [
        f"{prefix}{'M' * 67}-*",
        f"{prefix}RotationRedeployStateMachine-*",
    ]


@pytest.mark.parametrize(
    ("logical_id", "name_property"),
    [
        ("DatabaseSecretRotationRule", "Name"),
        ("DatabaseSecretRotationRule", "EventBusName"),
        ("RotationRedeployStateMachine", "StateMachineName"),
    ],
)
def test_a_name_the_scopes_do_not_expect_is_refused(product, logical_id, name_property):
    resource = product["Resources"][logical_id]
    named = {**resource, "Properties": {**resource["Properties"], name_property: "mlflow"}}
    changed = {**product, "Resources": {**product["Resources"], logical_id: named}}
    with pytest.raises(ValueError, match=f"{logical_id}: {name_property} must stay unset"):
        portfolio.build_portfolio_template(changed)


def test_generated_names_are_reasoned():
    assert set(portfolio.GENERATED_NAME_PROPERTIES) == ROTATION_TYPES | {
        "AWS::SNS::Topic",
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        *scopes.NAMED_TYPES,
    }
    assert all(len(reason) > 30 for _, reason in portfolio.GENERATED_NAME_PROPERTIES.values())


# --- Portfolio, product and constraint -------------------------------------------------------


def test_launch_constraint_uses_the_role_after_the_association(template):
    constraint = template["Resources"][portfolio.LAUNCH_ROLE_CONSTRAINT]
    assert constraint["Type"] == "AWS::ServiceCatalog::LaunchRoleConstraint"
    assert portfolio.PORTFOLIO_PRODUCT_ASSOCIATION in constraint["DependsOn"]
    assert constraint["Properties"]["LocalRoleName"] == {"Ref": portfolio.LAUNCH_ROLE}
    assert constraint["Properties"]["PortfolioId"] == {"Ref": portfolio.PORTFOLIO}
    assert constraint["Properties"]["ProductId"] == {"Ref": portfolio.PRODUCT}


def test_product_has_one_artifact_loaded_from_the_template_url(template):
    product = template["Resources"][portfolio.PRODUCT]
    assert product["Type"] == "AWS::ServiceCatalog::CloudFormationProduct"
    (artifact,) = product["Properties"]["ProvisioningArtifactParameters"]
    assert artifact["Info"] == {"LoadTemplateFromURL": {"Ref": portfolio.PRODUCT_TEMPLATE_URL}}
    assert artifact["Name"] == {"Ref": portfolio.PRODUCT_VERSION_NAME}
    assert artifact["Type"] == "CLOUD_FORMATION_TEMPLATE"


def test_associations_wire_portfolio_product_and_principal(template):
    resources = template["Resources"]
    products = resources[portfolio.PORTFOLIO_PRODUCT_ASSOCIATION]["Properties"]
    assert products == {
        "PortfolioId": {"Ref": portfolio.PORTFOLIO},
        "ProductId": {"Ref": portfolio.PRODUCT},
    }
    principals = resources[portfolio.PORTFOLIO_PRINCIPAL_ASSOCIATION]["Properties"]
    assert principals == {
        "PortfolioId": {"Ref": portfolio.PORTFOLIO},
        "PrincipalARN": {"Ref": portfolio.PRINCIPAL_ARN},
        "PrincipalType": "IAM",
    }


def test_outputs(template):
    assert template["Outputs"] == {
        portfolio.PORTFOLIO_ID: {"Description": "Id of the portfolio",
                                 "Value": {"Ref": portfolio.PORTFOLIO}},
        portfolio.PRODUCT_ID: {"Description": "Id of the MLflow product",
                               "Value": {"Ref": portfolio.PRODUCT}},
        portfolio.LAUNCH_ROLE_ARN: {
            "Description": "ARN of the role Service Catalog launches the product as",
            "Value": {"Fn::GetAtt": [portfolio.LAUNCH_ROLE, "Arn"]},
        },
        portfolio.PERMISSIONS_BOUNDARY_ARN: {
            "Description": "ARN of the permissions boundary every role of the product carries",
            "Value": {"Ref": portfolio.PERMISSIONS_BOUNDARY},
        },
    }  # fmt: skip


# --- Parameters ------------------------------------------------------------------------------


def test_every_parameter_is_described_constrained_and_grouped(template):
    parameters = template["Parameters"]
    assert set(parameters) == {
        portfolio.PORTFOLIO_NAME, portfolio.PORTFOLIO_PROVIDER_NAME, portfolio.PRINCIPAL_ARN,
        portfolio.PRODUCT_NAME, portfolio.PRODUCT_OWNER, portfolio.PRODUCT_VERSION_NAME,
        portfolio.PRODUCT_TEMPLATE_URL,
        *(name for list_name, (name, *_) in portfolio.ALLOW_LIST_PARAMETERS.items()
          if list_name != "image_cache_secret_prefixes"),  # the network product's
        portfolio.ALLOWED_EXPOSURE, portfolio.ALLOW_DEFAULT_MLFLOW_IMAGE,
    }  # fmt: skip
    interface = template["Metadata"]["AWS::CloudFormation::Interface"]
    grouped = [p for g in interface["ParameterGroups"] for p in g["Parameters"]]
    assert sorted(grouped) == sorted(parameters)
    assert set(interface["ParameterLabels"]) == set(parameters)
    for name, parameter in parameters.items():
        assert parameter["Description"], name
        assert parameter.get("AllowedPattern") or parameter.get("AllowedValues"), name
        assert parameter["ConstraintDescription"], name
        if "Default" in parameter and "AllowedValues" in parameter:
            assert parameter["Default"] in parameter["AllowedValues"], name
        elif "Default" in parameter:
            assert re.fullmatch(parameter["AllowedPattern"], str(parameter["Default"])), name


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        (
            "ProductTemplateUrl",
            "https://bucket.s3.eu-west-1.amazonaws.com/mlflow/v0.1.0/m.json",
            True,
        ),
        ("ProductTemplateUrl", "https://my.bucket.s3.amazonaws.com/mlflow.json", True),
        ("ProductTemplateUrl", "https://s3.us-east-1.amazonaws.com/bucket/mlflow.json", True),
        ("ProductTemplateUrl", "https://bucket.s3.cn-north-1.amazonaws.com.cn/mlflow.json", True),
        ("ProductTemplateUrl", "http://bucket.s3.amazonaws.com/mlflow.json", False),
        ("ProductTemplateUrl", "https://example.com/mlflow.json", False),
        ("ProductTemplateUrl", "https://bucket.s3.amazonaws.com/", False),
        ("ProductTemplateUrl", "s3://bucket/mlflow.json", False),
        ("PrincipalArn", "arn:aws:iam::123456789012:role/DataScientist", True),
        ("PrincipalArn", "arn:aws:iam::123456789012:group/teams/ml/Scientists", True),
        ("PrincipalArn", "arn:aws-us-gov:iam::123456789012:user/alice", True),
        ("PrincipalArn", "arn:aws:iam::123456789012:policy/Admin", False),
        ("PrincipalArn", "arn:aws:iam:::role/ml-*", False),
        ("PrincipalArn", "DataScientist", False),
        ("ProductVersionName", "v0.1.0", True),
        ("ProductVersionName", "v12.0.3", True),
        ("ProductVersionName", "0.1.0", False),
        ("ProductVersionName", "v0.1", False),
        ("PortfolioName", "Data Science", True),
        ("PortfolioName", " padded", False),
        ("PortfolioName", "", False),
        ("AllowedBucketNames", "", True),
        ("AllowedBucketNames", "team-artifacts,shared.datasets", True),
        ("AllowedBucketNames", "team-artifacts,", False),
        ("AllowedBucketNames", 'a"],"x', False),  # no quote can break the Rules' JSON
        ("AllowedBucketNames", "sc-*", False),  # no IAM wildcard can widen an ARN
        (
            "AllowedSecretArnPrefixes",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/",
            True,
        ),
        (
            "AllowedSecretArnPrefixes",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:",
            False,
        ),  # a prefix names at least the start of a secret name
        (
            "AllowedSecretArnPrefixes",
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:*",
            False,
        ),
        ("AllowedSecretArnPrefixes", "mlflow/", False),
        (
            "AllowedKmsKeyArns",
            "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            True,
        ),
        ("AllowedKmsKeyArns", "arn:aws:kms:eu-west-1:123456789012:key/*", False),
        ("AllowedHostedZoneIds", "Z0123456789ABCDEFGHIJ,Z2", True),
        ("AllowedHostedZoneIds", "Z*", False),
        ("AllowedImages", "ghcr.io/mlflow/mlflow:v3.17.2-full", True),
        ("AllowedImages", f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow@{DIGEST}", True),
        ("AllowedImages", f"ghcr.io/mlflow/mlflow:v3.17.2-full,r@{DIGEST}", True),
        # ECS takes sha256 digests of exactly 64 hex digits (botocore, ContainerDefinition.image)
        ("AllowedImages", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/mlflow@sha256:abc", False),
        ("AllowedImages", "ghcr.io/mlflow/mlflow", False),  # no tag: Docker reads it as :latest
        ("AllowedImages", "registry:5000/mlflow", False),
        ("AllowedImages", "ghcr.io/mlflow/*", False),
        ("AllowedReadOnlyBucketNames", "team-datasets,b2b", True),
        ("AllowedReadOnlyBucketNames", "sc-*", False),
    ],
)
def test_parameter_patterns(template, name, value, valid):
    pattern = template["Parameters"][name]["AllowedPattern"]
    assert bool(re.fullmatch(pattern, value)) is valid


# --- The API ---------------------------------------------------------------------------------


def test_from_file_equals_from_dict(variants, template, tmp_path):
    paths = []
    for i, variant in enumerate(variants):
        paths.append(tmp_path / f"product{i}.json")
        paths[-1].write_text(json.dumps(variant))
    assert to_dict(portfolio.portfolio_template_from_file(*paths)) == template
    assert to_dict(portfolio.portfolio_template_from_file(*map(str, paths))) == template


def test_one_template_is_the_same_as_a_list_of_it(product):
    alone = to_dict(portfolio.build_portfolio_template(product))
    assert to_dict(portfolio.build_portfolio_template([product])) == alone


def test_every_variant_gets_the_actions_of_its_types(variants, template):
    allowed = granted(template)
    refused = {a.lower() for a in launch_actions.REFUSED_ACTIONS}
    for variant in variants:
        for resource_type, actions in portfolio.action_table(variant).items():
            assert {a.lower() for a in actions} - refused <= allowed, resource_type
    assert not refused & allowed


def test_no_product_template_is_refused():
    with pytest.raises(ValueError, match="no product template"):
        portfolio.build_portfolio_template([])


def test_the_build_is_stable(variants, template):
    again = to_dict(portfolio.build_portfolio_template(json.loads(json.dumps(variants))))
    assert json.dumps(again, sort_keys=True) == json.dumps(template, sort_keys=True)
