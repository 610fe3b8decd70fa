"""Broken dependencies: throttling, 5xx, connection errors, a slow endpoint, and crashes.

The provisioner's clients get a fault-injecting layer (tests/functional/faults.py) while the
test's own clients stay clean. Records travel through a small stand-in for SQS with its
redrive policy: a batch item failure comes back with a higher receive count, and after
`maxReceiveCount` receives it lands in the dead-letter queue, from which a later redrive
(or the sweep) finishes the job. Every test ends with a clean `verify`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from moto.core.base_backend import BackendDict

from model_access.aws.clients import IAM_TOTAL_ATTEMPTS, Clients
from model_access.aws.leases import RoleLeases
from model_access.core.settings import Settings
from model_access.handlers.provisioner import handle
from model_access.operate.verify import verify
from model_access.policy.naming import parse_policy_name
from model_access.runtime import Runtime
from model_access.sweep.backfill import Backfill
from model_access_cli.local import cloudtrail
from model_access_cli.local.stack import MAX_RECEIVE_COUNT, local_up
from tests.functional.faults import (
    TOTAL_ATTEMPTS,
    Crash,
    CrashAfter,
    Faults,
    Rule,
    fast_backoff,
)
from tests.functional.world import REGION, World, role_arn

ROLES = ("alice", "bob", "carol")


@dataclass
class Queue:
    """SQS as the mapping sees it: batches, redelivery with a receive count, then the DLQ."""

    max_receives: int = MAX_RECEIVE_COUNT
    pending: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    dlq: list[dict[str, Any]] = field(default_factory=list)
    deliveries: int = 0
    failures: int = 0

    def send(self, events: Iterable[dict[str, Any]]) -> None:
        self.pending += [(event, 1) for event in events]

    def drain(self, rt: Runtime, batch_size: int = 10) -> None:
        """Deliver until nothing is pending; the handler must never raise."""
        while self.pending:
            batch, self.pending = self.pending[:batch_size], self.pending[batch_size:]
            sqs = {"Records": [cloudtrail.sqs_record(json.dumps(event), receive_count=count)
                               for event, count in batch]}
            self.deliveries += 1
            failed = {f["itemIdentifier"] for f in handle(sqs, rt)["batchItemFailures"]}
            self.failures += len(failed)
            for record, (event, count) in zip(sqs["Records"], batch, strict=True):
                if record["messageId"] not in failed:
                    continue
                if count >= self.max_receives:
                    self.dlq.append(event)
                else:
                    self.pending.append((event, count + 1))

    def redrive(self) -> None:
        """Move every DLQ message back to the source queue (SQS StartMessageMoveTask)."""
        self.send(self.dlq)
        self.dlq = []


def provisioner_on(world: World, **env: str) -> Runtime:
    """A provisioner runtime with its own clients (hooked by the faults), on the same moto."""
    return World(Clients(region=REGION)).runtime(**env)


def assert_truth(world: World, rt: Runtime, owners: dict[str, str | None]) -> None:
    """Each role holds exactly the models it owns, and verify finds nothing."""
    roles = {r["RoleName"] for r in world.clients.iam.list_roles()["Roles"]}
    expected: dict[str, set[str]] = {role: set() for role in roles}
    for name, owner in owners.items():
        if owner:
            expected[owner].add(world.arns[name])
    assert {role: set(world.granted(rt, role)) for role in roles} == expected
    assert verify(rt) == []


def busy_scenario(world: World, queue: Queue) -> dict[str, str | None]:
    """Nine models of three owners created, then one moved, one deleted, one re-tagged."""
    for role in ROLES:
        world.role(role)
    owners: dict[str, str | None] = {}
    for role in ROLES:
        for i in range(3):
            owners[f"{role[0]}{i}"] = role
            world.model(f"{role[0]}{i}", role)
    queue.send(world.create_event(name) for name in owners)
    world.set_owner("a0", "bob")
    owners["a0"] = "bob"
    world.delete_model("b1")
    del owners["b1"]
    world.set_owner("c2", None)
    owners["c2"] = None
    queue.send([world.add_tags_event("a0", "bob"), world.delete_event("b1"),
                world.delete_tags_event("c2")])
    return owners


@pytest.mark.parametrize(("rule", "seed"), [
    pytest.param(Rule("throttle", ("iam",), share=0.3), 1, id="iam-throttling-30pc"),
    pytest.param(Rule("error500", ("iam", "sagemaker", "tagging"), share=0.25), 2,
                 id="5xx-25pc"),
    pytest.param(Rule("connection", ("dynamodb", "iam"), share=0.2), 3,
                 id="connection-errors-20pc"),
    pytest.param(Rule("throttle", ("dynamodb",), share=0.3), 4, id="dynamodb-throttling-30pc"),
    pytest.param(Rule("error500-applied", ("iam", "dynamodb"), share=0.2), 6,
                 id="5xx-after-the-write-applied-20pc"),
])
def test_faults_on_a_share_of_calls_converge(world: World, monkeypatch: pytest.MonkeyPatch,
                                             rule: Rule, seed: int) -> None:
    """A share of failing calls is absorbed by bounded retries and redelivery: same end state."""
    fast_backoff(monkeypatch)
    queue = Queue()
    owners = busy_scenario(world, queue)
    rt = provisioner_on(world)
    with Faults(rt.clients, [rule], seed=seed) as faults:
        queue.drain(rt, batch_size=4)
    assert faults.injected[rule.kind] > 0, "the fault never fired"
    assert faults.max_attempts <= TOTAL_ATTEMPTS
    assert queue.deliveries <= 3 * MAX_RECEIVE_COUNT
    queue.redrive()  # whatever reached the DLQ under faults is finished by a redrive
    queue.drain(rt)
    assert_truth(world, rt, owners)


def test_faults_persistent_iam_failure_goes_to_dlq_then_redrive_finishes(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Throttled on every attempt: 3 IAM attempts per call, 5 receives, then the DLQ."""
    fast_backoff(monkeypatch)
    queue = Queue()
    world.role("alice")
    world.role("bob")
    world.model("blocked", "alice")
    world.model("fine", "bob")
    world.model("untagged")
    rt = provisioner_on(world)
    world.send(rt, [world.create_event("fine")])  # bob's policy exists: no CreatePolicy needed
    world.model("fine-2", "bob")
    queue.send([world.create_event(n) for n in ("blocked", "fine-2", "untagged")])
    stuck = Rule("throttle", ("iam",), operations=("CreatePolicy",))
    with Faults(rt.clients, [stuck]) as faults:
        queue.drain(rt, batch_size=3)
    assert [e["detail"]["requestParameters"]["modelName"] for e in queue.dlq] == ["blocked"]
    assert faults.attempts[("iam", "CreatePolicy")] == MAX_RECEIVE_COUNT * IAM_TOTAL_ATTEMPTS
    assert faults.max_attempts == IAM_TOTAL_ATTEMPTS
    assert world.granted(rt, "bob") == {world.arns["fine"], world.arns["fine-2"]}
    assert world.granted(rt, "alice") == set()
    queue.redrive()
    queue.drain(rt)
    assert not queue.dlq
    assert_truth(world, rt, {"blocked": "alice", "fine": "bob", "fine-2": "bob",
                             "untagged": None})


