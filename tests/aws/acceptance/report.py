"""The run's one table of results: every check of the catalogue (what a pass proves), its outcome,
the figure it measured, and a line for each question one sandbox account cannot settle.

Checks record themselves with `Report.check` (a context manager: an exception fails the check, a
pytest skip skips it); a check the run never reached says so ("not run"), so a run cut short is
never read as a pass.
"""

from __future__ import annotations

import contextlib
import textwrap
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

PASSED, FAILED, SKIPPED, NOT_RUN = "pass", "fail", "skipped", "not run"

#: Every check of the suite, in the order it runs, with what a pass proves. README points at
#: these ids (tests/aws/test_readme_pointers.py keeps the two in step).
CHECKS: dict[str, str] = {
    "template-bucket": "The run's template bucket exists (every template goes through it).",
    "deploy-network": "templates/network.json deploys with `mlflow-cfn deploy --template` "
    "(nat, public load balancer subnets).",
    "deploy-portfolio": "templates/portfolio.json deploys as a stack: portfolio, product, "
    "network product, launch roles, boundary, template constraints.",
    "deploy-open": "The product deploys with `mlflow-cfn deploy --network-stack` "
    "(internet-facing to this machine only, HTTPS, no login; internal without a hosted zone; "
    "Container Insights, ArtifactDirectMultipartUpload=false).",
    "deploy-login": "The product deploys with AuthMode=cognito (the stack's own user pool).",
    "operator-deploy": "A principal holding only the policies `mlflow-cfn permissions --for "
    "deploy` prints deploys the product, with stack tags (cloudformation:TagResource).",
    "deploy-datadog": "templates/mlflow-datadog.json deploys with a Datadog API key secret.",
    "smoke-open": "`mlflow-cfn smoke` passes through the load balancer: tracking, artifacts up, "
    "down by presigned URL and through the server (the server's own S3 writes).",
    "smoke-login": "`mlflow-cfn smoke` passes with a client-credentials token from the stack's "
    "Cognito pool: the listener's issuer and JWKS match what Cognito issues.",
    "refused-token-status": "The status the load balancer answers a refused bearer token "
    "(malformed; valid but re-signed), and 200 for the valid one.",
    "signed-part-upload": "ArtifactDirectMultipartUpload=false refuses a part uploaded through "
    "the server's signed URL (403) while the server's own writes work; true accepts it.",
    "schema-migration-time": "How long the start-up script takes to create MLflow's schema on "
    "an empty Aurora database (every migration), from the task's log.",
    "alarm-delivery": "Every alarm of the stack that notifies the topic delivers through the "
    "KMS-encrypted topic to an SQS subscriber (set-alarm-state ALARM).",
    "task-start-impaired": "ECS's SERVICE_TASK_START_IMPAIRED event reaches the topic through "
    "TaskStartImpairedRule (a service image that does not exist).",
    "fargate-tmp-volume": "Fargate creates a task volume at /tmp root-owned, mode 0755 (an image "
    "without VOLUME /tmp, as the official one).",
    "task-disk-usage": "Task disk in use with the -full image and nothing else (the 20 GiB "
    "ephemeral storage, images included).",
    "image-pull-time": "How long Fargate takes to pull the -full image for a task.",
    "create-rollback": "A first create that fails late (an image that does not exist) rolls back "
    "deleting the keys, the artifact bucket and the log groups (RetainExceptOnCreate) and keeping "
    "the log bucket (Retain); the figure says whether RDS kept a final snapshot.",
    "datadog-volumes": "Fargate fills /var/run/s6 and /var/log/datadog from the agent image's "
    "VOLUME (owned by dd-agent, uid 100), so the init container leaves them alone.",
    "datadog-agent-healthy": "The Datadog agent runs healthy (`agent health`) as uid 100 with "
    "its task volumes, in a task of templates/mlflow-datadog.json.",
    "pull-through-recheck": "The product's task execution role (pull only) pulls a pull-through "
    "cache image last pulled over 24 h ago: it needs no ecr:BatchImportUpstreamImage.",
    "database-secret-tag": "The launched product's database secret (RDS-managed) carries "
    "aws:rds:primaryDBClusterArn naming its cluster, and the permissions boundary lets the "
    "product's roles read it by that tag.",
    "sc-launch": "An end user (AWSServiceCatalogEndUserFullAccess only) launches the product "
    "through the portfolio's launch role and template constraint.",
    "sc-update-service": "The end user updates it with a change to the ECS service "
    "(DesiredCount): the launch role may update the service it created.",
    "sc-update-key-policy": "The end user updates it to a version whose key policies differ: "
    "the launch role may change the keys it created (kms:PutKeyPolicy).",
    "sc-terminate": "The end user terminates it: the launch role deletes what it created.",
    "stack-name-tags-product": "On the launched product, aws:cloudformation:stack-name is on "
    "exactly the resource types whose provider schema says CloudFormation tags them.",
    "sc-network-launch": "The end user launches the network product (NAT, flow logs, endpoint).",
    "stack-name-tags-network": "On the launched network, the tag is on VPC endpoints, Elastic IPs, "
    "flow logs and the rest exactly as their provider schemas say.",
    "sc-network-terminate": "The end user terminates the network: the network launch role's "
    "tag-conditioned deletes reach what it created.",
    "operator-publish": "A principal holding only the policy `mlflow-cfn permissions --for "
    "publish` prints publishes a version, and the end user then sees the product.",
    "rotation-heals": "After `secretsmanager rotate-secret` on the RDS-managed secret the service "
    "heals: smoke passes again within the bound.",
    "streamed-transfer": "A large artifact streams up and down through the load balancer and the "
    "task's disk, bytes intact.",
    "wake-time": "With IdleShutdownMinutes the service reaches 0 tasks; `smoke --wake-seconds` "
    "wakes it within README's wake budget.",
    "teardown": "Everything the run created and the stacks retained is deleted (keys scheduled "
    "for deletion, 7 days).",
}

