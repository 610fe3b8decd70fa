"""The one reconcile path every trigger goes through (event, re-drive, backfill, sweep).

Level-triggered: the hints only say which models to look at. For each model we re-read
the truth, decide who should hold its grant, take the leases of every role involved,
and move each role's tool policies from what IAM holds to what the truth asks for; all
models of one role in a batch cost one set of IAM writes for that role.

Write order, chosen for crash consistency: (1) record intent (`pending` names every role
that may end up holding the grant), (2) IAM, (3) final record. A crash anywhere leaves a
record that still names every role to clean up, so the next delivery converges.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from model_access.arns import ModelKey, Scope, parse_model_arn
from model_access.aws.apply import NameTakenError, apply_role_plan
from model_access.aws.iam import IamGateway
from model_access.aws.leases import RoleLeases
from model_access.aws.models import ModelReader, ModelTruth
from model_access.aws.records import GrantRecord, GrantRecords
from model_access.decide import Decision, decide, protect_owner_change
from model_access.errors import (
    AwsPermanentError,
    ConcurrentUpdateError,
    LeaseBusyError,
    ModelAccessError,
    ModelNotVisibleError,
    RetryableError,
)
from model_access.events import ModelHint, Trigger
from model_access.outcomes import Outcome
from model_access.owner import RoleFacts
from model_access.plan import RolePlan, plan_role
from model_access.policy import PolicyShape
from model_access.results import ModelResult, Report
from model_access.settings import OwnerChangeMode, Settings
from model_access.state import RoleState
from model_access.summary import summarize


@dataclass
class Reconciler:
    """Wires the adapters together; `reconcile` is the only entry point."""

    settings: Settings
    scope: Scope
    iam: IamGateway
    models: ModelReader
    records: GrantRecords
    leases: RoleLeases
    shape: PolicyShape
    clock: Callable[[], float] = time.time

    def reconcile(
        self,
        hints: Sequence[ModelHint],
        *,
        dry_run: bool = False,
        receive_counts: Mapping[ModelKey, int] | None = None,
        unattached: Mapping[str, tuple[str, ...]] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> Report:
        """Bring every hinted model's grant in line with the truth; report per model.

        `progress(done, total)` is called after each role group (for a progress bar).
        """
        run = _Run(self, hints, dry_run, receive_counts or {}, unattached or {})
        run.progress = progress or (lambda _done, _total: None)
        return run.execute()


class _Run:
    """The state of one reconcile; each step is one method, in `execute`'s order."""

    def __init__(
        self,
        owner: Reconciler,
        hints: Sequence[ModelHint],
        dry_run: bool,
        receive_counts: Mapping[ModelKey, int],
        unattached: Mapping[str, tuple[str, ...]],
    ) -> None:
        self.o = owner
        self.s = owner.settings
        self.dry_run = dry_run
        self.receive_counts = receive_counts
        self.unattached = {k.lower(): v for k, v in unattached.items()}
        self.hints: dict[ModelKey, list[ModelHint]] = {}
        for hint in hints:
            self.hints.setdefault(hint.key, []).append(hint)
        self.done: dict[ModelKey, ModelResult] = {}
        self.truths: dict[ModelKey, ModelTruth] = {}
        self.decisions: dict[ModelKey, Decision] = {}
        self.records: dict[ModelKey, GrantRecord] = {}
        self.role_cache: dict[str, RoleFacts | None] = {}
        self.held: set[str] = set()
        self.states: dict[str, RoleState] = {}
        self.plans: dict[str, RolePlan] = {}
        self.group: set[ModelKey] | None = None
        self.progress: Callable[[int, int], None] = lambda _done, _total: None
        self.report = Report(dry_run=dry_run)

    @property
    def active(self) -> list[ModelKey]:
        """Models still to decide, limited to the group being applied (if any)."""
        return [k for k in self.hints if k not in self.done
                and (self.group is None or k in self.group)]

    def execute(self) -> Report:
        self.check_scope()
        self.read_truth()
        self.decide_all()
        self.read_records(consistent=False)
        self.confirm_doubtful()
        self.settle_missing()
        if self.dry_run:
            self.protect()
            self.read_role_states()
            self.plan_roles()
            self.summarize()
            self.report.role_plans.update(self.plans)
        else:
            groups = self.groups()
            for done, group in enumerate(groups, start=1):
                self.apply_group(group)
                self.progress(done, len(groups))
        self.report.results.update(self.done)
        return self.report

    def groups(self) -> list[set[ModelKey]]:
        """Models that share no role, apart: each group holds its roles' leases only briefly.

        Union-find over the roles each model needs; a batch of 500 models of 20 owners
        becomes 20 groups, so a concurrent worker waits for one role, not for the batch.
        """
        parent: dict[str, str] = {}

        def find(role: str) -> str:
            while parent.setdefault(role, role) != role:
                parent[role] = parent[parent[role]]
                role = parent[role]
            return role

        for key in self.active:
            roles = sorted(_lower(self.roles_needed(key)))
            for other in roles[1:]:
                parent[find(other)] = find(roles[0])
        by_root: dict[str, set[ModelKey]] = {}
        for key in self.active:
            roles = sorted(_lower(self.roles_needed(key)))
            root = find(roles[0]) if roles else f"~{key}"
            by_root.setdefault(root, set()).add(key)
        return [by_root[root] for root in sorted(by_root)]

    def apply_group(self, group: set[ModelKey]) -> None:
        """Lease, re-read, decide, write intent, change IAM, record: for one group."""
        self.group, self.states, self.plans = group, {}, {}
        try:
            self.take_leases()
            self.read_records(consistent=True, must_be_leased=True)
            self.protect()
            self.write_intents()
            self.read_role_states()
            self.plan_roles()
            self.apply_plans()
            self.summarize()
            self.write_final()
        finally:
            if self.held:
                self.o.leases.release(self.held)
                self.held = set()
            self.report.role_plans.update(self.plans)
            self.group = None

    # --- steps -----------------------------------------------------------------------

    def fail(self, keys: Iterable[ModelKey], error: BaseException | str) -> None:
        """End these models with a retry (the record goes back to the queue)."""
        outcome = Outcome.RETRY
        if isinstance(error, ModelAccessError) and not isinstance(error, RetryableError):
            outcome = Outcome.FAILED
        for key in keys:
            if key not in self.done:
                hint = self.hints[key][0]
                self.done[key] = ModelResult(key, outcome, str(error), hint.model_arn)

    def check_scope(self) -> None:
        """Drop hints for models outside our scope; a model is foreign only if all its are."""
        for key, hints in self.hints.items():
            problems = [foreign_model(hint, self.o.scope) for hint in hints]
            kept = [hint for hint, problem in zip(hints, problems, strict=True) if not problem]
            if kept:  # a forged foreign twin in the batch must not hide the real event
                self.hints[key] = kept
            else:
                self.done[key] = ModelResult(key, Outcome.FOREIGN_MODEL, str(problems[0]),
                                             hints[0].model_arn)

    def read_truth(self) -> None:
        by_arn: dict[ModelKey, str] = {}
        by_name: dict[ModelKey, str] = {}
        protected = self.s.owner_change_mode is OwnerChangeMode.PROTECTED
        for key in self.active:
            hints = self.hints[key]
            arn = next((h.model_arn for h in hints if h.model_arn), None)
            authoritative = protected or any(h.trigger is not Trigger.CREATE
                                             and h.trigger is not Trigger.RECONCILE for h in hints)
            if arn and not authoritative:
                by_arn[key] = arn
            else:
                by_name[key] = hints[0].model_name
        try:
            self.truths = self.o.models.read(by_arn, by_name)
        except ModelAccessError as exc:
            self.fail(self.active, exc)

    def role_facts(self, name: str) -> RoleFacts | None:
        lowered = name.lower()
        if lowered not in self.role_cache:
            self.role_cache[lowered] = self.o.iam.get_role(name)
        return self.role_cache[lowered]

    def decide_all(self) -> None:
        for key in self.active:
            self.decide_one(key)

    def decide_one(self, key: ModelKey) -> None:
        truth = self.truths[key]
        try:
            self.decisions[key] = decide(
                key, truth.exists, model_arn=truth.arn, model_name=truth.name,
                created=truth.created, tags=truth.tags, settings=self.s,
                scope=self.o.scope, role_facts=self.role_facts,
            )
        except ModelAccessError as exc:
            self.fail([key], exc)

    def read_records(self, *, consistent: bool, must_be_leased: bool = False) -> None:
        try:
            self.records.update(self.o.records.get_many(self.active, consistent=consistent))
        except ModelAccessError as exc:
            self.fail(self.active, exc)
            return
        if must_be_leased:
            for key in self.active:
                missing = {r for r in self.records[key].holders if r.lower() not in self.held}
                if missing:
                    self.fail([key], f"grant record changed; role(s) {sorted(missing)} not leased")

    def confirm_doubtful(self) -> None:
        """Re-read from SageMaker itself any index-based decision that refuses or revokes.

        The tag index is eventually consistent: it may still show an owner that an AddTags
        already replaced. It is trusted only to grant a model nobody holds, or to confirm
        the current holder; a refusal, a move or a revocation is decided on SageMaker's own
        DescribeModel/ListTags answer.
        """
        for key in self.active:
            truth, decision = self.truths[key], self.decisions[key]
            if not truth.from_index:
                continue
            holders = _lower(self.records[key].holders)
            desired = (decision.desired_role or "").lower()
            if decision.refusal is None and (not holders or holders == {desired}):
                continue
            try:
                self.truths[key] = self.o.models.describe(key, truth.name or key.name_lower)
            except ModelAccessError as exc:
                self.fail([key], exc)
                continue
            self.decide_one(key)

    def settle_missing(self) -> None:
        """A model an event just created but SageMaker does not show yet: retry later."""
        for key in self.active:
            decision = self.decisions[key]
            if decision.exists or self.records[key].holders:
                continue
            created_event = any(h.trigger is Trigger.CREATE for h in self.hints[key])
            receives = self.receive_counts.get(key, self.s.max_receives_for_missing)
            if created_event and receives < self.s.max_receives_for_missing:
                self.fail([key], ModelNotVisibleError("SageMaker does not show this model yet"))

    def roles_needed(self, key: ModelKey) -> set[str]:
        decision, record = self.decisions[key], self.records[key]
        roles = set(record.holders)
        if decision.desired_role:
            roles.add(decision.desired_role)
        return roles

    def take_leases(self) -> None:
        wanted = {r for key in self.active for r in self.roles_needed(key)}
        try:
            self.held = self.o.leases.acquire(wanted)
        except ModelAccessError as exc:
            self.fail(self.active, exc)
            return
        for key in self.active:
            busy = sorted(r for r in self.roles_needed(key) if r.lower() not in self.held)
            if busy:
                self.fail([key], LeaseBusyError(f"role(s) {busy} leased by another worker"))

    def protect(self) -> None:
        for key in self.active:
            record = self.records[key]
            self.decisions[key] = protect_owner_change(
                self.decisions[key], record.role, record.model_created, self.hints[key], self.s
            )

    def write_intents(self) -> None:
        intents: list[GrantRecord] = []
        for key in self.active:
            decision, record = self.decisions[key], self.records[key]
            role = decision.desired_role
            if role and role.lower() not in {h.lower() for h in record.holders}:
                intents.append(record.advanced(
                    pending=record.pending | {role},
                    model_arn=decision.model_arn or record.model_arn,
                    updated_at=_now(self.o.clock),
                ))
        try:
            conflicts = self.o.records.write_conditional(intents)
        except ModelAccessError as exc:
            self.fail([r.key for r in intents], exc)
            return
        for record in intents:
            if record.key in conflicts:
                self.fail([record.key], ConcurrentUpdateError("grant record changed concurrently"))
            else:
                self.records[record.key] = record

    def read_role_states(self) -> None:
        roles: dict[str, str] = {}
        recorded: dict[str, set[str]] = {}
        for key in self.active:
            for role in self.roles_needed(key):
                roles.setdefault(role.lower(), role)
            record = self.records[key]
            if record.role and record.policy:  # a crash mid-revoke can leave it detached
                recorded.setdefault(record.role.lower(), set()).add(record.policy)
        for lowered, role in sorted(roles.items()):
            try:
                facts = self.role_facts(role)
                if facts is not None:
                    names = set(self.unattached.get(lowered, ())) | recorded.get(lowered, set())
                    self.states[lowered] = self.o.iam.read_role_state(facts, tuple(sorted(names)))
            except ModelAccessError as exc:
                self.fail([k for k in self.active if lowered in _lower(self.roles_needed(k))], exc)

    def plan_roles(self, only: str | None = None) -> None:
        active = set(self.active)
        for lowered, state in self.states.items():
            if only is not None and lowered != only:
                continue
            add: set[str] = set()
            remove: set[str] = set()
            for key in active:
                decision = self.decisions[key]
                if (decision.desired_role or "").lower() == lowered and decision.model_arn:
                    add.add(decision.model_arn)
            for arn in state.model_arns:
                parsed = parse_model_arn(arn)
                if parsed is None or parsed.key not in active:
                    continue
                decision = self.decisions[parsed.key]
                keeps = (decision.desired_role or "").lower() == lowered
                if not (keeps and arn == decision.model_arn):
                    remove.add(arn)
            self.plans[lowered] = plan_role(
                state, add, remove, shape=self.o.shape, budget=self.s.policy_size_budget,
                share=self.s.role_policy_share, name_prefix=self.s.policy_name_prefix,
            )

    def apply_plans(self) -> None:
        order = sorted(self.plans.items(), key=lambda kv: (bool(kv[1].added), kv[0]))
        for lowered, plan in order:
            if not plan.changes:
                continue
            try:
                self.apply_one(lowered, plan)
            except ModelAccessError as exc:
                touched = {k for k in self.active if lowered in _lower(self.roles_needed(k))}
                touched |= {p.key for a in plan.added | plan.removed if (p := parse_model_arn(a))}
                self.fail(touched, exc)

    def apply_one(self, lowered: str, plan: RolePlan) -> None:
        """Apply a role's plan; a slot name taken by someone else is skipped and re-planned."""
        for _ in range(3):
            try:
                apply_role_plan(
                    self.o.iam, plan, keep_versions=self.s.keep_policy_versions,
                    lease_valid=lambda: self.o.leases.still_valid(lowered),
                )
                return
            except NameTakenError as taken:
                state = self.states[lowered]
                self.states[lowered] = replace(state, reserved=state.reserved | {taken.index})
                self.plans.pop(lowered, None)
                self.plan_roles(only=lowered)
                plan = self.plans[lowered]
        raise AwsPermanentError(f"role {plan.role}: too many tool policy names taken")

    def summarize(self) -> None:
        for plan in self.plans.values():
            self.report.repairs += [(plan.role, repair) for repair in plan.repairs]
        for key in self.active:
            self.done[key] = summarize(
                key, self.decisions[key], self.records[key], self.plans, self.states, self.s,
                self.hints[key],
            )

    def write_final(self) -> None:
        now = _now(self.o.clock)
        updates: list[GrantRecord] = []
        for key, result in self.done.items():
            if key not in self.decisions or result.outcome.is_retryable:
                continue
            if self.group is not None and key not in self.group:
                continue
            record = self.records.get(key)
            if record is None:
                continue
            updated = _final_record(record, result, self.decisions[key], self.hints[key], now)
            if updated is not None:
                updates.append(updated)
        try:
            conflicts = self.o.records.write_conditional(updates)
        except ModelAccessError as exc:
            conflicts = {r.key for r in updates}
            for key in conflicts:
                self.done.pop(key, None)
            self.fail(conflicts, exc)
            return
        for key in conflicts:
            self.done.pop(key, None)
        self.fail(conflicts, ConcurrentUpdateError("grant record changed concurrently"))


