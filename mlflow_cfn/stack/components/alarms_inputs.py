"""The alarm Parameters (where notifications go, the two thresholds an operator tunes) and the
Condition of the e-mail subscription. Every other threshold is a literal beside its alarm in
``alarms.py``, with the reason it needs no tuning."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import Parameter

from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.interface import GROUP_ALARMS
from mlflow_cfn.stack.logic import given, is_value
from mlflow_cfn.stack.parameters import boolean, count, optional

ALARM_EMAIL = "AlarmEmail"
ALARM_RESPONSE_TIME_SECONDS = "AlarmResponseTimeSeconds"
ALARM_SERVER_ERRORS = "AlarmServerErrors"
CREATE_DASHBOARD_PARAMETER = "CreateDashboard"
HAS_ALARM_EMAIL = "HasAlarmEmail"
CREATE_DASHBOARD = "CreateDashboardCondition"

#: An address SNS accepts for the email protocol (it then asks the owner to confirm).
EMAIL = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,190}\.[A-Za-z]{2,63}"


@dataclass(frozen=True)
class AlarmsInputs:
    """The alarm Parameters, in console order."""

    email: Parameter
    response_time_seconds: Parameter
    server_errors: Parameter
    create_dashboard: Parameter


def declare_alarms_inputs(ctx: Context) -> AlarmsInputs:
    """Declare the alarm Parameters and the HasAlarmEmail Condition."""
    inputs = AlarmsInputs(
        *ctx.parameters(
            optional(ALARM_EMAIL, "E-mail address that receives the alarms (SNS asks it to "
                     "confirm the subscription first). Empty: no subscription; subscribe to the "
                     "AlarmTopicArn output yourself (chat, pager, ticketing).",
                     "Alarm e-mail", GROUP_ALARMS, EMAIL, "ops@example.com"),
            count(ALARM_RESPONSE_TIME_SECONDS, "Alarm when the 95th percentile of the server's "
                  "response time stays above this many seconds for 15 minutes. Artifact "
                  "uploads and downloads pass through the server, so large files are slow by "
                  "nature: raise it if yours are.", "Slow-response alarm (p95 seconds)",
                  GROUP_ALARMS, 5, 1, 300),
            count(ALARM_SERVER_ERRORS, "Alarm when the server answers this many 5xx errors or "
                  "more within 5 minutes.", "Server-error alarm (5xx per 5 minutes)",
                  GROUP_ALARMS, 10, 1, 100000),
            boolean(CREATE_DASHBOARD_PARAMETER, "Create a CloudWatch dashboard of the service "
                    "(requests, latency, errors, tasks, CPU and memory, database, alarms): "
                    "$3 a month unless it is one of the account's 3 free dashboards. "
                    "CloudWatch's automatic ECS, load balancer and RDS dashboards cost nothing.",
                    "Dashboard", GROUP_ALARMS, "false"),
        )
    )  # fmt: skip
    ctx.condition(HAS_ALARM_EMAIL, given(inputs.email))
    ctx.condition(CREATE_DASHBOARD, is_value(inputs.create_dashboard, "true"))
    return inputs
