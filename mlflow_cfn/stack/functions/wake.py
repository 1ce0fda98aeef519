"""Wake and idle stop of MLflow at zero tasks (see components/wake.py)."""

import json
import os
import time

import boto3

E = os.environ
#: MLflow 3.17's client retries a 503 7 times, sleeping Retry-After: 245 s in all.
RETRY_AFTER = "35"
#: A direct upload's part URLs expire within the hour.
UPLOAD_SECONDS = 3600
STARTING = "MLflow is starting: this page reloads itself."
STOPPED = "MLflow is stopped outside working hours."


client = boto3.client


def desired(ecs):
    found = ecs.describe_services(cluster=E["CLUSTER"], services=[E["SERVICE"]])
    return found["services"][0]["desiredCount"]


def bounds():
    found = client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=[E["RESOURCE_ID"]]
    )["ScalableTargets"][0]
    return found["MinCapacity"], found["MaxCapacity"]


def healthy(elb):
    found = elb.describe_target_health(TargetGroupArn=E["TARGET_GROUP"])
    return any(t["TargetHealth"]["State"] == "healthy" for t in found["TargetHealthDescriptions"])


def route(elb, asleep):
    paths = ["*"] if asleep else [E["STATUS_PATH"]]
    path = {"Field": "path-pattern", "PathPatternConfig": {"Values": paths}}
    for listener in filter(None, E["LISTENERS"].split(",")):
        for rule in elb.describe_rules(ListenerArn=listener)["Rules"]:
            mine = any(E["GROUP"] in a.get("TargetGroupArn", "") for a in rule["Actions"])
            cs = [{k: v for k, v in c.items() if k != "Values"} for c in rule["Conditions"]]
            if mine and path not in cs:
                kept = [c for c in cs if c["Field"] != "path-pattern"]
                elb.modify_rule(RuleArn=rule["RuleArn"], Conditions=[*kept, path])


def set_count(ecs, n):
    ecs.update_service(cluster=E["CLUSTER"], service=E["SERVICE"], desiredCount=n)


def answer(event):
    ecs, elb = client("ecs"), client("elbv2")
    count, text, up = desired(ecs), STARTING, False
    if count == 0 and not healthy(elb):
        if bounds()[1] == 0:
            text = STOPPED
        else:
            set_count(ecs, 1)
    elif count and healthy(elb):
        route(elb, False)
        text, up = "MLflow is up", True
    browser = "text/html" in (event.get("headers") or {}).get("accept", "")
    page = f'<!doctype html><meta http-equiv="refresh" content="5"><title>MLflow</title><p>{text}'
    body = (
        page if browser else json.dumps({"error_code": "TEMPORARILY_UNAVAILABLE", "message": text})
    )
    return {
        "statusCode": 200 if up and event["path"] == E["STATUS_PATH"] else 503,
        "isBase64Encoded": False,
        "headers": {
            "Content-Type": "text/html" if browser else "application/json",
            "Retry-After": "1" if up else RETRY_AFTER,
        },
        "body": body,
    }


def uploading():
    pages = client("s3").get_paginator("list_multipart_uploads")
    since = time.time() - UPLOAD_SECONDS
    return any(
        upload["Initiated"].timestamp() > since
        for page in pages.paginate(Bucket=E["BUCKET"], Prefix=E["PREFIX"])
        for upload in page.get("Uploads", [])
    )


def stop(event):
    ecs, elb = client("ecs"), client("elbv2")
    if desired(ecs) == 0:
        return "asleep"
    if bounds()[0] or uploading() or not healthy(elb):
        client("cloudwatch").set_alarm_state(
            AlarmName=event["alarmData"]["alarmName"], StateValue="OK", StateReason="Kept"
        )
        return "kept"
    set_count(ecs, 0)
    route(elb, True)
    return "stopped"


def watch(event, deadline):
    ecs, elb = client("ecs"), client("elbv2")
    while True:
        if desired(ecs) == 0:
            return route(elb, True)
        if healthy(elb):
            return route(elb, False)
        if event["detail"]["lastStatus"] != "RUNNING" or time.time() > deadline:
            return None
        time.sleep(3)


def handler(event, context):
    if "requestContext" in event:
        return answer(event)
    if "alarmData" in event:
        return stop(event)
    return watch(event, time.time() + context.get_remaining_time_in_millis() / 1000 - 10)
