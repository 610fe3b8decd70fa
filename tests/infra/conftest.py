"""Shared stacks: each configuration of the Pulumi program is run once per session."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.infra.pulumi_harness import StackRun, run_program

RESTRICTED_CONFIG = {
    "rolePathPrefix": "/ml-owners/",
    "roleTag": "model-access=eligible",
    "denyRoles": ["break-glass", "arn:aws:iam::123456789012:role/ops/admin"],
}
"""A stack that narrows eligibility every way the config allows."""


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
