"""The reconcile engine at account scale: one regression test per finding of the review.

1. IAM reads lag a write: the engine plans from the grant store, never from IAM.
2. A foreign ARN hand-added to a tool policy is found (`tampered`) and removed by the sweep.
3. A truth read before the lease is re-read under it before a holder changes.
4. Deadlines: lease waiting is bounded per invocation; busy records come back soon.
5. The sweep finishes: a policy that cannot be deleted does not stop it.
6. Fencing: a lease taken over mid-apply stops further writes and the commit.
Plus: thousands of models, most untagged, cost a bounded number of AWS calls.
"""

from __future__ import annotations

import json
import time
from typing import Any

from model_access.aws.clients import Clients
from model_access.aws.leases import RoleLeases
from model_access.aws.models import ModelTruth
from model_access.core.arns import ResourceKey
from model_access.core.outcomes import Outcome
from model_access.handlers.provisioner import handle
from model_access.model.events import ModelHint, Trigger
from model_access.operate.verify import verify
from model_access.sweep.backfill import Backfill
from tests.functional.faults import Faults, LaggingReads, Rule, fast_backoff
from tests.functional.functions_loader import lambda_context
from tests.functional.world import REGION, World, role_arn


def test_lagging_iam_reads_lose_no_grant(world: World) -> None:
    """Finding 1: with every IAM read one write behind, grants added one by one, a move and
    a full backfill all end exactly at the truth (the store, not IAM, is planned from)."""
    for role in ("alice", "bob"):
        world.role(role)
    worker = World(Clients(region=REGION)).runtime()
    with LaggingReads(worker.clients) as lag:
        for i in range(4):
            world.model(f"m{i}", "alice")
            world.send(worker, [world.create_event(f"m{i}")])
        world.set_owner("m0", "bob")
        world.send(worker, [world.add_tags_event("m0", "bob",  # the owner hands it over
                                                 caller_role_arn=role_arn("alice"))])
        Backfill(worker).run()
        Backfill(worker).run()
    assert lag.lagged > 0, "no read was ever stale: the test proves nothing"
    rt = world.runtime()  # observe with clean clients
    assert world.granted(rt, "alice") == {world.arns[f"m{i}"] for i in (1, 2, 3)}
    assert world.granted(rt, "bob") == {world.arns["m0"]}
    assert verify(rt) == []


def test_foreign_arn_added_by_hand_is_reported_and_removed(world: World) -> None:
    """Finding 2: bob's model ARN added by hand to alice's tool policy is `tampered` for
    verify, and the sweep rewrites the policy from the store without it."""
    world.role("alice")
    world.role("bob")
    world.model("a1", "alice")
    world.model("b1", "bob")
    rt = world.runtime()
    world.send(rt, [world.create_event("a1"), world.create_event("b1")])
    arn = rt.iam.policy_arn("model-access-alice-01")
    doc = rt.reconciler.shape.render({world.arns["a1"], world.arns["b1"]})
    world.clients.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc),
                                            SetAsDefault=True)
    kinds = {d.kind for d in verify(rt)}
    assert "tampered" in kinds
    result = Backfill(rt).run()
    assert result.as_dict()["policyFindings"] == {"tampered": 1}
    assert world.granted(rt, "alice") == {world.arns["a1"]}
    versions = world.clients.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert all(v["VersionId"] != "v2" for v in versions), "the tampered version survived"
    assert verify(rt) == []


def test_truth_read_before_the_lease_is_re_read_under_it(world: World) -> None:
    """Finding 3: a sweep that read owner=bob from the tag index, while the tag went back to
    alice and both events were processed, does not move the grant: it re-reads first."""
    world.role("alice")
    world.role("bob")
    arn = world.model("m1", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("m1")])
    key = ResourceKey.of(REGION, "m1")
    world.clients.counter.reset()
    stale = ModelTruth(key, True, arn, "m1", (("owner-role", "bob"),), from_index=True)
    hint = ModelHint(Trigger.RECONCILE, "sweep-x", "m1", REGION, model_arn=arn)
    report = rt.reconciler.reconcile([hint], truths={key: stale})
    assert report.results[key].outcome is Outcome.UNCHANGED
    assert world.granted(rt, "alice") == {arn} and world.granted(rt, "bob") == set()
    assert world.clients.counter.calls[("sagemaker", "DescribeModel")] == 1, "re-read once"


