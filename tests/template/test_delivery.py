"""Every alarm action and event target reaches its topic through the policies the stack creates
(tests/template/delivery.py, the rules AWS applies with their documentation), and the double is
itself checked on the SNS guide's documented cases.

Before issue 22 no alarm notified anyone: the topic's policy replaced SNS's default one and named
only EventBridge; and the task-start rule could not publish either: the key policy asked
EventBridge for aws:SourceAccount, which it does not send to KMS for an encrypted topic.
"""

from __future__ import annotations

import copy
import json

import pytest

from tests.conftest import REQUIRED_PARAMETERS, TEMPLATES
from tests.template.delivery import ACCOUNT, REGION, stack_deliveries

PRODUCT = json.loads((TEMPLATES / "mlflow.json").read_text())
DATADOG = json.loads((TEMPLATES / "mlflow-datadog.json").read_text())
MODES = {
    "default": {},
    "container insights": {"ContainerInsights": "enabled"},
    "e-mail": {"AlarmEmail": "oncall@example.com"},
    "idle shutdown": {"IdleShutdownMinutes": "30"},
}


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_alarm_and_event_target_reaches_the_topic(mode):
    paths = stack_deliveries(PRODUCT, {**REQUIRED_PARAMETERS, **MODES[mode]})
    publishers = {p.publisher for p in paths}
    notifying = {
        logical_id
        for logical_id, r in PRODUCT["Resources"].items()
        if r["Type"] == "AWS::CloudWatch::Alarm" and "AlarmActions" in r["Properties"]
        and {"Ref": "AlarmTopic"} in r["Properties"]["AlarmActions"]
    }  # fmt: skip
    assert "TaskStartImpairedRule" in publishers
    assert len(publishers) >= 6
    if mode == "container insights":
        assert publishers - {"TaskStartImpairedRule"} == notifying
    assert [(p.publisher, p.failures) for p in paths if p.failures] == []


def test_the_datadog_variant_delivers_too():
    paths = stack_deliveries(DATADOG, {**REQUIRED_PARAMETERS, "DatadogApiKeySecretArn": (
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:datadog-AbCdEf")})  # fmt: skip
    assert paths and [p for p in paths if p.failures] == []


# --- The double on the SNS guide's documented cases -------------------------------------------


def _topic_policy(template: dict) -> list:
    return template["Resources"]["AlarmTopicPolicy"]["Properties"]["PolicyDocument"]["Statement"]


def _key_policy(template: dict) -> list:
    return template["Resources"]["LogsKey"]["Properties"]["KeyPolicy"]["Statement"]


def _failures(template: dict) -> dict[str, list[str]]:
    return {p.publisher: p.failures for p in stack_deliveries(template, REQUIRED_PARAMETERS)}


def test_a_topic_policy_naming_only_eventbridge_shuts_out_every_alarm():
    # The policy replaces SNS's default one: what it does not name cannot publish.
    template = copy.deepcopy(PRODUCT)
    _topic_policy(template)[:] = [s for s in _topic_policy(template) if s["Sid"] != (
        "ThisStacksAlarmsPublish")]  # fmt: skip
    failures = _failures(template)
    assert failures["TaskStartImpairedRule"] == []
    assert failures["AlarmTargetServerErrors"] == [
        "the topic policy does not let cloudwatch.amazonaws.com publish"
    ]


def test_eventbridge_cannot_meet_a_source_condition_in_the_key_policy():
    # SNS Developer Guide, Important: aws:SourceAccount in a key policy "is not supported for
    # EventBridge-to-encrypted topics".
    template = copy.deepcopy(PRODUCT)
    (events,) = [s for s in _key_policy(template) if s["Sid"] == (
        "EventBridgePublishesToTheEncryptedTopic")]  # fmt: skip
    events["Condition"] = {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    assert "refuses kms:GenerateDataKey" in " ".join(_failures(template)["TaskStartImpairedRule"])


def test_an_encrypted_topic_needs_the_publisher_in_the_key_policy():
    # SNS Developer Guide: the service needs kms:GenerateDataKey* and kms:Decrypt on the key.
    template = copy.deepcopy(PRODUCT)
    _key_policy(template)[:] = [s for s in _key_policy(template) if s["Sid"] != (
        "CloudWatchAlarmsOfThisAccountPublishToTheEncryptedTopic")]  # fmt: skip
    failures = _failures(template)["AlarmSlowResponses"]
    assert failures == [
        "the topic's key policy refuses kms:GenerateDataKey to cloudwatch.amazonaws.com",
        "the topic's key policy refuses kms:Decrypt to cloudwatch.amazonaws.com",
    ]


def test_another_accounts_alarm_is_not_admitted():
    # The topic policy names this stack's alarms by ARN (aws:SourceArn): another stack's alarm,
    # or one of another account, is refused.
    (statement,) = [s for s in _topic_policy(PRODUCT) if s["Sid"] == "ThisStacksAlarmsPublish"]
    sources = statement["Condition"]["ArnEquals"]["aws:SourceArn"]
    assert all("Fn::GetAtt" in json.dumps(source) for source in sources)
