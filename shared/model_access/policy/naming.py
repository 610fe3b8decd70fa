"""Deterministic names for tool policies: `<prefix><role name>-<NN>`.

Injective for every legal role name (the two-digit suffix is fixed width), and at most
32 + 64 + 3 = 99 characters, inside IAM's 128-character policy name limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from model_access.core.arns import Scope, is_valid_role_name

POLICY_NAME_MAX: Final = 128
_SUFFIX = re.compile(r"^(?P<role>.+)-(?P<index>\d{2})$")


@dataclass(frozen=True)
class PolicyName:
    """A tool policy's identity: which role it serves and its slot number."""

    role_name: str
    index: int


def policy_name(prefix: str, role_name: str, index: int) -> str:
    """The name of slot `index` (1-99) of `role_name`'s tool policies."""
    if not 1 <= index <= 99:
        raise ValueError(f"slot index {index} outside 1..99")
    name = f"{prefix}{role_name}-{index:02d}"
    if len(name) > POLICY_NAME_MAX:
        raise ValueError(f"policy name {name!r} exceeds {POLICY_NAME_MAX} characters")
    return name


def parse_policy_name(prefix: str, name: str) -> PolicyName | None:
    """Invert `policy_name`; None for names the tool would never have chosen."""
    if not name.startswith(prefix):
        return None
    match = _SUFFIX.match(name[len(prefix):])
    if match is None or not is_valid_role_name(match["role"]):
        return None
    index = int(match["index"])
    return PolicyName(match["role"], index) if index >= 1 else None


def policy_arn(scope: Scope, path: str, name: str) -> str:
    """The ARN IAM gives a customer managed policy with this path and name."""
    return f"arn:{scope.partition}:iam::{scope.account}:policy{path}{name}"
