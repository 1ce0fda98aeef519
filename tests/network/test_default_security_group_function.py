"""The function that strips the VPC's default security group, run as Lambda would run it: the real
EC2 client model (botocore's Stubber checks every request against it) and a stand-in for the
``cfnresponse`` module Lambda provides to inline code."""

from __future__ import annotations

import importlib
import sys
import types

import boto3
import pytest
from botocore.stub import Stubber

from mlflow_cfn.network.default_security_group import handler_source

GROUP = "sg-0123456789abcdef0"
ACCOUNT = "123456789012"
INGRESS = [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": GROUP, "UserId": ACCOUNT}]}]
EGRESS = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]


@pytest.fixture
def module(monkeypatch):
    """The handler module with a recording cfnresponse."""
    sent = []
    fake = types.SimpleNamespace(
        SUCCESS="SUCCESS",
        FAILED="FAILED",
        send=lambda event, context, status, data, physical_id, reason=None: sent.append(
            (status, physical_id, reason)
        ),
    )
    monkeypatch.setitem(sys.modules, "cfnresponse", fake)
    name = "mlflow_cfn.network.functions.restrict_default_security_group"
    monkeypatch.delitem(sys.modules, name, raising=False)
    loaded = importlib.import_module(name)
    loaded.sent = sent
    return loaded


@pytest.fixture
def ec2(no_real_aws):
    client = boto3.client("ec2", region_name="eu-west-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def event(request_type: str, physical_id: str | None = None) -> dict:
    base = {
        "RequestType": request_type,
        "ResourceProperties": {"DefaultSecurityGroupId": GROUP, "AccountId": ACCOUNT},
    }
    return {**base, "PhysicalResourceId": physical_id} if physical_id else base


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_revoke_both_default_rules(module, ec2, request_type):
    client, stubber = ec2
    stubber.add_response(
        "revoke_security_group_ingress", {"Return": True},
        {"GroupId": GROUP, "IpPermissions": INGRESS},
    )  # fmt: skip
    stubber.add_response(
        "revoke_security_group_egress", {"Return": True},
        {"GroupId": GROUP, "IpPermissions": EGRESS},
    )  # fmt: skip
    module.handler(event(request_type), None, ec2=client)
    assert module.sent == [("SUCCESS", f"restrict-{GROUP}", None)]


def test_rules_already_gone_are_fine(module, ec2):
    client, stubber = ec2
    for operation in ("revoke_security_group_ingress", "revoke_security_group_egress"):
        stubber.add_client_error(operation, "InvalidPermission.NotFound", "rule not found")
    module.handler(event("Update", "restrict-old"), None, ec2=client)
    assert module.sent == [("SUCCESS", "restrict-old", None)]


def test_any_other_error_fails_the_resource_with_its_reason(module, ec2):
    client, stubber = ec2
    stubber.add_client_error(
        "revoke_security_group_ingress", "UnauthorizedOperation", "not allowed"
    )
    module.handler(event("Create"), None, ec2=client)
    ((status, _, reason),) = module.sent
    assert status == "FAILED" and "UnauthorizedOperation" in reason


def test_delete_changes_nothing(module, ec2):
    client, _ = ec2  # no stubbed response: any call would fail the test
    module.handler(event("Delete", f"restrict-{GROUP}"), None, ec2=client)
    assert module.sent == [("SUCCESS", f"restrict-{GROUP}", None)]


def test_the_template_embeds_this_very_code():
    from tests.network.modes import template

    function = template()["Resources"]["DefaultSecurityGroupRestrictionFunction"]["Properties"]
    assert function["Code"]["ZipFile"] == handler_source()
    assert function["Handler"] == "index.handler"  # inline code is saved as index.py
    assert "def handler(event, context" in handler_source()
