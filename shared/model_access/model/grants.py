"""The grant store's view of one role: what it must hold, and what the tool last wrote. Pure.

This is the truth the engine plans from. IAM is output: a tool policy's document is rendered
from `slots`, and IAM is compared only with what the tool last wrote (policy id, default
version, document hash) to find drift. A role's grants are never rebuilt from an IAM read,
because IAM is eventually consistent: a read right after a write may answer the version
before it, and a plan built on it would drop the newest grant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from model_access.policy.render import to_json


def document_hash(document: Mapping[str, Any]) -> str:
    """A short, stable fingerprint of the exact text sent to IAM."""
    return hashlib.sha256(to_json(document).encode()).hexdigest()[:32]


def version_number(version_id: str | None) -> int:
    """IAM's version ids are `v1`, `v2`, ... in creation order; 0 for none or unknown."""
    if not version_id or not version_id.startswith("v") or not version_id[1:].isdigit():
        return 0
    return int(version_id[1:])


@dataclass(frozen=True)
class WrittenPolicy:
    """One tool policy as the tool created and last wrote it."""

    index: int
    name: str
    arn: str
    policy_id: str | None
    """From CreatePolicy; None while a create is in flight (see `intended`)."""
    version_id: str | None = None
    document_hash: str | None = None
    attached: bool = False
    versions: tuple[str, ...] = ()
    """Version ids the tool wrote that may still exist, oldest first."""
    intended: tuple[str, ...] = ()
    """Hashes of documents a create in flight may have left (recorded before CreatePolicy):
    after a crash, a policy of that name is adopted only if its one version is one of them."""

    @property
    def created(self) -> bool:
        return self.policy_id is not None


@dataclass(frozen=True)
class RoleGrants:
    """One role's record in the grant store."""

    role_name: str
    version: int = 0
    slots: Mapping[int, frozenset[str]] = field(default_factory=dict)
    policies: Mapping[int, WrittenPolicy] = field(default_factory=dict)
    reserved: frozenset[int] = frozenset()
    """Slot numbers whose names are taken by policies the tool did not create."""
    updated_at: str | None = None

    @property
    def key(self) -> str:
        return self.role_name.lower()

    @property
    def arns(self) -> frozenset[str]:
        """Every model ARN the role must hold."""
        return frozenset().union(*self.slots.values()) if self.slots else frozenset()

    @property
    def empty(self) -> bool:
        return not self.slots and not self.policies and not self.reserved

    def slot_of(self, arn: str) -> int | None:
        return next((i for i, arns in self.slots.items() if arn in arns), None)

    def with_reserved(self, indexes: Iterable[int]) -> RoleGrants:
        return replace(self, reserved=self.reserved | frozenset(indexes))
