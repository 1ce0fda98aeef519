"""The wake path of idle shutdown (IdleShutdownMinutes > 0): one Lambda function that owns the
step between zero tasks and one (``mlflow_cfn/stack/functions/wake.py``, inline).

* Asleep, the wake listener rules send every request the load balancer lets through (after
  login or token validation, as before) to the function's target group. The function sets the
  task count to 1 only when it is 0 and the schedule allows tasks, and answers 503 with
  Retry-After (a page that reloads itself for browsers) until a task is healthy.
* An ECS task event (a task running or stopped) makes the function route requests back to the
  tasks once one is healthy, and to itself whenever the count is 0 (the schedule's night too).
* The idle alarm (``idle_shutdown.py``) invokes it to stop: count 0, unless the schedule's floor
  keeps tasks or a direct upload is in flight.

Between 1 and MaxTasks target tracking decides, as before; nothing else sets the count to or
from 0. The rules' path condition is the switch: ``*`` asleep, STATUS_PATH awake (a request
there reaches the function, which answers the state and changes nothing while tasks run).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

from awacs.aws import Allow, PolicyDocument, Principal, Statement
from awacs.sts import AssumeRole
from troposphere import GetAtt, If, Join, Ref, Select, Split, Sub
from troposphere.awslambda import Code, Environment, Function, LoggingConfig, Permission
from troposphere.ecs import Service
from troposphere.elasticloadbalancingv2 import (
    Condition as RuleCondition,
)
from troposphere.elasticloadbalancingv2 import (
    HttpHeaderConfig,
    ListenerRule,
    ListenerRuleAction,
    PathPatternConfig,
    TargetDescription,
    TargetGroup,
)
from troposphere.events import Rule, Target
from troposphere.iam import Policy, Role
from troposphere.logs import LogGroup

from mlflow_cfn.stack.components.auth import Login
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.listeners import BEARER_TOKEN_RULE, Listeners
from mlflow_cfn.stack.components.load_balancer import LoadBalancing
from mlflow_cfn.stack.components.load_balancer_inputs import HAS_CERTIFICATE
from mlflow_cfn.stack.components.login_inputs import USE_AUTH
from mlflow_cfn.stack.components.permissions_boundary import PERMISSIONS_BOUNDARY
from mlflow_cfn.stack.components.retention import KEEP_EXCEPT_ON_CREATE
from mlflow_cfn.stack.components.scaling_inputs import ENABLE_IDLE_SHUTDOWN
from mlflow_cfn.stack.components.storage import Storage
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.logic import checkov_skips, condition
from mlflow_cfn.stack.policies import NO_VALUE, VERSION, allow, document

WAKE_FUNCTION = "WakeFunction"
WAKE_FUNCTION_ROLE = "WakeFunctionRole"
WAKE_LOG_GROUP = "WakeFunctionLogGroup"
WAKE_TARGET_GROUP = "WakeTargetGroup"
WAKE_LOAD_BALANCER_PERMISSION = "WakeFunctionLoadBalancerPermission"
WAKE_EVENTS_PERMISSION = "WakeFunctionEventsPermission"
WAKE_TASK_EVENTS_RULE = "WakeTaskEventsRule"
WAKE_LISTENER_RULE = "WakeListenerRule"
WAKE_HTTP_LISTENER_RULE = "WakeHttpListenerRule"
WAKE_BEARER_TOKEN_RULE = "WakeBearerTokenListenerRule"
WAKE_THROUGH_HTTPS = "WakeThroughHttps"
WAKE_THROUGH_HTTP = "WakeThroughHttp"
WAKE_THROUGH_BEARER_TOKEN = "WakeThroughBearerToken"
#: A Lambda runtime supported until 2029 (AWS Lambda Developer Guide, "Lambda runtimes").
RUNTIME = "python3.13"
#: README's wake budget: the first request to a sleeping service to a healthy target.
WAKE_BUDGET_SECONDS = 200
#: Then the function routes requests to the target: its watch polls every 3 s, plus ModifyRule.
ROUTE_SECONDS = 5
#: While awake the wake rules match only this path (it answers the wake state).
STATUS_PATH = "/mlflow-cfn/wake"
#: An ECS task event lets the function watch the new task's health this long (it routes
#: requests to the task as soon as the load balancer calls it healthy).
TIMEOUT_SECONDS = 150
#: The rules' path condition as the template leaves it: asleep. The first request after a
#: create or an update that reset it reaches the function, which routes to the tasks.
ASLEEP = ["*"]

_SKIPS = {
    "CKV_AWS_115": "Reserved concurrency would take from the account's unreserved pool (at "
    "least 10 must stay unreserved, and new accounts may have only 10); the function acts only "
    "from the service's state, so concurrent calls set the same count",
    "CKV_AWS_116": "Invoked synchronously by the load balancer, and asynchronously by an alarm "
    "and by ECS task events that recur (the alarm re-evaluates each minute, the next task "
    "event or request repeats the routing): a dead-letter queue would keep nothing to replay",
    "CKV_AWS_117": "It calls AWS APIs only (ECS, Elastic Load Balancing, S3, CloudWatch, "
    "Application Auto Scaling), never the VPC; in the VPC it would need the NAT gateway or "
    "interface endpoints for each",
    "CKV_AWS_173": "Its environment holds resource names and ARNs only, no secret",
}


@dataclass(frozen=True)
class Wake:
    """The function the idle alarm invokes, and its target group."""

    function: Function
    target_group: TargetGroup


def handler_source() -> str:
    """The function's code (Lambda's inline ``ZipFile``, at most 4,096 bytes)."""
    return resources.files("mlflow_cfn.stack.functions").joinpath("wake.py").read_text()


def target_group_name() -> Sub:
    """mlflow-wake-<the last 12 hex digits of the stack's UUID>: the name the load balancer's
    invoke permission names before the target group exists (the group registers the function
    only once the permission does)."""
    uuid = Select(2, Split("/", Ref("AWS::StackId")))
    return Sub("mlflow-wake-${Id}", Id=Select(4, Split("-", uuid)))


def _declare_conditions(ctx: Context) -> None:
    idle = condition(ENABLE_IDLE_SHUTDOWN)
    ctx.condition(WAKE_THROUGH_HTTPS, {"Fn::And": [idle, condition(HAS_CERTIFICATE)]})
    ctx.condition(WAKE_THROUGH_HTTP, {"Fn::And": [idle, {"Fn::Not": [condition(HAS_CERTIFICATE)]}]})
    ctx.condition(WAKE_THROUGH_BEARER_TOKEN, {"Fn::And": [idle, condition(USE_AUTH)]})


def _rules(ctx: Context, listeners: Listeners, login: Login, target_group) -> list[ListenerRule]:
    """Before the rules that forward to the tasks: bearer tokens (validated), browsers and
    clients on HTTPS (after login), plain HTTP without a certificate."""
    forward = ListenerRuleAction(Type="forward", TargetGroupArn=Ref(target_group), Order=2)
    path = RuleCondition(Field="path-pattern", PathPatternConfig=PathPatternConfig(Values=ASLEEP))
    bearer = RuleCondition(
        Field="http-header",
        HttpHeaderConfig=HttpHeaderConfig(HttpHeaderName="Authorization", Values=["Bearer *"]),
    )
    specs = (
        (WAKE_BEARER_TOKEN_RULE, WAKE_THROUGH_BEARER_TOKEN, listeners.https, 1, [bearer, path],
         [login.validate_token, forward]),
        (WAKE_LISTENER_RULE, WAKE_THROUGH_HTTPS, listeners.https, 3, [path],
         [If(USE_AUTH, login.authenticate, Ref("AWS::NoValue")), forward]),
        (WAKE_HTTP_LISTENER_RULE, WAKE_THROUGH_HTTP, listeners.http, 1, [path], [forward]),
    )  # fmt: skip
    rules = []
    for logical_id, only_if, listener, priority, conditions, actions in specs:
        rule = ListenerRule(
            logical_id,
            Condition=only_if,
            ListenerArn=Ref(listener),
            Priority=priority,
            Conditions=conditions,
            Actions=actions,
        )
        if logical_id == WAKE_BEARER_TOKEN_RULE:
            rule.DependsOn = [BEARER_TOKEN_RULE]  # it gives up priority 1 first
        rules.append(ctx.template.add_resource(rule))
    return rules


def _function(ctx: Context, *, role, log_group, environment: dict) -> Function:
    return ctx.template.add_resource(
        Function(
            WAKE_FUNCTION,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Description=Sub("Wakes and stops MLflow at zero tasks (${AWS::StackName})"),
            Runtime=RUNTIME,
            Handler="index.handler",
            Role=GetAtt(role, "Arn"),
            Timeout=TIMEOUT_SECONDS,
            MemorySize=128,
            Code=Code(ZipFile=handler_source()),
            Environment=Environment(Variables=environment),
            LoggingConfig=LoggingConfig(LogGroup=Ref(log_group)),
            Metadata=checkov_skips(_SKIPS),
        )
    )


def _target_group(ctx: Context, function: Function) -> TargetGroup:
    permission = ctx.template.add_resource(
        Permission(
            WAKE_LOAD_BALANCER_PERMISSION,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal="elasticloadbalancing.amazonaws.com",
            SourceAccount=Ref("AWS::AccountId"),
            SourceArn=Sub(
                "arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:"
                "targetgroup/${Name}/*",
                Name=target_group_name(),
            ),
        )
    )
    return ctx.template.add_resource(
        TargetGroup(
            WAKE_TARGET_GROUP,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Name=target_group_name(),
            TargetType="lambda",
            Targets=[TargetDescription(Id=GetAtt(function, "Arn"))],
            DependsOn=[permission],
        )
    )


def _task_events(ctx: Context, function: Function, service: Service, cluster) -> None:
    rule = ctx.template.add_resource(
        Rule(
            WAKE_TASK_EVENTS_RULE,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Description=Sub("MLflow tasks started or stopped: route requests (${AWS::StackName})"),
            State="ENABLED",
            EventPattern={
                "source": ["aws.ecs"],
                "detail-type": ["ECS Task State Change"],
                "detail": {
                    "clusterArn": [GetAtt(cluster, "Arn")],
                    "group": [Sub("service:${Name}", Name=GetAtt(service, "Name"))],
                    "lastStatus": ["RUNNING", "STOPPED"],
                },
            },
            Targets=[Target(Id="wake-function", Arn=GetAtt(function, "Arn"))],
        )
    )
    ctx.template.add_resource(
        Permission(
            WAKE_EVENTS_PERMISSION,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Action="lambda:InvokeFunction",
            FunctionName=GetAtt(function, "Arn"),
            Principal="events.amazonaws.com",
            SourceArn=GetAtt(rule, "Arn"),
        )
    )


def _listener_rules(listener) -> Sub:
    """The ARNs of a listener's rules: listener-rule/app/<lb>/<id>/<listener>/<rule>."""
    return Sub("${Rules}/*", Rules=Join(":listener-rule/", Split(":listener/", Ref(listener))))


