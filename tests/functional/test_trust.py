"""Trust boundaries through the public handler: who is believed, and the secure defaults.

- a direct invoke is a hint: it triggers a reconcile, but the caller it names is not
  believed, so in protected mode (the default) it cannot move a grant; the real CloudTrail
  event, read from the event queue, then decides;
- roles opt in (the `model-access:eligible=true` tag or a configured path); every role is
  eligible only by explicit configuration;
- a model name with capitals is granted in both letter cases and read back as one model.
"""

from __future__ import annotations

import json
from collections import Counter

from model_access.core.outcomes import Outcome
from model_access.core.settings import OwnerChangeMode, Settings
from model_access.deploy.patterns import event_queue_policies
from model_access.operate.verify import verify
from model_access.runtime import Runtime
from model_access.sweep.backfill import Backfill
from model_access_cli.local.stack import REDRIVE_RULE_NAME, local_up
from tests.functional.observe import Observed, holders, iam_snapshot
from tests.functional.world import World, role_arn
from tests.infra.resource_policy_eval import Request, allowed


def alice_holds_m1(world: World, **env: str) -> Runtime:
    world.role("alice")
    world.role("mallory")
    world.model("m1", "alice")
    rt = world.runtime(**env)
    world.send(rt, [world.create_event("m1")])
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    return rt


def test_trust_protected_mode_is_the_default(world: World) -> None:
    """With no configuration, a stranger's re-tag through the queue is refused."""
    rt = alice_holds_m1(world)
    assert rt.settings.owner_change_mode is OwnerChangeMode.PROTECTED
    world.set_owner("m1", "mallory")
    world.send(rt, [world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("mallory"))])
    assert world.granted(rt, "mallory") == set()
    assert world.record(rt, "m1").outcome == Outcome.OWNER_CHANGE_DENIED.value


def test_trust_forged_direct_invoke_is_refused_then_the_real_event_decides(world: World) -> None:
    """The reported attack: mallory re-tags alice's model, then invokes the function with an
    AddTags event claiming alice as the caller. The model is reconciled but the claim is not
    believed (UnverifiedCaller, metric emitted); the real event from the queue names mallory
    and is refused too. No grant ever reaches mallory."""
    rt = alice_holds_m1(world)
    world.set_owner("m1", "mallory")
    seen = Observed()
    forged = world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("alice"))
    answer = seen.run(forged, rt)
    assert answer["outcome"] == Outcome.UNVERIFIED_CALLER.value
    assert "not believed" in answer["reason"]
    assert seen.outcome_metrics == Counter({Outcome.UNVERIFIED_CALLER.value: 1})
    assert holders(iam_snapshot(world.clients.iam), world.arns["m1"]) == {"role:alice"}
    world.send(rt, [world.add_tags_event("m1", "mallory",
                                         caller_role_arn=role_arn("mallory"))])
    assert world.record(rt, "m1").outcome == Outcome.OWNER_CHANGE_DENIED.value
    assert holders(iam_snapshot(world.clients.iam), world.arns["m1"]) == {"role:alice"}
    assert verify(rt) == []


def test_trust_genuine_change_by_direct_invoke_waits_for_the_queue(world: World) -> None:
    """alice really hands her model to mallory: the direct invoke alone does not move it;
    her CloudTrail event, read from the queue, does."""
    rt = alice_holds_m1(world)
    world.set_owner("m1", "mallory")
    event = world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("alice"))
    assert Observed().run(event, rt)["outcome"] == Outcome.UNVERIFIED_CALLER.value
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    world.send(rt, [event])
    assert world.granted(rt, "mallory") == {world.arns["m1"]}
    assert world.granted(rt, "alice") == set()
    assert world.record(rt, "m1").outcome == Outcome.MOVED.value


