"""Decide, from untrusted tag values and IAM facts, which role (if any) owns a model.

Pure: the IAM facts come in as `RoleFacts`; nothing here calls AWS. Every refusal names
an Outcome and a reason a human can act on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from model_access.core.arns import (
    ROLE_NAME_MAX,
    Scope,
    is_valid_role_name,
    parse_role_arn,
)
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings

SERVICE_LINKED_PATH: Final = "/aws-service-role/"
TAG_VALUE_MAX: Final = 256
"""SageMaker's tag value limit: a longer owner value cannot be a real tag."""


@dataclass(frozen=True)
class Refusal:
    """A final decision not to grant, with the outcome it is counted as."""

    outcome: Outcome
    reason: str


@dataclass(frozen=True)
class OwnerRef:
    """The role an owner tag names; `path` is set only when the tag was a full ARN."""

    name: str
    path: str | None = None


@dataclass(frozen=True)
class RoleFacts:
    """What IAM says about a role (from GetRole)."""

    name: str
    path: str
    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)


def owner_values(tags: Iterable[tuple[str, str]], key: str) -> list[str]:
    """All values of the owner key; moto (and racing AddTags) can yield the key twice."""
    return [value for tag_key, value in tags if tag_key == key]


def parse_owner(tags: Iterable[tuple[str, str]], key: str, scope: Scope) -> OwnerRef | Refusal:
    """Read the owner tag and check its shape; refuse anything that is not a same-account role.

    Two different values of the owner key are refused as ambiguous: picking either could
    grant to a principal that the model's real owner never chose.
    """
    values = owner_values(tags, key)
    if not values:
        return Refusal(Outcome.NO_OWNER_TAG, f"model has no {key!r} tag")
    if len(set(values)) > 1:
        shown = ", ".join(sorted({repr(v[:80]) for v in values}))
        return Refusal(Outcome.AMBIGUOUS_OWNER, f"tag {key!r} has several values: {shown}")
    return parse_owner_value(values[0], scope)


def parse_owner_value(value: str, scope: Scope) -> OwnerRef | Refusal:
    """Check one owner value: a role name, or a role ARN of our partition and account."""
    shown = repr(value[:80]) + ("..." if len(value) > 80 else "")
    if not value.strip():
        return Refusal(Outcome.INVALID_OWNER, "owner tag value is empty")
    if len(value) > TAG_VALUE_MAX:
        return Refusal(Outcome.INVALID_OWNER, f"owner value of {len(value)} characters is too long")
    if "*" in value or "?" in value:
        return Refusal(Outcome.INVALID_OWNER, f"owner value {shown} contains a wildcard")
    if value.startswith("arn:"):
        return _parse_owner_arn(value, shown, scope)
    if len(value) > ROLE_NAME_MAX:
        return Refusal(
            Outcome.INVALID_OWNER,
            f"owner value {shown} is longer than a role name ({ROLE_NAME_MAX})",
        )
    if not is_valid_role_name(value):
        return Refusal(Outcome.INVALID_OWNER, f"owner value {shown} is not a valid role name")
    return OwnerRef(value)


def _parse_owner_arn(value: str, shown: str, scope: Scope) -> OwnerRef | Refusal:
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[2] == "iam" and not parts[5].startswith("role/"):
        kind = parts[5].split("/", 1)[0]
        return Refusal(Outcome.INVALID_OWNER, f"owner {shown} is an IAM {kind}, not a role")
    parsed = parse_role_arn(value)
    if parsed is None:
        return Refusal(Outcome.INVALID_OWNER, f"owner {shown} is not a valid IAM role ARN")
    if parsed.partition != scope.partition:
        return Refusal(
            Outcome.FOREIGN_OWNER, f"owner role is in partition {parsed.partition}, not ours"
        )
    if scope.account is not None and parsed.account != scope.account:
        return Refusal(
            Outcome.FOREIGN_OWNER, f"owner role is in account {parsed.account}, not ours"
        )
    return OwnerRef(parsed.name, parsed.path)


def check_role(ref: OwnerRef, facts: RoleFacts | None, settings: Settings) -> Refusal | None:
    """Refuse roles that exist but must never receive a grant, or that policy excludes."""
    if facts is None:
        return Refusal(Outcome.ROLE_NOT_FOUND, f"role {ref.name!r} does not exist")
    if ref.path is not None and ref.path != facts.path:
        return Refusal(
            Outcome.ROLE_NOT_FOUND,
            f"role {ref.name!r} exists at path {facts.path!r}, not {ref.path!r} as tagged",
        )
    if facts.path.startswith(SERVICE_LINKED_PATH):
        return Refusal(Outcome.SERVICE_LINKED_ROLE, f"role {facts.name!r} is service-linked")
    if settings.provisioner_role and facts.name.lower() == settings.provisioner_role.lower():
        return Refusal(Outcome.PROVISIONER_ROLE, "owner is the provisioner's own role")
    denied = {d.lower() for d in settings.deny_roles}
    if facts.name.lower() in denied or facts.arn.lower() in denied:
        return Refusal(Outcome.DENIED_ROLE, f"role {facts.name!r} is on the deny list")
    return eligibility_refusal(facts, settings)


def eligibility_refusal(facts: RoleFacts, settings: Settings) -> Refusal | None:
    """Roles opt in: eligible when they carry the role tag or sit under the path prefix.

    Either way in suffices (the functions' own IAM policy allows attach the same two ways);
    only `MODEL_ACCESS_ROLE_TAG=*` with no path prefix makes every role eligible.
    """
    if settings.every_role_eligible:
        return None
    prefix, tag = settings.role_path_prefix, settings.role_tag
    if prefix and facts.path.startswith(prefix):
        return None
    if tag is not None and facts.tags.get(tag[0]) == tag[1]:
        return None
    ways = ([f"the tag {tag[0]}={tag[1]}"] if tag else []) + (
        [f"a path under {prefix!r} (its path is {facts.path!r})"] if prefix else [])
    return Refusal(Outcome.INELIGIBLE_ROLE,
                   f"role {facts.name!r} has not opted in: it needs " + " or ".join(ways))


def owner_change_allowed(
    caller_arn: str | None, current_holders: Iterable[str], settings: Settings,
    account: str | None = None,
) -> bool:
    """In protected mode, only the current owner role or an allowlisted caller may re-point.

    Role names are per account: with `account` (the resource's), a caller of another
    account never counts as the owner or as an allowlisted name; only an allowlist entry
    that is its full ARN admits it."""
    if caller_arn is None:
        return False
    allowed = {entry.lower() for entry in settings.owner_change_allow}
    if caller_arn.lower() in allowed:
        return True
    caller = parse_role_arn(caller_arn)
    if caller is None or (account is not None and caller.account != account):
        return False
    caller_name = caller.name.lower()
    return caller_name in allowed or caller_name in {h.lower() for h in current_holders}
