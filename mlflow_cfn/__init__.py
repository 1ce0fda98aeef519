"""mlflow-cfn: a production MLflow tracking server on AWS as one CloudFormation template."""

from mlflow_cfn.stack.options import OptionsError, StackOptions
from mlflow_cfn.stack.template import build_template
from mlflow_cfn.versions import MLFLOW_VERSION, __version__

__all__ = ["MLFLOW_VERSION", "OptionsError", "StackOptions", "__version__", "build_template"]
