"""Security properties of what the tool writes, each proven through the public handler.

- every policy it can generate lints clean against the offline IAM catalog;
- a flood of models naming a victim role cannot take more than the configured share of
  that role's attached-policy quota;
- in protected owner-change mode, a stranger cannot move a grant by editing tags;
- a reused model name never leaves the new model's ARN with the old owner;
- generated CloudTrail-shaped events, valid and malformed, never make the handler raise,
  and after delivery the state is exactly the truth.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto.core.base_backend import BackendDict

from model_access.aws.clients import Clients
from model_access.core.errors import ConfigurationError, RetryableError
from model_access.core.outcomes import Outcome
from model_access.core.settings import IAM_POLICY_MAX_CHARS, AccessLevel, Settings
from model_access.handlers.provisioner import handle
from model_access.operate.verify import verify
from model_access.policy.render import arn_forms, to_json
from model_access.runtime import Runtime
from model_access.sweep.backfill import Backfill
from model_access_cli.local import cloudtrail
from model_access_cli.local.stack import local_up
from tests.functional.observe import holders, iam_snapshot
from tests.functional.world import ACCOUNT, REGION, World
from tests.infra.iam_lint import as_list, lint, statements


def role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# --- every generated policy lints clean -------------------------------------------------

@pytest.mark.parametrize("tag_edits", [False, True], ids=["no-tag-edits", "tag-edits"])
@pytest.mark.parametrize("level", list(AccessLevel), ids=[lvl.value for lvl in AccessLevel])
def test_policy_lint_clean_for_every_access_level(world: World, level: AccessLevel,
                                                  tag_edits: bool) -> None:
    """The documents IAM holds after a grant: known actions, fitting resources, no wildcards."""
    world.role("alice")
    names = ["Churn-Predictor-V3", "Longest-Legal-Model-Name-" + "x" * 38, "m1"]
    arns = {world.model(name, "alice") for name in names}
    rt = world.runtime(MODEL_ACCESS_ACCESS_LEVEL=level.value,
                       MODEL_ACCESS_ALLOW_TAG_EDITS=str(tag_edits).lower())
    world.send(rt, [world.create_event(name) for name in names])
    policies = list(world.state(rt, "alice").tool_policies.values())
    assert policies and {a for p in policies for a in p.model_arns} == arns
    granted = {form for arn in arns for form in arn_forms(arn)}  # + lower-case twins
    assert len(granted) == len(arns) + 2
    for policy in policies:
        document = policy.document
        assert lint(document) == []
        assert len(to_json(document)) <= IAM_POLICY_MAX_CHARS
        for statement in statements(document):
            assert statement["Effect"] == "Allow"
            actions = as_list(statement["Action"])
            assert all(a.startswith("sagemaker:") and "*" not in a for a in actions)
            assert ("sagemaker:AddTags" in actions) == (tag_edits and "Condition" not in statement)
            resources = as_list(statement["Resource"])
            assert "*" not in resources
            if "Condition" not in statement:  # the model statement: exactly the models' ARNs
                assert set(resources) == granted
                continue
            # the use statement: `<type>/*` of our region and account, pinned to the models
            assert statement["Condition"] == {"ArnEquals": {"sagemaker:ModelArn":
                                                            sorted(granted)}}
            assert all(r.startswith(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:")
                       and r.endswith("/*") and ":model/" not in r for r in resources)


@pytest.mark.parametrize("extra", ["sagemaker:GetModel", "sagemaker:UpdateModel",
                                   "sagemaker:ListModels", "sagemaker:CreateEndpointConfig",
                                   "sagemaker:*", "iam:PassRole"])
def test_policy_lint_unscopable_extra_actions_refused_at_start(world: World, extra: str) -> None:
    """An extra action that does not exist or cannot be scoped to a model stops start-up."""
    with pytest.raises(ConfigurationError):
        world.runtime(MODEL_ACCESS_EXTRA_MODEL_ACTIONS=extra)


# --- quota exhaustion as an attack ------------------------------------------------------

def test_quota_flood_of_models_cannot_exceed_the_roles_share(world: World) -> None:
    """80 long-named models naming a victim role, in four waves, fill at most its share of
    the attached-policy quota; the rest is refused as CapacityExhausted, and the victim's
    own policies and free slots are untouched."""
    world.role("victim")
    world.attach_foreign_policies("victim", 2)
    rt = world.runtime(MODEL_ACCESS_ROLE_POLICY_SHARE="0.2",
                       MODEL_ACCESS_POLICY_SIZE_MARGIN="2048")  # ~36 models a policy
    quota = rt.iam.attached_policy_quota()
    share = int(quota * 0.2)
    for wave in range(4):
        names = [f"flood-{wave}-{i:03d}".ljust(63, "x") for i in range(20)]
        for name in names:
            world.model(name, "victim")
        assert world.send(rt, [world.create_event(n) for n in names]) == {"batchItemFailures": []}
        state = world.state(rt, "victim")
        assert 0 < len(state.tool_policies) <= share
        assert state.foreign_attached == 2
    attached = world.clients.iam.list_attached_role_policies(RoleName="victim")
    assert len(attached["AttachedPolicies"]) <= share + 2  # quota - share - 2 slots stay free
    outcomes = Counter(record.outcome for record in rt.records.scan())
    assert set(outcomes) == {Outcome.GRANTED.value, Outcome.CAPACITY_EXHAUSTED.value}
    assert outcomes[Outcome.CAPACITY_EXHAUSTED.value] > 0
    assert outcomes[Outcome.GRANTED.value] == len(world.state(rt, "victim").model_arns)
    assert verify(rt) == []


# --- protected owner-change mode --------------------------------------------------------

Step = Callable[[World], list[dict[str, Any]]]


def tag(owner: str | None, caller: str) -> Step:
    """`caller` sets the owner tag of m1 (None: deletes it); returns the CloudTrail event."""
    def step(world: World) -> list[dict[str, Any]]:
        world.set_owner("m1", owner)
        if owner is None:
            return [world.delete_tags_event("m1", caller_role_arn=role_arn(caller))]
        return [world.add_tags_event("m1", owner, caller_role_arn=role_arn(caller))]
    return step


def together(*steps: Step) -> Step:
    """Several edits whose events arrive in one batch, in reverse order."""
    def step(world: World) -> list[dict[str, Any]]:
        return [e for s in steps for e in s(world)][::-1]
    return step


def sweep(world: World) -> list[dict[str, Any]]:
    return []


ATTACKS = {
    "retag-to-self": [tag("mallory", "mallory")],
    "retag-to-self-by-arn": [tag(role_arn("mallory"), "mallory")],
    "retag-to-accomplice": [tag("bob", "mallory")],
    "delete-then-retag": [tag(None, "mallory"), tag("mallory", "mallory")],
    "invalid-then-retag": [tag("*", "mallory"), tag("mallory", "mallory")],
    "ghost-then-retag": [tag("ghost", "mallory"), tag("mallory", "mallory")],
    "delete-and-retag-in-one-batch": [together(tag(None, "mallory"),
                                               tag("mallory", "mallory"))],
    "retag-then-sweep": [tag("mallory", "mallory"), sweep],
    "delete-then-retag-then-sweep": [tag(None, "mallory"), tag("mallory", "mallory"), sweep],
}


def protected(world: World) -> Runtime:
    world.role("alice")
    world.role("mallory")
    world.role("bob")
    world.model("m1", "alice")
    rt = world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE="protected",
                       MODEL_ACCESS_OWNER_CHANGE_ALLOW="platform-admin")
    world.send(rt, [world.create_event("m1")])
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    return rt


def run_steps(world: World, rt: Runtime, steps: list[Step],
              check: Callable[[], None]) -> None:
    for step in steps:
        events = step(world)
        if events:
            assert world.send(rt, events) == {"batchItemFailures": []}
        else:
            Backfill(rt).run()
        check()


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_protected_mode_stranger_cannot_move_a_grant(world: World, attack: str) -> None:
    """mallory edits alice's owner tag every way she can: no grant ever reaches her (or bob)."""
    rt = protected(world)
    arn = world.arns["m1"]

    def nobody_else() -> None:
        assert holders(iam_snapshot(world.clients.iam), arn) <= {"role:alice"}

    run_steps(world, rt, ATTACKS[attack], nobody_else)
    assert world.record(rt, "m1").outcome in {
        Outcome.OWNER_CHANGE_DENIED.value, Outcome.INVALID_OWNER.value}
    assert verify(rt) == []


