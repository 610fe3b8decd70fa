"""Name the outcome of one model after planning (and, unless a dry run, applying). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from model_access.arns import ModelKey, parse_model_arn
from model_access.decide import Decision
from model_access.events import ModelHint
from model_access.naming import policy_name
from model_access.outcomes import Outcome
from model_access.aws.records import GrantRecord
from model_access.plan import RolePlan
from model_access.results import ModelResult
from model_access.settings import Settings
from model_access.state import RoleState


def summarize(
    key: ModelKey,
    decision: Decision,
    record: GrantRecord,
    plans: Mapping[str, RolePlan],
    states: Mapping[str, RoleState],
    settings: Settings,
    hints: Sequence[ModelHint],
) -> ModelResult:
    """One model's outcome: a refusal, a capacity refusal, a change, or no change."""
    revoked = tuple(sorted(
        plan.role for plan in plans.values()
        if any(_key(a) == key for a in plan.removed)
    ))
    role = (decision.desired_role or "").lower()
    plan = plans.get(role)
    arn = decision.model_arn
    placed = plan is not None and arn is not None and plan.slot_of(arn) is not None
    granted_to = plan.role if placed and plan is not None else None
    policy = None
    if placed and plan is not None and arn is not None:
        index = plan.slot_of(arn)
        policy = policy_name(settings.policy_name_prefix, plan.role, index) if index else None
    newly = placed and plan is not None and arn in plan.added
    owner = decision.owner_value
    base = {"model_arn": arn or hints[0].model_arn, "owner": owner, "granted_to": granted_to,
            "revoked_from": revoked, "policy": policy}
    revoked_note = f"; revoked from {', '.join(revoked)}" if revoked else ""

    if decision.refusal is not None:
        return ModelResult(key, decision.refusal.outcome, decision.refusal.reason + revoked_note,
                           **base)
    if not decision.exists:
        if revoked:
            return ModelResult(key, Outcome.REVOKED, "model no longer exists" + revoked_note,
                               **base)
        return ModelResult(key, Outcome.MODEL_GONE, "model does not exist; nothing was granted",
                           **base)
    if decision.desired_role and plan is None:
        return ModelResult(key, Outcome.ROLE_NOT_FOUND,
                           f"role {decision.desired_role} vanished during the reconcile", **base)
    if decision.desired_role and not placed and plan is not None:
        state = states.get(role)
        used = len(plan.slots)
        reason = (
            f"role {plan.role} has no room: {used} tool policies of {plan.max_slots} allowed "
            f"(quota {state.quota if state else '?'}, share {settings.role_policy_share}, "
            f"{state.foreign_attached if state else '?'} other policies attached)"
        )
        return ModelResult(key, Outcome.CAPACITY_EXHAUSTED, reason + revoked_note, **base)
    if newly and revoked:
        return ModelResult(key, Outcome.MOVED, f"owner is now {granted_to}" + revoked_note, **base)
    if newly:
        if record.role and record.role.lower() == role:
            return ModelResult(key, Outcome.REPAIRED,
                               f"grant to {granted_to} was missing from IAM; restored", **base)
        return ModelResult(key, Outcome.GRANTED, f"granted to owner {granted_to}", **base)
    if revoked:
        return ModelResult(key, Outcome.REPAIRED, "removed stale grant" + revoked_note, **base)
    return ModelResult(key, Outcome.UNCHANGED,
                       f"already granted to {granted_to}" if granted_to else "nothing to do",
                       **base)


def _key(arn: str) -> ModelKey | None:
    parsed = parse_model_arn(arn)
    return parsed.key if parsed else None
