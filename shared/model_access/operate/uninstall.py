"""Remove every tool policy (the grants outlive the stack: they are not stack resources).

Only policies this deployment created (the grant store recorded their ids) are touched;
each is detached from every role, its versions deleted, then itself; the role records go
too. A same-named policy the store does not know is listed as skipped, never deleted.
A dry run lists what would go.
"""

from __future__ import annotations

from dataclasses import dataclass

from model_access.runtime import Runtime


@dataclass(frozen=True)
class ToolPolicyRemoval:
    """One policy the uninstall removes (or, in a dry run, would remove)."""

    name: str
    arn: str
    role: str
    models: int


def uninstall(rt: Runtime, *, dry_run: bool) -> list[ToolPolicyRemoval]:
    """Delete every tool policy the store recorded; return what was (or would be) removed."""
    removed: list[ToolPolicyRemoval] = []
    present = {row.arn: row for row in rt.iam.list_tool_policies()}
    for grants in list(rt.store.scan_roles()):
        for index, policy in sorted(grants.policies.items()):
            row = present.get(policy.arn)
            if row is None or not policy.created or row.policy_id != policy.policy_id:
                continue  # gone already, never created, or re-created by someone else
            if not dry_run:
                rt.reconciler.writer.delete(policy.arn)
            removed.append(ToolPolicyRemoval(policy.name, policy.arn, grants.role_name,
                                             len(grants.slots.get(index, ()))))
        if not dry_run:
            rt.store.delete_role(grants)
    return removed
