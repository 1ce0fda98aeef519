"""Where Fargate runs: in most regions in every Availability Zone, in a few only in some, named by
zone ID (a zone's name maps to a different zone ID in each account of the older regions, so only
the ID says where a subnet is).

Amazon ECS Developer Guide, "Supported Regions for Amazon ECS on AWS Fargate"
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html), Linux
containers: "Amazon ECS Linux containers on AWS Fargate are supported in the following AWS Regions.
The supported Availability Zone IDs are noted when applicable." The rows that note them:

* "US West (N. California) | us-west-1 (`usw1-az1` & `usw1-az3` only)"
* "Asia Pacific (Tokyo) | ap-northeast-1 (`apne1-az1`, `apne1-az2`, & `apne1-az4` only)"
* "China (Beijing) | cn-north-1 (`cnn1-az1` & `cnn1-az2` only)"

(ca-central-1 was listed as "`cac1-az1` & `cac1-az2` only" in earlier versions of the page; the
current one lists it without a restriction.)
"""

from __future__ import annotations

from collections.abc import Mapping

FARGATE_REGIONS_PAGE = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/AWS_Fargate-Regions.html"
)

#: Region -> the zone IDs Fargate runs Linux tasks in, for the regions where that is not every zone.
FARGATE_ZONE_IDS: dict[str, frozenset[str]] = {
    "us-west-1": frozenset({"usw1-az1", "usw1-az3"}),
    "ap-northeast-1": frozenset({"apne1-az1", "apne1-az2", "apne1-az4"}),
    "cn-north-1": frozenset({"cnn1-az1", "cnn1-az2"}),
}


def restricted(region: str | None) -> bool:
    """Fargate runs in only some zones of ``region``."""
    return region in FARGATE_ZONE_IDS


def fargate_zone_problems(
    parameter: str, region: str, zones: Mapping[str, tuple[str, str]]
) -> list[str]:
    """One line per subnet of ``parameter`` in a zone of ``region`` where Fargate does not run;
    ``zones`` is subnet id -> (zone name, zone ID)."""
    allowed = FARGATE_ZONE_IDS.get(region)
    if allowed is None:
        return []
    return [
        f"{parameter}: subnet {subnet} is in {name} ({zone_id}), where Fargate does not run "
        f"tasks: in {region} it runs in {', '.join(sorted(allowed))} only (ECS Developer Guide, "
        f"Supported Regions for Amazon ECS on AWS Fargate, {FARGATE_REGIONS_PAGE})"
        for subnet, (name, zone_id) in sorted(zones.items())
        if zone_id not in allowed
    ]
