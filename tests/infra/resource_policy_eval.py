"""Evaluate a queue's resource policy for one request, as IAM documents it; moto does not.

Only what the queue policies use: `Principal` (`*` or a service), `Action` (`sqs:*` or one
action), `Resource`, and the condition operators `ArnEquals`, `ArnNotEquals` and `Bool`.
The rules (IAM User Guide, "Policy evaluation logic" and "Condition operators"):
- an explicit Deny in any applicable statement wins;
- otherwise the request is allowed when the resource policy allows it, or, for a
  principal of the queue's own account, when its identity policy does;
- several operators, or several keys in one operator, must all hold (AND); several values
  of one key match if any does (OR, NOR for a negated operator);
- a key the request lacks makes a positive operator false and a negated one true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    """Who sends what, with the context keys IAM would see."""

    action: str
    resource: str
    principal_service: str | None = None
    """Set for a service principal (e.g. events.amazonaws.com), else an IAM principal."""
    identity_allows: bool = False
    """Whether an IAM principal's own policies allow the action (same account)."""
    context: Mapping[str, str] = field(default_factory=dict)


def _values(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _condition_holds(condition: Mapping[str, Mapping[str, Any]],
                     context: Mapping[str, str]) -> bool:
    for operator, pairs in condition.items():
        for key, expected in pairs.items():
            actual = context.get(key)
            if operator == "ArnEquals":
                holds = actual is not None and actual in _values(expected)
            elif operator == "ArnNotEquals":
                holds = actual is None or actual not in _values(expected)
            elif operator == "Bool":
                holds = actual is not None and actual.lower() in _values(expected)
            else:
                raise ValueError(f"operator {operator} is not modelled")
            if not holds:
                return False
    return True


def _applies(statement: Mapping[str, Any], request: Request) -> bool:
    principal = statement.get("Principal")
    if principal != "*":
        services = _values(principal.get("Service", [])) if isinstance(principal, dict) else []
        if request.principal_service not in services:
            return False
    actions = _values(statement["Action"])
    if request.action not in actions and "sqs:*" not in actions:
        return False
    if request.resource not in _values(statement["Resource"]):
        return False
    return _condition_holds(statement.get("Condition", {}), request.context)


def allowed(policy: Mapping[str, Any], request: Request) -> bool:
    """Whether IAM lets `request` through this resource policy."""
    applicable = [s for s in policy["Statement"] if _applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applicable):
        return False
    return request.identity_allows or any(s["Effect"] == "Allow" for s in applicable)
