"""Deleting everything a run made, including what its stacks keep on purpose.

What a stack keeps is read from its template: every resource whose ``DeletionPolicy`` or
``UpdateReplacePolicy`` is ``Retain``, ``RetainExceptOnCreate`` or ``Snapshot`` (`retained`).
Before a stack is deleted, the teardown reads the stack's own template (GetTemplate) and
resources, and registers each retained one by its type; `HANDLERS` has one function per type
(and per kind of thing the suite makes itself). A template that gains a retained type without a
handler fails tests/aws/test_teardown.py. AWS services also leave log groups of their own named
after a stack's resources (RDS log exports, Container Insights): they are registered the same
way (`SERVICE_LOG_GROUPS`).

The order (`KIND_ORDER`): provisioned products, stacks (products, then the network they run in),
the published portfolio, roles and their policies, the queue, task definitions, then what the
stacks kept, keys last (scheduled for deletion with the 7-day minimum window: they decrypt the
snapshots and objects deleted just before). Every handler is idempotent: what is gone already is
done. A failure is reported and the teardown goes on with the rest.

After a crash: ``python -m tests.aws.acceptance.teardown .aws-acceptance/<run>/state.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from mlflow_cfn.cfn.documents import parse_document
from tests.aws.acceptance.ledger import Ledger, Leftover
from tests.aws.acceptance.waiting import REAL, Clock, poll

#: Makes a boto3 client of the run's session by service name.
AwsClients = Callable[[str], Any]

RETAINING = ("Retain", "RetainExceptOnCreate", "Snapshot")
KEY_PENDING_DAYS = 7  # the shortest window KMS allows

STACK = "stack"
PROVISIONED_PRODUCT = "provisioned-product"
PUBLISHED_PORTFOLIO = "service-catalog-portfolio"
IAM_ROLE = "iam-role"
IAM_POLICY = "iam-policy"
SQS_QUEUE = "sqs-queue"
TASK_FAMILY = "task-definition-family"
SERVICE_LOG_GROUPS = "service-log-groups"

#: Log groups AWS services create on their own for a stack's resources (not the stack's, so
#: CloudFormation never deletes them), by resource type: name prefixes of the physical id.
SERVICE_LOG_GROUP_PREFIXES = {
    "AWS::RDS::DBCluster": "/aws/rds/cluster/{}/",
    "AWS::ECS::Cluster": "/aws/ecs/containerinsights/{}/",
}

STACK_GONE = ("DELETE_COMPLETE",)
STACK_SETTLED_DELETE = ("DELETE_COMPLETE", "DELETE_FAILED")
STACK_WAIT_SECONDS = 3600


def retained(template: dict) -> dict[str, str]:
    """The template's resources a deletion or replacement keeps: logical id -> type."""
    return {
        logical_id: resource["Type"]
        for logical_id, resource in template.get("Resources", {}).items()
        if resource.get("DeletionPolicy") in RETAINING
        or resource.get("UpdateReplacePolicy") in RETAINING
    }


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _gone(error: ClientError, *codes: str) -> bool:
    """Whether `error` says the thing does not exist (any of `codes`, or a 404)."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return _code(error) in codes or status == 404


# --- stacks --------------------------------------------------------------------------------------


def existing_stack(cfn: Any, name: str) -> dict | None:
    """The stack's description; None when it does not exist (or is deleted)."""
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as error:
        if _code(error) == "ValidationError" and "does not exist" in str(error):
            return None
        raise
    return None if stack["StackStatus"] in STACK_GONE else stack


def stack_leftovers(cfn: Any, name: str) -> list[Leftover]:
    """What deleting the stack will leave: its template's retained resources that exist, and the
    log groups services made for its resources."""
    body = cfn.get_template(StackName=name, TemplateStage="Original")["TemplateBody"]
    template = body if isinstance(body, dict) else parse_document(body, f"stack {name}")
    kept = retained(template)
    found: list[Leftover] = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for resource in page["StackResourceSummaries"]:
            physical = resource.get("PhysicalResourceId")
            if not physical or resource["ResourceStatus"] == "DELETE_COMPLETE":
                continue
            origin = f"stack {name} {resource['LogicalResourceId']}"
            if resource["LogicalResourceId"] in kept:
                found.append(Leftover(resource["ResourceType"], physical, origin))
            prefix = SERVICE_LOG_GROUP_PREFIXES.get(resource["ResourceType"])
            if prefix:
                found.append(Leftover(SERVICE_LOG_GROUPS, prefix.format(physical), origin))
    return found


