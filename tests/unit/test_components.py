"""Each component can be built alone on an empty template (given the records it depends on),
declares its own Parameters, and returns what it made."""

from troposphere import Template

from mlflow_cfn import StackOptions
from mlflow_cfn.cfn.render import to_dict
from mlflow_cfn.stack.components.keys import add_keys
from mlflow_cfn.stack.components.load_balancer import add_load_balancer
from mlflow_cfn.stack.components.log_bucket import add_log_bucket
from mlflow_cfn.stack.components.network import add_network
from mlflow_cfn.stack.components.storage import add_storage
from mlflow_cfn.stack.context import Context


def context(**options) -> Context:
    return Context(Template(), StackOptions(**{"ingress_cidr_slots": 2, **options}))


def test_keys_alone_declare_no_parameter():
    ctx = context()
    keys = add_keys(ctx)
    assert {keys.database.title, keys.logs.title} == {"DatabaseKey", "LogsKey"}
    assert len(ctx.template.resources) == 4  # two keys, two aliases
    assert ctx.specs == []


def test_storage_alone_declares_its_parameters_and_wires_its_own_key():
    ctx = context()
    storage = add_storage(ctx, logs=add_log_bucket(ctx))
    encryption = storage.artifact_bucket.properties["BucketEncryption"].to_dict()
    rule = encryption["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": ["ArtifactKey", "Arn"]
    }
    assert [s.name for s in ctx.specs] == [
        "LogRetentionDays",
        "ArtifactPrefix",
        "ArtifactPrefixPerStack",
        "ArtifactNoncurrentVersionDays",
        "ArtifactBucketName",
        "ArtifactBucketKmsKeyArn",
        "ArtifactReadOnlyBucketArns",
        "ArtifactDirectMultipartUpload",
    ]
    assert set(ctx.template.rules) == {"ArtifactKmsKeyNeedsOwnBucket"}


def test_network_alone_makes_three_groups_and_one_hop():
    ctx = context()
    network = add_network(ctx)
    assert {network.load_balancer.title, network.service.title, network.database.title} == {
        "LoadBalancerSecurityGroup",
        "ServiceSecurityGroup",
        "DatabaseSecurityGroup",
    }
    assert network.vpc_id.title == "VpcId"
    assert sorted(to_dict(ctx.template)["Resources"]) == [
        "DatabaseSecurityGroup",
        "LoadBalancerSecurityGroup",
        "LoadBalancerToServiceEgress",
        "ServiceFromLoadBalancerIngress",
        "ServiceSecurityGroup",
    ]


def test_load_balancer_makes_one_rule_pair_per_ingress_slot():
    ctx = context()
    network = add_network(ctx)
    storage = add_storage(ctx, logs=add_log_bucket(ctx))
    add_load_balancer(ctx, storage=storage, network=network)
    ingress = [r for r in ctx.template.resources if r.startswith("LoadBalancerHttp")]
    assert sorted(ingress) == [
        "LoadBalancerHttpIngress1",
        "LoadBalancerHttpIngress2",
        "LoadBalancerHttpsIngress1",
        "LoadBalancerHttpsIngress2",
    ]
    assert {"HasCertificate", "HasHttpsLoadBalancerIngressCidr2"} <= set(ctx.template.conditions)
