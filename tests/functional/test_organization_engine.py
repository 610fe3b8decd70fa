"""The hub serves member accounts and other regions through the same engine (in-process moto).

moto maps AssumeRole credentials to the account in the role ARN, so a member's roles and
models are created with member credentials and the hub's provisioner, handed a CloudTrail
event from that account, must write that member's IAM and never the hub's.
"""

from __future__ import annotations

import pytest

from model_access.aws.clients import Clients
from model_access.handlers.provisioner import handle
from tests.functional.members import (
    MEMBER,
    ORG_ENV,
    OTHER_REGION,
    STRANGER,
    account_clients,
    create_event,
    model,
    owner_role,
    tool_policies,
)
from tests.functional.world import World


@pytest.fixture
def org(world: World) -> tuple[World, Clients, Clients]:
    member = account_clients(world.clients, MEMBER)
    member_eu = account_clients(world.clients, MEMBER, OTHER_REGION)
    owner_role(member, "alice")
    return world, member, member_eu


def test_member_event_writes_the_members_iam_never_the_hubs(
        org: tuple[World, Clients, Clients]) -> None:
    """A member's CreateModel grants its own alice, in its own IAM; the hub's alice (same
    name) gets nothing."""
    world, member, _ = org
    world.role("alice")
    arn = model(member, "fraud", "alice")
    rt = world.runtime(**ORG_ENV)
    assert world.send(rt, [create_event("fraud", arn, MEMBER)]) == {"batchItemFailures": []}
    assert tool_policies(member) == {"model-access-alice-01": [arn]}
    assert tool_policies(world.clients) == {}


def test_one_writer_per_account_and_role_across_regions(
        org: tuple[World, Clients, Clients]) -> None:
    """A member's models of two regions land in one policy of its role (one record, one
    lease per account and role)."""
    world, member, member_eu = org
    us = model(member, "fraud", "alice")
    eu = model(member_eu, "churn", "alice")
    rt = world.runtime(**ORG_ENV)
    world.send(rt, [create_event("fraud", us, MEMBER),
                    create_event("churn", eu, MEMBER, OTHER_REGION)])
    assert tool_policies(member) == {"model-access-alice-01": sorted([us, eu])}
    member_rt = rt.for_origin(MEMBER, OTHER_REGION)
    grants = member_rt.store.read([], ["alice"])[1]["alice"]
    assert set(grants.arns) == {us, eu}


def test_a_stranger_account_is_refused_and_nothing_is_called(
        org: tuple[World, Clients, Clients]) -> None:
    """An account outside MODEL_ACCESS_MEMBER_ACCOUNTS: AccountNotMember, no AWS call there."""
    world, _, _ = org
    stranger = account_clients(world.clients, STRANGER)
    owner_role(stranger, "alice")
    arn = model(stranger, "fraud", "alice")
    rt = world.runtime(**ORG_ENV)
    before = world.clients.counter.total("sts")
    result = handle(create_event("fraud", arn, STRANGER), rt)
    assert result["outcome"] == "AccountNotMember"
    assert world.clients.counter.total("sts") == before
    assert tool_policies(stranger) == {}


def test_without_members_configured_another_account_is_refused(world: World) -> None:
    """The default (no member accounts): an event of another account is AccountNotMember."""
    member = account_clients(world.clients, MEMBER)
    owner_role(member, "alice")
    arn = model(member, "fraud", "alice")
    result = handle(create_event("fraud", arn, MEMBER), world.runtime())
    assert result["outcome"] == "AccountNotMember"
    assert tool_policies(member) == {}


def test_same_name_models_in_two_accounts_in_one_batch(
        org: tuple[World, Clients, Clients]) -> None:
    """Model `fraud` in the hub and in a member, one batch: each account's alice gets its
    own account's model, nothing crosses."""
    world, member, _ = org
    world.role("alice")
    hub_arn = world.model("fraud", "alice")
    member_arn = model(member, "fraud", "alice")
    rt = world.runtime(**ORG_ENV)
    world.send(rt, [world.create_event("fraud", "alice"), create_event("fraud", member_arn,
                                                                         MEMBER)])
    assert tool_policies(member) == {"model-access-alice-01": [member_arn]}
    assert tool_policies(world.clients) == {"model-access-alice-01": [hub_arn]}


def test_member_role_is_never_granted(org: tuple[World, Clients, Clients]) -> None:
    """A member's model tagged with the member role itself: ProvisionerRole, nothing written."""
    world, member, _ = org
    owner_role(member, "model-access-member")
    arn = model(member, "fraud", "model-access-member")
    result = handle(create_event("fraud", arn, MEMBER), world.runtime(**ORG_ENV))
    assert result["outcome"] == "ProvisionerRole"
    assert tool_policies(member) == {}


def test_one_batch_of_two_regions_writes_the_role_once(
        org: tuple[World, Clients, Clients]) -> None:
    """A batch naming a member role's models in both regions is one reconcile of the
    account: one CreatePolicy and one AttachRolePolicy, no second version for the region."""
    world, member, member_eu = org
    us = model(member, "fraud", "alice")
    eu = model(member_eu, "churn", "alice")
    rt = world.runtime(**ORG_ENV)
    before = world.clients.counter.snapshot()
    assert world.send(rt, [create_event("fraud", us, MEMBER),
                           create_event("churn", eu, MEMBER, OTHER_REGION)]) == {
        "batchItemFailures": []}
    after = world.clients.counter.snapshot()
    writes = {k: after[k] - before.get(k, 0) for k in after
              if k.startswith("iam:") and after[k] != before.get(k, 0)
              and k.split(":")[1].startswith(("Create", "Attach", "Delete", "Set"))}
    assert writes == {"iam:CreatePolicy": 1, "iam:AttachRolePolicy": 1}
    assert tool_policies(member) == {"model-access-alice-01": sorted([us, eu])}
