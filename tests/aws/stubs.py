"""boto3 clients answered by botocore's Stubber, for the offline tests of the real-account steps:
every call must be one queued, with exactly the queued parameters, and the Stubber checks names
and types of parameters and answers against the real API model."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from tests.aws.acceptance.waiting import Clock

REGION = "eu-west-1"
ACCOUNT = "123456789012"


class Stubs:
    """One stubbed client per service, made on first use; call it like the run's `aws`."""

    def __init__(self, region: str = REGION) -> None:
        self.region = region
        self.clients: dict[str, Any] = {}
        self.stubbers: dict[str, Stubber] = {}

    def __call__(self, service: str) -> Any:
        if service not in self.clients:
            client = boto3.client(service, region_name=self.region)
            stubber = Stubber(client)
            stubber.activate()
            self.clients[service], self.stubbers[service] = client, stubber
        return self.clients[service]

    def expect(self, service: str, operation: str, params: dict, response: dict | None = None):
        """Queue one call of `operation` with `params`, answered with `response`."""
        self(service)
        self.stubbers[service].add_response(operation, response or {}, params)

    def fail(self, service: str, operation: str, code: str, status: int = 400, params=None):
        """Queue one call of `operation` that fails with the AWS error `code`."""
        self(service)
        self.stubbers[service].add_client_error(
            operation, code, f"{code} (stubbed)", http_status_code=status, expected_params=params
        )

    def done(self) -> None:
        """Every queued call was made."""
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


class FakeClock:
    """A clock that only moves when slept."""

    def __init__(self) -> None:
        self.time = 0.0
        self.slept: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.time += seconds

    @property
    def clock(self) -> Clock:
        return Clock(now=self.now, sleep=self.sleep)
