"""Only policies the tool created are ever attached; IAM rules moto does not enforce.

Issue "trust boundaries" items 2, 4 and 6: a policy pre-created under the tool's path, name
and tag is never adopted; a version the tool did not write does not survive its writes;
a name taken at another path, the account's policy quota, DeleteConflict after a detach and
ConcurrentModification are each handled (moto accepts them silently, so a fault layer says
them); two stacks in one account never write each other's policies.
"""

from __future__ import annotations

import json

import pytest

from model_access.aws.clients import Clients
from model_access.operate.verify import verify
from model_access.sweep.backfill import Backfill
from tests.functional.faults import Faults, Rule, fast_backoff
from tests.functional.world import ACCOUNT, REGION, World

ADMIN = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
TOOL_TAGS = [{"Key": "managed-by", "Value": "model-access"},
             {"Key": "model-access:role", "Value": "mallory"}]


def attached(world: World, role: str) -> list[str]:
    answer = world.clients.iam.list_attached_role_policies(RoleName=role)
    return sorted(p["PolicyName"] for p in answer["AttachedPolicies"])


def test_pre_created_policy_with_the_tools_name_and_tag_is_never_attached(world: World) -> None:
    """mallory pre-creates model-access-mallory-01 (Action *, tool's tag) and tags a model
    with herself: the tool does not adopt it, skips the slot and uses -02."""
    world.role("mallory")
    world.clients.iam.create_policy(PolicyName="model-access-mallory-01", Path="/model-access/",
                                    PolicyDocument=ADMIN, Tags=TOOL_TAGS)
    world.model("m1", "mallory")
    rt = world.runtime()
    assert world.send(rt, [world.create_event("m1")]) == {"batchItemFailures": []}
    assert attached(world, "mallory") == ["model-access-mallory-02"]
    assert world.record(rt, "m1").policy == "model-access-mallory-02"
    kinds = {d.kind: d.subject for d in verify(rt)}
    assert kinds == {"unknown-policy": "model-access-mallory-01"}


def test_versions_the_tool_did_not_write_do_not_survive_its_next_write(world: World) -> None:
    """An admin document left as a non-default version of a tool policy (one
    SetDefaultPolicyVersion from active) is deleted by the tool's next write."""
    world.role("alice")
    world.model("m1", "alice")
    world.model("m2", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_event("m1")])
    arn = rt.iam.policy_arn("model-access-alice-01")
    world.clients.iam.create_policy_version(PolicyArn=arn, PolicyDocument=ADMIN,
                                            SetAsDefault=False)
    world.send(rt, [world.create_event("m2")])
    versions = world.clients.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    for version in versions:
        doc = world.clients.iam.get_policy_version(PolicyArn=arn, VersionId=version["VersionId"])
        assert '"*"' not in json.dumps(doc["PolicyVersion"]["Document"]), version
    assert verify(rt) == []


def test_name_taken_at_another_path_moves_to_the_next_name(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Policy names are unique per account across paths (moto does not know): CreatePolicy
    answers EntityAlreadyExists, GetPolicy at our path NoSuchEntity; the tool uses -02."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m1", "alice")
    rt = World(Clients(region=REGION)).runtime()
    squatted = Rule("entity-exists", ("iam",), operations=("CreatePolicy",),
                    body_contains="model-access-alice-01")
    with Faults(rt.clients, [squatted]):
        assert world.send(rt, [world.create_event("m1")]) == {"batchItemFailures": []}
    assert squatted.injected == 1
    assert attached(world, "alice") == ["model-access-alice-02"]


def test_account_policy_quota_is_a_named_outcome_not_a_retry(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """LimitExceeded on CreatePolicy (1,500 policies per account) ends as
    AccountPolicyQuota: final, counted, nothing granted, nothing retried."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m1", "alice")
    rt = World(Clients(region=REGION)).runtime()
    full = Rule("limit-exceeded", ("iam",), operations=("CreatePolicy",))
    with Faults(rt.clients, [full]):
        assert world.send(rt, [world.create_event("m1")]) == {"batchItemFailures": []}
    assert world.record(rt, "m1").outcome == "AccountPolicyQuota"
    assert attached(world, "alice") == []
    assert full.injected == 1


def test_delete_conflict_right_after_detach_is_retried(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM may still see an attachment right after DetachRolePolicy: DeleteConflict is
    retried with backoff and the revocation completes."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m1", "alice")
    rt = World(Clients(region=REGION)).runtime()
    world.send(rt, [world.create_event("m1")])
    world.delete_model("m1")
    lag = Rule("delete-conflict", ("iam",), operations=("DeletePolicy",), budget=2)
    with Faults(rt.clients, [lag]):
        assert world.send(rt, [world.delete_event("m1")]) == {"batchItemFailures": []}
    assert lag.injected == 2
    assert list(rt.iam.list_tool_policies()) == []


def test_concurrent_modification_goes_back_to_the_queue(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """ConcurrentModification is retryable: the record returns and then converges."""
    fast_backoff(monkeypatch)
    world.role("alice")
    world.model("m1", "alice")
    rt = World(Clients(region=REGION)).runtime()
    busy = Rule("concurrent-modification", ("iam",), operations=("AttachRolePolicy",))
    with Faults(rt.clients, [busy]):
        assert len(world.send(rt, [world.create_event("m1")])["batchItemFailures"]) == 1
    assert world.send(rt, [world.create_event("m1")], receive_count=2) == {
        "batchItemFailures": []}
    assert verify(world.runtime()) == []


def test_two_stacks_in_one_account_never_write_each_others_policies(world: World) -> None:
    """A second regional stack finds the first one's policy under the shared name, does not
    adopt it, and writes its own next slot: neither overwrites the other's grants."""
    world.role("alice")
    world.model("east", "alice")
    east = world.runtime()
    world.send(east, [world.create_event("east")])
    west_clients = Clients(region="us-west-2")
    west_world = World(west_clients)
    west_arn = west_world.model("west", "alice")
    west = west_world.runtime(AWS_REGION="us-west-2", MODEL_ACCESS_TABLE="model-access-grants")
    from model_access.core.settings import Settings
    from model_access_cli.local.stack import local_up

    local_up(west_clients, Settings.from_mapping({"AWS_REGION": "us-west-2"}))
    event = west_world.create_event("west")
    event["region"] = event["detail"]["awsRegion"] = "us-west-2"
    assert west_world.send(west, [event]) == {"batchItemFailures": []}
    assert attached(world, "alice") == ["model-access-alice-01", "model-access-alice-02"]
    assert world.granted(east, "alice") == {world.arns["east"], west_arn}
    assert Backfill(east).run().as_dict()["revoked"] == 0
    assert world.granted(east, "alice") == {world.arns["east"], west_arn}
    assert ACCOUNT in west_arn
