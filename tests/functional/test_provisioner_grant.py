"""CreateModel grants through the provisioner's public entry point (in-process moto)."""

from __future__ import annotations

import json

from model_access.core.settings import IAM_POLICY_MAX_CHARS
from model_access.handlers.provisioner import handle
from model_access_cli.local import cloudtrail
from tests.conftest import load_event
from tests.functional.functions_loader import lambda_context, provisioner_handler
from tests.functional.world import World


def test_handler_grants_owner_exact_arn_from_sqs_batch(world: World) -> None:
    """A CreateModel record grants the owner role the model ARN SageMaker returned."""
    world.role("data-scientist")
    arn = world.model("Churn-Predictor-V3", "data-scientist")
    rt = world.runtime()
    assert world.send(rt, [world.create_event("Churn-Predictor-V3", "data-scientist")]) == {
        "batchItemFailures": []}
    assert world.granted(rt, "data-scientist") == {arn}
    record = world.record(rt, "churn-predictor-v3")
    assert (record.role, record.status, record.model_arn) == ("data-scientist", "granted", arn)


def test_handler_grants_from_the_repository_fixture(world: World) -> None:
    """The events/ fixtures drive the handler: direct invoke and an SQS batch."""
    world.role("data-scientist")
    arn = world.model("churn-predictor-v3", "data-scientist")
    rt = world.runtime()
    result = handle(load_event("lambda/create-model.json"), rt)
    assert result["outcome"] == "Granted"
    batch = load_event("lambda/sqs-batch.json")
    assert handle(batch, rt) == {"batchItemFailures": []}
    assert world.granted(rt, "data-scientist") == {arn}


def test_handler_reads_tags_from_sagemaker_not_the_event(world: World) -> None:
    """Tags missing from requestParameters are read from SageMaker (the event is a hint)."""
    world.role("data-scientist")
    arn = world.model("churn-predictor-v3", "data-scientist")
    rt = world.runtime()
    handle(load_event("lambda/create-model-no-tags-in-request.json"), rt)
    assert world.granted(rt, "data-scientist") == {arn}


def test_handler_ignores_a_lying_event(world: World) -> None:
    """An event claiming owner mallory changes nothing: the model's real tag names alice."""
    world.role("alice")
    world.role("mallory")
    arn = world.model("m1", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("m1", "mallory")])
    assert world.granted(rt, "alice") == {arn}
    assert world.granted(rt, "mallory") == set()


def test_handler_grants_role_named_by_arn_with_path(world: World) -> None:
    """An owner value that is a same-account role ARN with a path grants that role."""
    world.role("ml-platform", "/teams/")
    arn = world.model("fraud", "arn:aws:iam::123456789012:role/teams/ml-platform")
    rt = world.runtime()
    world.send(rt, [world.create_event("fraud")])
    assert world.granted(rt, "ml-platform") == {arn}


def test_handler_is_idempotent_for_duplicates(world: World) -> None:
    """The same event twice, or five times in one batch: one grant, no second version."""
    world.role("alice")
    arn = world.model("m1", "alice")
    rt = world.runtime()
    event = world.create_event("m1", "alice")
    before = world.iam_writes()
    world.send(rt, [event] * 5)
    writes = world.iam_writes()
    assert writes - before == 2  # CreatePolicy + AttachRolePolicy
    world.send(rt, [event])
    assert world.iam_writes() == writes
    versions = world.clients.iam.list_policy_versions(
        PolicyArn=rt.iam.policy_arn("model-access-alice-01"))["Versions"]
    assert len(versions) == 1
    assert world.granted(rt, "alice") == {arn}


def test_handler_packs_25_models_into_one_policy_under_the_limit(world: World) -> None:
    """25 models of one owner end in one attached tool policy under 6,144 characters."""
    world.role("analyst")
    arns = {world.model(f"demand-forecast-model-number-{i:02d}", "analyst") for i in range(25)}
    rt = world.runtime()
    world.send(rt, [world.create_event(f"demand-forecast-model-number-{i:02d}")
                    for i in range(25)])
    state = world.state(rt, "analyst")
    assert state.model_arns == arns
    assert len(state.tool_policies) == 1
    for policy in state.tool_policies.values():
        assert len(json.dumps(policy.document, separators=(",", ":"))) <= IAM_POLICY_MAX_CHARS


def test_handler_coalesces_a_batch_into_one_write_set_per_role(world: World) -> None:
    """Forty models for two roles in one batch cost one create and one attach per role."""
    world.role("alice")
    world.role("bob")
    for i in range(20):
        world.model(f"a-{i}", "alice")
        world.model(f"b-{i}", "bob")
    rt = world.runtime()
    before = world.iam_writes()
    world.send(rt, [world.create_event(f"{p}-{i}") for i in range(20) for p in "ab"])
    assert world.iam_writes() - before == 4
    assert len(world.granted(rt, "alice")) == len(world.granted(rt, "bob")) == 20


def test_handler_new_version_per_change_and_prunes_old_versions(world: World) -> None:
    """Each later grant writes one new default version; old versions are pruned under 5."""
    world.role("alice")
    rt = world.runtime(MODEL_ACCESS_KEEP_POLICY_VERSIONS="3")
    for i in range(7):
        world.model(f"m{i}", "alice")
        world.send(rt, [world.create_event(f"m{i}")])
    arn = rt.iam.policy_arn("model-access-alice-01")
    versions = world.clients.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert len(versions) == 3
    assert len(world.granted(rt, "alice")) == 7


