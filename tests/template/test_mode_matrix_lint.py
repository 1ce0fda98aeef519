"""Every combination of the optional modes renders to a template in which cfn-lint finds
nothing, informational rules included."""

import pytest

from tests.conftest import lint
from tests.template.modes import matrix, rendered

CASES = matrix()


@pytest.mark.parametrize(("params", "preset"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_mode_combination_is_lint_clean(params, preset):
    assert lint(rendered(preset, **params), informational=True) == []
