"""cfn-lint, in-process, on the emitted network template and on every mode rendered concretely: no
errors, warnings or informational notes."""

import pytest

from tests.conftest import lint
from tests.network.modes import MODES, rendered, template

#: The rendered form writes the partition into an Fn::Sub that keeps a resource reference (the
#: default security group's ARN in its function's role), which I3042 reports; the template itself
#: says ${AWS::Partition} there and is linted clean with every rule.
RENDERING_ARTIFACT = "I3042: ARNs should use correctly placed Pseudo Parameters"


def test_network_template_is_lint_clean_informational_included():
    assert lint(template(), informational=True) == []


@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_mode_is_lint_clean_informational_included(mode):
    findings = lint(rendered(**MODES[mode]), informational=True)
    artifacts = [f for f in findings if RENDERING_ARTIFACT in f]
    assert all("DefaultSecurityGroupRestrictionRole" in f for f in artifacts), artifacts
    assert [f for f in findings if f not in artifacts] == []


def test_lint_catches_a_broken_network_template():
    broken = {**template(), "Resources": dict(template()["Resources"])}
    broken["Resources"]["Vpc"] = {"Type": "AWS::EC2::VPC", "Properties": {"Nope": 1}}
    assert any("Nope" in finding for finding in lint(broken))
