"""A small IAM policy evaluator for the tests: does a set of resolved statements allow one request?

Each rule below carries the sentence of the IAM User Guide it implements (tests/publish/test_iam.py
checks it on the guide's own examples). Not modelled: policy variables, NotPrincipal, session
policies, SCPs and resource control policies, cross-account evaluation; a condition operator the
evaluator does not know raises instead of guessing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

Context = Mapping[str, str | list[str]]

#: IAM User Guide, "IAM JSON policy elements: Resource": "You can use wildcard characters (* and
#: ?) within any ARN segment ... An asterisk (*) represents any combination of zero or more
#: characters, and a question mark (?) represents any single character."  Actions: "IAM JSON
#: policy elements: Action": "the service prefix and the action name are case insensitive".
#: Resources (ARNs) are case sensitive ("IAM identifiers", ARNs: case sensitive except the
#: service namespace...; the tests never vary case outside the resource part).


@cache
def _pattern(text: str, ignore_case: bool) -> re.Pattern[str]:
    """``text`` with IAM's wildcards as a regular expression."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in text)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """Whether ``value`` matches the IAM wildcard ``pattern`` as a whole."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _compare(operator: str, expected: str, actual: str) -> bool:
    """One positive comparison of a request value with a policy value ("IAM JSON policy elements:
    Condition operators": StringEquals "Exact matching, case sensitive"; StringLike "Case-sensitive
    matching. The values can include multi-character match wildcards (*) and single-character
    match wildcards (?)"; ArnEquals/ArnLike "Case-sensitive matching of the ARN. Each of the six
    colon-delimited components of the ARN is checked separately and each can include
    multi-character match wildcards (*) or single-character match wildcards (?)"; Bool "Boolean
    matching")."""
    if operator in ("StringEquals", "ArnEquals"):
        return actual == expected
    if operator in ("StringLike", "ArnLike"):
        return matches(expected, actual)
    if operator == "Bool":
        return str(actual).lower() == str(expected).lower()
    raise ValueError(f"condition operator {operator} is not modelled")


_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}


def _holds(operator: str, key: str, expected: Any, context: Context) -> bool:
    """Whether one key of one condition operator holds for the request ``context``."""
    qualifier, _, operator = operator.rpartition(":")
    if_exists = operator.endswith("IfExists")
    operator = operator.removesuffix("IfExists")
    actual = [str(v) for v in _listed(context[key])] if key in context else []
    if not actual:
        # "Condition operators": "If the key that you specify in a policy condition is not
        # present in the request context, the values do not match and the condition is false. If
        # the policy condition requires that the key is not matched, such as StringNotLike or
        # ArnNotLike, and the right key is not present, the condition is true." ...IfExists: "If
        # the policy key is present in the context of the request, process the key as specified
        # in the policy. If the key is not present, evaluate the condition element as true."
        # "Set operators for multivalued context keys": ForAllValues "also returns true if there
        # are no context keys in the request or if the context key value resolves to a null
        # dataset, such as an empty string"; ForAnyValue "For context keys that match no value in
        # the policy or if the key is not present, it returns false" (an empty list included).
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return if_exists or operator in _NEGATED
    wanted = [str(v) for v in _listed(expected)]
    positive = _NEGATED.get(operator, operator)
    if qualifier == "ForAllValues":
        # "ForAllValues - ... true if every context key value in the request matches at least one
        # context key value in the policy."
        found = all(any(_compare(positive, w, a) for w in wanted) for a in actual)
    else:
        # ForAnyValue: "true if any one of the context key values in the request matches any one
        # of the context key values in the policy"; a single-valued key: "If you specify multiple
        # values for a single key, the condition is evaluated using a logical OR".
        found = any(_compare(positive, w, a) for a in actual for w in wanted)
    return not found if operator in _NEGATED else found


def _conditions_hold(statement: Mapping[str, Any], context: Context) -> bool:
    """ "Creating a condition with multiple keys or values": "If your policy has multiple
    condition operators or multiple keys attached to a single condition operator, the conditions
    are evaluated using a logical AND."""
    return all(
        _holds(operator, key, expected, context)
        for operator, keys in statement.get("Condition", {}).items()
        for key, expected in keys.items()
    )


def _applies(statement: Mapping[str, Any], action: str, resource: str, context: Context) -> bool:
    """Whether ``statement`` covers the request (action, resource, conditions). NotAction and
    NotResource: "explicitly matches everything except the specified list"."""
    if "Action" in statement:
        hit = any(matches(a, action, ignore_case=True) for a in _listed(statement["Action"]))
    else:
        hit = not any(matches(a, action, ignore_case=True) for a in _listed(statement["NotAction"]))
    if not hit:
        return False
    if "Resource" in statement:
        hit = any(matches(r, resource) for r in _listed(statement["Resource"]))
    else:
        hit = not any(matches(r, resource) for r in _listed(statement["NotResource"]))
    return hit and _conditions_hold(statement, context)


def _decide(applying: list[Mapping[str, Any]]) -> bool:
    """ "Policy evaluation logic": "An explicit deny in any policy overrides any allows"; "By
    default, all requests are implicitly denied"."""
    if any(s["Effect"] == "Deny" for s in applying):
        return False
    return any(s["Effect"] == "Allow" for s in applying)


def allowed(
    statements: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether the identity ``statements`` allow ``action`` on ``resource`` (no explicit Deny
    applies and some Allow does)."""
    return _decide([s for s in statements if _applies(s, action, resource, context or {})])


def allowed_within(
    policy: Iterable[Mapping[str, Any]],
    boundary: Iterable[Mapping[str, Any]],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether a role with identity ``policy`` and permissions ``boundary`` may do the request:
    both must allow it (IAM User Guide, "Permissions boundaries for IAM entities": "The effective
    permissions for an entity are the permissions that are granted by both its identity-based
    policies and its permissions boundaries")."""
    return allowed(policy, action, resource, context) and allowed(
        boundary, action, resource, context
    )


def _principal_matches(element: Any, principal: tuple[str, str]) -> bool:
    """Whether a statement's Principal names ``principal`` (kind, value), ("IAM JSON policy
    elements: Principal"): "AWS service principals ... "Principal": {"Service":
    "service-name.amazonaws.com"}", "you can specify more than one service principal";
    ""Principal": "*"" and {"AWS": "*"}: "all principals". An AWS account principal
    ({"AWS": "arn:aws:iam::<account>:root" or the account id}) "delegates authority to the account"
    (to its IAM identities, whose own policies must allow too), which a service principal acting
    for itself is not (AWS KMS Developer Guide, "Default key policy": the root statement "allows
    IAM policies in the account" to control access)."""
    if element == "*":
        return True
    kind, value = principal
    for name, entries in element.items():
        for entry in _listed(entries):
            if name == "AWS" and entry == "*":
                return True
            if name == kind and entry == value:
                return True
    return False


def allowed_by_resource_policy(
    statements: Iterable[Mapping[str, Any]],
    principal: tuple[str, str],
    action: str,
    resource: str,
    context: Context | None = None,
) -> bool:
    """Whether a resource-based policy (a topic policy, a key policy) allows ``principal`` (e.g.
    ``("Service", "cloudwatch.amazonaws.com")``) the request. For a service principal acting for
    itself this is the whole decision: no identity policy is involved ("Policy evaluation logic",
    resource-based policies: "grant permissions to the principal that is specified as the
    principal")."""
    applying = [
        s
        for s in statements
        if _principal_matches(s.get("Principal", {}), principal)
        and _applies(s, action, resource, context or {})
    ]
    return _decide(applying)
