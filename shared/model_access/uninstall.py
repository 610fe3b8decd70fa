"""Remove every tool policy (the grants outlive the stack: they are not stack resources).

Only policies that are ours (path, name pattern and `managed-by` tag) are touched; each is
detached from every principal, its versions deleted, then itself. A dry run lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from model_access.naming import parse_policy_name
from model_access.runtime import Runtime


@dataclass(frozen=True)
class ToolPolicyRemoval:
    """One policy the uninstall removes (or, in a dry run, would remove)."""

    name: str
    arn: str
    role: str
    models: int


def uninstall(rt: Runtime, *, dry_run: bool) -> list[ToolPolicyRemoval]:
    """Delete every tool policy; return what was (or would be) removed."""
    removed: list[ToolPolicyRemoval] = []
    for name, arn, _attachments in list(rt.iam.list_tool_policies()):
        parsed = parse_policy_name(rt.settings.policy_name_prefix, name)
        if parsed is None:
            continue
        policy = rt.iam.read_tool_policy(parsed.role_name, name, attached=False)
        if policy is None:
            continue  # named like ours, but without our tag: never touched
        if not dry_run:
            rt.iam.delete_policy(arn)
        removed.append(ToolPolicyRemoval(name, arn, parsed.role_name, len(policy.model_arns)))
    return removed