@pytest.mark.parametrize(("steps", "new_owner"), [
    pytest.param([tag("bob", "alice")], "bob", id="owner-hands-over"),
    pytest.param([tag("bob", "platform-admin")], "bob", id="allowlisted-moves"),
    pytest.param([tag(None, "alice"), tag("bob", "alice")], "bob",
                 id="owner-deletes-then-hands-over"),
    pytest.param([tag(None, "mallory"), tag("bob", "platform-admin")], "bob",
                 id="stranger-deletes-admin-restores-to-new-owner"),
    pytest.param([tag(None, "mallory"), tag("alice", "mallory")], "alice",
                 id="stranger-puts-the-owner-back"),
])
def test_protected_mode_trusted_changes_still_move(world: World, steps: list[Step],
                                                   new_owner: str) -> None:
    """The owner herself, or an allowlisted caller, still moves the grant (control group)."""
    rt = protected(world)
    run_steps(world, rt, steps, lambda: None)
    assert world.granted(rt, new_owner) == {world.arns["m1"]}
    assert verify(rt) == []


# --- name reuse -------------------------------------------------------------------------

ORDERS = {
    "delete-then-create": [["delete"], ["create"]],
    "create-then-delete": [["create"], ["delete"]],
    "one-batch-create-first": [["create", "delete"]],
    "one-batch-delete-first": [["delete", "create"]],
    "create-only-delete-lost": [["create"]],
    "delete-only-create-lost": [["delete"]],
}


