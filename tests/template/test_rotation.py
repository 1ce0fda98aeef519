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
    # Secrets Manager's native event (no CloudTrail trail needed): AWSCURRENT moved to a new
    # version of exactly this secret, whoever moved it.
    assert rule["EventPattern"] == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [SECRET],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
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


def test_the_documented_event_matches_and_other_labels_or_secrets_do_not():
    """EventBridge's matching (moto's implementation) on the event Secrets Manager documents
    (secretsmanager/latest/userguide/event-detail-secret-label-updated-secretsmanager.html)."""
    from moto.events.models import EventPattern

    pattern = evaluated().resource("DatabaseSecretRotationRule")["Properties"]["EventPattern"]
    matcher = EventPattern.load(json.dumps(pattern))
    event = {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "Secret Label Updated",
        "source": "aws.secretsmanager",
        "account": "123456789012",
        "time": "2024-02-06T16:43:48Z",
        "region": "eu-west-1",
        "resources": [SECRET],
        "detail": {"name": "rds!cluster-abc", "labelUpdated": "AWSCURRENT", "versionId": "v2"},
    }
    assert matcher.matches_event(event)
    for change in ({"labelUpdated": "staging"}, {"name": "other"}):
        assert matcher.matches_event({**event, "detail": {**event["detail"], **change}}) == (
            "name" in change
        )
    assert not matcher.matches_event({**event, "resources": [SECRET.replace("abc", "xyz")]})
