"""Owner tag values are untrusted: each bad shape is refused with an outcome and a reason."""

from __future__ import annotations

import pytest

from model_access.core.arns import Scope
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings
from model_access.model.owner import (
    OwnerRef,
    Refusal,
    RoleFacts,
    check_role,
    owner_change_allowed,
    parse_owner,
)

SCOPE = Scope("aws", "us-east-1", "123456789012")
KEY = "owner-role"


def owner(value: str) -> OwnerRef | Refusal:
    return parse_owner([(KEY, value)], KEY, SCOPE)


@pytest.mark.parametrize(("value", "outcome"), [
    ("", Outcome.INVALID_OWNER),
    ("   ", Outcome.INVALID_OWNER),
    ("x" * 300, Outcome.INVALID_OWNER),
    ("a" * 65, Outcome.INVALID_OWNER),
    ("*", Outcome.INVALID_OWNER),
    ("data-*", Outcome.INVALID_OWNER),
    ("arn:aws:iam::*:role/*", Outcome.INVALID_OWNER),
    ("arn:aws:iam::123456789012:user/alice", Outcome.INVALID_OWNER),
    ("arn:aws:iam::999999999999:role/alice", Outcome.FOREIGN_OWNER),
    ("arn:aws-cn:iam::123456789012:role/alice", Outcome.FOREIGN_OWNER),
    ("alice smith", Outcome.INVALID_OWNER),
    ("alice;drop", Outcome.INVALID_OWNER),
    ("arn:aws:s3:::bucket", Outcome.INVALID_OWNER),
])
def test_parse_owner_refuses_bad_values(value: str, outcome: Outcome) -> None:
    """Each bad owner value ends in its named refusal."""
    result = owner(value)
    assert isinstance(result, Refusal)
    assert result.outcome is outcome
    assert result.reason


def test_parse_owner_missing_tag() -> None:
    """No owner tag at all is NoOwnerTag."""
    result = parse_owner([("team", "x")], KEY, SCOPE)
    assert isinstance(result, Refusal) and result.outcome is Outcome.NO_OWNER_TAG


def test_parse_owner_duplicate_key_with_different_values_is_ambiguous() -> None:
    """Two values of the owner key (moto appends on AddTags) are refused, never guessed."""
    result = parse_owner([(KEY, "alice"), (KEY, "mallory")], KEY, SCOPE)
    assert isinstance(result, Refusal) and result.outcome is Outcome.AMBIGUOUS_OWNER


def test_parse_owner_duplicate_key_with_same_value_is_fine() -> None:
    """The same value twice names one role."""
    assert parse_owner([(KEY, "alice"), (KEY, "alice")], KEY, SCOPE) == OwnerRef("alice")


@pytest.mark.parametrize(("value", "expected"), [
    ("alice", OwnerRef("alice")),
    ("a" * 64, OwnerRef("a" * 64)),
    ("svc+ml=team,x.y@z_w-1", OwnerRef("svc+ml=team,x.y@z_w-1")),
    ("arn:aws:iam::123456789012:role/alice", OwnerRef("alice", "/")),
    ("arn:aws:iam::123456789012:role/teams/ml/alice", OwnerRef("alice", "/teams/ml/")),
])
def test_parse_owner_accepts_names_and_same_account_arns(value: str, expected: OwnerRef) -> None:
    """Role names and same-account role ARNs (with or without a path) are accepted."""
    assert owner(value) == expected


def facts(name: str = "alice", path: str = "/", tags: dict[str, str] | None = None) -> RoleFacts:
    return RoleFacts(name, path, f"arn:aws:iam::123456789012:role{path}{name}", tags or {})


@pytest.mark.parametrize(("ref", "role", "settings", "outcome"), [
    (OwnerRef("alice"), None, Settings(), Outcome.ROLE_NOT_FOUND),
    (OwnerRef("alice", "/teams/"), facts(), Settings(), Outcome.ROLE_NOT_FOUND),
    (OwnerRef("AWSServiceRoleForX"),
     facts("AWSServiceRoleForX", "/aws-service-role/sagemaker.amazonaws.com/"), Settings(),
     Outcome.SERVICE_LINKED_ROLE),
    (OwnerRef("prov"), facts("prov"), Settings(provisioner_role="Prov"),
     Outcome.PROVISIONER_ROLE),
    (OwnerRef("admin"), facts("admin"), Settings(deny_roles=("Admin",)), Outcome.DENIED_ROLE),
    (OwnerRef("alice"), facts(), Settings(role_path_prefix="/ml/"), Outcome.INELIGIBLE_ROLE),
    (OwnerRef("alice"), facts(), Settings(role_tag=("model-access", "eligible")),
     Outcome.INELIGIBLE_ROLE),
])
def test_check_role_refusals(ref: OwnerRef, role: RoleFacts | None, settings: Settings,
                             outcome: Outcome) -> None:
    """Roles that exist but must not receive grants are refused with their outcome."""
    refusal = check_role(ref, role, settings)
    assert refusal is not None and refusal.outcome is outcome


ELIGIBLE = {"model-access:eligible": "true"}


@pytest.mark.parametrize(("role", "settings", "eligible"), [
    (facts(), Settings(), False),  # default: opt in by tag, untagged roles are not
    (facts(tags=ELIGIBLE), Settings(), True),
    (facts(tags={"model-access:eligible": "yes"}), Settings(), False),
    (facts(path="/ml/"), Settings(role_path_prefix="/ml/"), True),  # the path is a way in
    (facts(tags=ELIGIBLE), Settings(role_path_prefix="/ml/"), True),  # ... and so is the tag
    (facts(path="/other/"), Settings(role_path_prefix="/ml/"), False),
    (facts(tags=ELIGIBLE), Settings(role_tag=None, role_path_prefix="/ml/"), False),
    (facts(), Settings(role_tag=None), True),  # explicit MODEL_ACCESS_ROLE_TAG=*: every role
])
def test_check_role_eligibility_is_opt_in_by_tag_or_path(
    role: RoleFacts, settings: Settings, eligible: bool,
) -> None:
    """A role is eligible when it carries the role tag or sits under the path prefix."""
    refusal = check_role(OwnerRef(role.name), role, settings)
    assert (refusal is None) is eligible
    if refusal is not None:
        assert refusal.outcome is Outcome.INELIGIBLE_ROLE and "opted in" in refusal.reason


def test_owner_change_allowed_only_for_owner_or_allowlist() -> None:
    """Protected mode believes the current owner and allowlisted callers, nobody else."""
    settings = Settings(owner_change_allow=("arn:aws:iam::123456789012:role/platform-admin",))
    alice = "arn:aws:iam::123456789012:role/alice"
    assert owner_change_allowed(alice, ["alice"], settings)
    assert owner_change_allowed("arn:aws:iam::123456789012:role/platform-admin", ["alice"],
                                settings)
    assert not owner_change_allowed("arn:aws:iam::123456789012:role/mallory", ["alice"], settings)
    assert not owner_change_allowed(None, ["alice"], settings)
