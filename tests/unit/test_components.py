"""Each component can be built alone on an empty template and returns what it made."""

from troposphere import Template

from mlflow_cfn import StackOptions
from mlflow_cfn.stack.components.keys import add_keys
from mlflow_cfn.stack.components.network import add_security_groups
from mlflow_cfn.stack.components.storage import add_storage
from mlflow_cfn.stack.context import Context
from mlflow_cfn.stack.parameters import add_parameters, parameter_specs


def context() -> Context:
    template = Template()
    options = StackOptions(ingress_cidr_slots=2)
    return Context(template, options, add_parameters(template, parameter_specs(options)))


def test_keys_alone():
    ctx = context()
    keys = add_keys(ctx)
    assert {keys.artifacts.title, keys.database.title, keys.logs.title} == {
        "ArtifactKey",
        "DatabaseKey",
        "LogsKey",
    }
    assert len(ctx.template.resources) == 6  # three keys, three aliases


def test_storage_alone_wires_to_the_keys_it_is_given():
    ctx = context()
    storage = add_storage(ctx, keys=add_keys(ctx))
    encryption = storage.artifact_bucket.properties["BucketEncryption"].to_dict()
    rule = encryption["ServerSideEncryptionConfiguration"][0]
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"] == {
        "Fn::GetAtt": ["ArtifactKey", "Arn"]
    }


def test_security_groups_alone_make_one_rule_pair_per_slot():
    ctx = context()
    add_security_groups(ctx)
    ingress = [r for r in ctx.template.resources if r.startswith("LoadBalancerHttp")]
    assert sorted(ingress) == [
        "LoadBalancerHttpIngress1",
        "LoadBalancerHttpIngress2",
        "LoadBalancerHttpsIngress1",
        "LoadBalancerHttpsIngress2",
    ]
