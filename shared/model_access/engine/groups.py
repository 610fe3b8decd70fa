"""The decision phase's pure helpers: which roles each model touches, and role groups.

A role group is a set of models that share no role with any other group, so each group can
be applied under its own leases, briefly, while other workers apply other groups. Grouping
is a union-find over role names: linear in the batch (no per-model pass over the batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.engine.decide import Decision
from model_access.model.kinds import parse_grantable_arn


@dataclass(frozen=True)
class Group:
    """Models applied together under the leases of `roles` (lower-cased names)."""

    roles: frozenset[str]
    keys: tuple[ResourceKey, ...]


def roles_touched(decision: Decision, record: GrantRecord) -> set[str]:
    """Every role whose tool policies this model's reconcile may change (names as given)."""
    roles = set(record.holders)
    if decision.desired_role:
        roles.add(decision.desired_role)
    return roles


def holder_changes(decision: Decision, record: GrantRecord) -> bool:
    """Whether applying `decision` would grant, move or revoke (not just confirm) the model."""
    holders = {h.lower() for h in record.holders}
    wanted = {decision.desired_role.lower()} if decision.desired_role else set()
    return holders != wanted


def group_by_roles(
    roles_of: Mapping[ResourceKey, Iterable[str]], extra_roles: Iterable[str] = ()
) -> list[Group]:
    """Split models into groups that share no role; `extra_roles` join as groups of their own
    (roles the sweep re-checks without a model of this batch)."""
    parent: dict[str, str] = {}

    def find(role: str) -> str:
        root = role
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[role] != root:  # path compression
            parent[role], role = root, parent[role]
        return root

    lowered: dict[ResourceKey, list[str]] = {}
    for key, roles in roles_of.items():
        names = sorted({r.lower() for r in roles})
        lowered[key] = names
        for other in names[1:]:
            a, b = find(names[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
        if names:
            find(names[0])
    for role in extra_roles:
        find(role.lower())
    keys_by_root: dict[str, list[ResourceKey]] = {}
    roles_by_root: dict[str, set[str]] = {}
    for role in list(parent):
        roles_by_root.setdefault(find(role), set()).add(role)
    for key, names in lowered.items():
        if names:
            keys_by_root.setdefault(find(names[0]), []).append(key)
    return [Group(frozenset(roles_by_root[root]), tuple(keys_by_root.get(root, ())))
            for root in sorted(roles_by_root)]


def arns_by_key(arns: Iterable[str]) -> dict[ResourceKey, set[str]]:
    """A role's held ARNs indexed by model (one model may appear in two letter cases)."""
    out: dict[ResourceKey, set[str]] = {}
    for arn in arns:
        parsed = parse_grantable_arn(arn)
        if parsed is not None:
            out.setdefault(parsed.key, set()).add(arn)
    return out


def role_changes(
    role: str,
    keys: Iterable[ResourceKey],
    decisions: Mapping[ResourceKey, Decision],
    held: Mapping[ResourceKey, set[str]],
) -> tuple[set[str], set[str]]:
    """ARNs to add to and remove from `role` (lower-cased) for these models' decisions."""
    add: set[str] = set()
    remove: set[str] = set()
    for key in keys:
        decision = decisions[key]
        keeps = (decision.desired_role or "").lower() == role and decision.model_arn
        if keeps and decision.model_arn:
            add.add(decision.model_arn)
        for arn in held.get(key, ()):
            if not keeps or arn != decision.model_arn:
                remove.add(arn)
    return add, remove
