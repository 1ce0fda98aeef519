"""The end user's Service Catalog calls and the admin's second version, as the Stubber's models
say they are made; a failed record is told with its errors."""

from __future__ import annotations

import pytest

from tests.aws.acceptance import catalog
from tests.aws.stubs import FakeClock, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")

TARGET = catalog.Launchable("prod-abc", "pa-v1", "lpv3-path")
PARAMETERS = {"VpcId": "vpc-1", "DesiredCount": "0"}
SENT = [{"Key": "DesiredCount", "Value": "0"}, {"Key": "VpcId", "Value": "vpc-1"}]


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def test_the_end_user_finds_the_version_and_its_launch_path(aws):
    aws.expect(
        "servicecatalog",
        "describe_product",
        {"Id": "prod-abc"},
        {
            "ProvisioningArtifacts": [
                {"Id": "pa-v1", "Name": "v1.0.0"},
                {"Id": "pa-v2", "Name": "v2.0.0"},
            ]
        },
    )
    aws.expect(
        "servicecatalog",
        "list_launch_paths",
        {"ProductId": "prod-abc"},
        {"LaunchPathSummaries": [{"Id": "lpv3-path", "Name": "mfa portfolio"}]},
    )
    assert catalog.launchable(aws("servicecatalog"), "prod-abc", "v1.0.0") == TARGET


def test_a_missing_version_is_named(aws):
    aws.expect(
        "servicecatalog",
        "describe_product",
        {"Id": "prod-abc"},
        {"ProvisioningArtifacts": [{"Id": "pa-v1", "Name": "v1.0.0"}]},
    )
    with pytest.raises(RuntimeError, match=r"no version v2.0.0: \['v1.0.0'\]"):
        catalog.launchable(aws("servicecatalog"), "prod-abc", "v2.0.0")


def test_launch_update_and_terminate(aws):
    aws.expect(
        "servicecatalog",
        "provision_product",
        {
            "ProductId": "prod-abc",
            "ProvisioningArtifactId": "pa-v1",
            "PathId": "lpv3-path",
            "ProvisionedProductName": "mfa-product",
            "ProvisioningParameters": SENT,
            "ProvisionToken": "mfa-launch",
        },
        {"RecordDetail": {"RecordId": "rec-1", "ProvisionedProductId": "pp-1"}},
    )
    aws.expect(
        "servicecatalog",
        "update_provisioned_product",
        {
            "ProvisionedProductId": "pp-1",
            "ProductId": "prod-abc",
            "ProvisioningArtifactId": "pa-v1",
            "PathId": "lpv3-path",
            "ProvisioningParameters": SENT,
            "UpdateToken": "mfa-update",
        },
        {"RecordDetail": {"RecordId": "rec-2"}},
    )
    aws.expect(
        "servicecatalog",
        "terminate_provisioned_product",
        {"ProvisionedProductId": "pp-1", "TerminateToken": "mfa-terminate"},
        {"RecordDetail": {"RecordId": "rec-3"}},
    )
    sc = aws("servicecatalog")
    launched = catalog.provision(sc, TARGET, "mfa-product", PARAMETERS, "mfa-launch")
    assert launched["ProvisionedProductId"] == "pp-1"
    assert catalog.update(sc, "pp-1", TARGET, PARAMETERS, "mfa-update")["RecordId"] == "rec-2"
    assert catalog.terminate(sc, "pp-1", "mfa-terminate")["RecordId"] == "rec-3"


def test_a_failed_record_names_the_refusal(aws):
    errors = [{"Code": "CFN", "Description": "ecs:UpdateService AccessDenied"}]
    aws.expect(
        "servicecatalog",
        "describe_record",
        {"Id": "rec-2"},
        {"RecordDetail": {"RecordId": "rec-2", "Status": "IN_PROGRESS_IN_ERROR"}},
    )
    aws.expect(
        "servicecatalog",
        "describe_record",
        {"Id": "rec-2"},
        {"RecordDetail": {"RecordId": "rec-2", "Status": "FAILED", "RecordErrors": errors}},
    )
    with pytest.raises(RuntimeError, match="update: CFN: ecs:UpdateService AccessDenied"):
        catalog.succeeded(aws("servicecatalog"), {"RecordId": "rec-2"}, "update", FakeClock().clock)


def test_the_admin_adds_a_version_and_waits_for_it(aws):
    url = "https://bkt.s3.eu-west-1.amazonaws.com/mlflow-cfn/templates/abc.json"
    aws.expect(
        "servicecatalog",
        "create_provisioning_artifact",
        {
            "ProductId": "prod-abc",
            "Parameters": {
                "Name": "v2.0.0",
                "Description": catalog.VERSION_DESCRIPTION,
                "Info": {"LoadTemplateFromURL": url},
                "Type": "CLOUD_FORMATION_TEMPLATE",
            },
            "IdempotencyToken": "mfa-version-2",
        },
        {"ProvisioningArtifactDetail": {"Id": "pa-v2"}, "Status": "CREATING"},
    )
    query = {"ProductId": "prod-abc", "ProvisioningArtifactId": "pa-v2"}
    aws.expect("servicecatalog", "describe_provisioning_artifact", query, {"Status": "CREATING"})
    aws.expect("servicecatalog", "describe_provisioning_artifact", query, {"Status": "AVAILABLE"})
    artifact = catalog.add_version(
        aws("servicecatalog"), "prod-abc", "v2.0.0", url, "mfa-version-2", FakeClock().clock
    )
    assert artifact == "pa-v2"


def test_what_the_end_user_may_launch(aws):
    aws.expect(
        "servicecatalog",
        "search_products",
        {"Filters": {"FullTextSearch": ["mfa MLflow"]}},
        {"ProductViewSummaries": [{"Name": "mfa MLflow"}, {"Name": "mfa MLflow published"}]},
    )
    assert catalog.visible_products(aws("servicecatalog"), "mfa MLflow") == [
        "mfa MLflow",
        "mfa MLflow published",
    ]
