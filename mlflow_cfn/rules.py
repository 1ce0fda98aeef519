"""Template Rules: Parameter combinations CloudFormation refuses before creating anything."""

from __future__ import annotations

from troposphere import Equals, Not

from mlflow_cfn import names
from mlflow_cfn.context import Context
from mlflow_cfn.parameters import FARGATE_MEMORY_BY_CPU


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
            "RuleCondition": internet_facing,
            "Assertions": [
                {
                    "Assert": Not(Equals(ctx.ref(names.LOAD_BALANCER_INGRESS_CIDRS), "0.0.0.0/0")),
                    "AssertDescription": (
                        f"{names.LOAD_BALANCER_SCHEME}=internet-facing needs an allow-list in "
                        f"{names.LOAD_BALANCER_INGRESS_CIDRS}, not 0.0.0.0/0: MLflow has no "
                        "login of its own."
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
