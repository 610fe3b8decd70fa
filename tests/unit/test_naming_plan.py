"""Deterministic policy names and role plans."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from model_access.access import profile_from_settings
from model_access.arns import Scope
from model_access.naming import PolicyName, parse_policy_name, policy_name
from model_access.owner import RoleFacts
from model_access.plan import OpKind, plan_role, role_share
from model_access.policy import PolicyShape
from model_access.settings import Settings
from model_access.state import RoleState, ToolPolicy

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


def state(policies: dict[int, set[str]], attached: bool = True) -> RoleState:
    role = RoleFacts("alice", "/", "arn:aws:iam::123456789012:role/alice")
    tool = {i: ToolPolicy(policy_name(PREFIX, "alice", i), f"arn:{i}", i, attached, "v1",
                          SHAPE.render(arns), frozenset(arns)) for i, arns in policies.items()}
    return RoleState(role, 10, 0, tool)


def plan(current: RoleState, add: set[str], remove: set[str]):  # type: ignore[no-untyped-def]
    return plan_role(current, add, remove, shape=SHAPE, budget=6048, share=0.8,
                     name_prefix=PREFIX)


ARN = "arn:aws:sagemaker:us-east-1:123456789012:model/"


def test_plan_first_grant_creates_and_attaches() -> None:
    """A role's first model: one CreatePolicy and one AttachRolePolicy."""
    result = plan(state({}), {ARN + "a"}, set())
    assert [op.kind for op in result.ops] == [OpKind.CREATE, OpKind.ATTACH]


def test_plan_same_state_is_a_no_op() -> None:
    """Granting what is already granted plans no write at all."""
    assert plan(state({1: {ARN + "a"}}), {ARN + "a"}, set()).ops == ()


def test_plan_last_removal_detaches_and_deletes() -> None:
    """A policy left empty is detached, then deleted."""
    result = plan(state({1: {ARN + "a"}}), set(), {ARN + "a"})
    assert [op.kind for op in result.ops] == [OpKind.DETACH, OpKind.DELETE]


def test_plan_repairs_detached_and_edited_policies() -> None:
    """A detached tool policy is re-attached; a hand-edited one rewritten and reported."""
    current = state({1: {ARN + "a"}}, attached=False)
    edited = ToolPolicy(current.tool_policies[1].name, "arn:1", 1, False, "v2",
                        {"Statement": [{"Resource": "*", "Action": "*"}, {"Resource": ARN + "a"}]},
                        frozenset({ARN + "a"}))
    current = RoleState(current.role, 10, 0, {1: edited})
    result = plan(current, {ARN + "a"}, set())
    assert [op.kind for op in result.ops] == [OpKind.UPDATE, OpKind.ATTACH]
    assert len(result.repairs) == 2
