"""What ``mlflow-cfn deploy`` shows of a change set before it asks: where it applies (account and
region, read from the stack's ARN), what it does to resources (a count per action) and what it
does to parameters (deployed value -> value after the change set).

Decisions:

* The account and region come from the StackId CreateChangeSet returns
  (``arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>``), not from a separate
  STS call: they are the stack's own, whatever the credentials' defaults say.
* Parameters are compared as CloudFormation will hold them: the deployed stack's values
  (DescribeStacks) against the values sent, the values kept (UsePreviousValue) and the defaults
  of the parameters given nowhere. Only differences are listed, with the count of those kept.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlflow_cfn.cfn.changes import Change
from mlflow_cfn.cfn.stacks import stack_location
from mlflow_cfn.commands.deploy_inputs import Inputs

__all__ = ["action_counts", "parameter_lines", "where"]

#: DescribeChangeSet ResourceChange Action values (botocore's cloudformation model, ChangeAction).
ACTIONS = {"Add": "to add", "Modify": "to modify", "Remove": "to remove"}


def where(stack_id: str) -> str:
    """``account <id>, region <region>`` of a stack ARN (the ARN itself if it is not one)."""
    if (location := stack_location(stack_id)) is None:
        return f"stack {stack_id}"
    region, account = location
    return f"account {account}, region {region}"


def action_counts(changes: Sequence[Change]) -> str:
    """``1 to add, 2 to modify, 0 to remove`` (and any other action, such as Import, by name)."""
    counts = {action: 0 for action in ACTIONS}
    for change in changes:
        counts[change.action] = counts.get(change.action, 0) + 1
    words = [f"{count} {ACTIONS.get(action, action)}" for action, count in counts.items()]
    return ", ".join(words)


def _shown(value: str | None) -> str:
    if value is None:
        return "(none)"
    return value if value else '""'


def parameter_lines(inputs: Inputs) -> list[str]:
    """The parameters whose value changes (deployed -> after), and how many keep theirs; none
    for a new stack."""
    if not inputs.previous:
        return []
    before, after = inputs.previous, inputs.effective
    changed = [
        key for key in sorted(before.keys() | after.keys()) if before.get(key) != after.get(key)
    ]
    lines = [f"parameters changed ({len(changed)}, deployed -> after this change set):"]
    for key in changed:
        if key not in before:
            lines.append(f"  {key}: (new parameter) -> {_shown(after[key])}")
        elif key not in after:
            lines.append(f"  {key}: {_shown(before[key])} -> (no longer in the template)")
        else:
            lines.append(f"  {key}: {_shown(before[key])} -> {_shown(after[key])}")
    if not changed:
        lines = ["parameters changed: none"]
    lines.append(
        f"parameters kept at their deployed values: {len(inputs.kept)} (not in --parameters or "
        "--parameter-overrides)"
    )
    return lines
