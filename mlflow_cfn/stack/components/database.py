"""Aurora Serverless v2: encrypted cluster with an RDS-managed master secret, TLS enforced,
snapshotted on delete or replace, one db.serverless writer (and a reader for high availability),
reachable only from the service's security group on the engine's port."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, If, Output, Parameter, Ref, Sub
from troposphere.iam import Role
from troposphere.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBInstance,
    DBSubnetGroup,
    MasterUserSecret,
    ServerlessV2ScalingConfiguration,
)

from mlflow_cfn.stack import policies
from mlflow_cfn.stack.components.database_inputs import DatabaseInputs, declare_database_inputs
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.network import Network, connect
from mlflow_cfn.stack.components.permissions_boundary import PERMISSIONS_BOUNDARY
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import AURORA_MYSQL, AURORA_POSTGRESQL, engine_choice, engine_setting

# Resources and Outputs
DATABASE_SUBNET_GROUP = "DatabaseSubnetGroup"
DATABASE_CLUSTER_PARAMETER_GROUP = "DatabaseClusterParameterGroup"
DATABASE_CLUSTER = "DatabaseCluster"
DATABASE_WRITER = "DatabaseWriter"
DATABASE_MONITORING_ROLE = "DatabaseMonitoringRole"
DATABASE_READER = "DatabaseReader"
SERVICE_TO_DATABASE_EGRESS = "ServiceToDatabaseEgress"
DATABASE_FROM_SERVICE_INGRESS = "DatabaseFromServiceIngress"
OUT_DATABASE_ENDPOINT = "DatabaseEndpoint"
OUT_DATABASE_SECRET_ARN = "DatabaseSecretArn"

#: Fixed, never a Parameter: both are create-only (a change would replace the cluster).
DATABASE_NAME = "mlflow"
MASTER_USERNAME = "mlflow_admin"  # not the engine default (postgres/admin)


@dataclass(frozen=True)
class Database:
    """The cluster, its writer and the engine Parameter (what connects to it depends on it)."""

    cluster: DBCluster
    writer: DBInstance
    engine: Parameter

    @property
    def secret_arn(self) -> GetAtt:
        """ARN of the RDS-managed secret holding ``username`` and ``password``."""
        return GetAtt(self.cluster, "MasterUserSecret.SecretArn")

    def setting(self, key: str) -> object:
        """One setting of the chosen engine (``engines.engine_mapping`` keys)."""
        return engine_setting(self.engine, key)


def _cluster(
    ctx: Context, inputs: DatabaseInputs, keys: Keys, network: Network, groups: tuple
) -> DBCluster:
    subnet_group, parameter_group = groups
    return ctx.template.add_resource(
        DBCluster(
            DATABASE_CLUSTER,
            Engine=Ref(inputs.engine),
            EngineVersion=engine_setting(inputs.engine, "EngineVersion"),
            DatabaseName=DATABASE_NAME,
            MasterUsername=MASTER_USERNAME,
            ManageMasterUserPassword=True,
            MasterUserSecret=MasterUserSecret(KmsKeyId=Ref(keys.database)),
            StorageEncrypted=True,
            KmsKeyId=Ref(keys.database),
            Port=engine_setting(inputs.engine, "Port"),
            DBSubnetGroupName=Ref(subnet_group),
            DBClusterParameterGroupName=Ref(parameter_group),
            VpcSecurityGroupIds=[GetAtt(network.database, "GroupId")],
            ServerlessV2ScalingConfiguration=ServerlessV2ScalingConfiguration(
                # Refs, not literals: troposphere's validator still refuses 0 and > 128 ACUs.
                MinCapacity=Ref(inputs.min_capacity),
                MaxCapacity=Ref(inputs.max_capacity),
                # Only with a minimum of 0: RDS refuses it otherwise.
                SecondsUntilAutoPause=If(
                    inputs.can_pause, Ref(inputs.auto_pause_seconds), policies.NO_VALUE
                ),
            ),
            BackupRetentionPeriod=Ref(inputs.backup_retention_days),
            CopyTagsToSnapshot=True,
            DeletionProtection=Ref(inputs.deletion_protection),
            EnableCloudwatchLogsExports=engine_setting(inputs.engine, "LogExports"),
            EnableIAMDatabaseAuthentication=True,
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
        )
    )


def _groups(ctx: Context, inputs: DatabaseInputs, network: Network) -> tuple:
    subnet_group = ctx.template.add_resource(
        DBSubnetGroup(
            DATABASE_SUBNET_GROUP,
            DBSubnetGroupDescription=Sub("MLflow database subnets (stack ${AWS::StackName})"),
            SubnetIds=Ref(network.database_subnets),
        )
    )
    parameter_group = ctx.template.add_resource(
        DBClusterParameterGroup(
            DATABASE_CLUSTER_PARAMETER_GROUP,
            Description=Sub("MLflow database, TLS only (stack ${AWS::StackName})"),
            Family=engine_setting(inputs.engine, "Family"),
            Parameters=engine_choice(
                AURORA_POSTGRESQL.cluster_parameters, AURORA_MYSQL.cluster_parameters
            ),
        )
    )
    return subnet_group, parameter_group


def _instances(ctx: Context, inputs: DatabaseInputs, keys: Keys, cluster: DBCluster) -> DBInstance:
    """The writer (returned) and, with high availability, a reader in another zone."""
    monitoring_role = ctx.template.add_resource(
        Role(
            DATABASE_MONITORING_ROLE,
            Description="Lets RDS publish enhanced monitoring (OS) metrics of the database",
            PermissionsBoundary=PERMISSIONS_BOUNDARY,
            AssumeRolePolicyDocument=policies.assume_role("monitoring.rds.amazonaws.com"),
            ManagedPolicyArns=[
                Sub(
                    "arn:${AWS::Partition}:iam::aws:policy/service-role/"
                    "AmazonRDSEnhancedMonitoringRole"
                )
            ],
        )
    )
    instance = {
        "DBClusterIdentifier": Ref(cluster),
        "DBInstanceClass": "db.serverless",
        "Engine": Ref(inputs.engine),
        "PubliclyAccessible": False,
        "AutoMinorVersionUpgrade": True,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": GetAtt(monitoring_role, "Arn"),
        "EnablePerformanceInsights": True,
        "PerformanceInsightsKMSKeyId": Ref(keys.database),
        "PerformanceInsightsRetentionPeriod": 7,  # the free tier
        # The data lives in the cluster (snapshotted); an Aurora instance holds none.
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
    }
    writer = ctx.template.add_resource(DBInstance(DATABASE_WRITER, PromotionTier=0, **instance))
    # A reader in the cluster's subnets; Aurora fails over to it if the writer's zone fails.
    # After the writer: the first instance Aurora creates becomes the writer.
    ctx.template.add_resource(
        DBInstance(
            DATABASE_READER,
            Condition=inputs.high_availability,
            PromotionTier=1,
            DependsOn=[writer],
            **instance,
        )
    )
    return writer


def add_database(ctx: Context, *, keys: Keys, network: Network) -> Database:
    """Add the database Parameters, the subnet group, the TLS-only parameter group, the cluster,
    its instances, the service -> database hop and the outputs."""
    inputs = declare_database_inputs(ctx)
    cluster = _cluster(ctx, inputs, keys, network, _groups(ctx, inputs, network))
    database = Database(
        cluster=cluster, writer=_instances(ctx, inputs, keys, cluster), engine=inputs.engine
    )
    connect(
        ctx,
        (SERVICE_TO_DATABASE_EGRESS, DATABASE_FROM_SERVICE_INGRESS),
        network.service,
        network.database,
        database.setting("Port"),
        ("To the database", "From the MLflow tasks"),
    )
    ctx.template.add_output(
        Output(
            OUT_DATABASE_ENDPOINT,
            Description="Writer endpoint of the Aurora cluster",
            Value=GetAtt(cluster, "Endpoint.Address"),
        )
    )
    ctx.template.add_output(
        Output(
            OUT_DATABASE_SECRET_ARN,
            Description="Secrets Manager secret with the database user name and password "
            "(managed and rotated by RDS)",
            Value=database.secret_arn,
        )
    )
    return database
