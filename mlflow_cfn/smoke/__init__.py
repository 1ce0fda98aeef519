"""``mlflow-cfn smoke``: prove a deployed stack works end to end with the real MLflow client.

`target` reads the stack (DescribeStacks), `token` gets the bearer token, `http` sends the first
request and explains refusals, `checks` runs the MLflow client, `steps` prints each step, `run`
puts them in order. Only `checks` imports MLflow (the optional ``smoke`` extra).
"""

from mlflow_cfn.smoke.run import INSTALL_HINT, smoke
from mlflow_cfn.smoke.steps import SmokeInputError
from mlflow_cfn.smoke.target import CLIENT_SECRET_VARIABLE, TOKEN_VARIABLE, SmokeRequest

__all__ = [
    "CLIENT_SECRET_VARIABLE",
    "INSTALL_HINT",
    "TOKEN_VARIABLE",
    "SmokeInputError",
    "SmokeRequest",
    "smoke",
]