def _protected_off(aws: AwsClients, cfn: Any, name: str) -> None:
    """Turn deletion protection off on the stack's database clusters and load balancers: the
    README's way out of a deletion stopped by it (a stack update is no longer possible)."""
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for resource in page["StackResourceSummaries"]:
            physical = resource.get("PhysicalResourceId")
            if not physical or resource["ResourceStatus"] == "DELETE_COMPLETE":
                continue
            if resource["ResourceType"] == "AWS::RDS::DBCluster":
                aws("rds").modify_db_cluster(
                    DBClusterIdentifier=physical, DeletionProtection=False, ApplyImmediately=True
                )
            elif resource["ResourceType"] == "AWS::ElasticLoadBalancingV2::LoadBalancer":
                aws("elbv2").modify_load_balancer_attributes(
                    LoadBalancerArn=physical,
                    Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
                )


def _failure(cfn: Any, name: str) -> str:
    """The reasons of the stack's failed deletions, from its events."""
    events = cfn.describe_stack_events(StackName=name)["StackEvents"]
    reasons = [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
        for e in events
        if e["ResourceStatus"] == "DELETE_FAILED" and e["LogicalResourceId"] != name
    ]
    return "; ".join(dict.fromkeys(reasons)) or "DELETE_FAILED"


def start_stack_deletion(aws: AwsClients, name: str) -> list[Leftover] | None:
    """Register what the stack keeps and start deleting it (after a failed deletion, with
    deletion protection turned off first); None when there is no stack to delete."""
    cfn = aws("cloudformation")
    stack = existing_stack(cfn, name)
    if stack is None:
        return None
    leftovers = stack_leftovers(cfn, name)
    if stack["StackStatus"] == "DELETE_FAILED":
        _protected_off(aws, cfn, name)
    cfn.delete_stack(StackName=name)
    return leftovers


def wait_stack_deleted(aws: AwsClients, name: str, clock: Clock = REAL) -> None:
    """Wait for the deletion; RuntimeError with the reasons when it failed."""
    cfn = aws("cloudformation")
    stack = poll(
        lambda: existing_stack(cfn, name),
        lambda s: s is None or s["StackStatus"] in STACK_SETTLED_DELETE,
        what=f"deletion of stack {name}",
        timeout=STACK_WAIT_SECONDS,
        every=20,
        clock=clock,
    )
    if stack is not None:
        raise RuntimeError(f"stack {name} not deleted: {_failure(cfn, name)}")


def delete_stack(aws: AwsClients, name: str, clock: Clock = REAL) -> list[Leftover]:
    """Delete the stack; a deletion that fails is tried once more with protection off."""
    leftovers = start_stack_deletion(aws, name)
    if leftovers is None:
        return []
    try:
        wait_stack_deleted(aws, name, clock)
    except RuntimeError:
        again = start_stack_deletion(aws, name)
        if again is None:
            return leftovers
        leftovers += again
        wait_stack_deleted(aws, name, clock)
    return leftovers


# --- Service Catalog -----------------------------------------------------------------------------


def wait_record(sc: Any, record_id: str, clock: Clock = REAL, timeout: float = 5400) -> dict:
    """Wait for a Service Catalog record to end; its RecordDetail (Status SUCCEEDED or FAILED)."""
    return poll(
        lambda: sc.describe_record(Id=record_id)["RecordDetail"],
        lambda r: r["Status"] in ("SUCCEEDED", "FAILED"),
        what=f"Service Catalog record {record_id}",
        timeout=timeout,
        every=20,
        clock=clock,
    )


def record_errors(record: dict) -> str:
    """A failed record's errors in one line."""
    errors = [
        f"{e.get('Code', '')}: {e.get('Description', '')}" for e in record.get("RecordErrors", [])
    ]
    return "; ".join(errors) or record["Status"]


def provisioned_stack(sc: Any, provisioned_product_id: str) -> str | None:
    """The ARN of the CloudFormation stack of a provisioned product (its last provisioning
    record's CloudformationStackARN output); None when there is none."""
    detail = sc.describe_provisioned_product(Id=provisioned_product_id)["ProvisionedProductDetail"]
    record_id = detail.get("LastProvisioningRecordId") or detail.get("LastRecordId")
    if not record_id:
        return None
    outputs = sc.describe_record(Id=record_id).get("RecordOutputs", [])
    found = [o["OutputValue"] for o in outputs if o.get("OutputKey") == "CloudformationStackARN"]
    return found[0] if found else None