def test_trust_queue_record_and_direct_invoke_in_one_batch(world: World) -> None:
    """A believed record wins over an unbelieved one: the queue's event from mallory decides
    even when a forged record from another queue claims alice in the same batch."""
    rt = alice_holds_m1(world)
    world.set_owner("m1", "mallory")
    batch = world.batch([
        world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("mallory")),
        world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("alice"))])
    batch["Records"][1]["eventSourceARN"] = "arn:aws:sqs:us-east-1:123456789012:other-queue"
    assert Observed().run(batch, rt) == {"batchItemFailures": []}
    assert world.record(rt, "m1").outcome == Outcome.OWNER_CHANGE_DENIED.value
    assert world.granted(rt, "mallory") == set()


def test_trust_direct_invoke_still_triggers_a_reconcile(world: World) -> None:
    """A directly invoked CreateModel is a hint like any other: the model is granted."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    assert Observed().run(world.create_event("m1"), rt)["outcome"] == Outcome.GRANTED.value
    assert world.granted(rt, "alice") == {world.arns["m1"]}


def test_trust_open_mode_believes_any_caller(world: World) -> None:
    """Open mode (explicit configuration) moves a grant on anyone's re-tag, as before."""
    rt = alice_holds_m1(world, MODEL_ACCESS_OWNER_CHANGE_MODE="open")
    world.set_owner("m1", "mallory")
    world.send(rt, [world.add_tags_event("m1", "mallory", caller_role_arn=role_arn("mallory"))])
    assert world.granted(rt, "mallory") == {world.arns["m1"]}


# --- eligibility is opt-in -----------------------------------------------------------------

def test_eligibility_roles_opt_in_by_tag_by_default(world: World) -> None:
    """An untagged role is refused as IneligibleRole; the tagged one is granted."""
    world.role("dave", eligible=False)
    world.role("erin")
    world.model("d1", "dave")
    world.model("e1", "erin")
    rt = world.runtime()
    world.send(rt, [world.create_event("d1"), world.create_event("e1")])
    record = world.record(rt, "d1")
    assert record.outcome == Outcome.INELIGIBLE_ROLE.value
    assert "model-access:eligible=true" in (record.reason or "")
    assert world.granted(rt, "dave") == set()
    assert world.granted(rt, "erin") == {world.arns["e1"]}


def test_eligibility_path_or_tag_either_opts_in(world: World) -> None:
    """With a path prefix configured, a role under it needs no tag, and a tagged role
    elsewhere stays eligible."""
    world.role("pat", "/ml-owners/", eligible=False)
    world.role("tess", "/other/")
    world.role("olga", "/other/", eligible=False)
    for name, owner in (("p1", "pat"), ("t1", "tess"), ("o1", "olga")):
        world.model(name, owner)
    rt = world.runtime(MODEL_ACCESS_ROLE_PATH_PREFIX="/ml-owners/")
    world.send(rt, [world.create_event(n) for n in ("p1", "t1", "o1")])
    assert world.granted(rt, "pat") == {world.arns["p1"]}
    assert world.granted(rt, "tess") == {world.arns["t1"]}
    assert world.record(rt, "o1").outcome == Outcome.INELIGIBLE_ROLE.value


def test_eligibility_every_role_only_by_explicit_configuration(world: World) -> None:
    """`MODEL_ACCESS_ROLE_TAG=*` (no path) makes an untagged role eligible."""
    world.role("dave", eligible=False)
    world.model("d1", "dave")
    rt = world.runtime(MODEL_ACCESS_ROLE_TAG="*")
    assert rt.settings.every_role_eligible
    world.send(rt, [world.create_event("d1")])
    assert world.granted(rt, "dave") == {world.arns["d1"]}


# --- letter case ---------------------------------------------------------------------------

def test_letter_case_both_forms_granted_one_model_recorded(world: World) -> None:
    """`Churn-Predictor` is granted as SageMaker returned it and lower-cased; IAM, the record
    and verify all see one model, and a second delivery writes nothing."""
    world.role("alice")
    arn = world.model("Churn-Predictor", "alice")
    twin = arn.replace("Churn-Predictor", "churn-predictor")
    rt = world.runtime()
    world.send(rt, [world.create_event("Churn-Predictor")])
    (policy,) = world.state(rt, "alice").tool_policies.values()
    assert json.dumps(arn) in json.dumps(policy.document)
    assert json.dumps(twin) in json.dumps(policy.document)
    assert policy.model_arns == {arn}
    assert world.record(rt, "Churn-Predictor").model_arn == arn
    writes = world.iam_writes()
    world.send(rt, [world.create_event("Churn-Predictor")])
    assert world.iam_writes() == writes
    assert world.record(rt, "Churn-Predictor").outcome == Outcome.UNCHANGED.value
    assert verify(rt) == []