def test_busy_roles_cost_one_bounded_wait_and_come_back_soon(world: World) -> None:
    """Finding 4: twenty roles leased by another worker: the invocation waits at most its
    lease-wait budget in all (not per role), and asks SQS to return each record in seconds."""
    roles = [f"r{i:02d}" for i in range(20)]
    for role in roles:
        world.role(role)
        world.model(f"m-{role}", role)
    rt = world.runtime(MODEL_ACCESS_LEASE_WAIT_SECONDS="1")
    other = world.runtime()
    assert other.reconciler.leases.acquire(roles, 0) == frozenset(roles)
    started = time.monotonic()
    result = handle(world.batch([world.create_event(f"m-{r}") for r in roles]), rt,
                    lambda_context())
    elapsed = time.monotonic() - started
    assert len(result["batchItemFailures"]) == 20
    assert elapsed < 5, f"waited {elapsed:.1f} s: lease waiting is not bounded per invocation"
    assert world.clients.counter.calls[("sqs", "ChangeMessageVisibilityBatch")] == 2


def test_no_group_starts_past_the_deadline(world: World) -> None:
    """Finding 4: with less time left than the reserve, nothing is applied and every record
    goes back to the queue at once (the function never runs into its timeout)."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    context = lambda_context(timeout=5.0)  # below the 10 s reserve
    result = handle(world.batch([world.create_event("m1")]), rt, context)
    assert len(result["batchItemFailures"]) == 1
    assert world.granted(rt, "alice") == set()


def test_sweep_goes_on_past_a_policy_that_cannot_be_deleted(world: World) -> None:
    """Finding 5: a tool policy also attached to a user (DeleteConflict forever) is reported;
    the sweep still reconciles every other model."""
    world.role("alice")
    world.role("bob")
    world.model("a1", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("a1")])
    arn = rt.iam.policy_arn("model-access-alice-01")
    world.clients.iam.create_user(UserName="mallory")
    world.clients.iam.attach_user_policy(UserName="mallory", PolicyArn=arn)
    world.delete_model("a1")
    world.model("b1", "bob")
    result = Backfill(rt).run()
    assert world.granted(rt, "bob") == {world.arns["b1"]}
    assert world.granted(rt, "alice") == set(), "detached from alice: the grant is gone"
    assert any("user(s) or group(s)" in repair for _, repair in result.report.repairs)
    assert "leaked-policy" in {d.kind for d in verify(rt)}


def test_lease_taken_over_mid_apply_stops_writes_and_commit(world: World) -> None:
    """Finding 6: when another worker holds the role after our lease ran out, our next IAM
    write is not made and nothing is committed; the record is retried and converges."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime(MODEL_ACCESS_LEASE_SECONDS="60")
    now = [time.time()]
    s = rt.settings
    rt.reconciler.leases = RoleLeases(rt.clients.dynamodb, s.table_name,
                                      lease_seconds=60, wait_seconds=0, clock=lambda: now[0])
    thief = RoleLeases(rt.clients.dynamodb, s.table_name, lease_seconds=60, wait_seconds=0,
                       clock=lambda: now[0])

    def take_over(**_: Any) -> None:  # CreatePolicy "took" 70 s; another worker moved in
        now[0] += 70
        assert thief.acquire(["alice"], 0) == {"alice"}

    world.clients.iam.meta.events.register("after-call.iam.CreatePolicy", take_over)
    try:
        result = world.send(rt, [world.create_event("m1")])
    finally:
        world.clients.iam.meta.events.unregister("after-call.iam.CreatePolicy", take_over)
    assert len(result["batchItemFailures"]) == 1
    assert world.clients.counter.calls[("iam", "AttachRolePolicy")] == 0
    # Written before IAM, the model record names alice; the role record does not hold m1,
    # so nothing claims the grant was made, and the next reconcile of m1 writes it.
    assert world.record(rt, "m1").role == "alice"
    _, roles = rt.store.read([], ["alice"])
    assert roles["alice"].arns == frozenset()
    thief.release(["alice"])
    assert world.send(rt, [world.create_event("m1")]) == {"batchItemFailures": []}
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    assert verify(rt) == []


