"""The console form (CloudFormation and Service Catalog): the parameter groups in the order a
launcher fills them in, generated into ``AWS::CloudFormation::Interface``. Each Parameter names
its group where its component declares it; inside a group, Parameters keep declaration order."""

from __future__ import annotations

from mlflow_cfn.stack.options import OptionsError
from mlflow_cfn.stack.parameters import ParameterSpec

GROUP_NETWORK = "Network"
GROUP_LOAD_BALANCER = "Load balancer"
GROUP_LOGIN = "Login (Cognito or OIDC on the load balancer)"
GROUP_SERVICE = "MLflow service"
GROUP_SCALING = "Autoscaling and working-hours schedule"
GROUP_SIDECAR = "Sidecar container"
GROUP_DATABASE = "Database (Aurora Serverless v2)"
GROUP_ARTIFACTS = "Artifact store (S3)"
GROUP_LOGGING = "Logging"
GROUP_ALARMS = "Alarms"
GROUP_GOVERNANCE = "Governance (set by Service Catalog)"

#: The groups in console order.
GROUPS = (
    GROUP_NETWORK,
    GROUP_LOAD_BALANCER,
    GROUP_LOGIN,
    GROUP_SERVICE,
    GROUP_SCALING,
    GROUP_SIDECAR,
    GROUP_DATABASE,
    GROUP_ARTIFACTS,
    GROUP_LOGGING,
    GROUP_ALARMS,
    GROUP_GOVERNANCE,
)


def interface_metadata(specs: list[ParameterSpec], groups: tuple[str, ...] = GROUPS) -> dict:
    """The template Metadata that lays out the console form for ``specs`` in ``groups`` (the
    product's GROUPS unless another template gives its own)."""
    if strays := sorted({s.name for s in specs if s.group not in groups}):
        raise OptionsError([f"parameter {name} names a group not in GROUPS" for name in strays])
    return {
        "AWS::CloudFormation::Interface": {
            "ParameterGroups": [
                {
                    "Label": {"default": group},
                    "Parameters": [s.name for s in specs if s.group == group],
                }
                for group in groups
                if any(s.group == group for s in specs)
            ],
            "ParameterLabels": {s.name: {"default": s.label} for s in specs},
        }
    }
