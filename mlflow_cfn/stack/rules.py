"""Template Rules: Parameter combinations CloudFormation refuses before creating anything."""

from __future__ import annotations

from troposphere import And, Equals, Not

from mlflow_cfn.stack import names
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.parameters import FARGATE_MEMORY_BY_CPU


def add_rules(ctx: Context) -> None:
    """Add every Rule of the template."""
    t = ctx.template
    internet_facing = Equals(ctx.ref(names.LOAD_BALANCER_SCHEME), "internet-facing")
    t.add_rule(
        names.RULE_INTERNET_FACING_NEEDS_CERTIFICATE,
        {
            "RuleCondition": internet_facing,
            "Assertions": [
                {
                    "Assert": Not(Equals(ctx.ref(names.CERTIFICATE_ARN), "")),
                    "AssertDescription": (
                        f"{names.LOAD_BALANCER_SCHEME}=internet-facing needs "
                        f"{names.CERTIFICATE_ARN}: an internet-facing MLflow is served over "
                        "HTTPS only."
                    ),
                }
            ],
        },
    )
    t.add_rule(
        names.RULE_INTERNET_FACING_NEEDS_ALLOW_LIST,
        {
            # With a login in front, anyone may reach the login page; without, only a list.
            "RuleCondition": And(internet_facing, Equals(ctx.ref(names.AUTH_MODE), "none")),
            "Assertions": [
                {
                    "Assert": Not(Equals(ctx.ref(names.LOAD_BALANCER_INGRESS_CIDRS), "0.0.0.0/0")),
                    "AssertDescription": (
                        f"{names.LOAD_BALANCER_SCHEME}=internet-facing needs an allow-list in "
                        f"{names.LOAD_BALANCER_INGRESS_CIDRS}, not 0.0.0.0/0: MLflow has no "
                        "login of its own (or set AuthMode)."
                    ),
                }
            ],
        },
    )
    for cpu, memory in FARGATE_MEMORY_BY_CPU.items():
        t.add_rule(
            names.rule_task_size(cpu),
            {
                "RuleCondition": Equals(ctx.ref(names.TASK_CPU), cpu),
                "Assertions": [
                    {
                        "Assert": {"Fn::Contains": [list(memory), ctx.ref(names.TASK_MEMORY)]},
                        "AssertDescription": (
                            f"{names.TASK_CPU}={cpu} needs {names.TASK_MEMORY} to be one of "
                            f"{', '.join(memory)} (the sizes Fargate allows for it)."
                        ),
                    }
                ],
            },
        )


def _assertion(condition: object, description: str) -> dict:
    return {"Assert": condition, "AssertDescription": description}


def _not_empty(ctx: Context, name: str) -> Not:
    return Not(Equals(ctx.ref(name), ""))


