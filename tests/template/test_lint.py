"""cfn-lint, in-process, on every emitted template: no errors, warnings or informational notes."""

import pytest

from mlflow_cfn import StackOptions, build_template
from mlflow_cfn.cfn.render import to_dict
from tests.conftest import lint


def test_default_template_is_lint_clean(default_template):
    assert lint(default_template) == []


def test_default_template_has_no_informational_findings(default_template):
    assert lint(default_template, informational=True) == []


@pytest.mark.parametrize("slots", [1, 2, 20])
def test_every_ingress_slot_count_is_lint_clean(slots):
    assert lint(to_dict(build_template(StackOptions(ingress_cidr_slots=slots)))) == []


def test_lint_catches_a_broken_template(default_template):
    """The lint fixture really reports problems (so the tests above can fail)."""
    broken = {**default_template, "Resources": dict(default_template["Resources"])}
    broken["Resources"]["ArtifactBucket"] = {"Type": "AWS::S3::Bucket", "Properties": {"Nope": 1}}
    assert any("Nope" in finding for finding in lint(broken))
