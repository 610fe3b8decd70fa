"""The one inventory of tool policies, compared with the grant store. Pure.

Every caller (sweep, verify, uninstall, explain) lists the tool's policies with
`IamGateway.list_tool_policies` (ListPolicies: name, id, default version, attachments) and
reads the store's role records; this module says what differs, by name:

- `tampered`: IAM's default version is newer than the one the tool last wrote (a hand edit,
  or SetDefaultPolicyVersion to a version the tool did not write);
- `extra-version`: a version the tool did not write exists (one call to see: optional);
- `detached`: the tool attached it, IAM counts no attachment;
- `missing`: the tool created it, IAM no longer has it;
- `replaced`: a policy of that name exists, but not the one the tool created (another id);
- `unknown-policy`: a policy at the tool's path and name pattern that the store never
  recorded (someone else's, or a look-alike): never touched, only reported.
Version ids grow (`v1`, `v2`, ...), so a default version *older* than the one recorded is
IAM's eventual consistency lagging behind our own write, not drift.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from model_access.aws.iam import InventoryRow
from model_access.model.grants import RoleGrants, version_number

REWRITE_KINDS = frozenset({"tampered", "extra-version", "detached"})
"""Drift the sweep repairs by rewriting (and re-attaching) the policy."""
RECREATE_KINDS = frozenset({"missing", "replaced"})
"""Drift the sweep repairs by creating the policy again (a taken name: the next slot)."""


@dataclass(frozen=True)
class PolicyFinding:
    """One way a tool policy in IAM differs from what the store says the tool wrote."""

    kind: str
    role: str
    name: str
    index: int
    detail: str


def compare(
    rows: Iterable[InventoryRow],
    roles: Iterable[RoleGrants],
    versions_of: Callable[[str], list[str]] | None = None,
    hash_of: Callable[[str, str], str | None] | None = None,
) -> list[PolicyFinding]:
    """Every finding, role by role; `versions_of(arn)` (ListPolicyVersions) is optional.

    `hash_of(arn, version)` lets a version the store does not list pass when it holds the
    very document the tool last wrote: a CreatePolicyVersion whose answer was lost and that
    botocore retried leaves such a twin, which is the tool's own and grants nothing new.
    """
    by_arn = {row.arn: row for row in rows}
    known: set[str] = set()
    found: list[PolicyFinding] = []
    for grants in roles:
        for index, policy in sorted(grants.policies.items()):
            if not policy.created:
                continue
            known.add(policy.arn)
            row = by_arn.get(policy.arn)

            def add(kind: str, detail: str, name: str = policy.name, i: int = index,
                    role: str = grants.role_name) -> None:
                found.append(PolicyFinding(kind, role, name, i, detail))

            if row is None:
                add("missing", "the tool created it; IAM no longer has it")
                continue
            if row.policy_id and row.policy_id != policy.policy_id:
                add("replaced", f"policy id {row.policy_id}, the tool created {policy.policy_id}")
                continue
            ours, theirs = version_number(policy.version_id), version_number(row.default_version)
            if theirs > ours:
                add("tampered", f"default version {row.default_version}; the tool wrote "
                                f"{policy.version_id}")
            if policy.attached and row.attachments == 0:
                add("detached", "the tool attached it; IAM counts no attachment")
            if versions_of is not None and theirs <= ours:
                extra = sorted(v for v in set(versions_of(policy.arn)) - set(policy.versions)
                               - {policy.version_id or ""}
                               if hash_of is None
                               or hash_of(policy.arn, v) not in {policy.document_hash, None})
                if extra:
                    add("extra-version", f"versions the tool did not write: {extra}")
    for arn, row in sorted(by_arn.items()):
        if arn not in known:
            found.append(PolicyFinding("unknown-policy", row.role_name, row.name, row.index,
                                       "not created by this deployment: never touched"))
    return found


def drift_by_role(findings: Iterable[PolicyFinding]) -> dict[str, dict[int, str]]:
    """The findings a sweep repairs, as `role -> {slot: "kind: detail"}` for the planner."""
    out: dict[str, dict[int, str]] = {}
    for f in findings:
        if f.kind in REWRITE_KINDS | RECREATE_KINDS:
            out.setdefault(f.role.lower(), {})[f.index] = f"{f.kind}: {f.detail}"
    return out


def recreate_slots(drift: Mapping[int, str]) -> set[int]:
    return {i for i, reason in drift.items() if reason.split(":", 1)[0] in RECREATE_KINDS}
