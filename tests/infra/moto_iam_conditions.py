"""Teach moto's IAM enforcement the conditions the functions' policy relies on.

moto 5 checks actions and resource ARNs (for role actions, the role's ARN) but evaluates
no condition: it passes no request context, and knows only `StringEquals`, so a statement
whose condition cannot be met is applied anyway. Inside `policy_arn_conditions()`:
- a request's `PolicyArn` parameter is offered as the `iam:PolicyARN` context key (as IAM
  does for AttachRolePolicy / DetachRolePolicy),
- the tags of the role a request names (`RoleName`) are offered as `iam:ResourceTag/<key>`
  (as IAM does for role actions), so the opt-in tag condition on attach is enforced, and
- `ArnLike` is evaluated (IAM's wildcard match: `*` any run of characters, `?` one), and
- a condition key the request lacks fails the condition, as in IAM (moto's own check lets
  a statement whose keys are all absent apply, which would make a tag condition vacuous).
Everything else is moto's own logic (copied from `IAMRequestBase.check_action_permitted`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from moto.iam import access_control, policy_conditions
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends


def arn_like(expected: list[str] | str, actual: str) -> bool:
    patterns = [expected] if isinstance(expected, str) else expected
    return any(
        re.fullmatch(re.escape(p).replace(r"\*", ".*").replace(r"\?", "."), actual) is not None
        for p in patterns
    )


def _first(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, str) else None


def _request_context(data: dict[str, Any], account_id: str) -> dict[str, str]:
    context: dict[str, str] = {}
    if (policy_arn := _first(data, "PolicyArn")) is not None:
        context["iam:PolicyARN"] = policy_arn
    if (role_name := _first(data, "RoleName")) is not None:
        try:
            role = iam_backends[account_id]["aws"].get_role(role_name)
        except NotFoundException:
            return context
        for tag in role.tags:
            context[f"iam:ResourceTag/{tag['Key']}"] = tag["Value"]
    return context


def _check_action_permitted(self: Any, resource: str) -> None:
    if self._action == "sts:GetCallerIdentity":
        return
    context = _request_context(self._data, self.account_id)
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


def _check_conditions(self: Any, incoming: dict[str, str] | None) -> bool:
    """Every known operator's every key must be present and match; unknown operators are
    ignored, as moto does (the functions' policy uses only ArnLike and StringEquals)."""
    for operator, pairs in (self._statement.get("Condition") or {}).items():
        check = policy_conditions.CONDITION_OPERATIONS.get(operator)
        if check is None:
            continue
        for key, expected in pairs.items():
            if not incoming or key not in incoming or not check(expected, incoming[key]):
                return False
    return True


@contextmanager
def policy_arn_conditions() -> Iterator[None]:
    """Evaluate `ArnLike iam:PolicyARN` and `iam:ResourceTag` in moto's IAM enforcement."""
    operations = policy_conditions.CONDITION_OPERATIONS
    request_base, statement = access_control.IAMRequestBase, access_control.IAMPolicyStatement
    original = request_base.check_action_permitted, statement._check_conditions
    operations["ArnLike"] = arn_like
    request_base.check_action_permitted = _check_action_permitted  # type: ignore[method-assign]
    statement._check_conditions = _check_conditions  # type: ignore[method-assign]
    try:
        yield
    finally:
        request_base.check_action_permitted, statement._check_conditions = original  # type: ignore[method-assign]
        operations.pop("ArnLike", None)
