"""Shared stacks: each configuration of the Pulumi program is run once per session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.cfn import resolve_sub
from tests.infra.pulumi_harness import StackRun, run_program

RESTRICTED_CONFIG = {
    "rolePathPrefix": "/ml-owners/",
    "roleTag": "model-access=eligible",
    "denyRoles": ["break-glass", "arn:aws:iam::123456789012:role/ops/admin"],
}
"""A stack that narrows eligibility every way the config allows."""
MEMBER_ACCOUNT = "111111111111"
ORGANIZATION = "o-a1b2c3d4e5"
ORG_CONFIG = {
    "organizationId": ORGANIZATION,
    "organizationalUnitIds": ["ou-ab12-cd34ef56", "ou-ab12-gh78ij90"],
    "memberRegions": ["us-east-1", "eu-west-1"],
    "memberAccounts": ["organization"],
    "managementAccountRoleArn": "arn:aws:iam::210987654321:role/model-access-deploy",
    "forwardRegions": ["us-west-2"],
}
"""A hub for an organization: two OUs, two member regions, every active member served, the
management account opted in, and one more region of the hub's own account."""


@pytest.fixture(scope="session")
def stack() -> StackRun:
    """The program with the default config (no stack config set at all)."""
    return run_program()


@pytest.fixture(scope="session")
def restricted_stack() -> StackRun:
    return run_program(RESTRICTED_CONFIG)


def role_policy(run: StackRun) -> dict[str, Any]:
    """The functions' own policy document as the program rendered it."""
    document: dict[str, Any] = json.loads(
        run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"]
    )
    return document


@pytest.fixture(scope="session")
def functions_policy(stack: StackRun) -> dict[str, Any]:
    return role_policy(stack)


@pytest.fixture(scope="session")
def restricted_policy(restricted_stack: StackRun) -> dict[str, Any]:
    return role_policy(restricted_stack)


@pytest.fixture(scope="session")
def org_stack() -> StackRun:
    return run_program(ORG_CONFIG)


@pytest.fixture(scope="session")
def restricted_org_stack() -> StackRun:
    return run_program({**RESTRICTED_CONFIG, **ORG_CONFIG})


def template(run: StackRun, label: str) -> dict[str, Any]:
    """The template of the StackSet `<prefix>-<label>`, as the program rendered it."""
    stack_set = run.one("aws:cloudformation/stackSet:StackSet", f"spokes-{label}")
    document: dict[str, Any] = json.loads(stack_set.inputs["templateBody"])
    return document


def member_role_policy(run: StackRun, account: str = MEMBER_ACCOUNT) -> dict[str, Any]:
    """The member role's policy from the member-role StackSet, as CloudFormation would
    substitute it in `account`."""
    role = template(run, "member-role")["Resources"]["MemberRole"]["Properties"]
    (policy,) = role["Policies"]
    document: dict[str, Any] = resolve_sub(policy["PolicyDocument"], account)
    return document


@pytest.fixture(scope="session")
def member_policy(org_stack: StackRun) -> dict[str, Any]:
    return member_role_policy(org_stack)


@pytest.fixture(scope="session")
def restricted_member_policy(restricted_org_stack: StackRun) -> dict[str, Any]:
    return member_role_policy(restricted_org_stack)
