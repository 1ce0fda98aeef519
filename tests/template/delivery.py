"""Does a notification reach its SNS topic? A test double of what AWS checks between a publisher
(a CloudWatch alarm's action, an EventBridge rule's target) and an SNS topic encrypted with a KMS
key, each rule with the documentation it comes from:

1. The topic's policy (a resource-based policy) must allow the publisher's service principal
   ``sns:Publish`` on the topic, with the request context that service sends. An
   ``AWS::SNS::TopicPolicy`` replaces the topic's default policy (SNS API Reference,
   SetTopicAttributes ``Policy``: "The policy that defines who can access your topic"), so a
   topic with one admits only whom it names; a topic without one keeps SNS's default policy,
   which this double does not model (ValueError).
2. If the topic is encrypted (``KmsMasterKeyId``), the key's policy must allow the same principal
   ``kms:GenerateDataKey*`` and ``kms:Decrypt`` (Amazon SNS Developer Guide, "Enable compatibility
   between event sources from AWS services and encrypted topics": "To allow the AWS service to
   have the kms:GenerateDataKey* and kms:Decrypt permissions, add the following statement to the
   KMS policy"), with the context that service sends to KMS.

What each publisher sends (PUBLISHERS) is read from the same guides; the policies are evaluated by
tests/publish/iam.py (`allowed_by_resource_policy`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflow_cfn.cfn.evaluate import Evaluated, evaluate
from tests.publish.iam import allowed_by_resource_policy

ACCOUNT = "111122223333"
REGION = "eu-west-1"
STACK = "mlflow"


@dataclass(frozen=True)
class Publisher:
    """A service that publishes to SNS for a resource of the stack: its principal, and the
    context keys (besides those of the resource's own ARN) it sends to SNS and to KMS."""

    principal: str
    sends_to_sns: tuple[str, ...]
    sends_to_kms: tuple[str, ...]
    source: str


#: Resource type of the publisher -> what it sends. ``aws:SourceArn`` is the publisher's ARN,
#: ``aws:SourceAccount`` its account.
PUBLISHERS: dict[str, Publisher] = {
    "AWS::CloudWatch::Alarm": Publisher(
        "cloudwatch.amazonaws.com",
        ("aws:SourceArn", "aws:SourceAccount"),
        ("aws:SourceArn", "aws:SourceAccount"),
        "SNS Developer Guide, 'Example cases for Amazon SNS access control' (CloudWatch alarms "
        "publishing, condition aws:SourceArn on the alarm ARN) and 'Enable compatibility "
        "between event sources ... and encrypted topics', step 3 (add aws:SourceAccount and "
        "aws:SourceArn to the key policy)",
    ),
    "AWS::Events::Rule": Publisher(
        "events.amazonaws.com",
        ("aws:SourceArn", "aws:SourceAccount"),
        (),
        "EventBridge User Guide, 'Amazon SNS permissions' (topic policy with aws:SourceArn of the "
        "rule); SNS Developer Guide, 'Enable compatibility between event sources ... and "
        "encrypted topics', Important: 'Adding the aws:SourceAccount, aws:SourceArn, and "
        "aws:SourceOrgID to a AWS KMS policy is not supported for EventBridge-to-encrypted "
        "topics'",
    ),
}


def arn(service: str, resource: str) -> str:
    return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{resource}"


def stack_identities(template: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """(physical ids, attributes) of the stack's topics, keys, alarms and rules as CloudFormation
    names them (``<stack>-<logical id>-<random>``; CloudFormation User Guide, "Name type"; an SNS
    topic's Ref is its ARN, a key's its id)."""
    physical_ids, attributes = {}, {}
    for logical_id, resource in template["Resources"].items():
        name = f"{STACK}-{logical_id}-ABCDEFGHIJKL"
        kind = resource["Type"]
        if kind == "AWS::SNS::Topic":
            physical_ids[logical_id] = attributes[f"{logical_id}.TopicArn"] = arn("sns", name)
        elif kind == "AWS::KMS::Key":
            key_id = f"0a1b2c3d-{len(physical_ids):04d}-2222-3333-444455556666"
            physical_ids[logical_id] = key_id
            attributes[f"{logical_id}.Arn"] = arn("kms", f"key/{key_id}")
        elif kind == "AWS::CloudWatch::Alarm":
            attributes[f"{logical_id}.Arn"] = arn("cloudwatch", f"alarm:{name}")
        elif kind == "AWS::Events::Rule":
            attributes[f"{logical_id}.Arn"] = arn("events", f"rule/{name}")
    return physical_ids, attributes


@dataclass(frozen=True)
class Delivery:
    """One publisher -> topic path and why it fails ([] when it is delivered)."""

    publisher: str
    topic: str
    failures: list[str]


def stack_deliveries(template: dict[str, Any], parameters: dict[str, str]) -> list[Delivery]:
    """Every publisher -> topic path of ``template`` as a stack in ACCOUNT and REGION (with
    real-looking names and ARNs), each checked."""
    physical_ids, attributes = stack_identities(template)
    stack = evaluate(
        template,
        parameters,
        physical_ids=physical_ids,
        attributes=attributes,
        account_id=ACCOUNT,
        region=REGION,
        stack_name=STACK,
    )
    return deliveries(stack, physical_ids, attributes)


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def deliveries(
    stack: Evaluated, physical_ids: dict[str, str], attributes: dict[str, str]
) -> list[Delivery]:
    """Every path from a publisher of the stack to an SNS topic of the stack, each checked."""
    topics = {physical_ids[t]: t for t in stack.of_type("AWS::SNS::Topic")}
    keys = {attributes[f"{k}.Arn"]: k for k in stack.of_type("AWS::KMS::Key")}
    paths = []
    for logical_id, resource in stack.resources.items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::CloudWatch::Alarm":
            targets = [*props.get("AlarmActions", []), *props.get("OKActions", [])]
        elif kind == "AWS::Events::Rule":
            targets = [t["Arn"] for t in props.get("Targets", [])]
        else:
            continue
        source = attributes[f"{logical_id}.Arn"]
        for target in dict.fromkeys(targets):
            if target in topics:
                failures = _check(stack, PUBLISHERS[kind], source, topics[target], target, keys)
                paths.append(Delivery(logical_id, topics[target], failures))
    return paths


def _context(keys: tuple[str, ...], source: str) -> dict[str, str]:
    values = {"aws:SourceArn": source, "aws:SourceAccount": ACCOUNT}
    return {k: values[k] for k in keys}


def _check(stack, publisher: Publisher, source, topic_id, topic_arn, keys) -> list[str]:
    """Why ``publisher`` (for the resource ``source``) cannot publish to the topic."""
    principal = ("Service", publisher.principal)
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in stack.of_type("AWS::SNS::TopicPolicy").values()
        if topic_arn in p["Properties"]["Topics"]
    ]
    if not policies:
        raise ValueError("SNS's default topic policy is not modelled: give the topic a policy")
    failures = []
    statements = [s for p in policies for s in _statements(p)]
    if not allowed_by_resource_policy(
        statements, principal, "sns:Publish", topic_arn, _context(publisher.sends_to_sns, source)
    ):
        failures.append(f"the topic policy does not let {publisher.principal} publish")
    key_ref = stack.resource(topic_id)["Properties"].get("KmsMasterKeyId")
    if key_ref is not None:
        key = stack.resource(keys[key_ref])["Properties"]["KeyPolicy"]
        context = _context(publisher.sends_to_kms, source)
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            if not allowed_by_resource_policy(_statements(key), principal, action, "*", context):
                failures.append(f"the topic's key policy refuses {action} to {publisher.principal}")
    return failures
