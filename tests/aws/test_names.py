"""A run's names: valid where AWS takes them, unique per run, and no stack's name a prefix of
another's within the 24 characters the product's IAM statements match."""

from __future__ import annotations

import re

from mlflow_cfn.cfn.stacks import stack_name_problem
from mlflow_cfn.stack.checks import stack_name_problems
from tests.aws.acceptance.names import STACK_ROLES, Names, run_id

NAMES = Names(run_id("mfazzz", 4_102_444_799), "123456789012")  # the longest prefix, year 2099


def test_the_run_id_is_the_prefix_and_the_utc_minute():
    assert run_id("mfa", 1_800_000_000) == "mfa2701150800"
    assert run_id("mfa", 1_800_000_060) != run_id("mfa", 1_800_000_000)


def test_stack_names_are_valid_short_and_no_prefix_of_another():
    stacks = [NAMES.stack(role) for role in STACK_ROLES]
    for name in stacks:
        assert stack_name_problem(name) is None and stack_name_problems(name) == []
        assert len(name) <= 24, name
    for name in stacks:
        assert [other for other in stacks if other.startswith(name)] == [name]


def test_other_names_fit_their_services():
    assert re.fullmatch(r"[a-z0-9][a-z0-9-]{1,61}[a-z0-9]", NAMES.template_bucket)
    for role in (NAMES.end_user_role, NAMES.deploy_operator_role, NAMES.publish_operator_role):
        assert re.fullmatch(r"[\w+=,.@-]{1,64}", role)
    assert re.fullmatch(r"[\w-]{1,80}", NAMES.alarm_queue)
    assert re.fullmatch(r"[\w-]{1,255}", NAMES.task_family("probe-datadog"))
    assert len(NAMES.operator_policy("publish", 9)) <= 128
    domain = NAMES.domain("login", "acceptance.example.com.")
    assert domain == f"{NAMES.run}-idp.acceptance.example.com"