def test_handler_refuses_when_role_share_is_used_up(world: World) -> None:
    """A role whose share is full gets CapacityExhausted before IAM would refuse."""
    world.role("busy")
    world.attach_foreign_policies("busy", 9)  # 9 of 10 slots used by someone else
    names = [f"model-with-a-fairly-long-name-for-capacity-{i:03d}" for i in range(80)]
    for name in names:
        world.model(name, "busy")
    rt = world.runtime()
    world.send(rt, [world.create_event(n) for n in names])
    state = world.state(rt, "busy")
    assert state.foreign_attached == 9
    assert len(state.tool_policies) == 1  # 10 - 9 others = 1 slot
    refused = [world.record(rt, n).outcome for n in names].count("CapacityExhausted")
    assert refused == 80 - len(state.model_arns)
    assert refused > 0


def test_handler_never_touches_policies_it_did_not_create(world: World) -> None:
    """Foreign policies on the owner role stay attached and unchanged, even when named like ours."""
    world.role("alice")
    world.attach_foreign_policies("alice", 2)
    lookalike = world.clients.iam.create_policy(
        PolicyName="model-access-alice-01", Path="/model-access/",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::x"}]}),
    )["Policy"]["Arn"]
    world.clients.iam.attach_role_policy(RoleName="alice", PolicyArn=lookalike)
    world.model("m1", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("m1")])
    attached = {p["PolicyArn"] for p in world.clients.iam.list_attached_role_policies(
        RoleName="alice")["AttachedPolicies"]}
    assert lookalike in attached
    version = world.clients.iam.get_policy(PolicyArn=lookalike)["Policy"]["DefaultVersionId"]
    assert version == "v1"
    assert world.granted(rt, "alice") == {world.arns["m1"]}
    assert len(attached) == 4  # two foreign, the look-alike, and ours (-02)


def test_handler_refusals_are_final_and_counted(world: World, capsys) -> None:  # type: ignore[no-untyped-def]
    """Refusals are not retried, are recorded with a reason, and emit an outcome metric."""
    world.role("model-access-provisioner", "/service/")
    world.model("untagged")
    world.model("foreign", "arn:aws:iam::999999999999:role/x")
    world.model("self", "model-access-provisioner")
    world.model("ghost", "nobody")
    rt = world.runtime()
    before = world.iam_writes()

    handler = provisioner_handler(rt)
    result = handler(world.batch([world.create_event(n) for n in
                                  ("untagged", "foreign", "self", "ghost")]), lambda_context())
    assert result == {"batchItemFailures": []}
    outcomes = {n: world.record(rt, n).outcome for n in ("untagged", "foreign", "self", "ghost")}
    # A model nobody holds and with no owner tag costs no record write (most of an account).
    assert outcomes == {"untagged": None, "foreign": "ForeignOwner",
                        "self": "ProvisionerRole", "ghost": "RoleNotFound"}
    emitted = capsys.readouterr().out
    for metric in ("NoOwnerTag", "ForeignOwner", "ProvisionerRole", "RoleNotFound", "IamCalls"):
        assert f'"{metric}"' in emitted
    assert world.iam_writes() == before


def test_handler_retries_only_retryable_records(world: World) -> None:
    """A record whose role is leased elsewhere goes back; a refused one beside it does not."""
    world.role("alice")
    world.model("m1", "alice")
    world.model("untagged")
    rt = world.runtime(MODEL_ACCESS_LEASE_WAIT_SECONDS="0")
    other = world.runtime()
    assert other.reconciler.leases.acquire(["alice"]) == {"alice"}
    batch = world.batch([world.create_event("m1"), world.create_event("untagged")])
    result = handle(batch, rt)
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {batch["Records"][0]["messageId"]}
    other.reconciler.leases.release(["alice"])
    assert handle(world.batch([world.create_event("m1")], receive_count=2), rt) == {
        "batchItemFailures": []}
    assert world.granted(rt, "alice") == {world.arns["m1"]}


def test_handler_bad_bodies_do_not_fail_the_batch(world: World) -> None:
    """A body that is not JSON is a final BadEvent; the good record next to it is granted."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    batch = world.batch([world.create_event("m1")])
    batch["Records"].append(cloudtrail.sqs_record("{not json"))
    assert handle(batch, rt) == {"batchItemFailures": []}
    assert world.granted(rt, "alice") == {world.arns["m1"]}


def test_handler_model_not_visible_yet_is_retried_then_settled(world: World) -> None:
    """A created model SageMaker does not show goes back to the queue, until receives run out."""
    rt = world.runtime()
    event = cloudtrail.envelope(cloudtrail.create_model(
        "not-yet", "arn:aws:sagemaker:us-east-1:123456789012:model/not-yet", {"owner-role": "x"}))
    batch = world.batch([event])
    assert len(handle(batch, rt)["batchItemFailures"]) == 1
    assert handle(world.batch([event], receive_count=3), rt) == {"batchItemFailures": []}
