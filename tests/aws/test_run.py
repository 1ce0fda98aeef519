"""The run's bookkeeping, offline: prerequisites skip and say so in the table, checks beside each
other are each recorded, a background step is joined, and the end tears down what the ledger
holds and writes the report, even with nothing to delete."""

from __future__ import annotations

import threading

import boto3
import pytest

from tests.aws.acceptance import gate
from tests.aws.acceptance.ledger import Leftover
from tests.aws.acceptance.run import Run
from tests.aws.stubs import ACCOUNT, REGION, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")


@pytest.fixture
def run(tmp_path) -> Run:
    settings = gate.Settings(account=ACCOUNT, region=REGION, run_dir=str(tmp_path / "run"))
    session = boto3.Session(region_name=REGION)
    return Run.start(settings, session, f"arn:aws:iam::{ACCOUNT}:role/Maintainer")


def test_a_run_is_named_and_kept_in_its_directory(run, tmp_path):
    assert run.names.run.startswith("mfa") and len(run.names.run) == 13
    assert run.ledger.path == tmp_path / "run" / "state.json"
    assert run.partition == "aws"
    assert run.report.title.endswith(f"in {ACCOUNT} {REGION}")


def test_a_missing_prerequisite_skips_and_is_recorded(run):
    run.report.record("deploy-open", "fail", detail="rolled back")
    with pytest.raises(pytest.skip.Exception, match=r"needs deploy-open \(fail\)"):
        run.require("deploy-open", checks=("smoke-open", "wake-time"))
    rows = {row.check: row for row in run.report.rows()}
    assert rows["smoke-open"].outcome == rows["wake-time"].outcome == "skipped"
    assert rows["smoke-open"].detail == "needs deploy-open (fail)"
    with pytest.raises(pytest.skip.Exception, match=gate.STREAM_GIB):
        run.require_setting(False, gate.STREAM_GIB, ("streamed-transfer",))
    assert run.report.outcome("streamed-transfer") == "skipped"
    run.report.record("deploy-login", "pass")
    run.require("deploy-login")  # passed: goes on


def test_checks_beside_each_other_are_each_recorded(run):
    both = threading.Barrier(2, timeout=10)  # they really run at the same time

    def passes(check):
        both.wait()
        check.figure = "4 min 1 s"

    def fails(check):
        both.wait()
        raise RuntimeError("mlflow-cfn deploy exited 1: failed: DatabaseCluster")

    run.in_parallel({"deploy-network": passes, "deploy-portfolio": fails})
    assert run.report.outcome("deploy-network") == "pass"
    assert run.report.outcome("deploy-portfolio") == "fail"
    with pytest.raises(AssertionError, match="deploy-portfolio: mlflow-cfn deploy exited 1"):
        run.assert_passed("deploy-network", "deploy-portfolio")


def test_a_background_step_is_joined(run):
    run.in_background("later", lambda: run.checked("sc-launch", lambda check: None))
    run.join("later")
    assert run.report.outcome("sc-launch") == "pass"


def test_the_end_tears_down_and_writes_the_report(run, monkeypatch):
    stubs = Stubs()
    monkeypatch.setattr(run, "aws", stubs)
    url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{run.names.alarm_queue}"
    run.ledger.add(Leftover("sqs-queue", url))
    stubs.expect("sqs", "delete_queue", {"QueueUrl": url})
    table = run.finish()
    stubs.done()
    assert run.report.outcome("teardown") == "pass"
    assert "1 deleted" in table
    assert run.path("report.txt").read_text() == table + "\n"
    assert "deleted sqs-queue" in run.path("logs", "teardown.log").read_text()


def test_a_teardown_that_leaves_something_says_how_to_finish_it(run, monkeypatch):
    stubs = Stubs()
    monkeypatch.setattr(run, "aws", stubs)
    run.ledger.add(Leftover("AWS::Logs::LogGroup", "group"))
    stubs.fail(
        "logs", "delete_log_group", "AccessDeniedException", params={"logGroupName": "group"}
    )
    run.finish()
    [row] = [r for r in run.report.rows() if r.check == "teardown"]
    assert row.outcome == "fail"
    assert f"python -m tests.aws.acceptance.teardown {run.ledger.path}" in row.detail


def test_background_steps_not_started_when_the_run_ends_are_skipped(run, monkeypatch):
    monkeypatch.setattr(run, "aws", Stubs())
    run.finish()
    run.background_step("sc-terminate", lambda check: None)
    row = next(r for r in run.report.rows() if r.check == "sc-terminate")
    assert (row.outcome, row.detail) == ("skipped", "the run ended before this step")
