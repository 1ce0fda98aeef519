"""The AWS-side rules the product template (templates/mlflow.json) depends on."""

from __future__ import annotations

from mlflow_cfn.stack.constraints.entry import DOCS as _DOCS
from mlflow_cfn.stack.constraints.entry import Constraint

PRODUCT_CATALOGUE: tuple[Constraint, ...] = (
    # --- Aurora Serverless v2 --------------------------------------------------------------
    Constraint(
        "aurora-auto-pause-needs-zero-minimum",
        "RDS refuses SecondsUntilAutoPause unless the minimum capacity is 0 ACU, on create and "
        "on update (InvalidParameterValue).",
        f"{_DOCS}/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html",
        "Condition DatabaseCanPause: the property is set only when DatabaseMinCapacity is 0.",
    ),
    Constraint(
        "aurora-capacity-range",
        "Capacity is 0 to 256 ACUs in steps of 0.5, and the minimum must not exceed the maximum.",
        f"{_DOCS}/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html",
        "AllowedValues of DatabaseMinCapacity and DatabaseMaxCapacity; plan/deploy compare them.",
    ),
    Constraint(
        "aurora-auto-pause-seconds",
        "SecondsUntilAutoPause is 300 to 86,400 seconds.",
        f"{_DOCS}/AmazonRDS/latest/APIReference/API_ServerlessV2ScalingConfiguration.html",
        "MinValue/MaxValue of DatabaseAutoPauseSeconds.",
    ),
    Constraint(
        "aurora-backup-retention",
        "Automated backups are kept 1 to 35 days (7 is this product's floor).",
        f"{_DOCS}/AmazonRDS/latest/APIReference/API_CreateDBCluster.html",
        "MinValue/MaxValue of DatabaseBackupRetentionDays.",
    ),
    Constraint(
        "aurora-version-scales-to-zero",
        "0 ACU (auto-pause) needs Aurora PostgreSQL 13.15, 14.12, 15.7, 16.3 or any 17, or "
        "Aurora MySQL 3.08 or later; minor versions upgrade automatically (the template's "
        "EngineVersion is the version at create; CloudFormation sends it again only when it "
        "changes, so a newer running minor is never downgraded).",
        f"{_DOCS}/AmazonRDS/latest/AuroraUserGuide/aurora-serverless-v2-auto-pause.html",
        "Build: the DatabaseEngines Mapping pins versions that qualify; AutoMinorVersionUpgrade.",
    ),
    Constraint(
        "aurora-writer-first",
        "The first instance created in an Aurora cluster becomes the writer, whatever its "
        "promotion tier.",
        f"{_DOCS}/AmazonRDS/latest/AuroraUserGuide/Aurora.CreateInstance.html",
        "Template: DatabaseReader DependsOn DatabaseWriter.",
    ),
    Constraint(
        "aurora-mysql-slow-log-exported",
        "Aurora MySQL exports the slow query log to CloudWatch Logs only when slow_query_log is "
        "on and log_output is FILE; an exported log that is off stays empty.",
        f"{_DOCS}/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Integrating.CloudWatch.html",
        "Template: the MySQL cluster parameter group sets both.",
    ),
    Constraint(
        "rds-kms-key-form",
        "RDS reports KMS keys as ARNs; the cluster's KmsKeyId is create-only, so changing how it "
        "is written on a released template replaces the database. The provider's "
        "propertyTransform maps a key ID onto the ARN, so key IDs do not drift.",
        "Resource provider schemas AWS::RDS::DBCluster and AWS::RDS::DBInstance "
        "(propertyTransform, createOnlyProperties)",
        "Template: key IDs kept on RDS as released; every other key reference is an ARN.",
    ),
    Constraint(
        "two-availability-zones",
        "A load balancer and a DB subnet group need subnets in at least two Availability Zones.",
        f"{_DOCS}/elasticloadbalancing/latest/application/application-load-balancers.html",
        "plan/deploy: LoadBalancerSubnetIds and DatabaseSubnetIds need two subnets (Rules "
        "cannot count list items).",
    ),
    # --- ECS, Fargate and Application Auto Scaling ------------------------------------------
    Constraint(
        "fargate-cpu-memory",
        "Fargate accepts only some memory sizes for each CPU size.",
        f"{_DOCS}/AmazonECS/latest/developerguide/fargate-tasks-services.html",
        "Rules TaskMemoryFitsCpu<cpu>.",
    ),
    Constraint(
        "fargate-bind-mount-owner",
        "Fargate creates a task volume empty, owned by root with mode 0755, and copies data and "
        "mode into it only for a path the image declares as VOLUME (the official MLflow image "
        "declares none): a non-root server cannot write its /tmp, and mlflow exits as it starts.",
        f"{_DOCS}/AmazonECS/latest/developerguide/bind-mounts.html",
        "Template: the prepare-volumes init container sets mode 1777 before the server and the "
        "sidecar start (VolumePreparation=root-init-container); with none, the image must "
        "declare VOLUME /tmp.",
    ),
    Constraint(
        "ecs-success-dependency-not-essential",
        "A container dependency with condition SUCCESS cannot name an essential container.",
        f"{_DOCS}/AmazonECS/latest/APIReference/API_ContainerDependency.html",
        "Template: the init containers are not essential.",
    ),
    Constraint(
        "control-tower-no-root-container",
        "Control Tower's proactive control CT.ECS.PR.3 refuses a task definition in which any "
        "container, an init container too, has no User or runs as 0 or root.",
        f"{_DOCS}/controltower/latest/controlreference/ecs-rules.html",
        "VolumePreparation=none (no container runs as root); Rule "
        "DatadogNeedsVolumePreparation refuses it with the Datadog agent.",
    ),
    Constraint(
        "fargate-ephemeral-storage",
        "A Fargate task has 20 GiB of ephemeral storage, the pulled and unpacked images "
        "included; EphemeralStorage raises it to 21-200 GiB on platform 1.4.0 or later. The "
        "server stages every artifact it streams whole on it, up and down.",
        f"{_DOCS}/AmazonECS/latest/developerguide/fargate-task-storage.html",
        "MinValue/MaxValue of TaskEphemeralStorageGiB; Condition HasExtraEphemeralStorage "
        "leaves the property out at 20; PlatformVersion LATEST.",
    ),
    Constraint(
        "scaling-needs-a-running-task",
        "Target tracking has no metric without a task, and a scheduled range of 0..MaxTasks "
        "starts nothing: MinTasks 0 with ScalingMetric or a schedule never runs a task again.",
        f"{_DOCS}/autoscaling/application/userguide/application-auto-scaling-target-tracking.html",
        "Rule ScalingNeedsMinTasks.",
    ),
    Constraint(
        "ecs-keeps-the-scaled-count",
        "A DesiredCount in the template resets the running count on every stack update; "
        "without it CloudFormation keeps the count Application Auto Scaling set (the night's 0).",
        f"{_DOCS}/AWSCloudFormation/latest/TemplateReference/aws-resource-ecs-service.html",
        "Condition UseScalableTarget: the service sets no DesiredCount then.",
    ),
    Constraint(
        "alb-metrics-arrive-late",
        "The load balancer sends its counts per minute, only when non-zero, after the minute ends, "
        "and with no task a request shows only as HTTPCode_ELB_5XX_Count: an alarm that wakes on "
        "them starts the wake minutes late (FILL makes the newest, unpublished minute 0, so a "
        "one-minute alarm may never fire), and one that stops on silence sees the last minutes "
        "as silent.",
        f"{_DOCS}/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
        "Template: a request at zero tasks reaches WakeFunction through the wake listener rules "
        "(no metric on the way); IdleShutdownAlarm reads RequestCount and ActiveConnectionCount "
        "over at least 5 periods (Rule IdleShutdownIsAFewMinutes).",
    ),
    Constraint(
        "alarm-lambda-action-once-per-change",
        "An alarm invokes a Lambda action once per change of state, asynchronously, and not "
        "again while it stays in ALARM (an auto scaling action is invoked every minute instead).",
        f"{_DOCS}/AmazonCloudWatch/latest/monitoring/alarms-and-actions-Lambda.html",
        "Template: IdleShutdownAlarm invokes WakeFunction, which sets the alarm back to OK "
        "(cloudwatch:SetAlarmState, this alarm only) when an upload or a starting task keeps the "
        "service up, so the next idle minute invokes it again.",
    ),
    Constraint(
        "alarm-window-one-day",
        "An alarm evaluates at most one day of periods (EvaluationPeriods x Period <= 86,400 s).",
        f"{_DOCS}/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html",
        "MaxValue of IdleShutdownMinutes (1440 one-minute periods).",
    ),
    Constraint(
        "scaling-stays-within-the-target",
        "Application Auto Scaling never sets a count outside the scalable target's "
        "MinCapacity..MaxCapacity, so a policy cannot stop tasks above the minimum.",
        f"{_DOCS}/autoscaling/application/APIReference/API_RegisterScalableTarget.html",
        "Template: with idle shutdown the target's minimum (and the working-hours start) is 0.",
    ),
    Constraint(
        "secret-full-arn",
        "IAM matches a secret by its complete ARN (name plus the 6 characters Secrets Manager "
        "appends); a partial ARN in a policy matches nothing, so ECS could not read the secret.",
        f"{_DOCS}/secretsmanager/latest/userguide/auth-and-access_examples.html",
        "AllowedPattern of SidecarSecretArn and DatadogApiKeySecretArn.",
    ),
    Constraint(
        "secret-customer-managed-key",
        "ECS reads a secret under a customer-managed key only if the execution role may "
        "kms:Decrypt with that key (through Secrets Manager, encryption context SecretARN).",
        f"{_DOCS}/AmazonECS/latest/developerguide/secrets-envvar-secrets-manager.html",
        "Parameters SidecarSecretKmsKeyArn and DatadogApiKeyKmsKeyArn grant exactly that.",
    ),
    Constraint(
        "log-retention-values",
        "CloudWatch Logs accepts only its listed retention periods.",
        f"{_DOCS}/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
        "AllowedValues of LogRetentionDays.",
    ),
    # --- Load balancer and login ------------------------------------------------------------
    Constraint(
        "alb-idle-timeout",
        "An Application Load Balancer closes a connection silent for its idle timeout (1-4000 "
        "s, 60 by default) with 504; a target that closes idle connections before the load "
        "balancer does risks 502s.",
        f"{_DOCS}/elasticloadbalancing/latest/APIReference/API_LoadBalancerAttribute.html",
        "MinValue/MaxValue of LoadBalancerIdleTimeoutSeconds (default 300); the server's "
        "keep-alive (MLFLOW_UVICORN_OPTS) outlasts 4000 s.",
    ),
    Constraint(
        "login-needs-https",
        "authenticate-cognito and authenticate-oidc work only on HTTPS listeners, and Cognito "
        "accepts only https callback URLs (the custom domain).",
        f"{_DOCS}/elasticloadbalancing/latest/application/listener-authenticate-users.html",
        "Rule AuthNeedsCertificate: AuthMode needs CertificateArn and DomainName.",
    ),
    Constraint(
        "login-needs-a-route-out",
        "The load balancer calls the identity provider's token, user-info and JWKS endpoints "
        "itself: its security group must allow HTTPS out and its subnets need a route to the "
        "internet (NAT for an internal load balancer).",
        f"{_DOCS}/elasticloadbalancing/latest/application/listener-authenticate-users.html",
        "Template: LoadBalancerToIdentityProviderEgress under UseAuth; plan names the route.",
    ),
    Constraint(
        "jwt-claim-values",
        "jwt-validation compares at most 10 values per claim, each at most 256 characters.",
        f"{_DOCS}/elasticloadbalancing/latest/APIReference/API_JwtValidationActionAdditionalClaim.html",
        "AllowedPattern of OidcTokenAudience (one value, 1 to 256 characters, no spaces) and of "
        "CognitoTokenScope (one value, MaxLength 256, no spaces).",
    ),
    Constraint(
        "jwt-claim-format",
        "jwt-validation reads a claim in the format configured (single-string, string-array, "
        "space-separated-values); providers that send aud as an array need string-array.",
        f"{_DOCS}/elasticloadbalancing/latest/application/listener-verify-jwt.html",
        "Parameter OidcTokenAudienceFormat, rendered into the bearer-token rule.",
    ),
    Constraint(
        "alb-access-logs-sse-s3",
        "Load balancer access logs are delivered only to a bucket encrypted with SSE-S3.",
        f"{_DOCS}/elasticloadbalancing/latest/application/enable-access-logging.html",
        "Template: LogBucket uses AES256.",
    ),
    # --- Alarm delivery ---------------------------------------------------------------------
    Constraint(
        "sns-topic-policy-replaces-default",
        "A topic policy replaces the topic's default policy: a publisher it does not name (a "
        "CloudWatch alarm, an EventBridge rule) is refused and the notification is lost; "
        "CloudWatch sends the alarm's ARN, EventBridge the rule's, as aws:SourceArn.",
        f"{_DOCS}/sns/latest/dg/sns-access-policy-use-cases.html",
        "Template: AlarmTopicPolicy names this stack's alarms and its task-start rule by ARN; "
        "tests/template/test_delivery.py checks every alarm action and event target.",
    ),
    Constraint(
        "eventbridge-encrypted-topic-key-policy",
        "EventBridge publishing to an SSE-KMS topic sends KMS no aws:SourceAccount, "
        "aws:SourceArn or aws:SourceOrgID: a key policy statement that requires one refuses it.",
        f"{_DOCS}/sns/latest/dg/sns-key-management.html",
        "Template: the logs key lets events.amazonaws.com use it without a source condition; "
        "the topic policy admits only this stack's rule.",
    ),
    # --- Service Catalog launch role ---------------------------------------------------------
    Constraint(
        "cloudformation-system-tags",
        "CloudFormation puts aws:cloudformation:stack-name (and logical-id) only on types whose "
        "provider schema says tagging.cloudFormationSystemTags true; ECS services, KMS keys and "
        "IAM roles never carry it, so a launch role that changes them only under that tag fails "
        "every update and termination (and a launch with a scalable target, which needs "
        "ecs:UpdateService).",
        "Resource provider schemas AWS::ECS::Service and AWS::KMS::Key (tagging); "
        "aws-cloudformation/cloudformation-coverage-roadmap#2062",
        "Build: a stack-tag condition on such a type is refused; tagged types under the stack "
        "name and the product's logical ids, ECS services and roles by their generated names, KMS "
        "keys by kms:ResourceAliases (catalog/owned_grants.py).",
    ),
    Constraint(
        "cloudformation-generated-names",
        "CloudFormation names a resource whose name is left unset <stack>-<logical id>-<12 "
        "random> and cuts it to the type's limit as the resource provider SDK does: 13 "
        "characters for the random part and its dash, the rest shared fairly between stack name "
        "and logical id (IAM roles 64 characters; RDS clusters and instances 63, lower-cased). "
        "A launch role that reaches the product's roles, databases and alarms by those names "
        "refuses any other name, a cut it did not foresee or a role Path.",
        "aws-cloudformation/cloudformation-cli-java-plugin (IdentifierUtils."
        "generateResourceIdentifier); aws-cloudformation/aws-cloudformation-resource-providers-rds "
        "(IdentifierFactory); names real stacks got (KensioSoftware/yulin#1113)",
        "Build: ARN patterns keep the part of each logical id every cut keeps, whatever the stack "
        "name (catalog/generated_names.py); a product that names such a resource is refused.",
    ),
    Constraint(
        "application-auto-scaling-permission-check",
        "Registering a scalable target, Application Auto Scaling checks the caller's "
        "cloudwatch:PutMetricAlarm and cloudwatch:DeleteAlarms with requests naming no alarm "
        "(IAM sees the alarm ARN with an empty name): a launch role whose alarm changes reach "
        "only named alarms refuses them, and every launch with autoscaling or idle shutdown "
        "fails. Its target tracking alarms it changes with its own service-linked role.",
        "Application Auto Scaling User Guide, Permissions validation for API calls on target "
        "resources; aws-samples/amazon-cloudwatch-auto-alarms#18 (the ARN IAM evaluated)",
        "Build: the launch role's alarm changes reach the product's alarms and the ARN of no "
        "alarm (catalog/scopes.py NO_ALARM), never another alarm.",
    ),
    # --- Partitions and names ---------------------------------------------------------------
    Constraint(
        "partition-arns",
        "ARNs and service endpoints differ by partition (aws, aws-cn, aws-us-gov): a hard-coded "
        "arn:aws: or amazonaws.com fails in China and GovCloud.",
        f"{_DOCS}/AWSCloudFormation/latest/TemplateReference/pseudo-parameter-reference.html",
        "Template: AWS::Partition and AWS::URLSuffix in every ARN and endpoint.",
    ),
    Constraint(
        "service-principal-partition",
        "Most service principals are <service>.amazonaws.com in every partition, but CloudWatch "
        "Logs' takes the partition's DNS suffix (logs.<region>.amazonaws.com.cn in China): a "
        "key policy naming the wrong one fails to create the log group.",
        "AWS CDK region-info (lib/default.ts, servicePrincipal); botocore partitions.json",
        "Template: logs.${AWS::Region}.${AWS::URLSuffix}; a test checks every principal of "
        "every template in aws, aws-cn and aws-us-gov.",
    ),
    Constraint(
        "cognito-hosted-domain",
        "Cognito prefix domains are <prefix>.auth.<region>.amazoncognito.com, "
        "auth-fips in GovCloud and amazoncognito.com.cn in China.",
        f"{_DOCS}/cognito/latest/developerguide/cognito-user-pools-assign-domain-prefix.html",
        "Mapping CognitoHostedDomains by partition (the CognitoTokenUrl output).",
    ),
    Constraint(
        "cognito-issuer",
        "The load balancer accepts a bearer token only if its iss is the rule's Issuer exactly; "
        "a pool's issuer depends on its issuer type (original cognito-idp.<region>, updated "
        "issuer-cognito-idp.<region>), which Cognito may default differently for new pools, "
        "and the load balancer authenticates with Cognito only in commercial regions.",
        "botocore cognito-idp model (IssuerConfigurationType); "
        f"{_DOCS}/elasticloadbalancing/latest/application/listener-authenticate-users.html",
        "Template: IssuerConfiguration ORIGINAL on the stack's pool, Issuer and JWKS URL from "
        "GetAtt ProviderURL; plan/deploy refuse AuthMode=cognito in China and GovCloud.",
    ),
    Constraint(
        "cognito-domain-prefix",
        "A prefix domain is 1 to 63 lower-case letters, digits and hyphens, unique in the "
        "region, and may not contain aws, amazon or cognito.",
        f"{_DOCS}/cognito/latest/developerguide/cognito-user-pools-assign-domain-prefix.html",
        "Template: mlflow-<stack UUID> (hexadecimal, 43 characters).",
    ),
    Constraint(
        "names-fit-any-stack-name",
        "Stack names have up to 128 characters (Service Catalog's are SC-<account>-pp-<id>); "
        "a user pool name has at most 128, so names built from the stack name can overflow.",
        f"{_DOCS}/AWSCloudFormation/latest/APIReference/API_CreateStack.html",
        "Template: physical names unset, or built from the stack UUID; lint of a 128-character "
        "stack name in tests.",
    ),
    Constraint(
        "kms-alias-reserved-prefix",
        "KMS reserves alias names that begin with alias/aws/: a stack named aws cannot create "
        "its key aliases (alias/<stack>/<purpose>).",
        f"{_DOCS}/kms/latest/developerguide/alias-about.html",
        "plan/deploy refuse the stack name aws.",
    ),
    # --- S3 ------------------------------------------------------------------------------------
    Constraint(
        "s3-signed-part-uploads",
        "A part a client uploads through a URL the server signed is s3:PutObject by the task "
        "role, authenticated by query string (s3:authType REST-QUERY-STRING); MLflow 3.17 "
        "clients upload files of 500 MiB or more that way unless told not to.",
        f"{_DOCS}/AmazonS3/latest/API/bucket-policy-s3-sigv4-conditions.html",
        "Condition EnableArtifactDirectMultipartUpload: false adds the task role's Deny "
        "RefuseUploadsThroughSignedUrls (downloads and the server's own writes unaffected).",
    ),
    Constraint(
        "presigned-urls-die-with-credentials",
        "A presigned URL stops working when the temporary credentials that signed it expire, "
        "whatever its ExpiresIn; the server signs every part of a direct upload up front with "
        "its task role, whose SDK renews credentials 15 minutes before they expire, so a part "
        "URL lasts 15 to 60 minutes and a slower upload fails on its last parts.",
        f"{_DOCS}/AmazonS3/latest/userguide/ShareObjectPreSignedURL.html",
        "README (Large artifacts, Slow links): uploads that may take longer than 15 minutes set "
        "MLFLOW_ENABLE_PROXY_MULTIPART_UPLOAD=false.",
    ),
    Constraint(
        "create-rollback-deletes",
        "RetainExceptOnCreate keeps a resource like Retain except in the rollback of the create "
        "that made it, which deletes it; a delete that cannot succeed there (a bucket holding "
        "objects, a user pool with deletion protection) fails the rollback. UpdateReplacePolicy "
        "has no RetainExceptOnCreate.",
        f"{_DOCS}/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html; "
        "checked by the acceptance suite (create-rollback)",
        "stack/components/retention.py: RetainExceptOnCreate on the keys, the artifact bucket "
        "and the log groups; Retain on LogBucket (log files from the start) and CognitoUserPool "
        "(deletion protection); every UpdateReplacePolicy Retain.",
    ),
)
