"""Version pins in one place: the package version and the MLflow version it is tested with."""

__version__ = "0.1.0"

#: The MLflow release the default container image runs and the runtime tests start.
#: Keep equal to the ``mlflow==`` pin in pyproject.toml (a test checks it).
MLFLOW_VERSION = "3.17.2"

#: The official image with database drivers and boto3 (the plain image has neither).
DEFAULT_MLFLOW_IMAGE = f"ghcr.io/mlflow/mlflow:v{MLFLOW_VERSION}-full"
