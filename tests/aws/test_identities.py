"""The run's principals: the end user's role holds AWS's Service Catalog end-user policy and
nothing else, every role trusts the person running the suite alone, and assuming waits out IAM's
propagation."""

from __future__ import annotations

import datetime
import json

import pytest

from tests.aws.acceptance import identities
from tests.aws.acceptance.names import RUN_TAG
from tests.aws.stubs import ACCOUNT, FakeClock, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")

CALLER_ROLE = f"arn:aws:iam::{ACCOUNT}:role/team/Maintainer"
END_USER_ARN = f"arn:aws:iam::{ACCOUNT}:role/mfa2612071530-end-user"
LATER = datetime.datetime(2026, 12, 7, 16, 30, tzinfo=datetime.UTC)
LATER_DELTA = datetime.timedelta(hours=1)


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def test_the_caller_is_trusted_by_its_iam_principal(aws):
    aws.expect(
        "iam",
        "get_role",
        {"RoleName": "Maintainer"},
        {
            "Role": {
                "Path": "/team/",
                "RoleName": "Maintainer",
                "RoleId": "AROAEXAMPLEEXAMPLE1",
                "Arn": CALLER_ROLE,
                "CreateDate": LATER,
            }
        },
    )
    assumed = f"arn:aws:sts::{ACCOUNT}:assumed-role/Maintainer/someone@example.com"
    assert identities.principal_arn(assumed, aws("iam")) == CALLER_ROLE
    user = f"arn:aws:iam::{ACCOUNT}:user/maintainer"
    assert identities.principal_arn(user, aws("iam")) == user
    with pytest.raises(ValueError, match="IAM user or role"):
        identities.principal_arn(f"arn:aws:sts::{ACCOUNT}:federated-user/bob", aws("iam"))


def test_the_end_user_role_holds_the_service_catalog_end_user_policy_only(aws):
    policy = identities.aws_managed_policy("aws", identities.END_USER_POLICY)
    assert policy == "arn:aws:iam::aws:policy/AWSServiceCatalogEndUserFullAccess"
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThePrincipalRunningTheAcceptanceSuite",
                "Effect": "Allow",
                "Principal": {"AWS": CALLER_ROLE},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = {
        "Path": "/",
        "RoleName": "mfa2612071530-end-user",
        "RoleId": "AROAEXAMPLEEXAMPLE2",
        "Arn": END_USER_ARN,
        "CreateDate": LATER,
    }
    aws.expect(
        "iam",
        "create_role",
        {
            "RoleName": "mfa2612071530-end-user",
            "AssumeRolePolicyDocument": json.dumps(trust),
            "Description": "Service Catalog end user",
            "MaxSessionDuration": 3600,
            "Tags": [{"Key": RUN_TAG, "Value": "mfa2612071530"}],
        },
        {"Role": role},
    )
    aws.expect(
        "iam", "attach_role_policy", {"RoleName": "mfa2612071530-end-user", "PolicyArn": policy}
    )
    arn = identities.create_role(
        aws("iam"),
        "mfa2612071530-end-user",
        CALLER_ROLE,
        [policy],
        "mfa2612071530",
        "Service Catalog end user",
    )
    assert arn == END_USER_ARN


def test_an_operator_policy_is_created_as_printed(aws):
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
    }
    aws.expect(
        "iam",
        "create_policy",
        {
            "PolicyName": "mfa-deploy-1",
            "PolicyDocument": json.dumps(document),
            "Description": "mlflow-cfn acceptance suite: as `mlflow-cfn permissions` printed it",
            "Tags": [{"Key": RUN_TAG, "Value": "mfa"}],
        },
        {"Policy": {"Arn": f"arn:aws:iam::{ACCOUNT}:policy/mfa-deploy-1"}},
    )
    assert identities.create_policy(aws("iam"), "mfa-deploy-1", document, "mfa").endswith(
        ":policy/mfa-deploy-1"
    )


def test_assuming_a_new_role_waits_for_its_trust(aws):
    call = {"RoleArn": END_USER_ARN, "RoleSessionName": "end-user"}
    aws.fail("sts", "assume_role", "AccessDenied", 403, call)
    credentials = {
        "AccessKeyId": "ASIAEXAMPLEEXAMPLE00",
        "SecretAccessKey": "secret",
        "SessionToken": "token",
        "Expiration": LATER,
    }
    aws.expect("sts", "assume_role", call, {"Credentials": credentials})
    time = FakeClock()
    assert identities.assume(aws("sts"), END_USER_ARN, "end-user", time.clock) == credentials
    assert time.slept == [5]
    environment = identities.credentials_environment(credentials)
    assert environment["AWS_SESSION_TOKEN"] == "token" and environment["AWS_PROFILE"] is None


def test_other_refusals_are_not_waited_out(aws):
    call = {"RoleArn": END_USER_ARN, "RoleSessionName": "end-user"}
    aws.fail("sts", "assume_role", "InvalidClientTokenId", 403, call)
    with pytest.raises(Exception, match="InvalidClientTokenId"):
        identities.assume(aws("sts"), END_USER_ARN, "end-user", FakeClock().clock)


def test_the_end_users_clients_renew_their_credentials(aws):
    call = {"RoleArn": END_USER_ARN, "RoleSessionName": "end-user"}

    def assumed(key: str, expires: datetime.datetime) -> dict:
        return {
            "Credentials": {
                "AccessKeyId": key,
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": expires,
            }
        }

    now = datetime.datetime.now(datetime.UTC)
    aws.expect("sts", "assume_role", call, assumed("ASIAFIRSTFIRSTFIRST0", now))  # expired at once
    aws.expect("sts", "assume_role", call, assumed("ASIASECONDSECONDSEC0", now + LATER_DELTA))
    session = identities.RoleSession(aws("sts"), END_USER_ARN, "eu-west-1", "end-user")
    client = session.client("servicecatalog")
    assert client.meta.region_name == "eu-west-1"
    frozen = session.session.get_credentials().get_frozen_credentials()
    assert frozen.access_key == "ASIASECONDSECONDSEC0"  # renewed when read, as every call reads


def test_an_operators_policies_are_waited_for(aws):
    call = {"StackName": "mfa2612071530-net"}
    aws.fail("cloudformation", "describe_stacks", "AccessDenied", 403, call)
    aws.expect("cloudformation", "describe_stacks", call, {"Stacks": []})
    time = FakeClock()
    cfn = aws("cloudformation")
    identities.wait_allowed(
        lambda: cfn.describe_stacks(StackName="mfa2612071530-net"), "the deployer", time.clock
    )
    assert time.slept == [5]
    aws.fail("cloudformation", "describe_stacks", "ValidationError", 400, call)
    with pytest.raises(Exception, match="ValidationError"):
        identities.wait_allowed(lambda: cfn.describe_stacks(StackName="mfa2612071530-net"), "x")