def add_mode_rules(ctx: Context) -> None:
    """Rules for the optional modes: login, own bucket, schedule, DNS and sidecar."""
    t = ctx.template
    auth = Not(Equals(ctx.ref(names.AUTH_MODE), "none"))
    t.add_rule(
        names.RULE_AUTH_NEEDS_CERTIFICATE,
        {
            "RuleCondition": auth,
            "Assertions": [
                _assertion(
                    _not_empty(ctx, names.CERTIFICATE_ARN),
                    f"{names.AUTH_MODE}=cognito or oidc needs {names.CERTIFICATE_ARN}: the load "
                    "balancer authenticates users only on an HTTPS listener.",
                ),
                _assertion(
                    _not_empty(ctx, names.DOMAIN_NAME),
                    f"{names.AUTH_MODE}=cognito or oidc needs {names.DOMAIN_NAME}: the login "
                    "redirects back to it, and the certificate is for it.",
                ),
            ],
        },
    )
    oidc_required = (
        names.OIDC_ISSUER,
        names.OIDC_AUTHORIZATION_ENDPOINT,
        names.OIDC_TOKEN_ENDPOINT,
        names.OIDC_USER_INFO_ENDPOINT,
        names.OIDC_JWKS_ENDPOINT,
        names.OIDC_CLIENT_ID,
        names.OIDC_CLIENT_SECRET_ARN,
        names.OIDC_TOKEN_AUDIENCE,
    )
    t.add_rule(
        names.RULE_OIDC_NEEDS_ENDPOINTS,
        {
            "RuleCondition": Equals(ctx.ref(names.AUTH_MODE), "oidc"),
            "Assertions": [
                _assertion(_not_empty(ctx, name), f"{names.AUTH_MODE}=oidc needs {name}.")
                for name in oidc_required
            ],
        },
    )
    existing_pool = (names.COGNITO_USER_POOL_CLIENT_ID, names.COGNITO_USER_POOL_DOMAIN)
    t.add_rule(
        names.RULE_EXISTING_COGNITO_POOL_IS_COMPLETE,
        {
            "RuleCondition": _not_empty(ctx, names.COGNITO_USER_POOL_ARN),
            "Assertions": [
                _assertion(
                    _not_empty(ctx, name),
                    f"{names.COGNITO_USER_POOL_ARN} (an existing user pool) needs {name} too.",
                )
                for name in existing_pool
            ],
        },
    )
    t.add_rule(
        names.RULE_ARTIFACT_KEY_NEEDS_OWN_BUCKET,
        {
            "RuleCondition": _not_empty(ctx, names.ARTIFACT_BUCKET_KMS_KEY_ARN),
            "Assertions": [
                _assertion(
                    _not_empty(ctx, names.ARTIFACT_BUCKET_NAME),
                    f"{names.ARTIFACT_BUCKET_KMS_KEY_ARN} is the key of your own bucket: set "
                    f"{names.ARTIFACT_BUCKET_NAME} too (a created bucket uses the stack's key).",
                )
            ],
        },
    )
    for rule, given, needed in (
        (names.RULE_SCALE_UP_NEEDS_SCALE_DOWN, names.SCALE_UP_SCHEDULE, names.SCALE_DOWN_SCHEDULE),
        (names.RULE_SCALE_DOWN_NEEDS_SCALE_UP, names.SCALE_DOWN_SCHEDULE, names.SCALE_UP_SCHEDULE),
    ):
        t.add_rule(
            rule,
            {
                "RuleCondition": _not_empty(ctx, given),
                "Assertions": [
                    _assertion(
                        _not_empty(ctx, needed),
                        f"{given} needs {needed}: working hours need a start and an end.",
                    )
                ],
            },
        )
    t.add_rule(
        names.RULE_HOSTED_ZONE_NEEDS_DOMAIN,
        {
            "RuleCondition": _not_empty(ctx, names.HOSTED_ZONE_ID),
            "Assertions": [
                _assertion(
                    _not_empty(ctx, names.DOMAIN_NAME),
                    f"{names.HOSTED_ZONE_ID} needs {names.DOMAIN_NAME}: the record is for it.",
                )
            ],
        },
    )
    sidecar = _not_empty(ctx, names.SIDECAR_IMAGE)
    memory_rule = {
        "Assert": Not(Equals(ctx.ref(names.TASK_MEMORY), "1024")),
        "AssertDescription": (
            f"A sidecar needs {names.TASK_MEMORY} of at least 2048: the MLflow server uses "
            "about 550 MiB of 1024 on its own."
        ),
    }
    if ctx.options.sidecar:  # the preset's sidecar is always there
        t.add_rule(names.RULE_SIDECAR_NEEDS_MEMORY, {"Assertions": [memory_rule]})
    else:
        t.add_rule(
            names.RULE_SIDECAR_NEEDS_MEMORY, {"RuleCondition": sidecar, "Assertions": [memory_rule]}
        )
    t.add_rule(
        names.RULE_SIDECAR_SECRET_NEEDS_VARIABLE,
        {
            "RuleCondition": _not_empty(ctx, names.SIDECAR_SECRET_ARN),
            "Assertions": [
                _assertion(
                    _not_empty(ctx, names.SIDECAR_SECRET_VARIABLE),
                    f"{names.SIDECAR_SECRET_ARN} needs {names.SIDECAR_SECRET_VARIABLE}: the "
                    "name the sidecar reads the secret from.",
                ),
                _assertion(
                    sidecar,
                    f"{names.SIDECAR_SECRET_ARN} needs {names.SIDECAR_IMAGE}: there is no "
                    "sidecar to give it to.",
                ),
            ],
        },
    )
