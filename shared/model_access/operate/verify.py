"""Compare the three views of the world: SageMaker's truth, the grant store and IAM.

Used by `model-access verify` and by every fault test: after any sequence of events,
failures and retries, a clean verify means nobody holds a model they do not own, every
owner holds their model, the store says so, and IAM holds exactly what the tool wrote.

Who *should* hold what comes from the reconcile itself, run as a dry run over the same
work a sweep would do (so verify and reconcile can never disagree on a decision); what IAM
holds comes from the one inventory plus each policy's current document.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.outcomes import Kind, Outcome
from model_access.core.settings import IAM_POLICY_MAX_CHARS
from model_access.model.grants import RoleGrants
from model_access.model.kinds import parse_grantable_arn
from model_access.policy.plan import role_share
from model_access.policy.render import model_arns_in, to_json
from model_access.runtime import Runtime
from model_access.sweep.regional import reconcile_regions, region_runtimes
from model_access.sweep.units import collect


@dataclass(frozen=True)
class Discrepancy:
    """One way the views disagree."""

    kind: str
    subject: str
    detail: str


def verify(rt: Runtime, regions: Sequence[str] | None = None) -> list[Discrepancy]:
    """Every discrepancy between truth, store and IAM in `rt`'s account (empty list: all
    agree): SageMaker of each of `regions` (default: every served region)."""
    found: list[Discrepancy] = []
    runtimes = region_runtimes(rt, regions)
    units, _drift, findings = collect(rt, "verify", regions=runtimes)
    if regions is not None:
        units = [u for u in units if u.key is None or u.key.region in runtimes]
    found += [Discrepancy(f.kind, f.name, f.detail) for f in findings]
    roles = {g.key: g for g in rt.store.scan_roles()}
    hints = [u.hint for u in units if u.hint is not None]
    truths = {u.key: u.truth for u in units if u.key is not None and u.truth is not None}
    report = reconcile_regions(runtimes, hints, truths, dry_run=True,
                               roles=[g.role_name for g in roles.values()])
    for key, result in sorted(report.results.items(), key=lambda kv: str(kv[0])):
        if result.outcome.kind is Kind.CHANGE or result.outcome is Outcome.RETRY:
            kind = "stale-grant" if result.revoked_from else "missing-grant"
            found.append(Discrepancy(kind, result.model_arn or str(key),
                                     f"the next reconcile would say {result.outcome}: "
                                     f"{result.reason}"))
    for plan in report.role_plans.values():
        if plan.changes and not plan.added and not plan.removed:
            found.append(Discrepancy("unwritten", plan.role, "; ".join(
                f"{op.kind} {op.name}" for op in plan.ops)))
    found += _iam_vs_store(rt, roles)
    found += _records_vs_store(rt, roles)
    return found


def _iam_vs_store(rt: Runtime, roles: dict[str, RoleGrants]) -> list[Discrepancy]:
    """Each recorded policy's current document against the one rendered from the store."""
    found: list[Discrepancy] = []
    quota = rt.iam.attached_policy_quota()
    for grants in roles.values():
        created = [p for p in grants.policies.values() if p.created]
        if len(created) > role_share(quota, rt.settings.role_policy_share, 0):
            found.append(Discrepancy("over-share", grants.role_name,
                                     f"{len(created)} tool policies"))
        for policy in created:
            current = rt.iam.read_tool_policy(grants.role_name, policy.name, attached=True)
            expected = grants.slots.get(policy.index, frozenset())
            if current is None:
                continue  # reported by the inventory as missing or replaced
            entities = rt.clients.iam.list_entities_for_policy(PolicyArn=policy.arn)
            others = {r["RoleName"].lower() for r in entities.get("PolicyRoles", [])} - {
                grants.key}
            if others or entities.get("PolicyUsers") or entities.get("PolicyGroups"):
                found.append(Discrepancy("leaked-policy", policy.name,
                                         f"attached to principals other than {grants.role_name}"))
            size = len(to_json(current.document))
            if size > IAM_POLICY_MAX_CHARS:
                found.append(Discrepancy("oversize-policy", policy.name, f"{size} characters"))
            wanted = rt.reconciler.shape.render(expected) if expected else None
            if current.document != wanted:
                extra = sorted(set(model_arns_in(current.document)) - expected)
                missing = sorted(expected - set(model_arns_in(current.document)))
                found.append(Discrepancy("tampered", policy.name, (
                    f"document differs from what the tool wrote; extra resources {extra}, "
                    f"missing {missing}")))
    return found


def _records_vs_store(rt: Runtime, roles: dict[str, RoleGrants]) -> list[Discrepancy]:
    """Model records against role records: who the record says holds what."""
    found: list[Discrepancy] = []
    holder_of: dict[ResourceKey, set[str]] = defaultdict(set)
    for grants in roles.values():
        for arn in grants.arns:
            parsed = parse_grantable_arn(arn)
            if parsed:
                holder_of[parsed.key].add(grants.key)
    records: dict[ResourceKey, GrantRecord] = {r.key: r for r in rt.records.scan()}
    for key in sorted(set(records) | set(holder_of), key=str):
        record = records.get(key)
        recorded = {record.role.lower()} if record and record.role else set()
        held = holder_of.get(key, set())
        if recorded != held:
            found.append(Discrepancy("record-mismatch", str(key),
                                     f"record says {sorted(recorded) or 'nobody'}, the store "
                                     f"grants {sorted(held) or 'nobody'}"))
        if record and record.pending:
            found.append(Discrepancy("unfinished", str(key),
                                     f"pending roles {sorted(record.pending)}"))
    return found
