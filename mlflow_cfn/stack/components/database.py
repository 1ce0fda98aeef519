"""Aurora Serverless v2: encrypted cluster with an RDS-managed master secret, TLS enforced,
snapshotted on delete or replace, and one db.serverless writer."""

from __future__ import annotations

from dataclasses import dataclass

from troposphere import GetAtt, Output, Ref, Sub
from troposphere.iam import Role
from troposphere.rds import (
    DBCluster,
    DBClusterParameterGroup,
    DBInstance,
    DBSubnetGroup,
    MasterUserSecret,
    ServerlessV2ScalingConfiguration,
)

from mlflow_cfn.stack import names, policies
from mlflow_cfn.stack.components.keys import Keys
from mlflow_cfn.stack.components.network import SecurityGroups
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.engines import AURORA_MYSQL, AURORA_POSTGRESQL, engine_choice, engine_setting

#: Fixed, never a Parameter: both are create-only (a change would replace the cluster).
DATABASE_NAME = "mlflow"
MASTER_USERNAME = "mlflow_admin"  # not the engine default (postgres/admin)


@dataclass(frozen=True)
class Database:
    """The cluster and its writer."""

    cluster: DBCluster
    writer: DBInstance

    @property
    def secret_arn(self) -> GetAtt:
        """ARN of the RDS-managed secret holding ``username`` and ``password``."""
        return GetAtt(self.cluster, "MasterUserSecret.SecretArn")


def add_database(ctx: Context, *, keys: Keys, security_groups: SecurityGroups) -> Database:
    """Add the subnet group, the TLS-only parameter group, the cluster and its writer."""
    t = ctx.template
    subnet_group = t.add_resource(
        DBSubnetGroup(
            names.DATABASE_SUBNET_GROUP,
            DBSubnetGroupDescription=Sub("MLflow database subnets (stack ${AWS::StackName})"),
            SubnetIds=ctx.ref(names.DATABASE_SUBNET_IDS),
        )
    )
    parameter_group = t.add_resource(
        DBClusterParameterGroup(
            names.DATABASE_CLUSTER_PARAMETER_GROUP,
            Description=Sub("MLflow database, TLS only (stack ${AWS::StackName})"),
            Family=engine_setting(ctx, "Family"),
            Parameters=engine_choice(AURORA_POSTGRESQL.tls_parameters, AURORA_MYSQL.tls_parameters),
        )
    )
    cluster = t.add_resource(
        DBCluster(
            names.DATABASE_CLUSTER,
            Engine=ctx.ref(names.DATABASE_ENGINE),
            EngineVersion=engine_setting(ctx, "EngineVersion"),
            DatabaseName=DATABASE_NAME,
            MasterUsername=MASTER_USERNAME,
            ManageMasterUserPassword=True,
            MasterUserSecret=MasterUserSecret(KmsKeyId=Ref(keys.database)),
            StorageEncrypted=True,
            KmsKeyId=Ref(keys.database),
            Port=engine_setting(ctx, "Port"),
            DBSubnetGroupName=Ref(subnet_group),
            DBClusterParameterGroupName=Ref(parameter_group),
            VpcSecurityGroupIds=[GetAtt(security_groups.database, "GroupId")],
            ServerlessV2ScalingConfiguration=ServerlessV2ScalingConfiguration(
                # Refs, not literals: troposphere's validator still refuses 0 and > 128 ACUs.
                MinCapacity=ctx.ref(names.DATABASE_MIN_CAPACITY),
                MaxCapacity=ctx.ref(names.DATABASE_MAX_CAPACITY),
                SecondsUntilAutoPause=ctx.ref(names.DATABASE_AUTO_PAUSE_SECONDS),
            ),
            BackupRetentionPeriod=ctx.ref(names.DATABASE_BACKUP_RETENTION_DAYS),
            CopyTagsToSnapshot=True,
            DeletionProtection=ctx.ref(names.DATABASE_DELETION_PROTECTION),
            EnableCloudwatchLogsExports=engine_setting(ctx, "LogExports"),
            EnableIAMDatabaseAuthentication=True,
            DeletionPolicy="Snapshot",
            UpdateReplacePolicy="Snapshot",
        )
    )
    monitoring_role = t.add_resource(
        Role(
            names.DATABASE_MONITORING_ROLE,
            Description="Lets RDS publish enhanced monitoring (OS) metrics of the database",
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
        "Engine": ctx.ref(names.DATABASE_ENGINE),
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
    writer = t.add_resource(DBInstance(names.DATABASE_WRITER, PromotionTier=0, **instance))
    # A reader in the cluster's subnets; Aurora fails over to it if the writer's zone fails.
    t.add_resource(
        DBInstance(
            names.DATABASE_READER,
            Condition=names.ENABLE_DATABASE_HIGH_AVAILABILITY,
            PromotionTier=1,
            **instance,
        )
    )
    t.add_output(
        Output(
            names.OUT_DATABASE_ENDPOINT,
            Description="Writer endpoint of the Aurora cluster",
            Value=GetAtt(cluster, "Endpoint.Address"),
        )
    )
    database = Database(cluster=cluster, writer=writer)
    t.add_output(
        Output(
            names.OUT_DATABASE_SECRET_ARN,
            Description="Secrets Manager secret with the database user name and password "
            "(managed and rotated by RDS)",
            Value=database.secret_arn,
        )
    )
    return database
