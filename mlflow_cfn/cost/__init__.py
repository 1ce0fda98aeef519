"""The monthly cost estimate of the stack (``mlflow-cfn cost``), next to two reference points.

`records` holds what an estimate is made of (a month of use, priced line items, setups side by
side); `prices` the dated price table and its usage assumptions; `estimate` one month of this
stack from its resolved parameters; `references` the setups it is compared with; `text` the
tables the command prints. Nothing is fetched: list prices as of the table's date, no free tiers.
"""

from __future__ import annotations


class CostError(ValueError):
    """A price table, assumption or input the estimate cannot use; the message names it."""
