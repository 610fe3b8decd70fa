"""Plan one role's change from the grant store: which tool policies to create, rewrite,
attach, detach or delete.

Pure: takes the role's record (what it must hold and what the tool last wrote) and the ARNs
to add and remove, returns the operations. IAM is never read to plan: a policy is rewritten
when the document rendered from the store differs from the one the tool last wrote, or when
the sweep found drift on it. Applying the plan is engine/applier's job; a dry run prints it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from model_access.model.grants import RoleGrants, document_hash
from model_access.policy.naming import policy_name
from model_access.policy.packing import pack
from model_access.policy.render import PolicyShape


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
    document_hash: str | None = None


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
    quota: int | None = None
    foreign_attached: int | None = None

    @property
    def changes(self) -> bool:
        return bool(self.ops)

    def slot_of(self, arn: str) -> int | None:
        return next((i for i, arns in self.slots.items() if arn in arns), None)


def role_share(quota: int, share: float, foreign_attached: int) -> int:
    """Tool policies allowed on a role: its share of the quota, minus what others attached."""
    return max(0, min(math.floor(quota * share + 1e-9), quota - foreign_attached))


def plan_role(
    grants: RoleGrants,
    add: Iterable[str],
    remove: Iterable[str],
    *,
    shape: PolicyShape,
    budget: int,
    max_slots: int,
    name_prefix: str,
    drift: Mapping[int, str] | None = None,
    quota: int | None = None,
    foreign_attached: int | None = None,
    rewrite: Mapping[int, str] | None = None,
) -> RolePlan:
    """The operations that turn the role's tool policies into `slots - remove + add`.

    `drift` names policies the sweep found differing from what the tool last wrote (a
    newer default version, extra versions, detached): they are rewritten and re-attached.
    `rewrite` names policies whose IAM document is unknown (a write to the role may have
    stopped between IAM and the commit): they are rewritten from the store.
    """
    drift = drift or {}
    rewrite = rewrite or {}
    packed = pack(grants.slots, frozenset(add), frozenset(remove), base_size=shape.base_size,
                  arn_cost=shape.arn_cost, budget=budget, max_slots=max_slots,
                  reserved=grants.reserved, section_of=shape.section_of)
    ops: list[PolicyOp] = []
    repairs: list[str] = []
    for index in sorted(set(grants.policies) | set(packed.slots)):
        old = grants.policies.get(index)
        new_arns = packed.slots.get(index)
        name = policy_name(name_prefix, grants.role_name, index)
        if index in drift and old is not None and old.created:
            repairs.append(f"{name}: {drift[index]}")
        elif index in rewrite and old is not None and old.created:
            repairs.append(f"{name}: {rewrite[index]}")
        if new_arns is None:
            if old is not None:  # emptied (or a create that never finished): remove it
                ops.append(PolicyOp(OpKind.DETACH, index, name))
                ops.append(PolicyOp(OpKind.DELETE, index, name))
            continue
        document = shape.render(new_arns)
        digest = document_hash(document)
        if old is None or not old.created:
            ops.append(PolicyOp(OpKind.CREATE, index, name, document, digest))
            ops.append(PolicyOp(OpKind.ATTACH, index, name))
            continue
        if old.document_hash != digest or index in drift or index in rewrite:
            ops.append(PolicyOp(OpKind.UPDATE, index, name, document, digest))
        if not old.attached or index in drift:
            ops.append(PolicyOp(OpKind.ATTACH, index, name))
    order = list(OpKind)
    ops.sort(key=lambda op: (order.index(op.kind), op.index))
    before, after = grants.arns, _union(packed.slots.values())
    return RolePlan(
        role=grants.role_name,
        ops=tuple(ops),
        slots=packed.slots,
        added=after - before,
        removed=before - after,
        unplaced=packed.unplaced,
        max_slots=max_slots,
        repairs=tuple(repairs),
        quota=quota,
        foreign_attached=foreign_attached,
    )


def _union(sets: Iterable[frozenset[str]]) -> frozenset[str]:
    return frozenset().union(*sets)
