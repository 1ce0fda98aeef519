"""CloudWatch metrics as alarms name them: the namespaces the stack's alarms read, a metric's
identifying properties, and a metric read by a metric-math alarm. Shared by the operator's
alarms (``components/alarms.py``) and idle shutdown's (``components/idle_shutdown.py``)."""

from __future__ import annotations

from troposphere.cloudwatch import Metric, MetricDataQuery, MetricDimension, MetricStat

ALB = "AWS/ApplicationELB"
ECS = "AWS/ECS"
INSIGHTS = "ECS/ContainerInsights"
RDS = "AWS/RDS"


def metric(namespace: str, name: str, dimensions: dict) -> dict:
    """The properties that name a metric (of a single-metric alarm, or of a `query`)."""
    return {
        "Namespace": namespace,
        "MetricName": name,
        "Dimensions": [MetricDimension(Name=key, Value=value) for key, value in dimensions.items()],
    }


def query(query_id: str, named: dict, stat: str, period: int) -> MetricDataQuery:
    """One metric (a `metric`) read by a metric-math alarm, not itself returned."""
    return MetricDataQuery(
        Id=query_id,
        MetricStat=MetricStat(Metric=Metric(**named), Stat=stat, Period=period),
        ReturnData=False,
    )
