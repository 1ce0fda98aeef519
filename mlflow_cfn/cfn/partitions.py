"""AWS partitions as botocore publishes them (``botocore/data/partitions.json``, the endpoint data
every AWS SDK shares): the partition of a region and its DNS suffix, which CloudFormation returns
as ``AWS::URLSuffix`` (CloudFormation User Guide, "Pseudo parameters reference": "The suffix is
typically amazonaws.com, but might differ by Region. For example, the suffix for the China
(Beijing) Region is amazonaws.com.cn")."""

from __future__ import annotations

import difflib
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import botocore


@cache
def partitions() -> tuple[dict[str, Any], ...]:
    """botocore's partitions: ``id``, ``regionRegex``, ``regions`` and ``outputs`` (dnsSuffix)."""
    data = Path(botocore.__file__).parent / "data" / "partitions.json"
    return tuple(json.loads(data.read_text())["partitions"])


def partition_of(region: str) -> dict[str, Any]:
    """The partition ``region`` belongs to: one that lists it, else the first whose region pattern
    matches it (as the SDKs resolve it), else ``aws``."""
    for partition in partitions():
        if region in partition["regions"]:
            return partition
    for partition in partitions():
        if re.match(partition["regionRegex"], region):
            return partition
    return next(p for p in partitions() if p["id"] == "aws")


@cache
def known_regions() -> frozenset[str]:
    """Every region of every partition in botocore's partitions.json (the data its endpoint
    rulesets resolve with), less each partition's global pseudo-region (``aws-global``,
    ``aws-cn-global``...: a global endpoint, not a place to create a stack)."""
    return frozenset(
        name for p in partitions() for name in p["regions"] if name != f"{p['id']}-global"
    )


def unknown_region(region: str) -> str | None:
    """Why ``region`` is not one (None if botocore knows it), with the nearest names: an
    unknown region would otherwise be tried until the connection times out."""
    if region in known_regions():
        return None
    near = difflib.get_close_matches(region, sorted(known_regions()), n=3, cutoff=0.8)
    hint = f" (did you mean {' or '.join(near)}?)" if near else ""
    return (
        f"not an AWS region this botocore ({botocore.__version__}) knows{hint}; a region newer "
        "than it needs a newer boto3 (pip install --upgrade boto3)"
    )


def dns_suffix(partition_id: str) -> str:
    """The DNS suffix of the partition ``partition_id`` (``AWS::URLSuffix``)."""
    return next(p for p in partitions() if p["id"] == partition_id)["outputs"]["dnsSuffix"]


@cache
def _endpoints() -> dict[str, Any]:
    data = Path(botocore.__file__).parent / "data" / "endpoints.json"
    return json.loads(data.read_text())


def service_regions(service: str) -> frozenset[str]:
    """The regions where botocore's endpoint data (``endpoints.json``) offers ``service`` (its
    endpoint prefix, e.g. ``cognito-idp``); deprecated FIPS aliases left out."""
    regions = set()
    for partition in _endpoints()["partitions"]:
        for name, endpoint in partition["services"].get(service, {}).get("endpoints", {}).items():
            if not endpoint.get("deprecated") and name in partition["regions"]:
                regions.add(name)
    return frozenset(regions)
