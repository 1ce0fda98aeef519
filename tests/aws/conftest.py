"""The real-account run shared by tests/aws/test_real_account.py: opened by the gate, torn down at
the end of the session whatever happened, its table printed after pytest's own summary."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.aws.acceptance import gate, identities
from tests.aws.acceptance.run import Run

TABLE = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def acceptance(request: pytest.FixtureRequest) -> Iterator[Run]:
    """The run; refuses to start (pytest exits, code 2) when the settings are wrong or the
    credentials belong to another account than the one confirmed."""
    reason = gate.skip_reason(os.environ)
    if reason is not None:
        pytest.skip(reason)
    try:
        settings = gate.settings_from(os.environ)
        session = boto3.Session(region_name=settings.region)
        identity = gate.confirm_account(settings, session.client("sts"))
        caller = identities.principal_arn(identity, session.client("iam"))
    except gate.GateRefused as refused:
        pytest.exit(str(refused), returncode=2)
    except (BotoCoreError, ClientError, ValueError) as error:
        pytest.exit(f"the acceptance suite cannot start: {error}", returncode=2)
    run = Run.start(settings, session, caller)
    try:
        yield run
    finally:
        request.config.stash[TABLE] = run.finish()


def pytest_terminal_summary(terminalreporter, exitstatus, config: pytest.Config) -> None:
    """The run's table, when a run happened (its copy: <run dir>/report.txt)."""
    table = config.stash.get(TABLE, None)
    if table:
        terminalreporter.write_sep("=", "mlflow-cfn acceptance in a real account")
        terminalreporter.write_line(table)
