"""Lambda functions of the MLflow stack, embedded in the template as inline ``ZipFile`` code."""
