"""Whether the stack's notifications arrive: an SQS queue subscribed to the stack's alarm topic
(``AlarmTopicArn``, encrypted with the stack's logs key), alarms forced into ALARM, and the
messages read back (SNS envelopes around the alarm's or the EventBridge event's JSON)."""

from __future__ import annotations

import json
from typing import Any

from tests.aws.acceptance.names import RUN_TAG
from tests.aws.acceptance.waiting import REAL, Clock, poll

IMPAIRED_EVENT = "SERVICE_TASK_START_IMPAIRED"


def queue_policy(queue_arn: str, topic_arn: str) -> dict:
    """The queue accepts messages from SNS for this topic only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheAlarmTopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": topic_arn}},
            }
        ],
    }


def create_queue(sqs: Any, name: str, run: str) -> tuple[str, str]:
    """The queue (SQS-managed encryption, messages kept an hour): its URL and ARN."""
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": "3600"},
        tags={RUN_TAG: run},
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def subscribe(sqs: Any, sns: Any, queue_url: str, queue_arn: str, topic_arn: str) -> str:
    """Let the topic send to the queue and subscribe the queue; the subscription's ARN."""
    sqs.set_queue_attributes(
        QueueUrl=queue_url, Attributes={"Policy": json.dumps(queue_policy(queue_arn, topic_arn))}
    )
    return str(
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
        )["SubscriptionArn"]
    )


def notifying_alarms(cloudwatch: Any, alarm_names: list[str], topic_arn: str) -> list[str]:
    """Of `alarm_names`, those whose actions notify the topic (idle shutdown's alarms drive
    scaling policies instead: forcing them would stop the service)."""
    if not alarm_names:
        return []
    alarms = cloudwatch.describe_alarms(AlarmNames=alarm_names, AlarmTypes=["MetricAlarm"])
    return sorted(a["AlarmName"] for a in alarms["MetricAlarms"] if topic_arn in a["AlarmActions"])


def force_alarm(cloudwatch: Any, name: str) -> None:
    """Put the alarm into ALARM (it returns to its real state at its next evaluation)."""
    cloudwatch.set_alarm_state(
        AlarmName=name,
        StateValue="ALARM",
        StateReason="mlflow-cfn acceptance suite: checking that the notification arrives",
    )


def notification(body: str) -> dict:
    """The JSON an SNS notification carries (an alarm's or an event's); ``{"text": ...}`` for a
    message that is no JSON."""
    message = json.loads(body).get("Message", "")
    try:
        payload = json.loads(message)
    except ValueError:
        return {"text": message}
    return payload if isinstance(payload, dict) else {"text": message}


def is_alarm(name: str) -> Any:
    """Matches the notification of `name` entering ALARM."""
    return lambda p: p.get("AlarmName") == name and p.get("NewStateValue") == "ALARM"


def is_impaired(service_arn: str) -> Any:
    """Matches ECS's task-start-impaired event of the service."""
    return lambda p: (
        p.get("detail-type") == "ECS Service Action"
        and p.get("detail", {}).get("eventName") == IMPAIRED_EVENT
        and service_arn in p.get("resources", [])
    )


class Inbox:
    """The queue's notifications as they arrive (each deleted once read), kept with the time
    they were read, so that one wait never loses what another waits for."""

    def __init__(self, sqs: Any, url: str, clock: Clock = REAL) -> None:
        self.sqs, self.url, self.clock = sqs, url, clock
        self.received: list[tuple[float, dict]] = []

    def receive(self) -> None:
        """Read what is there (waiting up to 20 s for something)."""
        messages = self.sqs.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=20
        ).get("Messages", [])
        for message in messages:
            self.received.append((self.clock.now(), notification(message["Body"])))
            self.sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])

    def find(self, match: Any) -> tuple[float, dict] | None:
        return next((item for item in self.received if match(item[1])), None)

    def wait_for(self, match: Any, what: str, timeout: float) -> tuple[float, dict]:
        """The first notification `match` accepts, with the time it was read."""

        def look() -> tuple[float, dict] | None:
            found = self.find(match)
            if found is None:
                self.receive()
                found = self.find(match)
            return found

        found = poll(
            look, lambda f: f is not None, what=what, timeout=timeout, every=1, clock=self.clock
        )
        assert found is not None
        return found
