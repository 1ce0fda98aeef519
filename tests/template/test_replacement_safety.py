"""A stack update never loses data: released names stay, stateful resources are never replaced.

``released.json`` records what released templates have deployed (mlflow-cfn 0.1.0): logical IDs
with their types, Parameter, Condition and Output names, and in ``createOnly`` the create-only
property values of the guarded resources (`mlflow_cfn.cfn.create_only`). Add entries at each
release; never remove or change one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from mlflow_cfn.cfn.create_only import (
    create_only_changes,
    create_only_properties,
    create_only_snapshot,
    free_form_parameters_feeding_create_only,
    guarded_resources,
    stateful_resources,
)

RELEASED = json.loads(Path(__file__).with_name("released.json").read_text())
NAME_SECTIONS = ("Resources", "Parameters", "Conditions", "Outputs")

#: Why a released name must stay, per template section.
WHY_KEEP = {
    "Resources": "CloudFormation deletes a resource whose logical ID leaves the template (a "
    "renamed one is a new resource: the old is deleted, the new starts empty)",
    "Parameters": "updates of deployed stacks and Service Catalog provisioned products that pass "
    "it, or keep its previous value, fail: the parameter does not exist in the template",
    "Conditions": "condition names are public API; tooling and documents that name them break",
    "Outputs": "scripts and provisioned-product users that read the output break",
}

REPLACED = "CloudFormation would replace the resource"


def disappeared(released: dict, template: dict) -> list[str]:
    """One line per released name the template no longer has, saying why that is dangerous."""
    lines = []
    for section in NAME_SECTIONS:
        present = template.get(section, {})
        for name in released[section]:
            if name in present:
                continue
            line = f"{section} {name} was released in {released['lastRelease']} and is gone: "
            line += WHY_KEEP[section]
            if section == "Resources" and name == "DatabaseCluster":
                line += "; for DatabaseCluster that is a new, empty database"
            lines.append(line)
    return lines


def retyped(released: dict, template: dict) -> list[str]:
    """One line per released resource whose type changed (a new resource replaces it)."""
    resources = template["Resources"]
    return [
        f"{name} was released as {kind} and is now {resources[name]['Type']}: CloudFormation "
        "would delete it and create a new resource"
        for name, kind in released["Resources"].items()
        if name in resources and resources[name]["Type"] != kind
    ]


def policy_problems(template: dict) -> list[str]:
    """One line per stateful resource that a delete or a replacement would destroy."""
    problems = []
    for logical_id in stateful_resources(template):
        resource = template["Resources"][logical_id]
        wanted = (
            ("Snapshot",) if resource["Type"] == "AWS::RDS::DBCluster" else ("Retain", "Snapshot")
        )
        for policy in ("DeletionPolicy", "UpdateReplacePolicy"):
            # DeletionPolicy attribute: RetainExceptOnCreate "behaves like Retain for stack
            # operations, except for the stack operation that initially created the resource".
            extra = (
                ("RetainExceptOnCreate",) if policy == "DeletionPolicy" and len(wanted) > 1 else ()
            )
            if resource.get(policy) not in (*wanted, *extra):
                problems.append(
                    f"{logical_id} ({resource['Type']}): {policy} is "
                    f"{resource.get(policy, '(not set, so Delete)')}, must be {' or '.join(wanted)}"
                )
    return problems


# --- (1) released names and types ------------------------------------------------------------


def test_released_names_are_still_in_the_template(default_template):
    gone = disappeared(RELEASED, default_template)
    assert not gone, "released names must never be removed or renamed:\n" + "\n".join(gone)


def test_released_resources_keep_their_type(default_template):
    changed = retyped(RELEASED, default_template)
    assert not changed, "\n".join(changed)


def test_a_removed_name_is_reported_with_the_danger(default_template):
    template = copy.deepcopy(default_template)
    del template["Resources"]["DatabaseCluster"]
    del template["Outputs"]["TrackingUri"]
    template["Resources"]["LogGroup"]["Type"] = "AWS::Logs::LogStream"
    release = RELEASED["lastRelease"]
    assert disappeared(RELEASED, template) == [
        f"Resources DatabaseCluster was released in {release} and is gone: "
        + WHY_KEEP["Resources"]
        + "; for DatabaseCluster that is a new, empty database",
        f"Outputs TrackingUri was released in {release} and is gone: " + WHY_KEEP["Outputs"],
    ]
    assert retyped(RELEASED, template) == [
        "LogGroup was released as AWS::Logs::LogGroup and is now AWS::Logs::LogStream: "
        "CloudFormation would delete it and create a new resource"
    ]


# --- (2) the create-only library -------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "expected"),
    [
        (
            "AWS::RDS::DBCluster",
            [
                "DBSubnetGroupName", "DatabaseName", "EngineMode", "KmsKeyId", "MasterUsername",
                "SnapshotIdentifier", "StorageEncrypted",
            ],
        ),
        ("AWS::RDS::DBSubnetGroup", ["DBSubnetGroupName"]),
        ("AWS::S3::Bucket", ["BucketName"]),
        ("AWS::KMS::Key", ["KeySpec", "KeyUsage"]),
        ("AWS::Logs::LogGroup", ["LogGroupName"]),
        ("AWS::SecretsManager::Secret", ["Name"]),
    ],
)  # fmt: skip
def test_known_create_only_properties_are_found(resource_type, expected):
    found = create_only_properties(resource_type)
    assert [name for name in expected if (name,) not in found] == []


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="AWS::Nope::Thing: no such resource type"):
        create_only_properties("AWS::Nope::Thing")


def test_guarded_resources_include_what_the_cluster_refers_to(default_template):
    """DBSubnetGroupName is create-only and is Ref DatabaseSubnetGroup: a replaced subnet group
    (new name) replaces the cluster, so the subnet group is guarded as well."""
    guarded = guarded_resources(default_template)
    assert "DatabaseSubnetGroup" in guarded
    assert set(stateful_resources(default_template)) < set(guarded)


def test_nested_and_list_paths_are_compared():
    old = {
        "Resources": {
            "Provider": {
                "Type": "AWS::ECS::CapacityProvider",
                "Properties": {
                    "AutoScalingGroupProvider": {
                        "AutoScalingGroupArn": "arn:aws:autoscaling:1",
                        "ManagedScaling": {"Status": "ENABLED"},
                    }
                },
            },
            "Setup": {
                "Type": "AWS::SSMQuickSetup::ConfigurationManager",
                "Properties": {"ConfigurationDefinitions": [{"Type": "A"}, {"Type": "B"}]},
            },
        }
    }
    new = copy.deepcopy(old)
    provider = new["Resources"]["Provider"]["Properties"]["AutoScalingGroupProvider"]
    provider["AutoScalingGroupArn"] = "arn:aws:autoscaling:2"
    provider["ManagedScaling"]["Status"] = "DISABLED"  # updatable: not reported
    new["Resources"]["Setup"]["Properties"]["ConfigurationDefinitions"][1]["Type"] = "C"
    assert create_only_changes(old, new, ["Provider", "Setup"]) == [
        "Provider (AWS::ECS::CapacityProvider): create-only property "
        'AutoScalingGroupProvider/AutoScalingGroupArn changed from "arn:aws:autoscaling:1" to '
        f'"arn:aws:autoscaling:2": {REPLACED}',
        "Setup (AWS::SSMQuickSetup::ConfigurationManager): create-only property "
        f'ConfigurationDefinitions/1/Type changed from "B" to "C": {REPLACED}',
    ]


# --- (3a) no create-only value of a guarded resource changes between releases ----------------


def test_create_only_values_are_those_released(default_template):
    released = {
        "Resources": RELEASED["createOnly"],
        "Parameters": {name: {} for name in RELEASED["Parameters"]},
    }
    changes = create_only_changes(released, default_template, RELEASED["createOnly"])
    assert not changes, (
        "a stack update from the released template would replace resources that hold data:\n"
        + "\n".join(changes)
    )


def test_every_released_guarded_resource_has_recorded_create_only_values(default_template):
    released = RELEASED["Resources"]
    unrecorded = [
        logical_id
        for logical_id in guarded_resources(default_template)
        if logical_id in released and logical_id not in RELEASED["createOnly"]
    ]
    snapshot = create_only_snapshot(default_template, unrecorded)
    assert not unrecorded, (
        "record these create-only values in released.json's createOnly section:\n"
        + json.dumps(snapshot, indent=2)
    )
    mismatched = [
        name
        for name, entry in RELEASED["createOnly"].items()
        if released.get(name) != entry["Type"]
    ]
    assert not mismatched, f"createOnly entries whose Type differs from Resources: {mismatched}"


def test_a_changed_create_only_value_is_reported(default_template):
    new = copy.deepcopy(default_template)
    new["Resources"]["DatabaseCluster"]["Properties"]["DatabaseName"] = "tracking"
    new["Resources"]["DatabaseCluster"]["Properties"]["EngineMode"] = "provisioned"
    new["Resources"]["DatabaseKey"]["Properties"]["KeySpec"] = "RSA_2048"
    del new["Resources"]["LogBucket"]
    new["Resources"]["LogGroup"]["Type"] = "AWS::Logs::LogStream"
    ids = ["DatabaseCluster", "DatabaseKey", "LogBucket", "LogGroup"]
    assert create_only_changes(default_template, new, ids) == [
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property DatabaseName changed from "
        f'"mlflow" to "tracking": {REPLACED}',
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property EngineMode changed from "
        f'(not set) to "provisioned": {REPLACED}',
        "DatabaseKey (AWS::KMS::Key): create-only property KeySpec changed from (not set) to "
        '"RSA_2048": the stack update would fail: KMS cannot change it on an existing key',
        "LogBucket (AWS::S3::Bucket): missing from the new template: CloudFormation would "
        "delete the resource",
        f"LogGroup: type changed from AWS::Logs::LogGroup to AWS::Logs::LogStream: {REPLACED}",
    ]


# --- (3b) no create-only value of a guarded resource follows a free-form parameter -----------


def test_no_create_only_value_follows_a_free_form_parameter(default_template):
    fed = free_form_parameters_feeding_create_only(default_template)
    assert not fed, (
        "a stack update with a new parameter value would replace resources that hold data:\n"
        + "\n".join(fed)
    )


def test_a_free_form_parameter_feeding_a_create_only_value_is_reported(default_template):
    new = copy.deepcopy(default_template)
    parameters, conditions = new["Parameters"], new.setdefault("Conditions", {})
    parameters["DatabaseKmsKeyArn"] = {"Type": "String", "Default": ""}
    parameters["SubnetGroupName"] = {"Type": "String", "Default": "mlflow"}
    parameters["DatabaseEngineMode"] = {
        "Type": "String",
        "Default": "provisioned",
        "AllowedValues": ["provisioned"],
    }
    conditions["UseOwnSubnetGroupName"] = {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "SubnetGroupName"}, ""]}]
    }
    cluster = new["Resources"]["DatabaseCluster"]["Properties"]
    cluster["KmsKeyId"] = {"Ref": "DatabaseKmsKeyArn"}
    cluster["EngineMode"] = {"Ref": "DatabaseEngineMode"}  # a listed value: a deliberate choice
    new["Resources"]["DatabaseSubnetGroup"]["Properties"]["DBSubnetGroupName"] = {
        "Fn::If": ["UseOwnSubnetGroupName", "mlflow-db", {"Ref": "AWS::NoValue"}]
    }
    assert free_form_parameters_feeding_create_only(new) == [
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property KmsKeyId follows free-form "
        f"parameter DatabaseKmsKeyArn (no AllowedValues): a new value means {REPLACED}",
        "DatabaseSubnetGroup (AWS::RDS::DBSubnetGroup): create-only property DBSubnetGroupName "
        "follows free-form parameter SubnetGroupName (no AllowedValues): a new value means "
        f"{REPLACED}",
    ]
    assert create_only_changes(default_template, new, ["DatabaseCluster"]) == [
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property EngineMode changed from "
        '(not set) to {"Ref": "DatabaseEngineMode"} (new parameters at their defaults: '
        f'"provisioned"): {REPLACED}',
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property KmsKeyId changed from "
        '{"Ref": "DatabaseKey"} to {"Ref": "DatabaseKmsKeyArn"} (new parameters at their '
        f'defaults: ""): {REPLACED}',
    ]


def test_a_literal_moved_into_a_new_parameter_with_that_default_is_no_change(default_template):
    """An update gives a new parameter its Default: same value, no replacement."""
    old = copy.deepcopy(default_template)
    old["Resources"]["DatabaseCluster"]["Properties"]["DatabaseName"] = "mlflow"
    new = copy.deepcopy(old)
    new["Parameters"]["DatabaseNameChoice"] = {
        "Type": "String",
        "Default": "mlflow",
        "AllowedValues": ["mlflow"],
    }
    new["Resources"]["DatabaseCluster"]["Properties"]["DatabaseName"] = {
        "Ref": "DatabaseNameChoice"
    }
    assert create_only_changes(old, new, ["DatabaseCluster"]) == []
    new["Parameters"]["DatabaseNameChoice"]["Default"] = "tracking"
    assert create_only_changes(old, new, ["DatabaseCluster"]) == [
        "DatabaseCluster (AWS::RDS::DBCluster): create-only property DatabaseName changed from "
        '"mlflow" to {"Ref": "DatabaseNameChoice"} (new parameters at their defaults: '
        f'"tracking"): {REPLACED}'
    ]


# --- (3c) stateful resources survive a delete and a replacement ------------------------------


def test_stateful_resources_are_retained_or_snapshotted(default_template):
    problems = policy_problems(default_template)
    assert not problems, "\n".join(problems)


def test_a_missing_retention_policy_is_reported(default_template):
    template = copy.deepcopy(default_template)
    del template["Resources"]["ArtifactBucket"]["UpdateReplacePolicy"]
    template["Resources"]["DatabaseCluster"]["DeletionPolicy"] = "Retain"
    assert policy_problems(template) == [
        "ArtifactBucket (AWS::S3::Bucket): UpdateReplacePolicy is (not set, so Delete), must be "
        "Retain or Snapshot",
        "DatabaseCluster (AWS::RDS::DBCluster): DeletionPolicy is Retain, must be Snapshot",
    ]