def _role(ctx: Context, *, service: Service, listeners: Listeners, storage: Storage, log_group):
    """The count of this one service, the conditions of this load balancer's listener rules,
    the idle alarm's state; reads that IAM scopes to no resource (Service Authorization
    Reference: DescribeTargetHealth, DescribeRules, DescribeScalableTargets). Lambda's trust
    has no condition: the Lambda Developer Guide's execution role trust names none that Lambda
    sends when it assumes the role (SECURITY.md: a key not sent locks the role out)."""
    alarms = Sub(
        "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:"
        "${AWS::StackName}-IdleShutdownAlarm-*"
    )
    rules = [
        _listener_rules(listeners.http),
        If(HAS_CERTIFICATE, _listener_rules(listeners.https), NO_VALUE),
    ]
    policy = document(
        allow("SetTheServicesTaskCount", ["ecs:DescribeServices", "ecs:UpdateService"],
               [Ref(service)]),
        allow("SwitchTheWakeRules", ["elasticloadbalancing:ModifyRule"], rules),
        allow("ReadTargetHealthRulesAndScalingBounds",
               ["elasticloadbalancing:DescribeTargetHealth", "elasticloadbalancing:DescribeRules",
                "application-autoscaling:DescribeScalableTargets"], ["*"]),
        allow("SeeUploadsInFlight", ["s3:ListBucketMultipartUploads"],
               [storage.artifact_bucket_arn]),
        allow("EvaluateTheIdleAlarmAgain", ["cloudwatch:SetAlarmState"], [alarms]),
        allow("WriteTheFunctionsLogs", ["logs:CreateLogStream", "logs:PutLogEvents"],
               [GetAtt(log_group, "Arn")]),
    )  # fmt: skip
    trust = PolicyDocument(
        Version=VERSION,
        Statement=[Statement(Effect=Allow, Principal=Principal("Service", "lambda.amazonaws.com"),
                             Action=[AssumeRole])],
    )  # fmt: skip
    return ctx.template.add_resource(
        Role(
            WAKE_FUNCTION_ROLE,
            Condition=ENABLE_IDLE_SHUTDOWN,
            Description="Lets the wake function start and stop the MLflow service at zero tasks",
            PermissionsBoundary=PERMISSIONS_BOUNDARY,
            AssumeRolePolicyDocument=trust,
            Policies=[Policy(PolicyName="wake-mlflow", PolicyDocument=policy)],
        )
    )


