"""Who may start the real-account suite, and where: read from the environment only.

The suite creates and deletes stacks, roles, keys and buckets, so it runs only when a person asks
for it twice: ``MLFLOW_CFN_AWS_ACCEPTANCE=1`` and the account id in ``MLFLOW_CFN_AWS_ACCOUNT``,
which must be the account the credentials belong to (``sts get-caller-identity``), plus the
region in ``MLFLOW_CFN_AWS_REGION``. Without the flag every real-account test is skipped with
its reason (CI never sets it, so CI skips; it never fails for want of an account). With the flag
set, anything else missing or wrong refuses the whole run before anything is created: a person
who asked for the suite should hear why it did not start, not find skips.

Optional settings turn on checks that need something a fresh account does not have (a domain
with a certificate, a Datadog API key, a pull-through cache image older than a day) or that cost
more (the streamed transfer); each check without its setting is skipped with the setting's name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

FLAG = "MLFLOW_CFN_AWS_ACCEPTANCE"
ACCOUNT = "MLFLOW_CFN_AWS_ACCOUNT"
REGION = "MLFLOW_CFN_AWS_REGION"
PREFIX = "MLFLOW_CFN_AWS_PREFIX"
HOSTED_ZONE = "MLFLOW_CFN_AWS_HOSTED_ZONE_ID"
CERTIFICATE = "MLFLOW_CFN_AWS_CERTIFICATE_ARN"
CLIENT_CIDR = "MLFLOW_CFN_AWS_CLIENT_CIDR"
DATADOG_SECRET = "MLFLOW_CFN_AWS_DATADOG_API_KEY_SECRET_ARN"
STREAM_GIB = "MLFLOW_CFN_AWS_STREAM_GIB"
STALE_CACHE_IMAGE = "MLFLOW_CFN_AWS_STALE_CACHE_IMAGE"
RUN_DIR = "MLFLOW_CFN_AWS_RUN_DIR"

#: Every setting the suite reads, with what it is for (the README and the refusals quote these).
SETTINGS: dict[str, str] = {
    FLAG: "1 to run the real-account suite (anything else: every real-account test is skipped)",
    ACCOUNT: "the 12-digit id of the sandbox account; must equal sts get-caller-identity's",
    REGION: "the region to create everything in",
    PREFIX: "first letters of every name the run creates (default mfa; 2-6 lowercase letters)",
    HOSTED_ZONE: "a public Route 53 hosted zone of the account: the stacks' DNS names go in it",
    CERTIFICATE: "an issued ACM certificate in the region for the zone's wildcard name "
    "(`*.example.com` for the zone example.com)",
    CLIENT_CIDR: "the address range this machine reaches the load balancers from "
    "(default: its address as https://checkip.amazonaws.com sees it, /32)",
    DATADOG_SECRET: "a Secrets Manager secret ARN holding a Datadog API key (the agent check)",
    STREAM_GIB: "size in GiB of the streamed transfer through the load balancer (e.g. 10; "
    "needs twice that on this machine's disk); unset: not run",
    STALE_CACHE_IMAGE: "the MLflow image through this account's ECR pull-through cache, last "
    "pulled more than 24 hours ago (the cache's re-check; e.g. the MlflowImage output of a network "
    "stack with the cache, pulled once a day earlier)",
    RUN_DIR: "where the run writes its state, logs and report (default: .aws-acceptance/ and "
    "the run's id, in the checkout)",
}

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_REGION_NAME = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]")
_PREFIX = re.compile(r"[a-z]{2,6}")
_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,32}")
_CERTIFICATE_ARN = re.compile(r"arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[A-Za-z0-9-]+")
_SECRET_ARN = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:\S+-[A-Za-z0-9]{6}"
)
_ECR_IMAGE = re.compile(r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+:\S+")


class GateRefused(Exception):
    """The suite was asked for but cannot start; the message says what to set or fix."""


@dataclass(frozen=True)
class Settings:
    """What a person asked the run to use."""

    account: str
    region: str
    prefix: str = "mfa"
    hosted_zone_id: str | None = None
    certificate_arn: str | None = None
    client_cidr: str | None = None
    datadog_secret_arn: str | None = None
    stream_gib: int | None = None
    stale_cache_image: str | None = None
    run_dir: str | None = None

    @property
    def has_domain(self) -> bool:
        """Whether the load balancers can be internet-facing (the template's Rule
        InternetFacingNeedsCertificate): only then can this machine reach them."""
        return bool(self.hosted_zone_id and self.certificate_arn)


def skip_reason(environ: Mapping[str, str]) -> str | None:
    """Why the real-account tests are skipped (the flag is not set), or None when they run."""
    if environ.get(FLAG) == "1":
        return None
    return (
        f"real-account acceptance suite: set {FLAG}=1, {ACCOUNT}=<sandbox account id> and "
        f"{REGION}=<region> to run it (it creates and deletes stacks in that account)"
    )


def settings_from(environ: Mapping[str, str]) -> Settings:
    """The run's settings; GateRefused listing every problem at once (the flag must be set)."""
    if skip_reason(environ) is not None:
        raise GateRefused(f"{FLAG} is not 1: the suite is not asked for")
    problems: list[str] = []

    def value(name: str, pattern: re.Pattern[str] | None, required: bool = False) -> str | None:
        text = (environ.get(name) or "").strip()
        if not text:
            if required:
                problems.append(f"{name} is not set: {SETTINGS[name]}")
            return None
        if pattern is not None and not pattern.fullmatch(text):
            problems.append(f"{name}={text!r} is not valid: {SETTINGS[name]}")
            return None
        return text

    account = value(ACCOUNT, _ACCOUNT_ID, required=True)
    region = value(REGION, _REGION_NAME, required=True)
    prefix = value(PREFIX, _PREFIX) or "mfa"
    zone, certificate = value(HOSTED_ZONE, _ZONE_ID), value(CERTIFICATE, _CERTIFICATE_ARN)
    if bool(zone) != bool(certificate):
        problems.append(f"set both {HOSTED_ZONE} and {CERTIFICATE}, or neither")
    if certificate and region and f":acm:{region}:" not in certificate:
        problems.append(f"{CERTIFICATE} must be a certificate of {REGION} ({region})")
    settings = Settings(
        account=account or "",
        region=region or "",
        prefix=prefix,
        hosted_zone_id=zone,
        certificate_arn=certificate,
        client_cidr=_cidr(environ.get(CLIENT_CIDR), problems),
        datadog_secret_arn=value(DATADOG_SECRET, _SECRET_ARN),
        stream_gib=_gib(environ.get(STREAM_GIB), problems),
        stale_cache_image=value(STALE_CACHE_IMAGE, _ECR_IMAGE),
        run_dir=(environ.get(RUN_DIR) or "").strip() or None,
    )
    if problems:
        raise GateRefused("the acceptance suite cannot start: " + "; ".join(problems))
    return settings


