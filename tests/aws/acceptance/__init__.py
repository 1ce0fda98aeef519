"""The acceptance suite's logic, importable and tested offline (tests/aws/test_*.py).

`gate` (who may start it), `names` (every name of a run), `parameter_sets` (what it deploys),
`report` (the checks and the one table), `ledger` and `teardown` (what it made, and deleting it),
`cli` (the `mlflow-cfn` commands it runs), and one module of small AWS steps per concern:
`identities`, `alarms`, `ecs`, `tags`, `catalog`, `measures`; `waiting` bounds every wait.
"""
