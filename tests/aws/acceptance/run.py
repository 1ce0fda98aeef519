"""One run of the real-account suite: its settings and names, the person's AWS session, the ledger
of what it made, the report, its directory (state, parameter files, command logs, the report),
and what earlier steps found for later ones. The real-account tests share one Run (a session
fixture, tests/aws/conftest.py) whose `finish` tears everything down and writes the report, also
when steps failed."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import boto3
import pytest
from botocore.config import Config

from tests.aws.acceptance import cli, exposure, gate
from tests.aws.acceptance.gate import Settings
from tests.aws.acceptance.ledger import Ledger, Leftover
from tests.aws.acceptance.names import RUN_TAG, Names, run_id
from tests.aws.acceptance.parameter_sets import Exposure
from tests.aws.acceptance.report import PASSED, SKIPPED, Report
from tests.aws.acceptance.teardown import STACK, existing_stack, stack_leftovers, teardown
from tests.conftest import ROOT

RETRIES = Config(retries={"max_attempts": 10, "mode": "standard"})


@dataclass
class Run:
    """The state of one run (see the module)."""

    settings: Settings
    names: Names
    session: boto3.Session
    caller: str  # the person's IAM principal (roles of the run trust it alone)
    directory: Path
    ledger: Ledger
    report: Report
    found: dict[str, Any] = field(default_factory=dict)
    _clients: dict[str, Any] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _background: dict[str, Future] = field(default_factory=dict)
    stopping: threading.Event = field(default_factory=threading.Event)
    _pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(max_workers=8))

    @classmethod
    def start(cls, settings: Settings, session: boto3.Session, caller: str) -> Run:
        names = Names(run_id(settings.prefix), settings.account)
        directory = Path(settings.run_dir or ROOT / ".aws-acceptance" / names.run)
        ledger = Ledger(directory / "state.json", settings.region, names.run)
        title = f"mlflow-cfn acceptance run {names.run} in {settings.account} {settings.region}"
        return cls(settings, names, session, caller, directory, ledger, Report(title))

    # --- AWS -------------------------------------------------------------------------------------

    def aws(self, service: str) -> Any:
        """The person's client of `service` (made once; boto3 clients may be shared by threads,
        sessions may not, hence the lock)."""
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self.session.client(service, config=RETRIES)
            return self._clients[service]

    @property
    def partition(self) -> str:
        return self.caller.split(":")[1]

    def outputs(self, stack: str) -> dict[str, str]:
        described = self.aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return {o["OutputKey"]: o.get("OutputValue", "") for o in described.get("Outputs", [])}

    def stack_parameters(self, stack: str) -> dict[str, str]:
        described = self.aws("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]
        return {p["ParameterKey"]: p.get("ParameterValue", "") for p in described["Parameters"]}

    def resources(self, stack: str) -> list[dict]:
        paginator = self.aws("cloudformation").get_paginator("list_stack_resources")
        return [
            r
            for page in paginator.paginate(StackName=stack)
            for r in page["StackResourceSummaries"]
        ]

    def physical(self, stack: str, logical_id: str) -> str:
        return next(
            r["PhysicalResourceId"]
            for r in self.resources(stack)
            if r["LogicalResourceId"] == logical_id
        )

    # --- files and commands ---------------------------------------------------------------------

    def path(self, *parts: str) -> Path:
        return self.directory.joinpath(*parts)

    def mlflow_cfn(
        self, name: str, args: Sequence[str], environment: Mapping[str, str | None] | None = None
    ) -> cli.Finished:
        """Run an `mlflow-cfn` command, its output in logs/<name>.log."""
        return cli.run(args, self.path("logs", f"{name}.log"), environment)

    def deploy(
        self,
        role: str,
        parameters: Mapping[str, str],
        *,
        template: str | None = None,
        network: bool = True,
        environment: Mapping[str, str | None] | None = None,
        step: str = "",
    ) -> cli.Finished:
        """`mlflow-cfn deploy` of the run's stack of `role` (registered before it is created;
        what it keeps registered after every deployment, failed ones too)."""
        stack = self.names.stack(role)
        self.ledger.add(
            Leftover(STACK, stack, "mlflow-cfn deploy", wave=1 if role == "network" else 0)
        )
        name = f"{role}-{step}" if step else role
        path = cli.write_parameters(self.path("parameters", f"{name}.json"), parameters)
        args = cli.deploy(
            stack,
            path,
            self.settings.region,
            self.names.template_bucket,
            template=str(ROOT / "templates" / template) if template else None,
            network_stack=self.names.stack("network") if network else None,
            tags=[f"{RUN_TAG}={self.names.run}"],
        )
        finished = self.mlflow_cfn(f"deploy-{name}", args, environment)
        cfn = self.aws("cloudformation")
        if existing_stack(cfn, stack) is not None:
            self.ledger.add(*stack_leftovers(cfn, stack))
        return finished

    # --- the HTTP checks ------------------------------------------------------------------------

    def exposure(self, role: str) -> Exposure:
        """How this machine reaches the stack of `role`; skipped without a domain."""
        self.require_setting(self.settings.has_domain, gate.HOSTED_ZONE)
        with self._lock:
            if "zone" not in self.found:
                zone = exposure.zone_name(self.aws("route53"), self.settings.hosted_zone_id or "")
                exposure.check_certificate(
                    self.aws("acm"), self.settings.certificate_arn or "", zone
                )
                self.found["zone"] = zone
                self.found["client_cidr"] = self.settings.client_cidr or exposure.client_cidr()
        return Exposure(
            client_cidr=self.found["client_cidr"],
            domain=self.names.domain(role, self.found["zone"]),
            certificate_arn=self.settings.certificate_arn or "",
            hosted_zone_id=self.settings.hosted_zone_id or "",
        )

    # --- order ----------------------------------------------------------------------------------

    def require(self, *prerequisites: str, checks: tuple[str, ...] = ()) -> None:
        """Skip (with the reason, recorded for `checks`) unless every prerequisite passed."""
        missing = [
            f"{c} ({self.report.outcome(c)})"
            for c in prerequisites
            if self.report.outcome(c) != PASSED
        ]
        if missing:
            self.skip(f"needs {', '.join(missing)}", checks)

    def require_setting(self, present: bool, setting: str, checks: tuple[str, ...] = ()) -> None:
        """Skip (recorded for `checks`) unless the optional setting is given."""
        if not present:
            self.skip(f"{setting} is not set: {gate.SETTINGS[setting]}", checks)

    def skip(self, reason: str, checks: tuple[str, ...] = ()) -> NoReturn:
        """Skip the calling test, recording the reason for `checks`."""
        for check in checks:
            self.report.record(check, SKIPPED, detail=reason)
        pytest.skip(reason)

    def checked(self, check: str, action: Callable[[Any], None]) -> None:
        """Run `action(recorder)` as `check`, keeping its failure or skip in the report only (for
        steps that run beside others: the test that joins them fails for them)."""
        try:
            with self.report.check(check) as recorder:
                action(recorder)
        except (Exception, pytest.skip.Exception, pytest.fail.Exception):
            pass  # recorded by report.check (an interrupt goes on)

    def background_step(self, check: str, action: Callable[[Any], None]) -> None:
        """`checked`, unless the run is ending (the session stopped early): then the check is
        skipped, so the teardown waits for the step in flight only."""
        if self.stopping.is_set():
            self.report.record(check, SKIPPED, detail="the run ended before this step")
            return
        self.checked(check, action)

    def in_parallel(self, actions: Mapping[str, Callable[[Any], None]]) -> None:
        """Run checks at the same time (each recorded), and wait for all of them."""
        futures = [self._pool.submit(self.checked, check, act) for check, act in actions.items()]
        for future in futures:
            future.result()

    def in_background(self, name: str, action: Callable[[], None]) -> None:
        """Start `action` (which records its own checks) and go on."""
        self._background[name] = self._pool.submit(action)

    def join(self, name: str) -> None:
        """Wait for a background action started with `in_background`."""
        if name in self._background:
            self._background[name].result()

    def assert_passed(self, *checks: str) -> None:
        """Fail the calling test naming the checks of `checks` that failed (skips are fine)."""
        failed = [c for c in checks if self.report.outcome(c) == "fail"]
        assert not failed, "; ".join(
            f"{row.check}: {row.detail}" for row in self.report.rows() if row.check in failed
        )

    # --- the end --------------------------------------------------------------------------------

    def finish(self) -> str:
        """Let background steps end (those not started yet are skipped), tear everything down
        (recorded as the check ``teardown``), write the report next to the state; its text."""
        self.stopping.set()
        try:
            for future in self._background.values():
                future.exception()  # waits; the steps recorded their own outcome
            self._pool.shutdown(wait=True)

            def tear_down(check: Any) -> None:
                failures = teardown(self.aws, self.ledger, log=self._log)
                done = len(self.ledger.entries()) - len(self.ledger.pending())
                check.figure = f"{done} deleted"
                if failures:
                    raise RuntimeError(
                        f"{len(failures)} left (run again: python -m "
                        f"tests.aws.acceptance.teardown {self.ledger.path}): " + "; ".join(failures)
                    )

            self.checked("teardown", tear_down)
        finally:
            table = self.report.table()
            self.path("report.txt").parent.mkdir(parents=True, exist_ok=True)
            self.path("report.txt").write_text(table + "\n")
        return table

    def _log(self, line: str) -> None:
        self.path("logs").mkdir(parents=True, exist_ok=True)
        with self.path("logs", "teardown.log").open("a") as log:
            log.write(line + "\n")
