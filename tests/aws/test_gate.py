"""The opt-in gate: without the flag every real-account test is skipped with its reason (no AWS
call); with it, a missing or wrong setting, or credentials of another account, refuses the run."""

from __future__ import annotations

import pytest

from tests.aws.acceptance import gate
from tests.aws.stubs import ACCOUNT, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")

ASKED = {gate.FLAG: "1", gate.ACCOUNT: ACCOUNT, gate.REGION: "eu-west-1"}
CERTIFICATE = f"arn:aws:acm:eu-west-1:{ACCOUNT}:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"


@pytest.mark.parametrize("flag", [None, "", "0", "true", "yes"])
def test_without_the_flag_the_suite_is_skipped_with_its_reason(flag):
    environ = {gate.ACCOUNT: ACCOUNT, gate.REGION: "eu-west-1"}
    if flag is not None:
        environ[gate.FLAG] = flag
    reason = gate.skip_reason(environ)
    assert reason is not None
    for name in (gate.FLAG, gate.ACCOUNT, gate.REGION):
        assert name in reason
    with pytest.raises(gate.GateRefused):
        gate.settings_from(environ)


def test_the_flag_with_account_and_region_opens_it():
    assert gate.skip_reason(ASKED) is None
    settings = gate.settings_from(ASKED)
    assert (settings.account, settings.region, settings.prefix) == (ACCOUNT, "eu-west-1", "mfa")
    assert not settings.has_domain and settings.stream_gib is None


def test_every_missing_or_wrong_setting_is_named_at_once():
    with pytest.raises(gate.GateRefused) as refused:
        gate.settings_from(
            {
                gate.FLAG: "1",
                gate.REGION: "Europe",
                gate.PREFIX: "Mfa-1",
                gate.HOSTED_ZONE: "Z0123456789",
                gate.CLIENT_CIDR: "0.0.0.0/0",
                gate.STREAM_GIB: "ten",
                gate.DATADOG_SECRET: "datadog-key",
            }
        )
    message = str(refused.value)
    for words in (
        f"{gate.ACCOUNT} is not set",
        f"{gate.REGION}='Europe' is not valid",
        f"{gate.PREFIX}='Mfa-1' is not valid",
        f"set both {gate.HOSTED_ZONE} and {gate.CERTIFICATE}",
        "not the internet",
        f"{gate.STREAM_GIB}='ten'",
        f"{gate.DATADOG_SECRET}='datadog-key' is not valid",
    ):
        assert words in message, words


def test_the_certificate_must_be_of_the_region():
    with pytest.raises(gate.GateRefused, match="must be a certificate of"):
        gate.settings_from(
            {
                **ASKED,
                gate.REGION: "us-east-1",
                gate.HOSTED_ZONE: "Z0123456789ABC",
                gate.CERTIFICATE: CERTIFICATE,
            }
        )


def test_optional_settings_are_read():
    settings = gate.settings_from(
        {
            **ASKED,
            gate.PREFIX: "acc",
            gate.HOSTED_ZONE: "Z0123456789ABC",
            gate.CERTIFICATE: CERTIFICATE,
            gate.CLIENT_CIDR: "203.0.113.7/32",
            gate.STREAM_GIB: "10",
            gate.DATADOG_SECRET: f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:dd-AbCdEf",
            gate.STALE_CACHE_IMAGE: f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ghcr/mlflow:v3",
        }
    )
    assert settings.has_domain and settings.stream_gib == 10 and settings.prefix == "acc"
    assert settings.client_cidr == "203.0.113.7/32"


def test_credentials_of_another_account_refuse_the_run():
    stubs = Stubs()
    stubs.expect(
        "sts",
        "get_caller_identity",
        {},
        {"Account": "210987654321", "Arn": "arn:aws:iam::210987654321:user/me", "UserId": "AIDA"},
    )
    with pytest.raises(gate.GateRefused, match=r"account 210987654321 .* confirms 123456789012"):
        gate.confirm_account(gate.settings_from(ASKED), stubs("sts"))
    stubs.done()


def test_credentials_of_the_confirmed_account_start_it():
    stubs = Stubs()
    arn = f"arn:aws:sts::{ACCOUNT}:assumed-role/Maintainer/me"
    stubs.expect(
        "sts", "get_caller_identity", {}, {"Account": ACCOUNT, "Arn": arn, "UserId": "AROA"}
    )
    assert gate.confirm_account(gate.settings_from(ASKED), stubs("sts")) == arn
    stubs.done()


def test_every_setting_is_described():
    names = [v for k, v in vars(gate).items() if k.isupper() and isinstance(v, str)]
    assert {n for n in names if n.startswith("MLFLOW_CFN_AWS_")} == set(gate.SETTINGS)
