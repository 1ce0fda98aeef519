"""The alarm-delivery steps: the queue accepts the topic only, only alarms that notify the topic
are forced, and notifications are read as SNS delivers them (an envelope around JSON)."""

from __future__ import annotations

import json

import pytest

from tests.aws.acceptance import alarms
from tests.aws.acceptance.names import RUN_TAG
from tests.aws.stubs import ACCOUNT, REGION, FakeClock, Stubs

pytestmark = pytest.mark.usefixtures("no_real_aws")

TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:mfa2612071530-web-AlarmTopic-X"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/mfa2612071530-alarms"
QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT}:mfa2612071530-alarms"
SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/mfa-web-EcsCluster-Y/mfa-web-Service-Z"


@pytest.fixture
def aws():
    stubs = Stubs()
    yield stubs
    stubs.done()


def test_the_queue_is_subscribed_and_accepts_only_the_topic(aws):
    aws.expect(
        "sqs",
        "create_queue",
        {
            "QueueName": "mfa2612071530-alarms",
            "Attributes": {"SqsManagedSseEnabled": "true", "MessageRetentionPeriod": "3600"},
            "tags": {RUN_TAG: "mfa2612071530"},
        },
        {"QueueUrl": QUEUE_URL},
    )
    aws.expect(
        "sqs",
        "get_queue_attributes",
        {"QueueUrl": QUEUE_URL, "AttributeNames": ["QueueArn"]},
        {"Attributes": {"QueueArn": QUEUE_ARN}},
    )
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheAlarmTopicDelivers",
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": QUEUE_ARN,
                "Condition": {"ArnEquals": {"aws:SourceArn": TOPIC}},
            }
        ],
    }
    aws.expect(
        "sqs",
        "set_queue_attributes",
        {"QueueUrl": QUEUE_URL, "Attributes": {"Policy": json.dumps(policy)}},
    )
    aws.expect(
        "sns",
        "subscribe",
        {
            "TopicArn": TOPIC,
            "Protocol": "sqs",
            "Endpoint": QUEUE_ARN,
            "ReturnSubscriptionArn": True,
        },
        {"SubscriptionArn": TOPIC + ":sub-1"},
    )
    url, arn = alarms.create_queue(aws("sqs"), "mfa2612071530-alarms", "mfa2612071530")
    assert alarms.subscribe(aws("sqs"), aws("sns"), url, arn, TOPIC) == TOPIC + ":sub-1"


def test_only_alarms_that_notify_the_topic_are_forced(aws):
    names = ["mfa-web-AlarmSlowResponses-A", "mfa-web-IdleShutdownAlarm-B"]
    aws.expect(
        "cloudwatch",
        "describe_alarms",
        {"AlarmNames": names, "AlarmTypes": ["MetricAlarm"]},
        {
            "MetricAlarms": [
                {"AlarmName": names[0], "AlarmActions": [TOPIC]},
                {"AlarmName": names[1], "AlarmActions": ["arn:aws:autoscaling:policy"]},
            ]
        },
    )
    aws.expect(
        "cloudwatch",
        "set_alarm_state",
        {
            "AlarmName": names[0],
            "StateValue": "ALARM",
            "StateReason": "mlflow-cfn acceptance suite: checking that the notification arrives",
        },
    )
    notifying = alarms.notifying_alarms(aws("cloudwatch"), names, TOPIC)
    assert notifying == names[:1]
    alarms.force_alarm(aws("cloudwatch"), notifying[0])


def envelope(payload: dict | str) -> str:
    message = payload if isinstance(payload, str) else json.dumps(payload)
    return json.dumps({"Type": "Notification", "TopicArn": TOPIC, "Message": message})


def test_notifications_are_waited_for_and_none_is_lost(aws):
    alarm = {"AlarmName": "A", "NewStateValue": "ALARM", "OldStateValue": "INSUFFICIENT_DATA"}
    event = {
        "source": "aws.ecs",
        "detail-type": "ECS Service Action",
        "resources": [SERVICE],
        "detail": {"eventName": "SERVICE_TASK_START_IMPAIRED", "eventType": "WARN"},
    }
    receive = {"QueueUrl": QUEUE_URL, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 20}
    aws.expect("sqs", "receive_message", receive, {})
    aws.expect(
        "sqs",
        "receive_message",
        receive,
        {
            "Messages": [
                {"Body": envelope(event), "ReceiptHandle": "r1"},
                {"Body": envelope({**alarm, "NewStateValue": "OK"}), "ReceiptHandle": "r2"},
                {"Body": envelope("plain text"), "ReceiptHandle": "r3"},
            ]
        },
    )
    for handle in ("r1", "r2", "r3"):
        aws.expect("sqs", "delete_message", {"QueueUrl": QUEUE_URL, "ReceiptHandle": handle})
    aws.expect(
        "sqs",
        "receive_message",
        receive,
        {"Messages": [{"Body": envelope(alarm), "ReceiptHandle": "r4"}]},
    )
    aws.expect("sqs", "delete_message", {"QueueUrl": QUEUE_URL, "ReceiptHandle": "r4"})
    time = FakeClock()
    inbox = alarms.Inbox(aws("sqs"), QUEUE_URL, time.clock)
    arrived, payload = inbox.wait_for(alarms.is_alarm("A"), "alarm A", timeout=300)
    assert payload == alarm and arrived == 2.0
    # The event arrived while waiting for the alarm: found without another receive.
    _, found = inbox.wait_for(alarms.is_impaired(SERVICE), "impaired", timeout=300)
    assert found == event
    assert {"text": "plain text"} in [p for _, p in inbox.received]


def test_an_event_of_another_service_does_not_count():
    event = {
        "detail-type": "ECS Service Action",
        "resources": [SERVICE + "-other"],
        "detail": {"eventName": "SERVICE_TASK_START_IMPAIRED"},
    }
    assert not alarms.is_impaired(SERVICE)(event)