def add_wake(
    ctx: Context,
    *,
    keys: Keys,
    storage: Storage,
    load_balancing: LoadBalancing,
    listeners: Listeners,
    login: Login,
    cluster,
    service: Service,
    resource_id: Sub,
) -> Wake:
    """Add the function, its role, log group and target group, the wake listener rules and the
    task-event rule (all under EnableIdleShutdown)."""
    _declare_conditions(ctx)
    log_group = ctx.template.add_resource(
        LogGroup(
            WAKE_LOG_GROUP,
            Condition=ENABLE_IDLE_SHUTDOWN,
            KmsKeyId=GetAtt(keys.logs, "Arn"),
            RetentionInDays=Ref(storage.log_retention_days),
            DeletionPolicy=KEEP_EXCEPT_ON_CREATE,
            UpdateReplacePolicy="Retain",
        )
    )
    role = _role(ctx, service=service, listeners=listeners, storage=storage, log_group=log_group)
    environment = {
        "CLUSTER": Ref(cluster),
        "SERVICE": GetAtt(service, "Name"),
        "RESOURCE_ID": resource_id,
        "TARGET_GROUP": Ref(load_balancing.target_group),
        "LISTENERS": Join(
            ",", [Ref(listeners.http), If(HAS_CERTIFICATE, Ref(listeners.https), "")]
        ),
        "GROUP": Sub(":targetgroup/${Name}/", Name=target_group_name()),
        "STATUS_PATH": STATUS_PATH,
        "BUCKET": storage.artifact_bucket_name,
        "PREFIX": storage.artifact_prefix,
    }
    function = _function(ctx, role=role, log_group=log_group, environment=environment)
    target_group = _target_group(ctx, function)
    _rules(ctx, listeners, login, target_group)
    _task_events(ctx, function, service, cluster)
    return Wake(function=function, target_group=target_group)