@pytest.mark.parametrize("mode", ["open", "protected"])
@pytest.mark.parametrize("order", list(ORDERS))
def test_name_reuse_old_owner_never_holds_new_model(world: World, order: str,
                                                    mode: str) -> None:
    """m1 deleted and re-created for bob: after any processed event, alice lacks its ARN."""
    world.role("alice")
    world.role("bob")
    world.model("m1", "alice")
    rt = world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE=mode)
    world.send(rt, [world.create_event("m1")])
    world.delete_model("m1")
    time.sleep(0.01)  # a later CreationTime, as a real re-creation has
    world.model("m1", "bob")
    events = {"create": world.create_event("m1"), "delete": world.delete_event("m1")}
    for batch in ORDERS[order]:
        assert world.send(rt, [events[e] for e in batch]) == {"batchItemFailures": []}
        assert world.granted(rt, "alice") == set()
        assert holders(iam_snapshot(world.clients.iam), world.arns["m1"]) <= {"role:bob"}
    assert world.granted(rt, "bob") == {world.arns["m1"]}
    assert verify(rt) == []


# --- generated events, valid and malformed ----------------------------------------------

MODELS = ("m0", "Model-One")
ROLES = ("r0", "r1")
HOSTILE_OWNERS = ("*", "", "ghost", role_arn("r0").replace(ACCOUNT, "999999999999"),
                  "r0\n", "model-access-provisioner", f"arn:aws:iam::{ACCOUNT}:user/r1")
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                    lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


