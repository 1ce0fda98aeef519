"""The catalogue of AWS-side rules this product family depends on and no resource schema states:
what AWS refuses (or what silently breaks), where that is documented, and where the template or
`plan` enforces it. tests/template/test_constraints.py renders a violating and a fixed parameter
set for every entry; README's "AWS limits this template respects" is `constraints_table()`
verbatim. Entries of the product template are in `product`, of the network template in
`network`, of what a portfolio's launchers share in `sharing`.

Add an entry whenever a deployment teaches us a rule, with its test, before the fix.
"""

from __future__ import annotations

from mlflow_cfn.stack.constraints.entry import Constraint
from mlflow_cfn.stack.constraints.network import NETWORK_CATALOGUE
from mlflow_cfn.stack.constraints.product import PRODUCT_CATALOGUE
from mlflow_cfn.stack.constraints.sharing import SHARING_CATALOGUE

__all__ = ["CATALOGUE", "Constraint", "constraints_table"]

CATALOGUE: tuple[Constraint, ...] = (*PRODUCT_CATALOGUE, *SHARING_CATALOGUE, *NETWORK_CATALOGUE)


def constraints_table() -> str:
    """A Markdown table of the catalogue: what AWS refuses, where it is enforced, the source."""
    rows = ["| AWS refuses or breaks | Enforced by | Source |", "|---|---|---|"]
    for c in CATALOGUE:
        source = f"[docs]({c.source})" if c.source.startswith("http") else c.source
        rows.append(f"| {c.refuses} | {c.enforced} | {source} |")
    return "\n".join(rows) + "\n"
