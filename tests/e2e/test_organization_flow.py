"""The organization's event path over HTTP: a member account's default bus in another region
-> the spoke rule (the forwarding template, deployed by CloudFormation there) -> the hub bus
-> the hub queue -> the local poller -> the provisioner, which writes the member's IAM."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import pytest

from model_access.aws.clients import Clients
from model_access.core.settings import Settings
from model_access.handlers.observability import metrics
from model_access_cli.local import cloudtrail
from model_access_cli.local.lambdas import LocalInvoker, load_function
from model_access_cli.local.poller import LocalPoller
from model_access_cli.local.stack import LocalStack, hub_bus_arn, local_spoke, local_up
from tests.functional.members import (
    MEMBER,
    ORG_ENV,
    OTHER_REGION,
    STRANGER,
    account_clients,
    model,
    owner_role,
    tool_policies,
)
from tests.functional.world import ACCOUNT, REGION, World

pytestmark = [pytest.mark.e2e, pytest.mark.filterwarnings("ignore:Tried to parse AWS")]
"""moto's CloudFormation skips the spoke DLQ's queue policy (checked offline instead)."""


@pytest.fixture
def hub(endpoint: str) -> tuple[World, LocalStack]:
    """The hub's stack with its bus, on a fresh server; alice exists in the hub too."""
    clients = Clients(region=REGION, endpoint_url=endpoint)
    stack = local_up(clients, Settings.from_mapping(dict(os.environ)), hub_bus=True)
    world = World(clients)
    world.role("alice")
    return world, stack


def drain(world: World, stack: LocalStack) -> tuple[Any, Counter[str]]:
    """Poll the hub queue into the provisioner; the records' stats and the metrics emitted."""
    module = load_function("provisioner")
    module._runtime = world.runtime(**ORG_ENV)
    metrics.clear_metrics()  # what earlier in-process tests counted is not this drain's
    invoker = LocalInvoker(module)
    stats = LocalPoller(world.clients.sqs, stack.queue_url, stack.queue_arn,
                        invoker).drain(timeout=60)
    return stats, invoker.tally.totals


def spoke_with_model(world: World, account: str) -> tuple[Clients, str]:
    """An account with its spoke in the other region, alice there, and her model there."""
    home, other = (account_clients(world.clients, account),
                   account_clients(world.clients, account, OTHER_REGION))
    owner_role(home, "alice")
    local_spoke(home, OTHER_REGION, hub_bus_arn(REGION, ACCOUNT))
    return home, model(other, "churn", "alice")


def put_on_default_bus(world: World, account: str, detail: dict[str, Any]) -> None:
    events = account_clients(world.clients, account, OTHER_REGION).events
    answer = events.put_events(Entries=[cloudtrail.put_events_entry(detail)])
    assert answer["FailedEntryCount"] == 0


def test_member_event_reaches_the_hub_and_writes_only_the_members_iam(
        hub: tuple[World, LocalStack]) -> None:
    """CreateModel in MEMBER's other region, put on its default bus: the spoke forwards it
    to the hub bus, its rule to the queue; the provisioner grants MEMBER's alice in MEMBER's
    IAM and writes nothing in the hub's."""
    world, stack = hub
    member, arn = spoke_with_model(world, MEMBER)
    put_on_default_bus(world, MEMBER, cloudtrail.create_model(
        "churn", arn, account=MEMBER, region=OTHER_REGION))
    stats, metrics = drain(world, stack)
    assert (stats.records, stats.failed_records, metrics["Granted"]) == (1, 0, 1)
    assert tool_policies(member) == {"model-access-alice-01": [arn]}
    assert tool_policies(world.clients) == {}


def test_stranger_event_reaches_the_hub_and_is_refused(hub: tuple[World, LocalStack]) -> None:
    """The same from an account the hub does not serve: it arrives (the spoke forwards
    anything) and is AccountNotMember; no tool policy anywhere."""
    world, stack = hub
    stranger, arn = spoke_with_model(world, STRANGER)
    put_on_default_bus(world, STRANGER, cloudtrail.create_model(
        "churn", arn, account=STRANGER, region=OTHER_REGION))
    stats, metrics = drain(world, stack)
    assert (stats.records, stats.failed_records, metrics["AccountNotMember"]) == (1, 0, 1)
    assert tool_policies(stranger) == {} and tool_policies(world.clients) == {}