@st.composite
def mutated(draw: st.DrawFn, event: dict[str, Any]) -> Any:
    """A valid event with one hostile edit: a field dropped, retyped, or pointed elsewhere."""
    copy = json.loads(json.dumps(event))
    detail = copy["detail"]
    kind = draw(st.sampled_from(["drop", "junk", "account", "region", "partition", "name",
                                 "source", "whole"]))
    if kind == "drop":
        target = draw(st.sampled_from(["envelope", "detail", "params"]))
        where = {"envelope": copy, "detail": detail,
                 "params": detail.get("requestParameters") or {}}[target]
        if where:
            where.pop(draw(st.sampled_from(sorted(where))))
    elif kind == "junk":
        key = draw(st.sampled_from(sorted(detail)))
        detail[key] = draw(JSON)
    elif kind in ("account", "region", "partition"):
        swap = {"account": (ACCOUNT, "999999999999"), "region": (REGION, "eu-west-1"),
                "partition": ("arn:aws:", "arn:aws-cn:")}[kind]
        copy = json.loads(json.dumps(copy).replace(*swap))
    elif kind == "name":
        bad = draw(st.sampled_from(["", "x" * 64, "m0_", "m0\n", "*", "../m0", "m0 "]))
        inner = json.dumps(bad)[1:-1]  # as it appears inside a JSON string
        copy = json.loads(json.dumps(copy).replace("model/m0", f"model/{inner}")
                          .replace('"m0"', json.dumps(bad)))
    elif kind == "source":
        copy["source"] = draw(st.sampled_from(["aws.iam", "model-access", "", None]))
    else:
        return draw(JSON)
    return copy


OPS = st.lists(st.tuples(st.sampled_from(["create", "delete", "retag", "noise"]),
                         st.sampled_from(MODELS),
                         st.sampled_from((*ROLES, None, *HOSTILE_OWNERS)),
                         st.integers(0, 2**16)), min_size=1, max_size=8)


def test_property_generated_events_never_raise_and_converge_to_truth(aws: Clients) -> None:
    """Generated valid and malformed events, shuffled, duplicated, some invoked directly:
    the handler never raises, and afterwards IAM and the record are exactly the truth."""

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(ops=OPS, seed=st.integers(0, 2**16), data=st.data())
    def run(ops: list[tuple[str, str, str | None, int]], seed: int, data: st.DataObject) -> None:
        BackendDict.reset()
        local_up(aws, Settings.from_mapping({}))
        world = World(aws)
        for role in (*ROLES, "model-access-provisioner"):
            world.role(role)
        rt = world.runtime(MODEL_ACCESS_LEASE_WAIT_SECONDS="0",  # anyone may re-tag
                           MODEL_ACCESS_OWNER_CHANGE_MODE="open")
        owners: dict[str, str | None] = {}
        pending: list[tuple[Any, int]] = []
        valid: list[dict[str, Any]] = []
        for op, name, owner, _ in ops:
            if op == "create" and name not in owners:
                world.model(name, owner)
                owners[name] = owner
                pending.append((world.create_event(name), 1))
            elif op == "delete" and name in owners:
                world.delete_model(name)
                del owners[name]
                pending.append((world.delete_event(name), 1))
            elif op == "retag" and name in owners:
                world.set_owner(name, owner)
                owners[name] = owner
                pending.append((world.add_tags_event(name, owner) if owner is not None
                                else world.delete_tags_event(name), 1))
            elif valid:
                pending.append((data.draw(mutated(data.draw(st.sampled_from(valid)))), 1))
                continue
            else:
                continue
            valid.append(pending[-1][0])
        rng = random.Random(seed)
        pending += [p for p in pending if rng.random() < 0.3]  # at-least-once: duplicates
        rounds = 0
        while pending:
            rounds += 1
            assert rounds < 40, "records keep failing: they would reach the DLQ"
            rng.shuffle(pending)
            size = rng.randint(1, 5)
            batch, pending = pending[:size], pending[size:]
            if size == 1 and rng.random() < 0.5:  # the direct-invoke path
                try:
                    answer = handle(batch[0][0], rt)
                    assert Outcome(answer["outcome"])
                except RetryableError:
                    pending.append((batch[0][0], batch[0][1] + 1))
                continue
            records = [cloudtrail.sqs_record(json.dumps(e), receive_count=n) for e, n in batch]
            failed = {f["itemIdentifier"]
                      for f in handle({"Records": records}, rt)["batchItemFailures"]}
            pending += [(e, n + 1) for r, (e, n) in zip(records, batch, strict=True)
                        if r["messageId"] in failed]
        for role in ROLES:
            expected = {world.arns[n] for n, o in owners.items() if o == role}
            assert world.granted(rt, role) == expected, role
        assert verify(rt) == []

    run()
