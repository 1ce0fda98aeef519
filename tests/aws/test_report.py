"""The run's table: every check in catalogue order with its outcome and figure, a check never
reached shown as not run, failures and skips recorded with their cause, and the lines for what one
account cannot check."""

from __future__ import annotations

import pytest

from tests.aws.acceptance import report as r


def test_checks_record_pass_fail_and_skip_with_their_cause():
    report = r.Report()
    with report.check("wake-time") as check:
        check.figure = "212 s"
    with pytest.raises(RuntimeError), report.check("smoke-open") as check:
        check.detail = "after 3 attempts:"
        raise RuntimeError("503 from the load balancer\n  (no healthy task)")
    with pytest.raises(pytest.skip.Exception), report.check("streamed-transfer"):
        pytest.skip("MLFLOW_CFN_AWS_STREAM_GIB is not set")
    outcomes = {row.check: row for row in report.rows()}
    assert (outcomes["wake-time"].outcome, outcomes["wake-time"].figure) == ("pass", "212 s")
    assert outcomes["smoke-open"].outcome == "fail"
    assert outcomes["smoke-open"].detail == (
        "after 3 attempts: 503 from the load balancer (no healthy task)"
    )
    assert outcomes["streamed-transfer"].outcome == "skipped"
    assert outcomes["streamed-transfer"].detail == "MLFLOW_CFN_AWS_STREAM_GIB is not set"
    assert outcomes["teardown"].outcome == "not run"
    assert report.failed() == ["smoke-open"]


def test_only_catalogue_checks_and_outcomes_are_recorded():
    report = r.Report()
    with pytest.raises(KeyError):
        report.record("made-up", r.PASSED)
    with pytest.raises(ValueError):
        report.record("wake-time", "maybe")


def test_the_table_lists_every_check_in_order_and_what_cannot_be_checked():
    report = r.Report("mlflow-cfn acceptance run mfa2612071530 in 123456789012 eu-west-1")
    report.record("deploy-network", r.PASSED, "4 min 10 s")
    report.record("wake-time", r.FAILED, "", "the service never reached 0 tasks " * 4)
    table = report.table(width=100)
    lines = table.splitlines()
    assert lines[0].startswith("mlflow-cfn acceptance run mfa2612071530")
    assert lines[1].split() == ["check", "result", "figure", "proves"]
    assert all(len(line) <= 100 for line in lines)
    starts = [line.split()[0] for line in lines[2:] if line and not line.startswith(" ")]
    checks = starts[: len(r.CHECKS)]
    assert checks == list(r.CHECKS)
    assert starts[len(r.CHECKS)] == "not"  # "not checkable in one sandbox account:"
    assert starts[len(r.CHECKS) + 1 : -1] == list(r.UNCHECKABLE)
    assert lines[-1] == f"1 pass, 1 fail, 0 skipped, {len(r.CHECKS) - 2} not run"
    network = next(line for line in lines if line.startswith("deploy-network "))
    assert network.split()[1:4] == ["pass", "4", "min"]
    wake = lines.index(next(line for line in lines if line.startswith("wake-time ")))
    assert "never reached 0 tasks" in " ".join(lines[wake : wake + 4])
    assert lines[wake + 1].startswith(" " * 20)  # wrapped under the text column


def test_every_check_and_unverifiable_line_says_something():
    for text in [*r.CHECKS.values(), *r.UNCHECKABLE.values()]:
        assert text.endswith(".") and len(text) > 40
    assert not set(r.CHECKS) & set(r.UNCHECKABLE)


def test_durations_read_as_people_say_them():
    assert r.elapsed(41.4) == "41 s"
    assert r.elapsed(723) == "12 min 3 s"
