"""Plan one role's change: which tool policies to create, rewrite, attach, detach or delete.

Pure: takes the role's current state and the ARNs to add and remove, returns the
operations. Applying the plan is aws/apply.py's job; a dry run just prints it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from model_access.naming import policy_name
from model_access.packing import pack
from model_access.policy import PolicyShape
from model_access.state import RoleState


class OpKind(StrEnum):
    """IAM writes a plan can ask for, in the order they are applied."""

    CREATE = "create"
    UPDATE = "update"
    ATTACH = "attach"
    DETACH = "detach"
    DELETE = "delete"


@dataclass(frozen=True)
class PolicyOp:
    """One IAM write on one tool policy."""

    kind: OpKind
    index: int
    name: str
    document: dict[str, Any] | None = None


@dataclass(frozen=True)
class RolePlan:
    """Everything that will change on one role, and why."""

    role: str
    ops: tuple[PolicyOp, ...]
    slots: Mapping[int, frozenset[str]]
    added: frozenset[str]
    removed: frozenset[str]
    unplaced: frozenset[str]
    max_slots: int
    repairs: tuple[str, ...] = field(default=())

    @property
    def changes(self) -> bool:
        return bool(self.ops)

    def slot_of(self, arn: str) -> int | None:
        return next((i for i, arns in self.slots.items() if arn in arns), None)


def role_share(quota: int, share: float, foreign_attached: int) -> int:
    """Tool policies allowed on a role: its share of the quota, minus what others attached."""
    return max(0, min(math.floor(quota * share + 1e-9), quota - foreign_attached))


def plan_role(
    state: RoleState,
    add: Iterable[str],
    remove: Iterable[str],
    *,
    shape: PolicyShape,
    budget: int,
    share: float,
    name_prefix: str,
) -> RolePlan:
    """The operations that turn the role's tool policies into current - remove + add."""
    current = {i: p.model_arns for i, p in state.tool_policies.items()}
    max_slots = role_share(state.quota, share, state.foreign_attached)
    add_set, remove_set = frozenset(add), frozenset(remove)
    packed = pack(
        current,
        add_set,
        remove_set,
        base_size=shape.base_size,
        arn_cost=shape.arn_cost,
        budget=budget,
        max_slots=max_slots,
        reserved=state.reserved,
    )
    ops: list[PolicyOp] = []
    repairs: list[str] = []
    name = state.role.name
    for index in sorted(set(current) | set(packed.slots)):
        old = state.tool_policies.get(index)
        new_arns = packed.slots.get(index)
        pname = policy_name(name_prefix, name, index)
        if old is not None:
            expected = shape.render(old.model_arns) if old.model_arns else None
            if old.document != expected:
                repairs.append(f"{pname}: document differed from what the tool writes")
        if old is not None and not old.attached and new_arns:
            repairs.append(f"{pname}: was detached; re-attached")
        if old is not None and new_arns is None:
            if old.attached:
                ops.append(PolicyOp(OpKind.DETACH, index, pname))
            ops.append(PolicyOp(OpKind.DELETE, index, pname))
        elif old is None and new_arns is not None:
            ops.append(PolicyOp(OpKind.CREATE, index, pname, shape.render(new_arns)))
            ops.append(PolicyOp(OpKind.ATTACH, index, pname))
        elif old is not None and new_arns is not None:
            document = shape.render(new_arns)
            if old.document != document:
                ops.append(PolicyOp(OpKind.UPDATE, index, pname, document))
            if not old.attached:
                ops.append(PolicyOp(OpKind.ATTACH, index, pname))
    order = list(OpKind)
    ops.sort(key=lambda op: (order.index(op.kind), op.index))
    before = state.model_arns
    after = frozenset().union(*packed.slots.values()) if packed.slots else frozenset()
    return RolePlan(
        role=name,
        ops=tuple(ops),
        slots=packed.slots,
        added=after - before,
        removed=before - after,
        unplaced=packed.unplaced,
        max_slots=max_slots,
        repairs=tuple(repairs),
    )
