"""The network's patterns of AWS names hold for every region botocore's partition data lists
(botocore/data/partitions.json): an Availability Zone's name is its region's code and a letter
(AWS Regions and Availability Zones, "AWS Availability Zones": "The code for an Availability Zone
is its Region code followed by a letter identifier")."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore
import pytest

from mlflow_cfn.network.inputs import ZONE_NAME

PARTITIONS = json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())
#: Every region code botocore knows, by partition (the ``*-global`` entries are no regions: they
#: do not match their partition's regionRegex).
REGIONS = {
    partition["id"]: sorted(
        r for r in partition["regions"] if re.fullmatch(partition["regionRegex"], r)
    )
    for partition in PARTITIONS["partitions"]
}


def test_botocore_lists_the_partitions_the_templates_know():
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(REGIONS)
    assert all(REGIONS.values())


@pytest.mark.parametrize("partition", sorted(REGIONS))
def test_every_regions_zones_are_zone_names(partition):
    for region in REGIONS[partition]:
        for letter in "af":
            assert re.fullmatch(ZONE_NAME, region + letter, re.ASCII), region + letter
        assert not re.fullmatch(ZONE_NAME, region, re.ASCII), region


@pytest.mark.parametrize("value", ["use1-az1", "euw1-az3", "eu-west-1", "us-west-2-lax-1a", ""])
def test_zone_ids_region_codes_and_local_zones_are_not_zone_names(value):
    """A zone ID (use1-az1) is what DescribeSubnets reports beside the name; a Local Zone
    (us-west-2-lax-1a) is no Availability Zone of its region."""
    assert not re.fullmatch(ZONE_NAME, value, re.ASCII)


def test_a_secret_parameter_takes_only_names_a_person_can_give_a_secret():
    # botocore's secretsmanager model, CreateSecret Name: "The secret name can contain ASCII
    # letters, numbers, and the following characters: /_+=.@-". A name with another character
    # ("!": rds!cluster-<id>) is one a service gave its own secret, never a launcher's to name.
    import botocore.session

    from mlflow_cfn.stack.parameters import SECRET_ARN

    model = botocore.session.get_session().get_service_model("secretsmanager")
    doc = model.operation_model("CreateSecret").input_shape.members["Name"].documentation
    (characters,) = re.findall(r"following characters: (\S+?)</p>", doc)
    assert characters == "/_+=.@-"
    name_class = SECRET_ARN.rsplit(":secret:", 1)[1]
    assert name_class == "[A-Za-z0-9" + characters.replace("-", "") + "-]+"
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:{}-AbCdEf"
    assert re.fullmatch(SECRET_ARN, arn.format("mlflow/oidc"))
    assert not re.fullmatch(SECRET_ARN, arn.format("rds!cluster-0123"))
