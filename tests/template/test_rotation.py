"""Rotation-safe credentials: when RDS rotates the database secret, the service is redeployed
(new tasks read the new password) without a person acting, with least-privilege roles."""

from __future__ import annotations

import json

from tests.template.modes import HTTPS, stack

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!cluster-abc-AbCdEf"
SERVICE_ARN = "arn:aws:ecs:eu-west-1:123456789012:service/mlflow-cluster/mlflow-service"


def evaluated(**parameters):
    from mlflow_cfn.cfn.evaluate import evaluate
    from tests.template.modes import REQUIRED, template

    return evaluate(
        template(),
        {**REQUIRED, **parameters},
        region="eu-west-1",
        attributes={
            "DatabaseCluster.MasterUserSecret.SecretArn": SECRET,
            "Service.Name": "mlflow-service",
        },
        physical_ids={
            "Service": SERVICE_ARN,
            "EcsCluster": "mlflow-cluster",
            "RotationRedeployStateMachine": "arn:aws:states:eu-west-1:123456789012:stateMachine:x",
        },
    )


def test_the_rule_matches_this_secret_rotating_and_nothing_else():
    rule = evaluated().resource("DatabaseSecretRotationRule")["Properties"]
    assert rule["State"] == "ENABLED"
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.secretsmanager"]
    by_event = {tuple(alt["eventName"]): alt for alt in pattern["detail"]["$or"]}
    assert by_event[("RotationSucceeded",)]["additionalEventData"] == {"SecretId": [SECRET]}
    assert by_event[("PutSecretValue", "UpdateSecret")]["requestParameters"] == {
        "secretId": [SECRET]
    }
    (target,) = rule["Targets"]
    assert target["Arn"] == "arn:aws:states:eu-west-1:123456789012:stateMachine:x"
    assert target["RoleArn"] == "<RotationEventsRole.Arn>"


def test_the_state_machine_forces_a_new_deployment_of_this_service():
    machine = evaluated().resource("RotationRedeployStateMachine")["Properties"]
    definition = json.loads(machine["DefinitionString"])  # Fn::Sub applied
    (state,) = definition["States"].values()
    assert state["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
    assert state["Parameters"] == {
        "Cluster": "${Cluster}",
        "Service": "${Service}",
        "ForceNewDeployment": True,
    }
    assert machine["DefinitionSubstitutions"] == {
        "Cluster": "mlflow-cluster",
        "Service": "mlflow-service",
    }
    assert state["Retry"][0]["MaxAttempts"] >= 3


def test_the_roles_can_do_exactly_one_thing_each():
    s = evaluated(**HTTPS)
    (redeploy,) = s.resource("RotationRedeployRole")["Properties"]["Policies"]
    assert redeploy["PolicyDocument"]["Statement"] == [
        {
            "Sid": "ForceNewDeploymentOfTheService",
            "Effect": "Allow",
            "Action": ["ecs:UpdateService"],
            "Resource": [SERVICE_ARN],
        }
    ]
    (events,) = s.resource("RotationEventsRole")["Properties"]["Policies"]
    assert events["PolicyDocument"]["Statement"] == [
        {
            "Sid": "StartTheRedeployment",
            "Effect": "Allow",
            "Action": ["states:StartExecution"],
            "Resource": ["arn:aws:states:eu-west-1:123456789012:stateMachine:x"],
        }
    ]
    trusts = {
        role: s.resource(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        for role in ("RotationRedeployRole", "RotationEventsRole")
    }
    assert trusts["RotationRedeployRole"]["Principal"] == {"Service": "states.amazonaws.com"}
    assert trusts["RotationEventsRole"]["Principal"] == {"Service": "events.amazonaws.com"}
    for trust in trusts.values():
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": "123456789012"}}


def test_rotation_is_wired_in_every_mode():
    assert "DatabaseSecretRotationRule" in stack(DatabaseEngine="aurora-mysql").resources
    assert "DatabaseSecretRotationRule" in stack("datadog").resources
