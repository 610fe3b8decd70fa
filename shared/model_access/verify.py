"""Compare the three views of the world: SageMaker's truth, IAM's grants and the tool's record.

Used by `model-access verify` and by every fault test: after any sequence of events,
failures and retries, a clean verify means nobody holds a model they do not own, every
owner holds their model, and the record says so too.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from model_access.arns import ModelKey, parse_model_arn
from model_access.aws.records import GrantRecord
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
    return _Verifier(rt).run()


@dataclass
class _Verifier:
    rt: Runtime
    found: list[Discrepancy] = field(default_factory=list)
    roles: dict[str, RoleFacts | None] = field(default_factory=dict)
    expected: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    actual: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    capacity_refused: set[str] = field(default_factory=set)

    def run(self) -> list[Discrepancy]:
        records = {r.key: r for r in self.rt.records.scan()}
        self.read_truth(records)
        self.read_iam()
        self.compare_grants()
        self.compare_records(records)
        return self.found

    def facts(self, name: str) -> RoleFacts | None:
        if name.lower() not in self.roles:
            self.roles[name.lower()] = self.rt.iam.get_role(name)
        return self.roles[name.lower()]

    def add(self, kind: str, subject: str, detail: str) -> None:
        self.found.append(Discrepancy(kind, subject, detail))

    def read_truth(self, records: dict[ModelKey, GrantRecord]) -> None:
        """Who should hold each existing model, by the same rules the reconcile uses."""
        token: str | None = None
        while True:
            page, token = self.rt.models.list_models(token)
            for summary in page:
                parsed = parse_model_arn(summary.arn)
                if parsed is None:
                    continue
                truth = self.rt.models.describe(parsed.key, summary.name)
                decision = decide(parsed.key, truth.exists, model_arn=truth.arn,
                                  model_name=truth.name, created=truth.created, tags=truth.tags,
                                  settings=self.rt.settings, scope=self.rt.scope,
                                  role_facts=self.facts)
                role = decision.desired_role
                record = records.get(parsed.key)
                if record and record.outcome == Outcome.OWNER_CHANGE_DENIED.value:
                    role = record.role  # protected mode kept the grant on purpose
                if record and record.outcome == Outcome.CAPACITY_EXHAUSTED.value and truth.arn:
                    self.capacity_refused.add(truth.arn)
                if role and truth.arn:
                    self.expected[role.lower()].add(truth.arn)
            if token is None:
                return

    def read_iam(self) -> None:
        """What each role holds through attached tool policies; flag leaks and oversize."""
        per_role: dict[str, int] = defaultdict(int)
        for name, arn, _count in self.rt.iam.list_tool_policies():
            parsed = parse_policy_name(self.rt.settings.policy_name_prefix, name)
            if parsed is None:
                continue
            role = parsed.role_name
            policy = self.rt.iam.read_tool_policy(role, name, attached=True)
            if policy is None:
                continue
            size = len(to_json(policy.document))
            if size > IAM_POLICY_MAX_CHARS:
                self.add("oversize-policy", name, f"{size} characters")
            entities = self.rt.clients.iam.list_entities_for_policy(PolicyArn=arn)
            holders = {r["RoleName"].lower() for r in entities.get("PolicyRoles", [])}
            if entities.get("PolicyUsers") or entities.get("PolicyGroups") or (
                holders - {role.lower()}
            ):
                self.add("leaked-policy", name, f"attached to principals other than {role}")
            if role.lower() not in holders:
                if policy.model_arns:
                    self.add("detached-policy", name, f"not attached to {role}")
                continue
            per_role[role.lower()] += 1
            self.actual[role.lower()] |= policy.model_arns
        quota = self.rt.iam.attached_policy_quota()
        for role, count in per_role.items():
            if count > role_share(quota, self.rt.settings.role_policy_share, 0):
                self.add("over-share", role, f"{count} tool policies")

    def compare_grants(self) -> None:
        for role in sorted(set(self.expected) | set(self.actual)):
            for arn in sorted(self.expected[role] - self.actual[role]):
                if arn not in self.capacity_refused:
                    self.add("missing-grant", arn, f"owner {role} lacks it")
            for arn in sorted(self.actual[role] - self.expected[role]):
                self.add("stale-grant", arn, f"{role} holds it but is not its owner")

    def compare_records(self, records: dict[ModelKey, GrantRecord]) -> None:
        holder_of: dict[ModelKey, set[str]] = defaultdict(set)
        for role, arns in self.actual.items():
            for arn in arns:
                parsed = parse_model_arn(arn)
                if parsed:
                    holder_of[parsed.key].add(role)
        for key in sorted(set(records) | set(holder_of), key=str):
            record = records.get(key)
            recorded = {record.role.lower()} if record and record.role else set()
            held = holder_of.get(key, set())
            if recorded != held:
                self.add("record-mismatch", str(key),
                         f"record says {sorted(recorded) or 'nobody'}, IAM has "
                         f"{sorted(held) or 'nobody'}")
            if record and record.pending:
                self.add("unfinished", str(key), f"pending roles {sorted(record.pending)}")
