"""Customer-managed KMS keys: one each for artifacts, the database (and its secret), and logs."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Ref, Sub
from troposphere.kms import Alias, Key

from mlflow_cfn.stack import names, policies
from mlflow_cfn.stack.context import Context


@dataclass(frozen=True)
class Keys:
    """The keys this stack encrypts with (``artifacts`` only when it creates the bucket)."""

    artifacts: Key
    database: Key
    logs: Key


def _key(
    ctx: Context, logical_id: str, alias_id: str, purpose: str, policy, condition: str | None = None
) -> Key:
    only_if = {"Condition": condition} if condition else {}
    key = ctx.template.add_resource(
        Key(
            logical_id,
            **only_if,
            Description=Sub(f"MLflow {purpose} (stack ${{AWS::StackName}})"),
            EnableKeyRotation=True,
            PendingWindowInDays=30,
            KeyPolicy=policy,
            # A deleted key makes retained snapshots, objects and logs unreadable.
            DeletionPolicy="Retain",
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
    """Add the three keys, rotation on, retained on delete and replace."""
    return Keys(
        # Only for a bucket the stack creates; the user's own bucket has its own key (or none).
        artifacts=_key(
            ctx,
            names.ARTIFACT_KEY,
            names.ARTIFACT_KEY_ALIAS,
            "artifacts",
            policies.key_policy(),
            names.CREATE_ARTIFACT_BUCKET,
        ),
        database=_key(
            ctx, names.DATABASE_KEY, names.DATABASE_KEY_ALIAS, "database", policies.key_policy()
        ),
        logs=_key(
            ctx,
            names.LOGS_KEY,
            names.LOGS_KEY_ALIAS,
            "logs",
            policies.key_policy(policies.logs_key_statement()),
        ),
    )
