"""Name the outcome of one model after planning (and, unless a dry run, applying). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from model_access.aws.records import GrantRecord
from model_access.core.arns import ResourceKey
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings
from model_access.engine.decide import Decision
from model_access.engine.results import ModelResult
from model_access.model.events import ModelHint
from model_access.model.kinds import parse_grantable_arn
from model_access.policy.naming import policy_name
from model_access.policy.plan import RolePlan


def summarize(  # noqa: PLR0917 - one model's full context, all needed
    key: ResourceKey,
    decision: Decision,
    record: GrantRecord,
    plans: Mapping[str, RolePlan],
    revoked: tuple[str, ...],
    settings: Settings,
    hints: Sequence[ModelHint],
) -> ModelResult:
    """One model's outcome: a refusal, a capacity refusal, a change, or no change.

    `plans` holds the plans of the model's roles by lower-cased name; `revoked` names the
    roles whose plans removed this model (see `revoked_by_key`).
    """
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

    def result(outcome: Outcome, reason: str) -> ModelResult:
        return ModelResult(key, outcome, reason, model_arn=arn or hints[0].model_arn,
                           owner=owner, granted_to=granted_to, revoked_from=revoked,
                           policy=policy)

    revoked_note = f"; revoked from {', '.join(revoked)}" if revoked else ""
    if decision.refusal is not None:
        return result(decision.refusal.outcome, decision.refusal.reason + revoked_note)
    if not decision.exists:
        if revoked:
            return result(Outcome.REVOKED, "model no longer exists" + revoked_note)
        return result(Outcome.MODEL_GONE, "model does not exist; nothing was granted")
    if decision.desired_role and plan is None:
        return result(Outcome.ROLE_NOT_FOUND,
                      f"role {decision.desired_role} vanished during the reconcile")
    if decision.desired_role and not placed and plan is not None:
        foreign = "?" if plan.foreign_attached is None else plan.foreign_attached
        reason = (
            f"role {plan.role} has no room: {len(plan.slots)} tool policies of "
            f"{plan.max_slots} allowed (quota {plan.quota or '?'}, share "
            f"{settings.role_policy_share}, {foreign} other policies attached)"
        )
        return result(Outcome.CAPACITY_EXHAUSTED, reason + revoked_note)
    if newly and revoked:
        return result(Outcome.MOVED, f"owner is now {granted_to}" + revoked_note)
    if newly:
        if record.role and record.role.lower() == role:
            return result(Outcome.REPAIRED, f"grant to {granted_to} was missing from IAM; restored")
        return result(Outcome.GRANTED, f"granted to owner {granted_to}")
    if revoked:
        return result(Outcome.REPAIRED, "removed stale grant" + revoked_note)
    return result(Outcome.UNCHANGED,
                  f"already granted to {granted_to}" if granted_to else "nothing to do")


def revoked_by_key(plans: Iterable[RolePlan]) -> dict[ResourceKey, tuple[str, ...]]:
    """For each model, the roles whose plans remove one of its ARNs (one pass per plan)."""
    out: dict[ResourceKey, set[str]] = {}
    for plan in plans:
        for arn in plan.removed:
            parsed = parse_grantable_arn(arn)
            if parsed is not None:
                out.setdefault(parsed.key, set()).add(plan.role)
    return {key: tuple(sorted(roles)) for key, roles in out.items()}