def _terminate(sc: Any, provisioned_product_id: str, clock: Clock, **options: Any) -> dict:
    token = "teardown-" + ("ignore-errors-" if options else "") + provisioned_product_id
    record = sc.terminate_provisioned_product(
        ProvisionedProductId=provisioned_product_id, TerminateToken=token[:128], **options
    )["RecordDetail"]
    return wait_record(sc, record["RecordId"], clock)


def terminate_provisioned_product(
    aws: AwsClients, provisioned_product_id: str, clock: Clock = REAL
) -> list[Leftover]:
    """Terminate it as the run's own principal, registering what its stack keeps first. Service
    Catalog terminates through the launch role, so when that fails (what the suite may have
    found), the stack is deleted directly and the provisioned product then removed with
    IgnoreErrors."""
    sc, cfn = aws("servicecatalog"), aws("cloudformation")
    try:
        stack = provisioned_stack(sc, provisioned_product_id)
    except ClientError as error:
        if _gone(error, "ResourceNotFoundException"):
            return []
        raise
    leftovers = stack_leftovers(cfn, stack) if stack and existing_stack(cfn, stack) else []
    ended = _terminate(sc, provisioned_product_id, clock)
    if ended["Status"] != "SUCCEEDED":
        if stack:
            leftovers += delete_stack(aws, stack, clock)
        ended = _terminate(sc, provisioned_product_id, clock, IgnoreErrors=True)
        if ended["Status"] != "SUCCEEDED":
            raise RuntimeError(f"terminating {provisioned_product_id}: {record_errors(ended)}")
    return leftovers


def delete_published_portfolio(
    aws: AwsClients, display_name: str, clock: Clock = REAL
) -> list[Leftover]:
    """Delete the portfolios of that display name `mlflow-cfn publish` made, with their
    constraints, principal associations and products."""
    sc = aws("servicecatalog")
    portfolios = [
        p
        for page in sc.get_paginator("list_portfolios").paginate()
        for p in page["PortfolioDetails"]
        if p["DisplayName"] == display_name
    ]
    for portfolio in portfolios:
        portfolio_id = portfolio["Id"]
        for page in sc.get_paginator("list_constraints_for_portfolio").paginate(
            PortfolioId=portfolio_id
        ):
            for constraint in page["ConstraintDetails"]:
                sc.delete_constraint(Id=constraint["ConstraintId"])
        for page in sc.get_paginator("list_principals_for_portfolio").paginate(
            PortfolioId=portfolio_id
        ):
            for principal in page["Principals"]:
                sc.disassociate_principal_from_portfolio(
                    PortfolioId=portfolio_id,
                    PrincipalARN=principal["PrincipalARN"],
                    PrincipalType=principal["PrincipalType"],
                )
        for page in sc.get_paginator("search_products_as_admin").paginate(PortfolioId=portfolio_id):
            for product in page["ProductViewDetails"]:
                product_id = product["ProductViewSummary"]["ProductId"]
                sc.disassociate_product_from_portfolio(
                    ProductId=product_id, PortfolioId=portfolio_id
                )
                sc.delete_product(Id=product_id)
        sc.delete_portfolio(Id=portfolio_id)
    return []


# --- IAM, SQS, ECS -------------------------------------------------------------------------------