def test_record_changed_after_the_decision_read_is_a_conflict_not_a_double_grant(
        world: World) -> None:
    """The waves read only the role records under the leases; a model record that another
    worker changes after our decision read it is caught by the version condition of our
    record write: no grant made from the stale record, the model is retried, and the retry
    converges. (Here the other worker moves m1 to bob between our read and our lease.)"""
    world.role("alice")
    world.role("bob")
    world.model("m1", "alice")
    rt = world.runtime()
    assert world.send(rt, [world.create_event("m1")]) == {"batchItemFailures": []}
    world.set_owner("m1", "bob")
    handover = world.add_tags_event("m1", "bob", caller_role_arn=role_arn("alice"))
    other = World(Clients(region=REGION))
    other.arns = world.arns
    other_rt = other.runtime()
    raced: list[dict[str, Any]] = []

    def other_worker_moves_it(**_: Any) -> None:
        if not raced:  # after our decision's record read, before our leases
            raced.append(other.send(other_rt, [handover]))

    world.clients.dynamodb.meta.events.register("after-call.dynamodb.BatchGetItem",
                                                other_worker_moves_it)
    try:
        ours = world.send(rt, [handover])
    finally:
        world.clients.dynamodb.meta.events.unregister("after-call.dynamodb.BatchGetItem",
                                                      other_worker_moves_it)
    assert raced == [{"batchItemFailures": []}], "the other worker did not run in between"
    observe = World(Clients(region=REGION)).runtime()
    assert world.granted(observe, "bob") == {world.arns["m1"]}
    assert world.granted(observe, "alice") == set()
    assert world.record(observe, "m1").role == "bob"
    assert verify(observe) == []
    assert len(ours["batchItemFailures"]) == 1  # the conflict: m1 comes back to the queue
    assert world.send(rt, [handover]) == {"batchItemFailures": []}
    assert world.granted(observe, "bob") == {world.arns["m1"]}
    assert world.granted(observe, "alice") == set()


def test_thousands_of_mostly_untagged_models_cost_few_calls(world: World) -> None:
    """3,000 models, 90 % without an owner tag, 10 owner roles: a full sweep makes no call
    per untagged model; its AWS calls are bounded by the tagged models and the roles."""
    roles = [f"owner{i}" for i in range(10)]
    for role in roles:
        world.role(role)
    for i in range(3000):
        world.model(f"model-{i:04d}", roles[i % 10] if i % 10 == 0 or i < 300 else None)
    tagged = 300 + sum(1 for i in range(300, 3000) if i % 10 == 0)
    rt = world.runtime()
    world.clients.counter.reset()
    result = Backfill(rt).run().as_dict()
    assert result["granted"] == tagged
    calls = world.clients.counter.total()
    untagged = 3000 - tagged
    # Per tagged model: at most DescribeModel + ListTags (re-read before a first grant) and a
    # share of batched record reads/writes; per role a handful of IAM and lease calls.
    assert calls <= 2.2 * tagged + 40 * len(roles), calls
    assert world.clients.counter.calls[("sagemaker", "ListModels")] == 0
    second = world.clients.counter.total()
    world.clients.counter.reset()
    assert Backfill(rt).run().as_dict()["unchanged"] == tagged
    assert world.iam_writes() == 0
    assert world.clients.counter.total() <= 0.1 * untagged, "a second sweep is cheap too"
    assert second == calls