def _cidr(text: str | None, problems: list[str]) -> str | None:
    """An IPv4 CIDR as the product's LoadBalancerIngressCidrs takes it (never the internet)."""
    if not text or not text.strip():
        return None
    try:
        network = ipaddress.IPv4Network(text.strip(), strict=True)
    except ValueError:
        problems.append(f"{CLIENT_CIDR}={text!r} is not an IPv4 CIDR such as 203.0.113.7/32")
        return None
    if network.prefixlen < 8:
        problems.append(f"{CLIENT_CIDR}={text!r}: give this machine's range, not the internet")
        return None
    return str(network)


def _gib(text: str | None, problems: list[str]) -> int | None:
    """The streamed transfer's size: a whole number of GiB, 1 to 100."""
    if not text or not text.strip():
        return None
    if not text.strip().isdigit() or not 1 <= int(text) <= 100:
        problems.append(f"{STREAM_GIB}={text!r} is not a whole number of GiB from 1 to 100")
        return None
    return int(text)


def confirm_account(settings: Settings, sts: Any) -> str:
    """The caller's ARN, once ``sts get-caller-identity`` shows the credentials belong to the
    confirmed account; GateRefused naming both accounts otherwise."""
    identity = sts.get_caller_identity()
    if identity["Account"] != settings.account:
        raise GateRefused(
            f"refusing to start: the credentials belong to account {identity['Account']} "
            f"({identity['Arn']}), but {ACCOUNT} confirms {settings.account}; point the "
            "credentials at the sandbox account or correct the setting"
        )
    return str(identity["Arn"])