def delete_role(aws: AwsClients, name: str, clock: Clock = REAL) -> list[Leftover]:
    """Detach its managed policies, delete its inline ones, delete the role."""
    iam = aws("iam")
    try:
        attached = [
            p["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for p in page["AttachedPolicies"]
        ]
        inline = [
            n
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for n in page["PolicyNames"]
        ]
        for arn in attached:
            iam.detach_role_policy(RoleName=name, PolicyArn=arn)
        for policy in inline:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        iam.delete_role(RoleName=name)
    except ClientError as error:
        if _gone(error, "NoSuchEntity"):
            return []
        raise
    return []


def delete_policy(aws: AwsClients, arn: str, clock: Clock = REAL) -> list[Leftover]:
    """Delete a customer managed policy (its other versions first)."""
    iam = aws("iam")
    try:
        for version in iam.list_policy_versions(PolicyArn=arn)["Versions"]:
            if not version["IsDefaultVersion"]:
                iam.delete_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        iam.delete_policy(PolicyArn=arn)
    except ClientError as error:
        if _gone(error, "NoSuchEntity"):
            return []
        raise
    return []


def delete_queue(aws: AwsClients, url: str, clock: Clock = REAL) -> list[Leftover]:
    try:
        aws("sqs").delete_queue(QueueUrl=url)
    except ClientError as error:
        if _gone(error, "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            return []
        raise
    return []


def delete_task_definitions(aws: AwsClients, family: str, clock: Clock = REAL) -> list[Leftover]:
    """Deregister the family's active revisions and delete every revision."""
    ecs = aws("ecs")

    def revisions(status: str) -> list[str]:
        return [
            arn
            for page in ecs.get_paginator("list_task_definitions").paginate(
                familyPrefix=family, status=status
            )
            for arn in page["taskDefinitionArns"]
        ]

    for arn in revisions("ACTIVE"):
        ecs.deregister_task_definition(taskDefinition=arn)
    inactive = revisions("INACTIVE")
    for start in range(0, len(inactive), 10):  # DeleteTaskDefinitions takes up to 10
        ecs.delete_task_definitions(taskDefinitions=inactive[start : start + 10])
    return []


# --- what stacks keep ----------------------------------------------------------------------------


def delete_log_group(aws: AwsClients, name: str, clock: Clock = REAL) -> list[Leftover]:
    try:
        aws("logs").delete_log_group(logGroupName=name)
    except ClientError as error:
        if _gone(error, "ResourceNotFoundException"):
            return []
        raise
    return []


def delete_log_groups_with_prefix(
    aws: AwsClients, prefix: str, clock: Clock = REAL
) -> list[Leftover]:
    """Delete the log groups a service made under `prefix`."""
    logs = aws("logs")
    names = [
        group["logGroupName"]
        for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix)
        for group in page["logGroups"]
    ]
    for name in names:
        delete_log_group(aws, name, clock)
    return []


def delete_user_pool(aws: AwsClients, pool_id: str, clock: Clock = REAL) -> list[Leftover]:
    """Delete its domain if one is left, turn deletion protection off, delete the pool."""
    cognito = aws("cognito-idp")
    try:
        pool = cognito.describe_user_pool(UserPoolId=pool_id)["UserPool"]
        for domain in filter(None, (pool.get("Domain"), pool.get("CustomDomain"))):
            cognito.delete_user_pool_domain(Domain=domain, UserPoolId=pool_id)
        cognito.update_user_pool(UserPoolId=pool_id, DeletionProtection="INACTIVE")
        cognito.delete_user_pool(UserPoolId=pool_id)
    except ClientError as error:
        if _gone(error, "ResourceNotFoundException"):
            return []
        raise
    return []


def delete_cluster_snapshots(
    aws: AwsClients, cluster_id: str, clock: Clock = REAL
) -> list[Leftover]:
    """Delete the final snapshot(s) of a deleted cluster (DeletionPolicy Snapshot), once each is
    available (a snapshot still being created cannot be deleted)."""
    rds = aws("rds")

    def snapshots() -> list[dict]:
        return [
            s
            for page in rds.get_paginator("describe_db_cluster_snapshots").paginate(
                DBClusterIdentifier=cluster_id, SnapshotType="manual"
            )
            for s in page["DBClusterSnapshots"]
        ]

    found = poll(
        snapshots,
        lambda found: all(s["Status"] == "available" for s in found),
        what=f"final snapshots of {cluster_id} available",
        timeout=1800,
        every=30,
        clock=clock,
    )
    for snapshot in found:
        rds.delete_db_cluster_snapshot(
            DBClusterSnapshotIdentifier=snapshot["DBClusterSnapshotIdentifier"]
        )
    return []


def empty_and_delete_bucket(aws: AwsClients, name: str, clock: Clock = REAL) -> list[Leftover]:
    """Delete every object version and delete marker, then the bucket. Log deliveries may land
    until the load balancer and the buckets that log are gone: emptied again then."""
    s3 = aws("s3")

    def attempt() -> bool:
        try:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=name):
                objects = [
                    {"Key": item["Key"], "VersionId": item["VersionId"]}
                    for item in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
                ]
                if objects:
                    s3.delete_objects(Bucket=name, Delete={"Objects": objects, "Quiet": True})
            s3.delete_bucket(Bucket=name)
        except ClientError as error:
            if _gone(error, "NoSuchBucket"):
                return True
            if _code(error) == "BucketNotEmpty":
                return False
            raise
        return True

    poll(
        attempt, bool, what=f"bucket {name} emptied and deleted", timeout=600, every=30, clock=clock
    )
    return []