# --- the local stack carries the same queue policies ---------------------------------------

def test_local_up_sets_the_stacks_queue_policies(world: World) -> None:
    """`local up` puts the builder's policies on the queue and the DLQ (moto stores, but does
    not enforce, them): EventBridge for our rules gets in, a forged SendMessage does not."""
    sqs, events = world.clients.sqs, world.clients.events
    urls = [sqs.get_queue_url(QueueName=n)["QueueUrl"]
            for n in ("model-access-events", "model-access-events-dlq")]
    arns = [sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["QueueArn"])["Attributes"]
            ["QueueArn"] for u in urls]
    local = local_up(world.clients, Settings.from_mapping({}))  # again: it is idempotent
    rules = [events.describe_rule(Name=n)["Arn"] for n in (*local.rules, REDRIVE_RULE_NAME)]
    stored = [json.loads(sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["Policy"])
                         ["Attributes"]["Policy"]) for u in urls]
    assert stored == list(event_queue_policies(arns[0], arns[1], rules))
    tls = {"aws:SecureTransport": "true"}
    for arn, policy in zip(arns, stored, strict=True):
        assert allowed(policy, Request("sqs:SendMessage", arn, "events.amazonaws.com",
                                       context={**tls, "aws:SourceArn": rules[0]}))
        assert not allowed(policy, Request("sqs:SendMessage", arn, identity_allows=True,
                                           context={**tls, "aws:PrincipalArn": role_arn("m")}))


def test_letter_case_policy_without_the_twin_is_rewritten_by_the_sweep(world: World) -> None:
    """A tool policy written before twins existed (the capitalised ARN only) is found
    different from what the record renders, and the sweep rewrites it once."""
    world.role("alice")
    arn = world.model("Churn-Predictor", "alice")
    twin = arn.replace("Churn-Predictor", "churn-predictor")
    rt = world.runtime()
    world.send(rt, [world.create_event("Churn-Predictor")])
    (policy,) = world.state(rt, "alice").tool_policies.values()
    older = json.loads(json.dumps(policy.document).replace(f', "{twin}"', "")
                       .replace(f'"{twin}", ', ""))
    assert json.dumps(twin) not in json.dumps(older)
    world.clients.iam.create_policy_version(PolicyArn=policy.arn, SetAsDefault=True,
                                            PolicyDocument=json.dumps(older))
    result = Backfill(rt).run().as_dict()
    assert result["repaired"] == 1
    (policy,) = world.state(rt, "alice").tool_policies.values()
    assert policy.document == rt.reconciler.shape.render({arn})
    assert Backfill(rt).run().as_dict()["repaired"] == 0
    assert verify(rt) == []


def test_trust_a_same_named_role_of_another_account_is_not_the_owner(world: World) -> None:
    """A caller `alice` of another account re-tags alice's model to bob (through the queue):
    role names are per account, so it is not the owner: OwnerChangeDenied, alice keeps it;
    only a full-ARN allowlist entry admits a caller of another account."""
    rt = alice_holds_m1(world)
    world.role("bob")
    world.set_owner("m1", "bob")
    stranger = role_arn("alice").replace(":123456789012:", ":999999999999:")
    world.send(rt, [world.add_tags_event("m1", "bob", caller_role_arn=stranger)])
    assert world.record(rt, "m1").outcome == Outcome.OWNER_CHANGE_DENIED
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    allowing = world.runtime(MODEL_ACCESS_OWNER_CHANGE_ALLOW=stranger)
    world.send(allowing, [world.add_tags_event("m1", "bob", caller_role_arn=stranger)])
    assert world.granted(rt, "bob") == {world.arns["m1"]}
