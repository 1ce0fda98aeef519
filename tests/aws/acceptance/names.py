"""Every name one run creates, derived from its run id (prefix + UTC minute), so that runs never
collide and a leftover says which run made it.

The product's IAM statements reach names CloudFormation derives from the stack name by prefix
(``<name>*``, cut to 24 characters): no stack name of a run is a prefix of another's, and every
one is at most 24 characters, so `mlflow-cfn permissions --for deploy` for one stack reaches none
of the others.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

#: The stacks a run deploys with ``mlflow-cfn deploy``, by role: the suffix of each stack name.
STACK_ROLES = {
    "network": "net",
    "portfolio": "cat",
    "open": "web",  # internet-facing (to this machine only), no login: the HTTP checks
    "login": "idp",  # Cognito login: the bearer-token path
    "operator": "ops",  # deployed by a principal holding only `permissions --for deploy`
    "datadog": "dog",  # templates/mlflow-datadog.json (with a Datadog API key only)
    "rollback": "rbk",  # a first create that fails late and rolls back (create-rollback)
}

#: The tag every stack and role of a run carries (its value: the run id).
RUN_TAG = "mlflow-cfn-acceptance-run"


def run_id(prefix: str, now: float | None = None) -> str:
    """``<prefix><yymmddHHMM>`` in UTC, e.g. ``mfa2612071530``."""
    return prefix + time.strftime("%y%m%d%H%M", time.gmtime(time.time() if now is None else now))


@dataclass(frozen=True)
class Names:
    """The names of one run (`run`: its id) in one account."""

    run: str
    account: str

    def stack(self, role: str) -> str:
        """The CloudFormation stack of `role` (a key of STACK_ROLES)."""
        return f"{self.run}-{STACK_ROLES[role]}"

    @property
    def template_bucket(self) -> str:
        """The bucket templates are uploaded to (names are global: the account makes it ours)."""
        return f"{self.run}-templates-{self.account}"

    @property
    def alarm_queue(self) -> str:
        return f"{self.run}-alarms"

    @property
    def end_user_role(self) -> str:
        """The role with Service Catalog's end-user policy only."""
        return f"{self.run}-end-user"

    @property
    def deploy_operator_role(self) -> str:
        """The role holding only `mlflow-cfn permissions --for deploy`."""
        return f"{self.run}-deployer"

    @property
    def publish_operator_role(self) -> str:
        """The role holding only `mlflow-cfn permissions --for publish`."""
        return f"{self.run}-publisher"

    def operator_policy(self, purpose: str, number: int) -> str:
        return f"{self.run}-{purpose}-{number}"

    @property
    def published_portfolio(self) -> str:
        """The portfolio `mlflow-cfn publish` creates (the portfolio stack's is another)."""
        return f"{self.run} published"

    @property
    def published_product(self) -> str:
        return f"{self.run} MLflow published"

    @property
    def portfolio(self) -> str:
        """The portfolio stack's portfolio and products (PortfolioName, ProductName)."""
        return f"{self.run} portfolio"

    @property
    def product(self) -> str:
        return f"{self.run} MLflow"

    @property
    def network_product(self) -> str:
        return f"{self.run} network"

    def provisioned(self, what: str) -> str:
        """A provisioned product of the end user (`what`: product or network)."""
        return f"{self.run}-{what}"

    def task_family(self, purpose: str) -> str:
        """A task definition family the suite registers itself (probes, the broken image)."""
        return f"{self.run}-{purpose}"

    def domain(self, role: str, zone_name: str) -> str:
        """The DNS name of a stack's load balancer in the run's hosted zone."""
        return f"{self.run}-{STACK_ROLES[role]}.{zone_name.rstrip('.')}"
