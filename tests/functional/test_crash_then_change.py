"""Crash consistency when the world moves on: a worker stops after any of its writes, then the
model is deleted or re-tagged before the stopped batch comes back.

The redelivery alone cannot find the role that may hold the grant from the truth any more
(the model is gone, or names another owner). What the worker wrote before IAM must lead the
next reconcile of that model to the role, and make it rewrite that role's policies from the
store, so no stale grant survives until the sweep.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from model_access.runtime import Runtime
from tests.functional.faults import Crash, CrashAfter
from tests.functional.test_faults import after_lease_expiry, assert_truth, fresh
from tests.functional.world import World, role_arn

Events = list[dict[str, Any]]
Owners = dict[str, str | None]


def grant_into_existing_policy(world: World, rt: Runtime) -> tuple[Events, Owners]:
    """alice already holds m0: granting m1 writes a new version of her policy."""
    world.model("m0", "alice")
    world.send(rt, [world.create_event("m0")])
    world.model("m1", "alice")
    return [world.create_event("m1")], {"m0": "alice", "m1": "alice"}


def grant_opening_a_policy(world: World, rt: Runtime) -> tuple[Events, Owners]:
    """alice holds nothing yet: granting m1 creates and attaches her first policy."""
    world.model("m1", "alice")
    return [world.create_event("m1")], {"m1": "alice"}


def then_delete(world: World, owners: Owners) -> Events:
    world.delete_model("m1")
    del owners["m1"]
    return [world.delete_event("m1")]


def then_retag(world: World, owners: Owners) -> Events:
    world.set_owner("m1", "bob")
    owners["m1"] = "bob"
    return [world.add_tags_event("m1", "bob", caller_role_arn=role_arn("alice"))]


Setup = Callable[[World, Runtime], tuple[Events, Owners]]
Change = Callable[[World, Owners], Events]


@pytest.mark.parametrize("setup", [grant_into_existing_policy, grant_opening_a_policy],
                         ids=["existing-policy", "first-policy"])
@pytest.mark.parametrize("change", [then_delete, then_retag], ids=["deleted", "re-tagged"])
def test_crash_then_change_converges_without_the_sweep(world: World, setup: Setup,
                                                       change: Change) -> None:
    """Stopped after its N-th write (every N), then the model deleted or re-tagged: the
    change's event and the redelivery leave exactly the truth in IAM and a clean verify."""
    rt = fresh(world)
    events, _ = setup(world, rt)
    counter = CrashAfter(world.clients)
    with counter.armed():
        assert world.send(rt, events) == {"batchItemFailures": []}
    total = len(counter.writes)
    for n in range(1, total + 1):
        rt = fresh(world)
        events, owners = setup(world, rt)
        crash = CrashAfter(world.clients, after=n)
        with crash.armed(), pytest.raises(Crash):
            world.send(rt, events)
        where = f"crash after write {n} of {total} ({crash.writes[-1]})"
        changed = change(world, owners)
        redelivery = after_lease_expiry(world.runtime())
        for batch in (changed, events):  # the change's event first, then the stopped batch
            for attempt in range(3):
                if world.send(redelivery, batch, receive_count=2 + attempt) == {
                        "batchItemFailures": []}:
                    break
            else:
                pytest.fail(f"{where}: never converged")
        assert_truth(world, redelivery, owners)
