"""Change sets of any stack: their name, creating one and waiting for it, reading its resource
changes, and telling which of them would lose data.

Decisions:

* A change set is named ``mlflow-cfn-`` + the first 16 hex digits of the SHA-256 of the compact
  template and the sorted parameters: the same inputs give the same name. If a change set of that
  name exists already (an earlier run that was declined or had no terminal to ask on), it is
  deleted and created again, so its changes are always computed against the stack as it is now.
* Stateful types (`STATEFUL_TYPES`) hold data that a replacement or removal loses or detaches
  from the stack. ``AWS::RDS::DBInstance`` is not one: the template's only instance,
  ``DatabaseWriter``, is an Aurora cluster member whose data lives in ``DatabaseCluster``'s
  volume, so replacing it costs minutes of downtime, not data.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from botocore.exceptions import ClientError

from mlflow_cfn.cfn.aws import CloudFormation, error_code

__all__ = [
    "CAPABILITIES",
    "STATEFUL_TYPES",
    "Change",
    "ChangeSet",
    "at_risk",
    "change_lines",
    "change_set_name",
    "has_no_changes",
]

CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")

STATEFUL_TYPES = frozenset(
    {
        "AWS::RDS::DBCluster",
        "AWS::S3::Bucket",
        "AWS::KMS::Key",
        "AWS::SecretsManager::Secret",
        "AWS::Logs::LogGroup",
        "AWS::Cognito::UserPool",
        "AWS::EFS::FileSystem",
        "AWS::DynamoDB::Table",
    }
)
"""Resource types whose replacement or removal is refused without --allow-replacement."""

NO_CHANGES_REASONS = ("didn't contain changes", "No updates are to be performed")
CHANGE_SET_PENDING = frozenset({"CREATE_PENDING", "CREATE_IN_PROGRESS"})


@dataclass(frozen=True)
class Change:
    """One resource change of a change set."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str | None
    properties: tuple[str, ...]

    @classmethod
    def from_api(cls, change: dict) -> Change:
        """From a DescribeChangeSet ``ResourceChange``; properties from Details[].Target."""
        targets = [detail.get("Target", {}) for detail in change.get("Details", [])]
        properties = [target.get("Name") or target.get("Attribute", "") for target in targets]
        return cls(
            action=change["Action"],
            logical_id=change["LogicalResourceId"],
            resource_type=change["ResourceType"],
            replacement=change.get("Replacement"),
            properties=tuple(dict.fromkeys(p for p in properties if p)),
        )

    def risk(self) -> str | None:
        """What this change does to a stateful resource's data; None when it keeps it."""
        if self.resource_type not in STATEFUL_TYPES:
            return None
        if self.action == "Remove":
            return "would be removed from the stack"
        if self.replacement == "True":
            return "would be replaced by a new, empty one (Replacement=True)"
        if self.replacement == "Conditional":
            return "may be replaced by a new, empty one (Replacement=Conditional)"
        return None


def change_set_name(body: str, parameters: dict[str, str]) -> str:
    """``mlflow-cfn-`` and 16 hex digits of the SHA-256 of the template body and parameters."""
    text = body + "\n" + json.dumps(parameters, sort_keys=True)
    return "mlflow-cfn-" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class ChangeSet:
    """One change set of a stack, by name, through a CloudFormation client."""

    cfn: CloudFormation
    stack: str
    name: str

    def create(
        self,
        kind: str,
        template: dict[str, str],
        parameters: dict[str, str],
        out: Callable[[str], None],
        options: dict | None = None,
        kept: Sequence[str] = (),
    ) -> dict:
        """Create it as `kind` (CREATE or UPDATE) from `template` (TemplateBody or TemplateURL),
        with `parameters`, the parameters `kept` at their deployed values (UsePreviousValue, as
        ``aws cloudformation deploy`` sends them) and `options` (Tags, RoleARN) as
        CreateChangeSet takes them; one left by an earlier run under this name is deleted
        first. Returns CreateChangeSet's answer (Id, StackId)."""
        values = {key: {"ParameterValue": value} for key, value in parameters.items()}
        values |= {key: {"UsePreviousValue": True} for key in kept}
        arguments = {
            "StackName": self.stack,
            "ChangeSetName": self.name,
            "ChangeSetType": kind,
            **template,
            "Parameters": [{"ParameterKey": key, **values[key]} for key in sorted(values)],
            "Capabilities": list(CAPABILITIES),
            "Description": "created by mlflow-cfn deploy",
            **(options or {}),
        }
        out(f"creating change set {self.name} ({kind} of stack {self.stack})")
        try:
            return self.cfn.create_change_set(**arguments)
        except ClientError as exc:
            if error_code(exc) != "AlreadyExistsException":
                raise
            out(f"change set {self.name} exists already: deleting it and creating it again")
            self.delete()
            return self.cfn.create_change_set(**arguments)

    def wait(self, poll: float, sleep: Callable[[float], None]) -> dict:
        """The first DescribeChangeSet page once the change set is no longer being created."""
        while True:
            page = self.cfn.describe_change_set(ChangeSetName=self.name, StackName=self.stack)
            if page["Status"] not in CHANGE_SET_PENDING:
                return page
            sleep(poll)

    def changes(self, first: dict) -> list[Change]:
        """Every resource change of the complete change set, following NextToken from `first`."""
        page, changes = first, []
        while True:
            changes += [
                c["ResourceChange"] for c in page.get("Changes", []) if "ResourceChange" in c
            ]
            if not page.get("NextToken"):
                return [Change.from_api(change) for change in changes]
            page = self.cfn.describe_change_set(
                ChangeSetName=self.name, StackName=self.stack, NextToken=page["NextToken"]
            )

    def execute(self) -> None:
        """Start executing it."""
        self.cfn.execute_change_set(ChangeSetName=self.name, StackName=self.stack)

    def delete(self) -> None:
        """Delete it."""
        self.cfn.delete_change_set(ChangeSetName=self.name, StackName=self.stack)

    def inspect_hint(self) -> str:
        """The command that shows it while it is left in place."""
        return (
            f"aws cloudformation describe-change-set --stack-name {self.stack} "
            f"--change-set-name {self.name}"
        )


def has_no_changes(reason: str) -> bool:
    """Whether a failed change set's StatusReason says there was nothing to change."""
    return any(text in reason for text in NO_CHANGES_REASONS)


def change_lines(changes: Sequence[Change]) -> list[str]:
    """One aligned line per change: action, logical id, type, Replacement, changed properties."""
    widths = [
        max(len(text) for text in column)
        for column in zip(
            *((c.action, c.logical_id, c.resource_type) for c in changes), strict=True
        )
    ]
    lines = []
    for c in changes:
        cells = [c.action, c.logical_id, c.resource_type]
        line = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        line += f"  Replacement={c.replacement or '-'}"
        if c.action == "Modify" and c.properties:
            line += f"  properties: {', '.join(c.properties)}"
        lines.append(f"  {line}")
    return lines


def at_risk(changes: Sequence[Change]) -> list[str]:
    """One line per change that would lose a stateful resource's data: id, type and how."""
    return [f"{c.logical_id} ({c.resource_type}) {risk}" for c in changes if (risk := c.risk())]
