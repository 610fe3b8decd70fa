"""The one reconcile path every trigger goes through (event, re-drive, backfill, sweep).

Level-triggered: the hints only say which models to look at. Two phases:
1. decide (here): read each model's truth (in bulk from the tag index where that is safe),
   its record, and decide who should hold its grant; models that touch no role end here
   with no lease and no per-model call; the rest form role groups that share no role;
2. apply (applier.py): per group, under its leases, re-check, record intent, write IAM,
   commit. Free groups go first, in an order that differs between workers; lease waiting
   is bounded for the whole invocation, and nothing starts past the caller's deadline:
   unfinished models come back as retries (with a short, jittered delay when a role is busy).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from model_access.aws.iam import IamGateway
from model_access.aws.leases import RoleLeases
from model_access.aws.models import ModelReader, ModelTruth
from model_access.aws.policy_writer import PolicyWriter
from model_access.aws.records import GrantRecord, GrantRecords
from model_access.aws.store import GrantStore
from model_access.core.arns import ResourceKey, Scope, parse_resource_arn
from model_access.core.deadline import Deadline
from model_access.core.errors import (
    ConcurrentUpdateError,
    DeadlineError,
    LeaseBusyError,
    ModelAccessError,
    ModelNotVisibleError,
    RetryableError,
)
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings
from model_access.engine.applier import GroupApplier
from model_access.engine.decide import Decision, decide
from model_access.engine.groups import Group, group_by_roles, roles_touched
from model_access.engine.results import ModelResult, Report
from model_access.engine.summary import summarize
from model_access.engine.wave import WAVE_ROLES, apply_wave
from model_access.model.events import ModelHint, Trigger
from model_access.model.kinds import kind_named
from model_access.model.owner import RoleFacts
from model_access.policy.render import PolicyShape

BUSY_RETRY_SECONDS = (2, 8)
"""A record whose role another worker holds comes back after this many seconds (jittered)."""
Progress = Callable[[int, int], None]


@dataclass
class Reconciler:
    """Wires the adapters together; `reconcile` is the only entry point."""

    settings: Settings
    scope: Scope
    iam: IamGateway
    writer: PolicyWriter
    models: ModelReader
    records: GrantRecords
    store: GrantStore
    leases: RoleLeases
    shape: PolicyShape
    clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    regions: tuple[str, ...] = ()
    """Every region whose models this reconciler reads (`models` picks each key's region):
    one reconcile, one lease and one set of IAM writes per role across an account's
    regions. Empty: the scope's region only."""

    def reconcile(
        self,
        hints: Sequence[ModelHint],
        *,
        dry_run: bool = False,
        receive_counts: Mapping[ResourceKey, int] | None = None,
        progress: Progress | None = None,
        deadline: Deadline | None = None,
        truths: Mapping[ResourceKey, ModelTruth] | None = None,
        drift: Mapping[str, Mapping[int, str]] | None = None,
        extra_roles: Iterable[str] = (),
    ) -> Report:
        """Bring every hinted model's grant in line with the truth; report per model.

        `truths` are truths the caller already read (the sweep, from the tag index);
        `drift` and `extra_roles` let the sweep repair roles no hinted model touches.
        """
        work = Work(self, hints, dry_run, receive_counts or {}, drift or {})
        work.decide_all(truths or {})
        roles_of = {k: roles_touched(work.decisions[k], work.records[k]) for k in work.active()}
        work.finish_unheld([k for k, roles in roles_of.items() if not roles])
        groups = group_by_roles({k: r for k, r in roles_of.items() if r}, extra_roles)
        self._apply(work, groups, deadline or Deadline.unlimited(), progress)
        work.report.results.update(work.done)
        return work.report

    def _apply(self, work: Work, groups: list[Group], deadline: Deadline,
               progress: Progress | None) -> None:
        tick = progress or (lambda _done, _total: None)
        if work.dry_run:
            for done, group in enumerate(groups, start=1):
                apply_wave(work, [GroupApplier(work, group, group.roles, dry_run=True)],
                           dry_run=True)
                tick(done, len(groups))
            return
        order = list(groups)
        self.rng.shuffle(order)  # two workers on one backlog start at different roles
        deferred: list[Group] = []
        finished = 0
        for wave in waves(order):  # free groups first, several at once: no waiting at all
            roles = frozenset[str]().union(*(g.roles for g in wave))
            held = frozenset[str]() if deadline.expired() else self.leases.acquire(roles, 0)
            free = [g for g in wave if g.roles <= held]
            deferred += [g for g in wave if not g.roles <= held]
            self.leases.release(held - frozenset[str]().union(*(g.roles for g in free)))
            if free:
                self._run(work, free, held, deadline)
                finished += len(free)
                tick(finished, len(groups))
        wait_left = self.settings.lease_wait_seconds  # for the whole invocation
        for group in deferred:
            if deadline.expired():
                work.fail(group.keys, DeadlineError("the invocation's time ran out first"),
                          retry_delay=0)
                continue
            started = self.clock()
            held = self.leases.acquire(group.roles, max(0.0, min(wait_left, deadline.left())))
            wait_left = max(0.0, wait_left - (self.clock() - started))
            if held:
                self._run(work, [group], held, deadline, reread_models=True)
            else:
                work.fail(group.keys, LeaseBusyError(
                    f"role(s) {sorted(group.roles)} leased by another worker"),
                    retry_delay=work.busy_delay())
            finished += 1
            tick(finished, len(groups))

    def _run(self, work: Work, groups: Sequence[Group], held: frozenset[str],
             deadline: Deadline, *, reread_models: bool = False) -> None:
        try:
            apply_wave(work, [GroupApplier(work, g, held & g.roles) for g in groups],
                       deadline=deadline, reread_models=reread_models)
        finally:
            self.leases.release(held)


def waves(groups: Sequence[Group], most_roles: int = WAVE_ROLES) -> list[list[Group]]:
    """Consecutive groups, as many as fit `most_roles` roles (a larger group goes alone)."""
    out: list[list[Group]] = []
    roles = 0
    for group in groups:
        if out and roles + len(group.roles) <= most_roles:
            out[-1].append(group)
            roles += len(group.roles)
        else:
            out.append([group])
            roles = len(group.roles)
    return out


class Work:
    """The state of one reconcile, shared by the decision phase and each group's applier."""

    def __init__(self, rc: Reconciler, hints: Sequence[ModelHint], dry_run: bool,
                 receive_counts: Mapping[ResourceKey, int],
                 drift: Mapping[str, Mapping[int, str]]) -> None:
        self.rc = rc
        self.settings = rc.settings
        self.dry_run = dry_run
        self.receive_counts = receive_counts
        self.drift = {role.lower(): dict(d) for role, d in drift.items()}
        self.hints: dict[ResourceKey, list[ModelHint]] = {}
        for hint in hints:
            self.hints.setdefault(hint.key, []).append(hint)
        self.truths: dict[ResourceKey, ModelTruth] = {}
        self.truth_at: dict[ResourceKey, float] = {}
        self.decisions: dict[ResourceKey, Decision] = {}
        self.records: dict[ResourceKey, GrantRecord] = {}
        self.done: dict[ResourceKey, ModelResult] = {}
        self.report = Report(dry_run=dry_run)
        self._roles: dict[str, RoleFacts | None] = {}

    def active(self) -> list[ResourceKey]:
        return [k for k in self.hints if k not in self.done]

    # --- the decision phase -------------------------------------------------------------

    def decide_all(self, given: Mapping[ResourceKey, ModelTruth]) -> None:
        self.check_scope()
        self.read_truth(given)
        keys = self.active()
        try:
            # Consistent: the base of every model record write (version-conditioned); the
            # waves read only the role records again, under their leases (wave.py).
            self.records.update(self.rc.records.get_many(keys, consistent=True))
        except ModelAccessError as exc:
            self.fail(keys, exc)
        for key in self.active():
            self.decide_one(key)
        self.settle_missing()

    def check_scope(self) -> None:
        """Drop hints for models outside our scope; a model is foreign only if all its are."""
        for key, hints in self.hints.items():
            problems = [foreign_model(hint, self.rc.scope, self.rc.regions) for hint in hints]
            kept = [hint for hint, problem in zip(hints, problems, strict=True) if not problem]
            if kept:  # a forged foreign twin in the batch must not hide the real event
                self.hints[key] = kept
            else:
                self.finish(key, Outcome.FOREIGN_MODEL, str(problems[0]))

    def read_truth(self, given: Mapping[ResourceKey, ModelTruth]) -> None:
        """Tag index in bulk for creations and re-drives; SageMaker itself for every event
        that says something changed (a lagging index would hide the change). Protected mode
        needs no more: a holder change of a recorded model is re-read from SageMaker under
        the lease before protection judges it (applier.py)."""
        by_arn: dict[ResourceKey, str] = {}
        by_name: dict[ResourceKey, str] = {}
        now = self.rc.clock()
        for key in self.active():
            if key in given:
                self.truths[key], self.truth_at[key] = given[key], now
                continue
            hints = self.hints[key]
            arn = next((h.model_arn for h in hints if h.model_arn), None)
            changed = any(not (h.trigger.is_create or h.trigger is Trigger.RECONCILE)
                          for h in hints)
            if arn and not changed:
                by_arn[key] = arn
            else:
                by_name[key] = hints[0].model_name
        if not by_arn and not by_name:
            return
        try:
            read = self.rc.models.read(by_arn, by_name)
        except ModelAccessError as exc:
            self.fail([*by_arn, *by_name], exc)
            return
        for key, truth in read.items():
            self.truths[key], self.truth_at[key] = truth, now

    def decide_one(self, key: ResourceKey) -> None:
        truth = self.truths[key]
        try:
            self.decisions[key] = decide(
                key, truth.exists, model_arn=truth.arn, model_name=truth.name,
                created=truth.created, tags=truth.tags, settings=self.settings,
                scope=self.rc.scope, role_facts=self.role_facts)
        except ModelAccessError as exc:
            self.fail([key], exc)

    def reread(self, key: ResourceKey, name: str) -> None:
        """SageMaker's own answer for one model, and the decision it leads to."""
        self.truths[key] = self.rc.models.describe(key, name)
        self.truth_at[key] = self.rc.clock()
        self.decide_one(key)

    def settle_missing(self) -> None:
        """A model an event just created but SageMaker does not show yet: retry later."""
        for key in self.active():
            decision = self.decisions[key]
            if decision.exists or self.records[key].holders:
                continue
            created_event = any(h.trigger.is_create for h in self.hints[key])
            receives = self.receive_counts.get(key, self.settings.max_receives_for_missing)
            if created_event and receives < self.settings.max_receives_for_missing:
                self.fail([key], ModelNotVisibleError("SageMaker does not show this model yet"))

    def role_facts(self, name: str) -> RoleFacts | None:
        lowered = name.lower()
        if lowered not in self._roles:
            self._roles[lowered] = self.rc.iam.get_role(name)
        return self._roles[lowered]

    def finish_unheld(self, keys: list[ResourceKey]) -> None:
        """Models that need no role and that nobody holds: an outcome, no lease, no IAM."""
        for key in keys:
            self.done[key] = summarize(key, self.decisions[key], self.records[key], {}, (),
                                       self.settings, self.hints[key])
        if self.dry_run:
            return
        finals = [r for key in keys if (r := self.final_record(key)) is not None]
        if not finals:
            return
        try:
            conflicts = self.rc.store.commit(finals, [])
        except ModelAccessError as exc:
            self.unfinish([r.key for r in finals], exc)
            return
        self.unfinish(conflicts, ConcurrentUpdateError("grant record changed concurrently"))

    # --- results ---------------------------------------------------------------------------

    def fail(self, keys: Iterable[ResourceKey], error: BaseException | str,
             retry_delay: int | None = None) -> None:
        """End these models with a retry (back to the queue) or, if retrying cannot help,
        a failure."""
        outcome = Outcome.RETRY
        if isinstance(error, ModelAccessError) and not isinstance(error, RetryableError):
            outcome = Outcome.FAILED
        for key in keys:
            if key not in self.done:
                hint = self.hints[key][0]
                self.done[key] = ModelResult(key, outcome, str(error), hint.model_arn,
                                             retry_delay=retry_delay)

    def finish(self, key: ResourceKey, outcome: Outcome, reason: str) -> None:
        self.done[key] = ModelResult(key, outcome, reason, self.hints[key][0].model_arn)

    def unfinish(self, keys: Iterable[ResourceKey], error: BaseException) -> None:
        """Models whose final record could not be written go back to the queue."""
        keys = list(keys)
        for key in keys:
            self.done.pop(key, None)
        self.fail(keys, error)

    def busy_delay(self) -> int:
        return self.rc.rng.randint(*BUSY_RETRY_SECONDS)

    def now(self) -> str:
        return datetime.fromtimestamp(self.rc.clock(), UTC).isoformat(timespec="milliseconds")

    def final_record(self, key: ResourceKey, record: GrantRecord | None = None, *,
                     result: ModelResult | None = None) -> GrantRecord | None:
        """The record to write for `key`: `record` is the one stored (default: as read),
        `result` its outcome (default: the one named)."""
        result, record = result or self.done.get(key), record or self.records.get(key)
        if result is None or record is None or key not in self.decisions:
            return None
        if result.outcome.is_retryable:
            return None
        return final_record(record, result, self.decisions[key], self.hints[key], self.now())


def foreign_model(hint: ModelHint, scope: Scope, regions: tuple[str, ...] = ()) -> str | None:
    """Why a hint names a resource outside this deployment's partition, region(s) (the
    scope's, or `regions`) and account."""
    parsed = parse_resource_arn(hint.model_arn) if hint.model_arn else None
    label = kind_named(hint.kind).label
    served = regions or (scope.region,)
    region = hint.region if hint.region not in served or not parsed else parsed.region
    if region not in served:  # the event's region or its resource ARN's
        return f"{label} is in region {region}; this deployment serves {', '.join(served)}"
    if parsed and parsed.partition != scope.partition:
        return f"{label} ARN is in partition {parsed.partition}, not {scope.partition}"
    if scope.account and (
        (parsed and parsed.account != scope.account)
        or (hint.account and hint.account != scope.account)
    ):
        return f"{label} belongs to another account, not {scope.account}"
    return None


NOT_RECORDED = frozenset({Outcome.NO_OWNER_TAG, Outcome.MODEL_GONE})
"""Outcomes not worth a record for a model the tool never recorded (most of an account),
when only a creation or a sweep looked at it; see GroupApplier.stale for why tag edits and
deletions are always recorded."""


def final_record(
    record: GrantRecord,
    result: ModelResult,
    decision: Decision,
    hints: Sequence[ModelHint],
    now: str,
) -> GrantRecord | None:
    """The record after a finished reconcile, or None when nothing worth writing changed."""
    role = result.granted_to
    status = "granted" if role else ("refused" if result.outcome.is_refusal else "absent")
    quiet = all(h.trigger.is_create or h.trigger is Trigger.RECONCILE
                or (h.trigger is Trigger.MODEL_STATE_CHANGE and decision.exists) for h in hints)
    if record.version == 0 and quiet and (status == "absent" or result.outcome in NOT_RECORDED):
        return None  # an event that changed a tag or deleted the model always leaves a mark
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
