"""Apply one role group: under its leases, re-check, record intent, write IAM, commit.

The decision phase (reconcile.py) has decided every model of the batch from a truth read
before any lease was taken. Here, with the group's leases held:
1. re-read the group's model and role records consistently (the grant store is the truth);
2. re-read from SageMaker itself every model whose holder would change, when its truth came
   from the eventually consistent tag index or its record changed after the truth was read;
3. plan each role from its record (pure); before IAM, write the record of every model that
   gains a holder, in its final form (its roles that lose it still named as pending), and
   every policy about to be created in its role record; apply the plans to IAM with the
   lease checked before every write; commit the role records (and the model records that
   still change) in one transaction fenced by the leases, which also gives them back.

A model record is written once for a plain grant (before IAM), twice for a move (the old
holder is cleared at the commit). A record naming a role whose role record does not hold the
model means a write stopped between IAM and the commit: that role's policies are rewritten
from the store at its next reconcile (`unconfirmed`), whatever the truth now says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.errors import (
    AccountPolicyQuotaError,
    ConcurrentUpdateError,
    LeaseBusyError,
    ModelAccessError,
)
from model_access.core.outcomes import Outcome
from model_access.engine.decide import Decision, protect_owner_change
from model_access.engine.groups import (
    Group,
    arns_by_key,
    holder_changes,
    role_changes,
    roles_touched,
)
from model_access.engine.role_writes import apply_role_plan
from model_access.engine.summary import revoked_by_key, summarize
from model_access.model.grants import RoleGrants, WrittenPolicy
from model_access.policy.inventory import recreate_slots
from model_access.policy.plan import RolePlan, plan_role, role_share

if TYPE_CHECKING:
    from model_access.engine.reconcile import Work

RECORD_SKEW_SECONDS = 2.0
"""A record written this close to (or after) our truth read may reflect a newer truth."""
INTENDED_KEPT = 5


@dataclass
class GroupApplier:
    """One group's apply; `held` are the lower-cased roles whose leases we hold."""

    work: Work
    group: Group
    held: frozenset[str]
    dry_run: bool = False
    grants: dict[str, RoleGrants] = field(default_factory=dict)
    """Each role's record as it will be committed (desired slots, what was written)."""
    stored: dict[str, RoleGrants] = field(default_factory=dict)
    """Each role's record as the store holds it now."""
    plans: dict[str, RolePlan] = field(default_factory=dict)
    adds: dict[str, tuple[set[str], set[str]]] = field(default_factory=dict)
    rewrite: dict[str, dict[int, str]] = field(default_factory=dict)
    """Per role, created policies whose IAM document is unknown (see `unconfirmed`)."""
    written: dict[ResourceKey, GrantRecord] = field(default_factory=dict)
    """Model records written before IAM, as stored now (`work.records` keeps the ones read)."""

    def pending_keys(self) -> list[ResourceKey]:
        return [k for k in self.group.keys if k not in self.work.done]

    def prepare(self, records: Mapping[ResourceKey, GrantRecord],
                grants: Mapping[str, RoleGrants]) -> list[ResourceKey]:
        """From the role records read under the leases (and the model records, when the
        wave read them again): re-check, protect, plan; the models still to apply."""
        w = self.work
        keys = self.pending_keys()
        self.grants = {role: grants[role] for role in self.held if role in grants}
        self.stored = dict(self.grants)
        w.records.update({k: records[k] for k in keys if k in records})
        keys = self.recheck(self.leased(keys))
        for key in keys:
            record = w.records[key]
            w.decisions[key] = protect_owner_change(
                w.decisions[key], record.role, _recorded_creation(record, w.decisions[key]),
                w.hints[key], w.settings, account=w.rc.scope.account)
        keys = self.leased(keys)  # protection may keep a grant with a role we do not hold
        self.plan_all(keys)
        return keys

    # --- checks ------------------------------------------------------------------------

    def leased(self, keys: Iterable[ResourceKey]) -> list[ResourceKey]:
        """Keep the models whose every role is leased; the rest go back to the queue."""
        w, kept = self.work, []
        for key in keys:
            busy = sorted(r for r in roles_touched(w.decisions[key], w.records[key])
                          if r.lower() not in self.held)
            if busy and not self.dry_run:
                w.fail([key], LeaseBusyError(f"role(s) {busy} leased by another worker"),
                       retry_delay=w.busy_delay())
            else:
                kept.append(key)
        return kept

    def recheck(self, keys: list[ResourceKey]) -> list[ResourceKey]:
        """Re-read the truth of models whose holder would change, where it may be stale."""
        w = self.work
        for key in keys:
            if not holder_changes(w.decisions[key], w.records[key]) or not self.stale(key):
                continue
            truth = w.truths.get(key)
            name = (truth.name if truth and truth.name else None) or w.hints[key][0].model_name
            try:
                w.reread(key, name)
            except ModelAccessError as exc:
                w.fail([key], exc)
        return [k for k in keys if k not in w.done]

    def stale(self, key: ResourceKey) -> bool:
        """Whether the truth may be older than something the tool already acted on.

        A truth from the tag index may decide a holder change only for a model the tool
        never recorded (version 0): every event that changes an owner or deletes a model
        leaves a record, so version 0 under the lease means nothing was processed since the
        index was read, and a later change's event will be processed after us. A truth read
        before a record was written may be older than that record.
        """
        w = self.work
        truth, record = w.truths.get(key), w.records[key]
        if truth is None or (truth.from_index and record.version > 0):
            return True
        updated = _timestamp(record.updated_at)
        return updated is not None and updated >= w.truth_at[key] - RECORD_SKEW_SECONDS

    # --- planning ------------------------------------------------------------------------

    def plan_all(self, keys: list[ResourceKey]) -> None:
        w = self.work
        touching: dict[str, list[ResourceKey]] = {role: [] for role in self.held}
        names: dict[str, str] = {}
        for key in keys:
            for role in roles_touched(w.decisions[key], w.records[key]):
                touching.setdefault(role.lower(), []).append(key)
                names.setdefault(role.lower(), role)
        for role in sorted(self.held):
            grants = self.grants.get(role) or RoleGrants(names.get(role, role))
            facts = w.role_facts(names.get(role, grants.role_name))
            if facts is not None and grants.role_name != facts.name and grants.version == 0:
                grants = replace(grants, role_name=facts.name)
            held = arns_by_key(grants.arns)
            add, remove = role_changes(role, touching.get(role, ()), w.decisions, held)
            self.rewrite[role] = self.unconfirmed(role, grants, touching.get(role, ()), held)
            if facts is None:  # the role is gone: nothing may stay granted to its name
                add, remove = set(), set(grants.arns)
            self.grants[role] = grants
            self.adds[role] = (add, remove) if facts is not None else (set(), set())
            self.plans[role] = self.plan_one(role, grants, add, remove, facts is not None)

    def unconfirmed(self, role: str, grants: RoleGrants, keys: Iterable[ResourceKey],
                    held: Mapping[ResourceKey, set[str]]) -> dict[int, str]:
        """Created policies to rewrite because a model record names `role` as a holder while
        the role record does not hold it: a worker stopped (or failed) between its IAM write
        and its commit, so any of the role's policies may hold that model in IAM."""
        w = self.work
        doubtful = sorted(str(k) for k in keys if k not in held and role in {
            h.lower() for h in w.records[k].holders})
        if not doubtful:
            return {}
        note = f"rewritten: an unfinished write may have left {', '.join(doubtful[:3])}"
        return {i: note for i, p in grants.policies.items() if p.created}

    def plan_one(self, role: str, grants: RoleGrants, add: set[str], remove: set[str],
                 exists: bool) -> RolePlan:
        """Plan without opening a policy; only when that leaves ARNs unplaced, size the role."""
        w = self.work
        s = w.settings
        drift = w.drift.get(role) or {}
        if forget := recreate_slots(drift) & {i for i, p in grants.policies.items() if p.created}:
            # IAM lost the policy, or the name now belongs to someone else: create it anew
            # (a taken name then moves the slot's ARNs to the next free name).
            grants = replace(grants, policies={i: p for i, p in grants.policies.items()
                                               if i not in forget})
            self.grants[role] = grants
        common = partial(plan_role, shape=w.rc.shape, budget=s.policy_size_budget,
                         name_prefix=s.policy_name_prefix, drift=drift,
                         rewrite=self.rewrite.get(role))
        existing = len(set(grants.slots) | set(grants.policies))
        plan = common(grants, add, remove, max_slots=existing if exists else 0)
        if not plan.unplaced or not exists:
            return plan
        attached, lookalikes = w.rc.iam.role_attachments(grants.role_name)
        ours = {p.arn for p in grants.policies.values() if p.created}
        foreign = len(attached - ours)
        taken = lookalikes - {i for i, p in grants.policies.items() if p.created}
        if taken - grants.reserved:
            grants = grants.with_reserved(taken)
            self.grants[role] = grants
        quota = w.rc.iam.attached_policy_quota()
        return common(grants, add, remove, quota=quota, foreign_attached=foreign,
                      max_slots=role_share(quota, s.role_policy_share, foreign))

    # --- writes --------------------------------------------------------------------------

    def intent_writes(self, keys: list[ResourceKey]) -> tuple[list[GrantRecord],
                                                              list[RoleGrants]]:
        """Before IAM: the record of every model that gains a holder (in its final form,
        roles that lose it still pending), and every role record naming a policy about to be
        created, so that a crash leaves nothing nobody knows about (wave.py writes them)."""
        w = self.work
        gaining = self.gaining()
        revoked = revoked_by_key(self.plans.values())
        intents: list[GrantRecord] = []
        for key in keys:
            record = w.records[key]
            if not gaining.get(key, set()) - {h.lower() for h in record.holders}:
                continue
            result = summarize(key, w.decisions[key], record, self.plans,
                               revoked.get(key, ()), w.settings, w.hints[key])
            final = w.final_record(key, result=result)
            if final is None or not final.role:  # cannot happen for a gained holder
                final = self.undone(key, record)
            losing = frozenset(h for h in record.holders
                               if h.lower() != (final.role or "").lower())
            intents.append(replace(final, pending=final.pending | losing))
        roles: list[RoleGrants] = []
        for role, plan in self.plans.items():
            creating = {op.index: op for op in plan.ops if op.kind == "create"}
            if not creating:
                continue
            grants = self.grants[role]
            policies = dict(grants.policies)
            for index, op in creating.items():
                old = policies.get(index)
                intended = (*(old.intended if old else ()), op.document_hash or "")
                policies[index] = WrittenPolicy(index, op.name, w.rc.iam.policy_arn(op.name),
                                                None, intended=intended[-INTENDED_KEPT:])
            self.grants[role] = replace(grants, policies=policies, version=grants.version + 1,
                                        updated_at=w.now())
            roles.append(self.grants[role])
        return intents, roles

    def intents_written(self, keys: list[ResourceKey], intents: Iterable[GrantRecord],
                        roles: Iterable[RoleGrants],
                        conflicts: set[ResourceKey]) -> list[ResourceKey]:
        """After the intent transaction: what is stored now; conflicting models leave."""
        w = self.work
        self.written.update({r.key: r for r in intents if r.key not in conflicts})
        self.stored.update({g.key: g for g in roles})
        if conflicts:
            w.fail(conflicts, ConcurrentUpdateError("grant record changed concurrently"))
            keys = [k for k in keys if k not in conflicts]
            self.plan_all(keys)  # the conflicting models' changes leave the plans
        return keys

    def gaining(self) -> dict[ResourceKey, set[str]]:
        """For each model, the roles (lower-cased) whose plans add one of its ARNs."""
        out: dict[ResourceKey, set[str]] = {}
        for role, plan in self.plans.items():
            for key in arns_by_key(plan.added):
                out.setdefault(key, set()).add(role)
        return out

    def undone(self, key: ResourceKey, written: GrantRecord) -> GrantRecord:
        """The record as read, with every role that may now hold the model pending, as the
        next version of `written` (a model whose IAM writes did not all succeed)."""
        record = self.work.records[key]
        pending = (record.pending | written.holders) - {record.role}
        return replace(record, version=written.version + 1, pending=pending,
                       model_arn=self.work.decisions[key].model_arn or record.model_arn,
                       updated_at=self.work.now())

    def apply_all(self, keys: list[ResourceKey]) -> set[ResourceKey]:
        """Apply each role's plan (revocations first); return the models left unfinished."""
        w = self.work
        failed: set[ResourceKey] = set()
        order = sorted(self.plans.items(), key=lambda kv: (bool(kv[1].added), kv[0]))
        for role, plan in order:
            add, remove = self.adds[role]
            outcome = apply_role_plan(
                w, self.grants[role], plan,
                replan=lambda grants, r=role, a=add, d=remove: self.plan_one(  # type: ignore[misc]
                    r, grants, a, d, True))
            self.grants[role], self.plans[role] = outcome.grants, outcome.plan
            if outcome.error is None:
                continue
            held = arns_by_key(a for arns in outcome.plan.slots.values() for a in arns)
            missed = [k for k in keys if k not in w.done and not _achieved(w, k, role, held)]
            if isinstance(outcome.error, AccountPolicyQuotaError):
                for key in missed:
                    w.finish(key, Outcome.ACCOUNT_POLICY_QUOTA, str(outcome.error))
                continue
            w.fail(missed, outcome.error)
            failed |= set(missed)
        return failed

    def settle(self, keys: list[ResourceKey]) -> None:
        """Name each model's outcome (the report), before anything is committed."""
        w = self.work
        w.report.role_plans.update({p.role.lower(): p for p in self.plans.values()})
        for plan in self.plans.values():
            w.report.repairs += [(plan.role, repair) for repair in plan.repairs]
        revoked = revoked_by_key(self.plans.values())
        for key in keys:
            if key not in w.done:
                w.done[key] = summarize(key, w.decisions[key], w.records[key], self.plans,
                                        revoked.get(key, ()), w.settings, w.hints[key])

    def final_writes(self, keys: list[ResourceKey]) -> tuple[list[GrantRecord],
                                                             list[RoleGrants]]:
        """The role records and the model records that still change, for the commit that
        also gives the leases back (wave.py)."""
        w = self.work
        finals = [r for key in keys if (r := w.final_record(key, self.written.get(key)))]
        finished = set(keys)
        finals += [self.undone(key, written) for key, written in self.written.items()
                   if key not in finished and w.done.get(key) is not None
                   and w.done[key].outcome.is_retryable]
        roles = [g for role, g in self.grants.items() if _changed(g, self.stored.get(role))]
        roles = [replace(g, version=g.version + 1, updated_at=w.now()) for g in roles]
        return finals, roles


def _achieved(w: Work, key: ResourceKey, role: str, held: Mapping[ResourceKey, set[str]]) -> bool:
    """Whether the role's applied slots give this model what its decision asks."""
    decision = w.decisions[key]
    if (decision.desired_role or "").lower() == role and decision.model_arn:
        return held.get(key, set()) == {decision.model_arn}
    return not held.get(key)


def _changed(grants: RoleGrants, before: RoleGrants | None) -> bool:
    if before is None:
        return not grants.empty
    return (grants.slots, grants.policies, grants.reserved, grants.role_name) != (
        before.slots, before.policies, before.reserved, before.role_name)


def _recorded_creation(record: GrantRecord, decision: Decision) -> str | None:
    """The creation time the record vouches for. A grant decided from the tag index records
    none; then the grant's own time decides: the model SageMaker shows now is the one that
    was granted if it was created before the grant, and another model (re-created under the
    name) if it was created after it."""
    if record.model_created:
        return record.model_created
    created, granted = _timestamp(decision.created), _timestamp(record.granted_at)
    if created is None or granted is None:
        return None
    return decision.created if created <= granted else record.granted_at


def _timestamp(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None

