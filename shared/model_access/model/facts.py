"""What IAM holds for one role, as plain data (read by aws/iam.py, planned over by plan.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from model_access.model.owner import RoleFacts


@dataclass(frozen=True)
class ToolPolicy:
    """One of our policies as IAM holds it now."""

    name: str
    arn: str
    index: int
    attached: bool
    default_version: str
    document: dict[str, Any]
    model_arns: frozenset[str]


@dataclass(frozen=True)
class RoleState:
    """A role's facts plus what is attached to it, split into ours and everyone else's."""

    role: RoleFacts
    quota: int
    foreign_attached: int
    tool_policies: dict[int, ToolPolicy]
    reserved: frozenset[int] = frozenset()
    """Slot numbers whose policy name is taken by a policy the tool did not create."""

    @property
    def model_arns(self) -> frozenset[str]:
        """Every model ARN any of our policies on this role grants."""
        return frozenset().union(*(p.model_arns for p in self.tool_policies.values()))