def test_faults_dlq_leftovers_are_finished_by_the_sweep(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Instead of a redrive, the scheduled backfill finishes what reached the DLQ."""
    fast_backoff(monkeypatch)
    queue = Queue()
    world.role("alice")
    world.model("m1", "alice")
    world.model("m2", "alice")
    rt = provisioner_on(world)
    queue.send([world.create_event("m1"), world.create_event("m2")])
    with Faults(rt.clients, [Rule("error500", ("iam",), operations=("AttachRolePolicy",))]):
        queue.drain(rt)
    assert len(queue.dlq) == 2
    assert verify(rt), "a half-done grant is visible to verify"
    Backfill(rt).run()
    assert_truth(world, rt, {"m1": "alice", "m2": "alice"})


def test_faults_slow_endpoint_and_read_timeouts_converge_in_bounded_time(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every IAM and DynamoDB call 10 ms late, a share of IAM calls timing out: converged."""
    fast_backoff(monkeypatch)
    queue = Queue()
    owners = busy_scenario(world, queue)
    rt = provisioner_on(world)
    rules = [Rule("slow", ("iam", "dynamodb"), delay=0.01),
             Rule("timeout", ("iam",), share=0.15, delay=0.05)]
    started = time.monotonic()
    with Faults(rt.clients, rules, seed=5) as faults:
        queue.drain(rt, batch_size=4)
    assert faults.injected["slow"] > 20 and faults.injected["timeout"] > 0
    assert time.monotonic() - started < 30
    queue.redrive()
    queue.drain(rt)
    assert_truth(world, rt, owners)


def test_faults_lease_running_out_on_a_slow_endpoint_stops_writes(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fencing: a lease that expired during a slow IAM call cannot be renewed, so the next
    write is not made; the record is retried, not lost."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m0", "alice")
    rt = provisioner_on(world, MODEL_ACCESS_LEASE_SECONDS="50")
    now = [time.time()]
    s = rt.settings
    rt.reconciler.leases = RoleLeases(rt.clients.dynamodb, s.table_name,
                                      lease_seconds=s.lease_seconds,
                                      wait_seconds=s.lease_wait_seconds, clock=lambda: now[0])
    queue = Queue()
    queue.send([world.create_event("m0")])
    slow = Rule("slow", ("iam",), operations=("CreatePolicy",), delay=60.0, budget=1)
    with Faults(rt.clients, [slow], sleep=lambda seconds: now.__setitem__(0, now[0] + seconds)):
        queue.drain(rt)
    assert slow.injected == 1
    assert queue.failures == 1, "the lease ran out after CreatePolicy: the attach was not made"
    assert queue.deliveries == 2
    assert_truth(world, rt, {"m0": "alice"})


# --- crash consistency -----------------------------------------------------------------

Setup = Callable[[World, Runtime], tuple[list[dict[str, Any]], dict[str, str | None]]]


def crash_create(world: World, rt: Runtime) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    world.model("m1", "alice")
    return [world.create_event("m1")], {"m1": "alice"}


def crash_move(world: World, rt: Runtime) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    world.model("m1", "alice")
    world.model("m2", "alice")
    world.model("b1", "bob")
    world.send(rt, [world.create_event(n) for n in ("m1", "m2", "b1")])
    world.set_owner("m1", "bob")
    return ([world.add_tags_event("m1", "bob", caller_role_arn=role_arn("alice"))],
            {"m1": "bob", "m2": "alice", "b1": "bob"})


def crash_delete(world: World, rt: Runtime) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    world.model("m1", "alice")
    world.send(rt, [world.create_event("m1")])
    world.delete_model("m1")
    return [world.delete_event("m1")], {}


def crash_reuse(world: World, rt: Runtime) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    world.model("m1", "alice")
    world.model("m2", "alice")
    world.send(rt, [world.create_event("m1"), world.create_event("m2")])
    world.delete_model("m1")
    world.model("m1", "bob")
    return ([world.create_event("m1"), world.delete_event("m1")],
            {"m1": "bob", "m2": "alice"})


def crash_wave(world: World, rt: Runtime) -> tuple[list[dict[str, Any]], dict[str, str | None]]:
    """Two role groups in one wave (shared intent and commit transactions): alice already
    holds a policy (a new version), bob gets his first (create, attach)."""
    world.model("a1", "alice")
    world.send(rt, [world.create_event("a1")])
    for name, owner in (("a2", "alice"), ("b1", "bob"), ("b2", "bob")):
        world.model(name, owner)
    return ([world.create_event(n) for n in ("a2", "b1", "b2")],
            {"a1": "alice", "a2": "alice", "b1": "bob", "b2": "bob"})


def tool_state(world: World, rt: Runtime) -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """Every tool policy: the roles it is attached to and the model ARNs it grants."""
    state = {}
    for row in rt.iam.list_tool_policies():
        name, arn = row.name, row.arn
        roles = world.clients.iam.list_entities_for_policy(PolicyArn=arn)["PolicyRoles"]
        parsed = parse_policy_name(rt.settings.policy_name_prefix, name)
        assert parsed is not None
        policy = rt.iam.read_tool_policy(parsed.role_name, name, attached=False)
        arns = policy.model_arns if policy else frozenset()
        state[name] = (tuple(sorted(r["RoleName"] for r in roles)), arns)
    return state


def fresh(world: World) -> Runtime:
    """A reset account with alice and bob (the crash loop needs one per stopping point)."""
    BackendDict.reset()
    local_up(world.clients, Settings.from_mapping({}))
    world.arns.clear()
    world.role("alice")
    world.role("bob")
    return world.runtime()


def after_lease_expiry(rt: Runtime) -> Runtime:
    """The redelivery comes after the visibility timeout, when the dead worker's leases expired."""
    s = rt.settings
    rt.reconciler.leases = RoleLeases(rt.clients.dynamodb, s.table_name,
                                      lease_seconds=s.lease_seconds,
                                      wait_seconds=s.lease_wait_seconds,
                                      clock=lambda: time.time() + s.lease_seconds + 1)
    return rt


@pytest.mark.parametrize("setup", [crash_create, crash_move, crash_delete, crash_reuse,
                                   crash_wave],
                         ids=["create", "move", "delete", "name-reuse", "wave"])
def test_crash_between_any_two_writes_converges_on_redelivery(world: World,
                                                              setup: Setup) -> None:
    """A reconcile stopped after its N-th write, for every N: the redelivery ends where an
    uninterrupted run ends, with no orphan policy and no stale grant."""
    rt = fresh(world)
    events, owners = setup(world, rt)
    counter = CrashAfter(world.clients)
    with counter.armed():
        assert world.send(rt, events) == {"batchItemFailures": []}
    reference = tool_state(world, rt)
    assert_truth(world, rt, owners)
    total = len(counter.writes)
    assert total >= 3, counter.writes
    if setup is crash_wave:  # both groups' leases, intents and commit: one transaction each
        assert counter.writes.count("dynamodb:TransactWriteItems") == 3, counter.writes
        assert "dynamodb:PutItem" not in counter.writes, counter.writes
    for n in range(1, total + 1):
        rt = fresh(world)
        events, owners = setup(world, rt)
        crash = CrashAfter(world.clients, after=n)
        with crash.armed(), pytest.raises(Crash):
            world.send(rt, events)
        assert crash.dead, n
        redelivery = after_lease_expiry(world.runtime())
        for attempt in range(3):
            if world.send(redelivery, events, receive_count=2 + attempt) == {
                    "batchItemFailures": []}:
                break
        else:
            pytest.fail(f"crash after write {n} ({crash.writes[-1]}): never converged")
        where = f"crash after write {n} of {total} ({crash.writes[-1]})"
        state = tool_state(world, redelivery)
        assert state == reference, where
        assert all(roles and arns for roles, arns in state.values()), f"orphan policy: {where}"
        assert_truth(world, redelivery, owners)  # ends with a clean verify
