"""Customer-managed KMS keys: one for the database (and its secret) and one for logs, rotation on,
retained on delete and replace. The artifact key belongs to the artifact bucket (storage)."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Sub
from troposphere.kms import Alias, Key

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.retention import KEEP_EXCEPT_ON_CREATE
from mlflow_cfn.stack.context import Context

DATABASE_KEY = "DatabaseKey"
DATABASE_KEY_ALIAS = "DatabaseKeyAlias"
LOGS_KEY = "LogsKey"
LOGS_KEY_ALIAS = "LogsKeyAlias"


@dataclass(frozen=True)
class Keys:
    """The keys every stack encrypts with."""

    database: Key
    logs: Key


def customer_managed_key(
    ctx: Context, logical_id: str, alias_id: str, purpose: str, policy, condition: str | None = None
) -> Key:
    """A rotating key with an alias ``alias/<stack>/<purpose>``, retained on delete and replace
    (a deleted key makes retained snapshots, objects and logs unreadable)."""
    only_if = {"Condition": condition} if condition else {}
    key = ctx.template.add_resource(
        Key(
            logical_id,
            **only_if,
            Description=Sub(f"MLflow {purpose} (stack ${{AWS::StackName}})"),
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=policy,
            DeletionPolicy=KEEP_EXCEPT_ON_CREATE,
            UpdateReplacePolicy="Retain",
        )
    )
    ctx.template.add_resource(
        Alias(
            alias_id,
            AliasName=Sub(f"alias/${{AWS::StackName}}/{purpose.replace(' ', '-')}"),
            TargetKeyId=Ref(key),
            **only_if,
        )
    )
    return key


def add_keys(ctx: Context) -> Keys:
    """Add the database and logs keys."""
    return Keys(
        database=customer_managed_key(
            ctx, DATABASE_KEY, DATABASE_KEY_ALIAS, "database", policies.key_policy()
        ),
        logs=customer_managed_key(
            ctx,
            LOGS_KEY,
            LOGS_KEY_ALIAS,
            "logs",
            # The logs, and the alarm topic's messages (about the same service).
            policies.key_policy(policies.logs_key_statement(), *policies.alarms_key_statements()),
        ),
    )