def test_iam_throttled_version_list_is_absorbed(world: World, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """ConcurrentModification on a write is retryable: the record comes back and converges."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m1", "alice")
    world.model("m2", "alice")
    rt = World(Clients(region=REGION)).runtime()
    world.send(rt, [world.create_event("m1")])
    rule = Rule("error500", ("iam",), operations=("CreatePolicyVersion",), budget=3)
    with Faults(rt.clients, [rule]):
        first = world.send(rt, [world.create_event("m2")])
    assert len(first["batchItemFailures"]) == 1
    assert world.send(rt, [world.create_event("m2")], receive_count=2) == {
        "batchItemFailures": []}
    assert verify(world.runtime()) == []


def test_wave_with_a_busy_role_applies_the_free_ones(world: World) -> None:
    """Three roles in one batch while another worker holds bob: the all-or-none lease
    transaction is cancelled, the leases are then taken one by one, alice and carol are
    granted together (one intent and one commit transaction), bob's model comes back and
    converges once bob is free."""
    for role in ("alice", "bob", "carol"):
        world.role(role)
        world.model(f"{role}-m", role)
    rt = world.runtime(MODEL_ACCESS_LEASE_WAIT_SECONDS="0")
    s = rt.settings
    thief = RoleLeases(rt.clients.dynamodb, s.table_name, lease_seconds=60, wait_seconds=0)
    assert thief.acquire(["bob"], 0) == {"bob"}
    world.clients.counter.reset()
    result = world.send(rt, [world.create_event(f"{r}-m") for r in ("alice", "bob", "carol")])
    assert len(result["batchItemFailures"]) == 1
    assert world.granted(rt, "alice") == {world.arns["alice-m"]}
    assert world.granted(rt, "carol") == {world.arns["carol-m"]}
    assert world.granted(rt, "bob") == set()
    calls = world.clients.counter.calls
    # after the cancelled all-or-none take: alice, bob (refused), carol one by one, and bob
    # once more after the free groups (no waiting allowed here)
    assert calls[("dynamodb", "PutItem")] == 4
    # leases (cancelled), intents of both groups, their commit giving the leases back
    assert calls[("dynamodb", "TransactWriteItems")] == 3
    thief.release(["bob"])
    assert world.send(rt, [world.create_event("bob-m")]) == {"batchItemFailures": []}
    assert world.granted(rt, "bob") == {world.arns["bob-m"]}
    assert verify(rt) == []


def test_releasing_leases_when_one_was_taken_over_keeps_the_new_holders(world: World) -> None:
    """Leases are given back in one transaction; when one of them has meanwhile passed to
    another worker the transaction is cancelled and each is deleted on its own condition:
    ours go, the other worker's stays."""
    rt = world.runtime()
    s = rt.settings
    now = [time.time()]
    ours = RoleLeases(rt.clients.dynamodb, s.table_name, lease_seconds=60, wait_seconds=0,
                      clock=lambda: now[0])
    assert ours.acquire(["alice", "bob"], 0) == {"alice", "bob"}
    now[0] += 70  # ours expired; another worker takes bob
    thief = RoleLeases(rt.clients.dynamodb, s.table_name, lease_seconds=60, wait_seconds=0,
                       clock=lambda: now[0])
    assert thief.acquire(["bob"], 0) == {"bob"}
    ours.release(["alice", "bob"])
    third = RoleLeases(rt.clients.dynamodb, s.table_name, lease_seconds=60, wait_seconds=0,
                       clock=lambda: now[0])
    assert third.acquire(["alice", "bob"], 0) == {"alice"}, "bob's new holder lost its lease"


def test_deadline_inside_a_wave_stops_the_groups_not_started(world: World) -> None:
    """The invocation's time runs out while a wave is applied: the group whose IAM writes
    started finishes, the others make no IAM write, come back as retries (their intents
    committed as unfinished), and the redelivery converges."""
    roles = ("alice", "bob", "carol")
    for role in roles:
        world.role(role)
        world.model(f"{role}-m", role)
    rt = world.runtime()
    context = lambda_context()
    left = [200_000.0]
    context.get_remaining_time_in_millis = lambda: int(left[0])  # type: ignore[method-assign]

    def time_runs_out(**_: Any) -> None:
        left[0] = 5_000.0  # below the provisioner's reserve from now on

    world.clients.iam.meta.events.register("after-call.iam.CreatePolicy", time_runs_out)
    try:
        result = handle(world.batch([world.create_event(f"{r}-m") for r in roles]), rt,
                        context)
    finally:
        world.clients.iam.meta.events.unregister("after-call.iam.CreatePolicy", time_runs_out)
    assert len(result["batchItemFailures"]) == 2
    assert world.clients.counter.calls[("iam", "CreatePolicy")] == 1
    granted = [r for r in roles if world.granted(rt, r)]
    assert len(granted) == 1
    for role in set(roles) - set(granted):  # its intent, committed as unfinished
        record = world.record(rt, f"{role}-m")
        assert record.role is None and record.pending == {role}, record
    assert world.send(rt, [world.create_event(f"{r}-m") for r in roles]) == {
        "batchItemFailures": []}
    assert all(world.granted(rt, r) == {world.arns[f"{r}-m"]} for r in roles)
    assert verify(rt) == []
