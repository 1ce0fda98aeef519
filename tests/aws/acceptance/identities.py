"""The principals of a run besides the person running it: the Service Catalog end user (AWS's
``AWSServiceCatalogEndUserFullAccess`` policy and nothing else) and the two operators (only the
policies `mlflow-cfn permissions --for deploy|publish` prints). Each is a role the person's own
principal may assume, and nobody else."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
import botocore.session
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError

from tests.aws.acceptance.names import RUN_TAG
from tests.aws.acceptance.waiting import REAL, Clock, poll

END_USER_POLICY = "AWSServiceCatalogEndUserFullAccess"


def aws_managed_policy(partition: str, name: str) -> str:
    """The ARN of an AWS managed policy."""
    return f"arn:{partition}:iam::aws:policy/{name}"


def principal_arn(identity_arn: str, iam: Any) -> str:
    """The IAM principal behind ``sts get-caller-identity``'s ARN, as a trust policy names it: a
    user or the account root as is, an assumed role by its role's ARN (with its path, GetRole).
    ValueError for a federated user, which no trust policy can name."""
    _, _, service, _, _, resource = identity_arn.split(":", 5)
    if service == "iam":
        return identity_arn
    if service == "sts" and resource.startswith("assumed-role/"):
        return str(iam.get_role(RoleName=resource.split("/")[1])["Role"]["Arn"])
    raise ValueError(
        f"{identity_arn}: run the suite as an IAM user or role (a trust policy cannot name it)"
    )


def trust_policy(principal: str) -> dict:
    """Only `principal` (the person running the suite) may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OnlyThePrincipalRunningTheAcceptanceSuite",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def create_role(
    iam: Any, name: str, principal: str, policy_arns: list[str], run: str, description: str
) -> str:
    """Create the role trusted by `principal` alone, attach `policy_arns`; its ARN."""
    role = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps(trust_policy(principal)),
        Description=description,
        MaxSessionDuration=3600,
        Tags=[{"Key": RUN_TAG, "Value": run}],
    )["Role"]
    for arn in policy_arns:
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    return str(role["Arn"])


def create_policy(iam: Any, name: str, document: dict, run: str) -> str:
    """Create a customer managed policy; its ARN."""
    policy = iam.create_policy(
        PolicyName=name,
        PolicyDocument=json.dumps(document),
        Description="mlflow-cfn acceptance suite: as `mlflow-cfn permissions` printed it",
        Tags=[{"Key": RUN_TAG, "Value": run}],
    )["Policy"]
    return str(policy["Arn"])


def assume(sts: Any, role_arn: str, session_name: str, clock: Clock = REAL) -> dict:
    """The role's credentials; a new role's trust takes a few seconds to reach STS, so
    AccessDenied is retried for up to two minutes."""

    def attempt() -> dict | None:
        try:
            return sts.assume_role(RoleArn=role_arn, RoleSessionName=session_name)["Credentials"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "AccessDenied":
                return None
            raise

    credentials: dict | None = poll(
        attempt,
        lambda c: c is not None,
        what=f"assume {role_arn}",
        timeout=120,
        every=5,
        clock=clock,
    )
    assert credentials is not None
    return credentials


#: The error codes of a call IAM does not (yet) allow.
DENIED = ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation")


def wait_allowed(call: Callable[[], Any], what: str, clock: Clock = REAL) -> None:
    """Wait until `call` is allowed: a role's new policies take a few seconds to apply everywhere
    (IAM is eventually consistent), and an operator's first call must not fail for that."""

    def attempt() -> bool:
        try:
            call()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in DENIED:
                return False
            raise
        return True

    poll(attempt, bool, what=what, timeout=120, every=5, clock=clock)


def credentials_environment(credentials: dict) -> dict[str, str | None]:
    """Environment variables that make a child process (an `mlflow-cfn` command) act as the
    assumed role: the key, and no profile that would take precedence."""
    return {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
        "AWS_PROFILE": None,
        "AWS_DEFAULT_PROFILE": None,
    }


class RoleSession:
    """boto3 clients acting as an assumed role, whose credentials renew themselves before they
    run out (botocore's refreshable credentials): role chaining caps a session at one hour, and
    the Service Catalog steps wait longer than that."""

    def __init__(self, sts: Any, role_arn: str, region: str, session_name: str) -> None:
        self.sts, self.role_arn, self.session_name = sts, role_arn, session_name
        credentials = RefreshableCredentials.create_from_metadata(
            metadata=self._assumed(), refresh_using=self._assumed, method="sts-assume-role"
        )
        core = botocore.session.get_session()
        core._credentials = credentials  # botocore's documented way to hand a session these
        core.set_config_variable("region", region)
        self.session = boto3.Session(botocore_session=core)
        self._lock = threading.Lock()

    def _assumed(self) -> dict[str, str]:
        credentials = assume(self.sts, self.role_arn, self.session_name)
        return {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "token": credentials["SessionToken"],
            "expiry_time": credentials["Expiration"].isoformat(),
        }

    def client(self, service: str) -> Any:
        """A client of `service` as the role (threads may share the RoleSession)."""
        with self._lock:
            return self.session.client(service)