def foreign_model(hint: ModelHint, scope: Scope) -> str | None:
    """Why a hint names a model outside this deployment's partition, region and account."""
    parsed = parse_model_arn(hint.model_arn) if hint.model_arn else None
    region = hint.region if hint.region != scope.region or not parsed else parsed.region
    if region != scope.region:  # the event's region or its model ARN's
        return f"model is in region {region}; this deployment serves {scope.region}"
    if parsed and parsed.partition != scope.partition:
        return f"model ARN is in partition {parsed.partition}, not {scope.partition}"
    if scope.account and (
        (parsed and parsed.account != scope.account)
        or (hint.account and hint.account != scope.account)
    ):
        return f"model belongs to another account, not {scope.account}"
    return None


def _final_record(
    record: GrantRecord,
    result: ModelResult,
    decision: Decision,
    hints: Sequence[ModelHint],
    now: str,
) -> GrantRecord | None:
    """The record after a finished reconcile, or None when nothing worth writing changed."""
    role = result.granted_to
    status = "granted" if role else ("refused" if result.outcome.is_refusal else "absent")
    if record.version == 0 and status == "absent":
        return None
    same_model = bool(decision.created) and decision.created == record.model_created
    created = decision.created or (record.model_created if same_model or not decision.exists
                                   else None)
    fields = {
        "model_arn": decision.model_arn or record.model_arn,
        "role": role,
        "pending": frozenset[str](),
        "policy": result.policy if role else None,
        "status": status,
        "outcome": result.outcome.value,
        "reason": result.reason,
        "model_created": created,
    }
    if all(getattr(record, k) == v for k, v in fields.items()):
        return None
    hint = max(hints, key=lambda h: h.event_time or "")
    history = record.history
    if role != record.role or status != record.status:
        history = (*history, {"at": now, "outcome": result.outcome.value, "role": role or "-",
                              "event": hint.event_id})
    return record.advanced(
        **fields,
        granted_at=(record.granted_at if role and role == record.role else (now if role else None)),
        updated_at=now,
        event_id=hint.event_id,
        trigger=hint.trigger.value,
        history=history,
    )


def _lower(names: Iterable[str]) -> set[str]:
    return {n.lower() for n in names}


def _now(clock: Callable[[], float]) -> str:
    return datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")
