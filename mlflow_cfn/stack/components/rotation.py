"""Rotation-safe credentials. RDS rotates the master password (every 7 days by default) and ECS
reads secrets only when a task starts, so running tasks would fail on their next new database
connection. When the secret gets a new current value, EventBridge starts a one-step state machine
that forces a new deployment of the service: new tasks read the new password, old ones drain.
The second line of defence needs no event: a task whose password the database refuses exits and
ECS replaces it (``container/entrypoint.py``)."""

from __future__ import annotations

import json

from troposphere import GetAtt, Ref, Sub
from troposphere.events import Rule, Target
from troposphere.stepfunctions import StateMachine

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.database import Database
from mlflow_cfn.stack.components.service import MlflowService
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.logic import checkov_skips

ROTATION_RULE = "DatabaseSecretRotationRule"
ROTATION_REDEPLOY = "RotationRedeployStateMachine"
ROTATION_REDEPLOY_ROLE = "RotationRedeployRole"
ROTATION_EVENTS_ROLE = "RotationEventsRole"

#: One task: ecs:UpdateService with forceNewDeployment, retried on throttling.
DEFINITION = {
    "Comment": "Restart the MLflow tasks so they read the rotated database password",
    "StartAt": "ForceNewDeployment",
    "States": {
        "ForceNewDeployment": {
            "Type": "Task",
            "Resource": "arn:${AWS::Partition}:states:::aws-sdk:ecs:updateService",
            "Parameters": {
                "Cluster": "${!Cluster}",
                "Service": "${!Service}",
                "ForceNewDeployment": True,
            },
            "Retry": [
                {
                    "ErrorEquals": ["States.ALL"],
                    "IntervalSeconds": 10,
                    "MaxAttempts": 5,
                    "BackoffRate": 2,
                }
            ],
            "End": True,
        }
    },
}

_NO_LOGS_REASON = (
    "A single ecs:UpdateService call a week; its executions stay in the state machine's history "
    "for 90 days and failed invocations show in the rule's CloudWatch metrics. Logging or "
    "tracing would need logs:*Delivery or xray permissions on '*' for this role."
)


def rotation_event_pattern(secret_arn) -> dict:
    """Secrets Manager's native event for this secret getting a new current value: the
    AWSCURRENT label moved, by a rotation (RDS's own included), PutSecretValue or UpdateSecret.
    Published straight to EventBridge: no CloudTrail trail is needed (the API-call events the
    template matched before are delivered only where a trail exists, and best-effort)."""
    return {
        "source": ["aws.secretsmanager"],
        "detail-type": ["Secret Label Updated"],
        "resources": [secret_arn],
        "detail": {"labelUpdated": ["AWSCURRENT"]},
    }


def add_rotation_redeploy(ctx: Context, *, database: Database, service: MlflowService) -> Rule:
    """Add the state machine, its role, the events role and the rule; return the rule."""
    t = ctx.template
    redeploy_role = t.add_resource(
        policies.service_role(
            ROTATION_REDEPLOY_ROLE,
            "Lets the rotation state machine redeploy the MLflow service, nothing else",
            "states.amazonaws.com",
            "redeploy-mlflow",
            policies.redeploy_service(Ref(service.service)),
        )
    )
    machine = t.add_resource(
        StateMachine(
            ROTATION_REDEPLOY,
            StateMachineType="STANDARD",
            RoleArn=GetAtt(redeploy_role, "Arn"),
            # The partition by Fn::Sub (which cfn-lint resolves to check the task's Resource
            # ARN); the resources by DefinitionSubstitutions (${!Name} is Fn::Sub's escape).
            DefinitionString=Sub(json.dumps(DEFINITION, sort_keys=True)),
            DefinitionSubstitutions={
                "Cluster": Ref(service.cluster),
                "Service": GetAtt(service.service, "Name"),
            },
            Metadata=checkov_skips(dict.fromkeys(("CKV_AWS_284", "CKV_AWS_285"), _NO_LOGS_REASON)),
        )
    )
    events_role = t.add_resource(
        policies.service_role(
            ROTATION_EVENTS_ROLE,
            "Lets EventBridge start the rotation state machine, nothing else",
            "events.amazonaws.com",
            "start-redeploy",
            policies.start_execution(Ref(machine)),
        )
    )
    return t.add_resource(
        Rule(
            ROTATION_RULE,
            Description=Sub("Redeploy MLflow when its database secret rotates (${AWS::StackName})"),
            State="ENABLED",
            EventPattern=rotation_event_pattern(database.secret_arn),
            Targets=[
                Target(Id="redeploy-mlflow", Arn=Ref(machine), RoleArn=GetAtt(events_role, "Arn"))
            ],
        )
    )