def schedule_key_deletion(aws: AwsClients, key_id: str, clock: Clock = REAL) -> list[Leftover]:
    """Schedule the key's deletion with the shortest window (a key pending deletion is done)."""
    kms = aws("kms")
    try:
        state = kms.describe_key(KeyId=key_id)["KeyMetadata"]["KeyState"]
        if state not in ("PendingDeletion", "PendingReplicaDeletion"):
            kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=KEY_PENDING_DAYS)
    except ClientError as error:
        if _gone(error, "NotFoundException"):
            return []
        raise
    return []


#: A handler deletes one thing by its name and returns what that uncovered (a stack's retained
#: resources); what is gone already is done.
Handler = Callable[[AwsClients, str, Clock], list[Leftover]]

#: One handler per kind: what the stacks retain (by resource type), then the suite's own kinds.
HANDLERS: dict[str, Handler] = {
    "AWS::S3::Bucket": empty_and_delete_bucket,
    "AWS::KMS::Key": schedule_key_deletion,
    "AWS::Logs::LogGroup": delete_log_group,
    "AWS::Cognito::UserPool": delete_user_pool,
    "AWS::RDS::DBCluster": delete_cluster_snapshots,
    SERVICE_LOG_GROUPS: delete_log_groups_with_prefix,
    PROVISIONED_PRODUCT: terminate_provisioned_product,
    STACK: delete_stack,
    PUBLISHED_PORTFOLIO: delete_published_portfolio,
    IAM_ROLE: delete_role,
    IAM_POLICY: delete_policy,
    SQS_QUEUE: delete_queue,
    TASK_FAMILY: delete_task_definitions,
}

#: The order of the teardown, by kind (a kind not listed here is never deleted: a test keeps
#: this and HANDLERS equal). Keys last: they decrypt what is deleted before them.
KIND_ORDER = (
    PROVISIONED_PRODUCT,
    STACK,
    PUBLISHED_PORTFOLIO,
    IAM_ROLE,
    IAM_POLICY,
    SQS_QUEUE,
    TASK_FAMILY,
    "AWS::Logs::LogGroup",
    SERVICE_LOG_GROUPS,
    "AWS::Cognito::UserPool",
    "AWS::RDS::DBCluster",
    "AWS::S3::Bucket",
    "AWS::KMS::Key",
)


def _delete_stack_waves(
    aws: AwsClients, ledger: Ledger, log: Callable[[str], None], clock: Clock
) -> list[str]:
    """Delete the pending stacks wave by wave, the stacks of one wave at the same time."""
    failures = []
    pending = ledger.pending(STACK)
    for wave in sorted({e.wave for e in pending}):
        entries = [e for e in pending if e.wave == wave]

        def one(entry: Leftover) -> str | None:
            try:
                ledger.add(*delete_stack(aws, entry.name, clock))
            except Exception as error:  # told, and the teardown goes on with the rest
                return f"stack {entry.name}: {error}"
            ledger.done(entry)
            log(f"deleted stack {entry.name}")
            return None

        with ThreadPoolExecutor(max_workers=max(1, len(entries))) as pool:
            failures += [f for f in pool.map(one, entries) if f]
    return failures


def teardown(
    aws: AwsClients, ledger: Ledger, log: Callable[[str], None] = print, clock: Clock = REAL
) -> list[str]:
    """Delete every pending entry of the ledger in `KIND_ORDER`; the failures, one line each
    (the entries that failed stay pending, for a second run)."""
    failures: list[str] = []
    for kind in KIND_ORDER:
        if kind == STACK:
            failures += _delete_stack_waves(aws, ledger, log, clock)
            continue
        for entry in ledger.pending(kind):
            try:
                ledger.add(*HANDLERS[kind](aws, entry.name, clock))
            except Exception as error:  # told, and the teardown goes on with the rest
                failures.append(f"{kind} {entry.name}: {error}")
                continue
            ledger.done(entry)
            log(f"deleted {kind} {entry.name}")
    unknown = sorted({e.kind for e in ledger.pending()} - set(KIND_ORDER))
    failures += [f"no handler for {kind}: left as is" for kind in unknown]
    return failures


def main(argv: Iterable[str] | None = None) -> int:
    """Tear down a run from its state file (e.g. after a crash); 1 if anything is left."""
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("state", type=Path, help="the run's state.json")
    parser.add_argument("--profile", help="AWS profile (default: the environment's)")
    args = parser.parse_args(list(argv) if argv is not None else None)
    ledger = Ledger.load(args.state)
    session = boto3.Session(profile_name=args.profile, region_name=ledger.region)
    failures = teardown(session.client, ledger)
    for failure in failures:
        print(f"left: {failure}", file=sys.stderr)
    print(json.dumps({"run": ledger.run, "pending": len(ledger.pending())}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
