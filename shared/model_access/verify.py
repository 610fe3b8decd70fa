"""Compare the three views of the world: SageMaker's truth, IAM's grants and the tool's record.

Used by `model-access verify` and by every fault test: after any sequence of events,
failures and retries, a clean verify means nobody holds a model they do not own, every
owner holds their model, and the record says so too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from model_access.arns import ModelKey, parse_model_arn
from model_access.decide import decide
from model_access.naming import parse_policy_name
from model_access.outcomes import Outcome
from model_access.owner import RoleFacts
from model_access.plan import role_share
from model_access.policy import to_json
from model_access.runtime import Runtime
from model_access.settings import IAM_POLICY_MAX_CHARS


@dataclass(frozen=True)
class Discrepancy:
    """One way the views disagree."""

    kind: str
    subject: str
    detail: str


def verify(rt: Runtime) -> list[Discrepancy]:
    """Every discrepancy between truth, IAM and record (empty list: all agree)."""
    found: list[Discrepancy] = []
    role_cache: dict[str, RoleFacts | None] = {}

    def facts(name: str) -> RoleFacts | None:
        if name.lower() not in role_cache:
            role_cache[name.lower()] = rt.iam.get_role(name)
        return role_cache[name.lower()]

    records = {r.key: r for r in rt.records.scan()}
    expected: dict[str, set[str]] = defaultdict(set)  # role (lower) -> ARNs
    refused_capacity: set[str] = set()
    token: str | None = None
    while True:
        page, token = rt.models.list_models(token)
        for summary in page:
            parsed = parse_model_arn(summary.arn)
            if parsed is None:
                continue
            truth = rt.models.describe(parsed.key, summary.name)
            decision = decide(parsed.key, truth.exists, model_arn=truth.arn,
                              model_name=truth.name, created=truth.created, tags=truth.tags,
                              settings=rt.settings, scope=rt.scope, role_facts=facts)
            role = decision.desired_role
            record = records.get(parsed.key)
            if record and record.outcome == Outcome.OWNER_CHANGE_DENIED.value:
                role = record.role
            if record and record.outcome == Outcome.CAPACITY_EXHAUSTED.value and truth.arn:
                refused_capacity.add(truth.arn)
            if role and truth.arn:
                expected[role.lower()].add(truth.arn)
        if token is None:
            break

    actual: dict[str, set[str]] = defaultdict(set)
    per_role: dict[str, int] = defaultdict(int)
    prefix = rt.settings.policy_name_prefix
    for name, arn, _count in rt.iam.list_tool_policies():
        parsed_name = parse_policy_name(prefix, name)
        if parsed_name is None:
            continue
        role = parsed_name.role_name
        policy = rt.iam.read_tool_policy(role, name, attached=True)
        if policy is None:
            continue
        size = len(to_json(policy.document))
        if size > IAM_POLICY_MAX_CHARS:
            found.append(Discrepancy("oversize-policy", name, f"{size} characters"))
        entities = rt.clients.iam.list_entities_for_policy(PolicyArn=arn)
        holders = {r["RoleName"].lower() for r in entities.get("PolicyRoles", [])}
        others = holders - {role.lower()}
        if entities.get("PolicyUsers") or entities.get("PolicyGroups") or others:
            found.append(Discrepancy("leaked-policy", name,
                                     f"attached to principals other than {role}"))
        if role.lower() not in holders:
            if policy.model_arns:
                found.append(Discrepancy("detached-policy", name, f"not attached to {role}"))
            continue
        per_role[role.lower()] += 1
        actual[role.lower()] |= policy.model_arns

    quota = rt.iam.attached_policy_quota()
    for role, count in per_role.items():
        if count > role_share(quota, rt.settings.role_policy_share, 0):
            found.append(Discrepancy("over-share", role, f"{count} tool policies"))
    for role in sorted(set(expected) | set(actual)):
        for arn in sorted(expected[role] - actual[role]):
            if arn not in refused_capacity:
                found.append(Discrepancy("missing-grant", arn, f"owner {role} lacks it"))
        for arn in sorted(actual[role] - expected[role]):
            found.append(Discrepancy("stale-grant", arn, f"{role} holds it but is not owner"))

    holder_of: dict[ModelKey, set[str]] = defaultdict(set)
    for role, arns in actual.items():
        for arn in arns:
            parsed_arn = parse_model_arn(arn)
            if parsed_arn:
                holder_of[parsed_arn.key].add(role)
    for key in sorted(set(records) | set(holder_of), key=str):
        record = records.get(key)
        recorded = {record.role.lower()} if record and record.role else set()
        if recorded != holder_of.get(key, set()):
            found.append(Discrepancy("record-mismatch", str(key),
                                     f"record says {sorted(recorded) or 'nobody'}, IAM has "
                                     f"{sorted(holder_of.get(key, set())) or 'nobody'}"))
        if record and record.pending:
            found.append(Discrepancy("unfinished", str(key),
                                     f"pending roles {sorted(record.pending)}"))
    return found
