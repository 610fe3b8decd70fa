"""Teach moto's IAM enforcement the one condition the functions' policy relies on.

moto 5 checks actions and resource ARNs (for role actions, the role's ARN) but evaluates
no condition: it passes no request context, and knows only `StringEquals`, so a statement
whose condition cannot be met is applied anyway. Inside `policy_arn_conditions()`:
- a request's `PolicyArn` parameter is offered as the `iam:PolicyARN` context key (as IAM
  does for AttachRolePolicy / DetachRolePolicy), and
- `ArnLike` is evaluated (IAM's wildcard match: `*` any run of characters, `?` one).
Everything else is moto's own logic (copied from `IAMRequestBase.check_action_permitted`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.iam import access_control, policy_conditions


def arn_like(expected: list[str] | str, actual: str) -> bool:
    patterns = [expected] if isinstance(expected, str) else expected
    return any(
        re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), actual) is not None
        for p in patterns
    )


def _request_context(data: dict[str, Any]) -> dict[str, str]:
    value = data.get("PolicyArn")
    if isinstance(value, list):
        value = value[0] if value else None
    return {"iam:PolicyARN": value} if isinstance(value, str) else {}


def _check_action_permitted(self: Any, resource: str) -> None:
    if self._action == "sts:GetCallerIdentity":
        return
    context = _request_context(self._data)
    permitted = False
    for policy in self._access_key.collect_policies():
        result = access_control.IAMPolicy(policy).is_action_permitted(
            self._action, resource, incoming_condition_values=context
        )
        if result == access_control.PermissionResult.DENIED:
            self._raise_access_denied()
        elif result == access_control.PermissionResult.PERMITTED:
            permitted = True
    if not permitted:
        self._raise_access_denied()


@contextmanager
def policy_arn_conditions() -> Iterator[None]:
    """Evaluate `ArnLike iam:PolicyARN` in moto's IAM enforcement while inside."""
    operations = policy_conditions.CONDITION_OPERATIONS
    original = access_control.IAMRequestBase.check_action_permitted
    operations["ArnLike"] = arn_like
    access_control.IAMRequestBase.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]
    try:
        yield
    finally:
        access_control.IAMRequestBase.check_action_permitted = original  # type: ignore[method-assign]
        operations.pop("ArnLike", None)
