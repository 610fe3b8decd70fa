"""Per-model decisions: who should hold the grant, or why nobody should. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from model_access.core.arns import ResourceKey, Scope
from model_access.core.outcomes import Outcome
from model_access.core.settings import OwnerChangeMode, Settings
from model_access.model.events import ModelHint
from model_access.model.owner import (
    OwnerRef,
    Refusal,
    RoleFacts,
    check_role,
    owner_change_allowed,
    owner_values,
    parse_owner,
)


@dataclass(frozen=True)
class Decision:
    """The desired state of one model's grant."""

    key: ResourceKey
    exists: bool
    model_arn: str | None = None
    model_name: str | None = None
    created: str | None = None
    owner_value: str | None = None
    desired_role: str | None = None
    refusal: Refusal | None = None
    owner_role: str | None = None
    """The existing role the owner tag resolves to, even when it is refused (else None)."""


def decide(
    key: ResourceKey,
    truth_exists: bool,
    *,
    model_arn: str | None,
    model_name: str | None,
    created: str | None,
    tags: Sequence[tuple[str, str]],
    settings: Settings,
    scope: Scope,
    role_facts: Callable[[str], RoleFacts | None],
) -> Decision:
    """Who should hold the grant of a model, from its current tags and IAM facts."""
    if not truth_exists:
        return Decision(key, False)
    values = owner_values(tags, settings.owner_tag_key)
    base = Decision(key, True, model_arn, model_name, created, values[0] if values else None)
    parsed = parse_owner(tags, settings.owner_tag_key, scope)
    if isinstance(parsed, Refusal):
        return replace(base, refusal=parsed)
    return _check(base, parsed, role_facts(parsed.name), settings)


def _check(base: Decision, ref: OwnerRef, facts: RoleFacts | None, settings: Settings) -> Decision:
    refusal = check_role(ref, facts, settings)
    if facts is not None and (ref.path is None or ref.path == facts.path):
        base = replace(base, owner_role=facts.name)
    if refusal is not None or facts is None:
        return replace(base, refusal=refusal)
    return replace(base, desired_role=facts.name)


def protect_owner_change(
    decision: Decision,
    current_role: str | None,
    recorded_created: str | None,
    hints: Sequence[ModelHint],
    settings: Settings,
    *,
    account: str | None = None,
) -> Decision:
    """In protected mode, refuse an owner change nobody trusted made; else pass `decision` on.
    (`account`: the resource's; a caller of another account is never its owner.)

    A change is trusted when the newest *believed* tag edit that set today's owner value came
    from the current owner role or an allowlisted caller. A hint's caller is believed only
    when its entry path vouches for it (`ModelHint.caller_trusted`: read from the
    EventBridge-only queue); a direct invoke names a caller anyone could have typed, so a
    change only such a hint vouches for is refused as `UnverifiedCaller` until the real
    CloudTrail event arrives through the queue. Removing the owner tag, or pointing it at
    anything that is not a usable role, is an owner change too: otherwise a stranger could
    move a grant in two steps (remove the tag, so the grant is revoked and nobody is the
    current owner; then name their own role). A model re-created under a reused name
    (another creation time) is a new model, not an owner change. When we cannot tell
    (no creation time recorded), nobody keeps or gets access: the grant is revoked and the
    new owner refused, which can never hand the model to the wrong principal.
    """
    if settings.owner_change_mode is not OwnerChangeMode.PROTECTED:
        return decision
    if current_role is None or not decision.exists:
        return decision
    if (decision.owner_role or "").lower() == current_role.lower():
        return decision  # the tag still names the owner (a refusal is then about the role)
    if recorded_created and decision.created and recorded_created != decision.created:
        return decision
    edits = sorted((h for h in hints if h.is_tag_edit), key=lambda h: h.event_time or "")
    believed = [h for h in edits if h.caller_trusted]
    setting_today = [h for h in reversed(believed) if h.owner_value == decision.owner_value]
    if setting_today and owner_change_allowed(setting_today[0].caller_arn, [current_role],
                                              settings, account):
        return decision
    claimed = None if setting_today else next(
        (h for h in reversed(edits) if not h.caller_trusted
         and h.owner_value == decision.owner_value
         and owner_change_allowed(h.caller_arn, [current_role], settings, account)), None)
    if claimed is not None:
        outcome = Outcome.UNVERIFIED_CALLER
        change = (f"owner tag changed from {current_role} to {decision.owner_value!r}; only an "
                  f"unverified event (a direct invoke, not the event queue; id "
                  f"{claimed.event_id}) vouches for it, and the caller it names "
                  f"({claimed.caller_arn}) is not believed")
    else:
        outcome = Outcome.OWNER_CHANGE_DENIED
        who = next((h.caller_arn for h in reversed(believed) if h.caller_arn), None) or (
            "an unknown caller" if edits else "nobody this event names (a native event, a "
            "re-drive or the sweep carries no caller; the CloudTrail tag edit decides)")
        change = (f"owner tag changed from {current_role} to {decision.owner_value!r} by "
                  f"{who}, neither the current owner nor allowlisted")
    if not recorded_created or not decision.created:
        return replace(decision, desired_role=None, refusal=Refusal(
            outcome, f"{change}; cannot verify it is the same model, so the grant is revoked "
                     "and not moved"))
    return replace(decision, desired_role=current_role, refusal=Refusal(
        outcome, f"{change}; the grant stays with {current_role}"))
