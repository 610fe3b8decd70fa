"""Carry out one role's plan against IAM, in the plan's safe order, fenced by the lease.

Order inside a role: create and update first, then attach, then detach and delete, so an
ARN that moves between two policies of one role is never missing in between. Before every
write the lease must outlive the longest an IAM call can take (botocore's timeouts and
retries for IAM are capped to fit, see aws/clients.py), else nothing more is written.

The result is the role record as IAM now stands: on a failure, slots whose operations did
not all succeed keep their previous content, so the store never claims what IAM lacks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from model_access.aws.clients import IAM_CALL_MAX_SECONDS
from model_access.aws.policy_writer import PolicyExistsError
from model_access.core.errors import AwsPermanentError, ModelAccessError, PolicyInUseError
from model_access.model.grants import RoleGrants, WrittenPolicy
from model_access.policy.plan import OpKind, PolicyOp, RolePlan

if TYPE_CHECKING:
    from model_access.engine.reconcile import Work

NAME_TAKEN_RETRIES = 3


@dataclass(frozen=True)
class RoleOutcome:
    """The role's record and plan as applied, and the error that stopped it (if any)."""

    grants: RoleGrants
    plan: RolePlan
    error: ModelAccessError | None = None


class NameTakenError(AwsPermanentError):
    """A slot's name belongs to a policy the tool did not create (here or at another path)."""

    def __init__(self, index: int, name: str) -> None:
        super().__init__(f"policy name {name} is taken by a policy the tool did not create")
        self.index = index


def apply_role_plan(
    w: Work, grants: RoleGrants, plan: RolePlan, *, replan: Callable[[RoleGrants], RolePlan]
) -> RoleOutcome:
    """Apply `plan`; a taken slot name is reserved and the role re-planned (a few times)."""
    origin = grants
    for _ in range(NAME_TAKEN_RETRIES):
        run = _RoleRun(w, grants, plan)
        try:
            run.apply()
            return RoleOutcome(run.result(origin), run.effective(origin), None)
        except NameTakenError as taken:
            w.report.repairs.append((plan.role, f"{taken}; slot {taken.index} skipped"))
            grants = run.result(origin).with_reserved({taken.index})
            plan = replan(grants)
        except ModelAccessError as exc:
            return RoleOutcome(run.result(origin), run.effective(origin), exc)
    error = AwsPermanentError(f"role {plan.role}: too many tool policy names taken")
    return RoleOutcome(grants, replace(plan, slots=grants.slots), error)


class _RoleRun:
    """One attempt at a role's plan, remembering which slots were fully applied."""

    def __init__(self, w: Work, grants: RoleGrants, plan: RolePlan) -> None:
        self.w = w
        self.grants = grants
        self.plan = plan
        self.policies: dict[int, WrittenPolicy] = dict(grants.policies)
        self.pending = {op.index for op in plan.ops}
        self.failed: set[int] = set()
        self.skip_delete: set[int] = set()

    def apply(self) -> None:
        by_index: dict[int, int] = {}
        for op in self.plan.ops:
            by_index[op.index] = by_index.get(op.index, 0) + 1
        for op in self.plan.ops:
            try:
                self.one(op)
            except ModelAccessError:
                self.failed.add(op.index)
                raise
            by_index[op.index] -= 1
            if by_index[op.index] == 0:
                self.pending.discard(op.index)

    def one(self, op: PolicyOp) -> None:
        w, role = self.w, self.plan.role
        writer, arn = w.rc.writer, w.rc.iam.policy_arn(op.name)
        old = self.policies.get(op.index)
        if op.kind is OpKind.DELETE and op.index in self.skip_delete:
            self.policies.pop(op.index, None)
            return
        w.rc.leases.ensure(role, IAM_CALL_MAX_SECONDS)
        if op.kind is OpKind.CREATE and op.document is not None:
            try:
                made = writer.create(role, op.name, op.document)
                self.policies[op.index] = WrittenPolicy(
                    op.index, op.name, made.arn, made.policy_id, made.version_id,
                    op.document_hash, versions=(made.version_id,))
            except PolicyExistsError:
                adopted = writer.adopt(arn, old.intended if old else ())
                if adopted is None:
                    self.policies.pop(op.index, None)
                    raise NameTakenError(op.index, op.name) from None
                self.policies[op.index] = WrittenPolicy(
                    op.index, op.name, adopted.arn, adopted.policy_id, adopted.version_id,
                    None, versions=(adopted.version_id,))
                self.update(op)
        elif op.kind is OpKind.UPDATE:
            self.update(op)
        elif op.kind is OpKind.ATTACH and old is not None:
            writer.attach(role, old.arn)
            self.policies[op.index] = replace(old, attached=True)
        elif op.kind is OpKind.DETACH and old is not None:
            if not old.created and writer.adopt(arn, old.intended) is None:
                self.skip_delete.add(op.index)  # the create never happened (or not ours)
                return
            writer.detach(role, old.arn)
            self.policies[op.index] = replace(old, attached=False)
        elif op.kind is OpKind.DELETE and old is not None:
            try:
                writer.delete(old.arn)
            except PolicyInUseError as exc:  # detached from the role: the grant is gone
                w.report.repairs.append((role, str(exc)))
                return
            self.policies.pop(op.index, None)

    def update(self, op: PolicyOp) -> None:
        old = self.policies[op.index]
        if op.document is None:
            return
        version, kept = self.w.rc.writer.put_version(
            old.arn, op.document, old.versions, self.w.settings.keep_policy_versions)
        self.policies[op.index] = replace(old, version_id=version, versions=kept,
                                          document_hash=op.document_hash, intended=())

    def slots(self, origin: RoleGrants) -> dict[int, frozenset[str]]:
        """Applied slots take the plan's content; unfinished ones keep what IAM had."""
        out: dict[int, frozenset[str]] = {}
        for index in set(self.plan.slots) | set(origin.slots):
            source = origin.slots if index in self.pending or index in self.failed \
                else self.plan.slots
            if source.get(index):
                out[index] = source[index]
        return dict(sorted(out.items()))

    def result(self, origin: RoleGrants) -> RoleGrants:
        return replace(self.grants, slots=self.slots(origin), policies=dict(
            sorted(self.policies.items())))

    def effective(self, origin: RoleGrants) -> RolePlan:
        slots = self.slots(origin)
        after = frozenset().union(*slots.values()) if slots else frozenset()
        return replace(self.plan, slots=slots, added=after - origin.arns,
                       removed=origin.arns - after)