#: What one sandbox account cannot settle, and why (a line of every report).
UNCHECKABLE: dict[str, str] = {
    "partitions": "China (aws-cn) and GovCloud (aws-us-gov) ARNs, principals and the Cognito "
    "token URL by partition: need an account in each partition.",
    "cross-account-bucket": "An artifact or read-only bucket of another account "
    "(ArtifactBucketName, ArtifactReadOnlyBucketArns): needs a second account.",
    "portfolio-sharing": "Principal patterns (publish --principal arn:aws:iam:::role/x*) in "
    "accounts the portfolio is shared with: needs a second account.",
    "aud-array": "OidcTokenAudienceFormat=string-array against a token with aud "
    '["api://mlflow", "other"]: needs an OIDC provider that issues such tokens; Cognito\'s '
    "access tokens carry no aud.",
    "control-tower": "VolumePreparation=none under Control Tower's CT.ECS.PR.3: needs an account "
    "enrolled in Control Tower with that proactive control on.",
    "your-migrations": "How long your database's migrations take: needs a cluster restored "
    "from your snapshot (the suite times the whole chain on an empty database).",
}


def elapsed(seconds: float) -> str:
    """A duration as the table shows it: ``41 s``, ``12 min 3 s``."""
    whole = round(seconds)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60} s"


@dataclass
class Result:
    """One line of the table."""

    check: str
    outcome: str
    figure: str = ""
    detail: str = ""


@dataclass
class Recorder:
    """What a running check may add to its line."""

    figure: str = ""
    detail: str = ""


class Report:
    """The results of one run; thread-safe (checks may run in the background)."""

    def __init__(self, title: str = "") -> None:
        self.title = title
        self._results: dict[str, Result] = {}
        self._lock = threading.Lock()

    def record(self, check: str, outcome: str, figure: str = "", detail: str = "") -> None:
        """Record a check's outcome (a second record of the same check replaces the first)."""
        if check not in CHECKS:
            raise KeyError(f"{check!r} is not a check of the catalogue (report.CHECKS)")
        if outcome not in (PASSED, FAILED, SKIPPED):
            raise ValueError(f"outcome {outcome!r}: pass, fail or skipped")
        with self._lock:
            self._results[check] = Result(check, outcome, figure, " ".join(detail.split()))

    def outcome(self, check: str) -> str:
        """The check's outcome so far (``not run`` before it ran)."""
        with self._lock:
            result = self._results.get(check)
        return result.outcome if result else NOT_RUN

    @contextlib.contextmanager
    def check(self, check: str) -> Iterator[Recorder]:
        """Run a check: it passes when the block ends, is skipped by ``pytest.skip`` and fails
        with the exception's message otherwise (the exception goes on)."""
        recorder = Recorder()
        try:
            yield recorder
        except pytest.skip.Exception as skipped:
            self.record(check, SKIPPED, recorder.figure, skipped.msg or recorder.detail)
            raise
        except BaseException as error:
            cause = " ".join(str(error).split()) or type(error).__name__
            detail = f"{recorder.detail} {cause}".strip()
            self.record(check, FAILED, recorder.figure, detail)
            raise
        self.record(check, PASSED, recorder.figure, recorder.detail)

    def rows(self) -> list[Result]:
        """Every check of the catalogue in order, those not reached as ``not run``."""
        with self._lock:
            return [self._results.get(c) or Result(c, NOT_RUN) for c in CHECKS]

    def failed(self) -> list[str]:
        """The checks that failed."""
        return [row.check for row in self.rows() if row.outcome == FAILED]

    def table(self, width: int = 100) -> str:
        """The table: check, outcome, figure, then what a pass proves (and any detail), wrapped
        to `width`; then the questions one account cannot settle."""
        rows = self.rows()
        check_width = max(len(c) for c in [*CHECKS, *UNCHECKABLE, "check"])
        figure_width = max([len("figure"), *(len(r.figure) for r in rows)])
        left = check_width + 2 + 8 + 2 + figure_width + 2
        text_width = max(30, width - left)
        lines = [self.title] if self.title else []
        lines.append(f"{'check':<{check_width}}  {'result':<8}  {'figure':<{figure_width}}  proves")
        for row in rows:
            text = CHECKS[row.check] + (f" -- {row.detail}" if row.detail else "")
            wrapped = textwrap.wrap(text, text_width) or [""]
            head = f"{row.check:<{check_width}}  {row.outcome:<8}  {row.figure:<{figure_width}}  "
            lines.append(head + wrapped[0])
            lines.extend(" " * left + more for more in wrapped[1:])
        lines.append("not checkable in one sandbox account:")
        indent = check_width + 2
        for name, why in UNCHECKABLE.items():
            wrapped = textwrap.wrap(why, max(30, width - indent))
            lines.append(f"{name:<{check_width}}  {wrapped[0]}")
            lines.extend(" " * indent + more for more in wrapped[1:])
        counts = {o: sum(r.outcome == o for r in rows) for o in (PASSED, FAILED, SKIPPED, NOT_RUN)}
        lines.append(", ".join(f"{n} {o}" for o, n in counts.items()))
        return "\n".join(lines)
