"""Deterministic policy names and role plans."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model_access.core.arns import Scope
from model_access.core.settings import Settings
from model_access.model.access import profile_from_settings
from model_access.model.grants import RoleGrants, WrittenPolicy, document_hash
from model_access.policy.naming import PolicyName, parse_policy_name, policy_name
from model_access.policy.plan import OpKind, plan_role, role_share
from model_access.policy.render import PolicyShape

ROLE_NAMES = st.from_regex(r"[\w+=,.@-]{1,64}", fullmatch=True).filter(lambda s: s.isascii())
SHAPE = PolicyShape(profile_from_settings(Settings()), Scope("aws", "us-east-1", "123456789012"))
PREFIX = "model-access-"


@given(ROLE_NAMES, st.integers(min_value=1, max_value=99))
def test_policy_name_fits_and_roundtrips(role: str, index: int) -> None:
    """Every legal role name yields a policy name within 128 characters that parses back."""
    name = policy_name(PREFIX, role, index)
    assert len(name) <= 128
    assert parse_policy_name(PREFIX, name) == PolicyName(role, index)


def test_parse_policy_name_rejects_foreign_names() -> None:
    """Names the tool never chooses are not ours."""
    assert parse_policy_name(PREFIX, "AdministratorAccess") is None
    assert parse_policy_name(PREFIX, "model-access-alice") is None
    assert parse_policy_name(PREFIX, "model-access-alice-00") is None


def test_role_share_counts_foreign_policies() -> None:
    """The tool uses its share of the quota, and never slots that others already use."""
    assert role_share(10, 0.8, 0) == 8
    assert role_share(10, 0.8, 5) == 5
    assert role_share(20, 0.8, 2) == 16
    assert role_share(10, 0.8, 12) == 0


def grants(policies: dict[int, set[str]], attached: bool = True) -> RoleGrants:
    """A role record whose tool wrote exactly what its slots render."""
    written = {i: WrittenPolicy(i, policy_name(PREFIX, "alice", i), f"arn:{i}", f"ID{i}", "v1",
                                document_hash(SHAPE.render(arns)), attached, ("v1",))
               for i, arns in policies.items()}
    return RoleGrants("alice", 1, {i: frozenset(a) for i, a in policies.items()}, written)


def plan(current: RoleGrants, add: set[str], remove: set[str],  # type: ignore[no-untyped-def]
         drift: dict[int, str] | None = None):
    return plan_role(current, add, remove, shape=SHAPE, budget=6048, max_slots=8,
                     name_prefix=PREFIX, drift=drift)


ARN = "arn:aws:sagemaker:us-east-1:123456789012:model/"


def test_plan_first_grant_creates_and_attaches() -> None:
    """A role's first model: one CreatePolicy and one AttachRolePolicy."""
    result = plan(grants({}), {ARN + "a"}, set())
    assert [op.kind for op in result.ops] == [OpKind.CREATE, OpKind.ATTACH]


def test_plan_same_state_is_a_no_op() -> None:
    """Granting what is already granted plans no write at all."""
    assert plan(grants({1: {ARN + "a"}}), {ARN + "a"}, set()).ops == ()


def test_plan_last_removal_detaches_and_deletes() -> None:
    """A policy left empty is detached, then deleted."""
    result = plan(grants({1: {ARN + "a"}}), set(), {ARN + "a"})
    assert [op.kind for op in result.ops] == [OpKind.DETACH, OpKind.DELETE]


def test_plan_repairs_detached_and_drifted_policies() -> None:
    """A detached tool policy is re-attached; one the sweep found tampered is rewritten."""
    assert [op.kind for op in plan(grants({1: {ARN + "a"}}, attached=False), set(), set()).ops
            ] == [OpKind.ATTACH]
    result = plan(grants({1: {ARN + "a"}}), set(), set(), drift={1: "tampered: v3"})
    assert [op.kind for op in result.ops] == [OpKind.UPDATE, OpKind.ATTACH]
    assert result.repairs == ("model-access-alice-01: tampered: v3",)


def test_plan_rewrites_when_store_differs_from_what_was_written() -> None:
    """The plan compares the store's slots with the hash of what the tool last wrote."""
    current = grants({1: {ARN + "a"}})
    stale = RoleGrants("alice", 1, {1: frozenset({ARN + "a", ARN + "b"})}, current.policies)
    assert [op.kind for op in plan(stale, set(), set()).ops] == [OpKind.UPDATE]


def test_plan_create_after_crash_is_planned_again() -> None:
    """A create recorded as intended but never confirmed is planned as a create again."""
    intended = WrittenPolicy(1, policy_name(PREFIX, "alice", 1), "arn:1", None,
                             intended=("h",))
    current = RoleGrants("alice", 1, {}, {1: intended})
    result = plan(current, {ARN + "a"}, set())
    assert [op.kind for op in result.ops] == [OpKind.CREATE, OpKind.ATTACH]
