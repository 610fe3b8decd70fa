"""The Model Registry: model package groups as a second resource kind of the same engine."""

from __future__ import annotations

from model_access.provisioner import handle
from tests.functional.world import ACCOUNT, REGION, World

GROUP_KIND = "model-package-group"


def versions(arn: str) -> str:
    return arn.replace(":model-package-group/", ":model-package/") + "/*"


def statement(world: World, rt: object, role: str, sid: str) -> list[str]:
    state = world.state(rt, role)  # type: ignore[arg-type]
    (policy,) = state.tool_policies.values()
    return next(s["Resource"] for s in policy.document["Statement"] if s["Sid"] == sid)


def test_create_group_grants_the_group_and_its_versions(world: World) -> None:
    """CreateModelPackageGroup grants the owner the group ARN and `model-package/<G>/*`."""
    world.role("alice")
    arn = world.group("fraud", "alice")
    rt = world.runtime()
    assert world.send(rt, [world.create_group_event("fraud", "alice")]) == {
        "batchItemFailures": []}
    assert world.granted(rt, "alice") == {arn}
    assert statement(world, rt, "alice", "OwnerModelPackageAccess") == [versions(arn)]
    record = world.record(rt, "fraud", GROUP_KIND)
    assert (record.role, record.status, record.model_arn) == ("alice", "granted", arn)


def test_new_versions_need_no_iam_write(world: World) -> None:
    """Registering versions after the grant changes nothing in IAM: the wildcard covers them."""
    world.role("alice")
    world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud", "alice")])
    before = world.iam_writes()
    for _ in range(3):
        world.version("fraud")
    assert world.iam_writes() == before


def test_delete_group_revokes(world: World) -> None:
    """DeleteModelPackageGroup (name in the request, nothing in the response) revokes."""
    world.role("alice")
    arn = world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud", "alice")])
    world.delete_group("fraud")
    world.send(rt, [world.delete_group_event("fraud")])
    assert world.granted(rt, "alice") == set()
    assert world.record(rt, "fraud", GROUP_KIND).role is None
    del arn


def test_delete_by_arn_as_name(world: World) -> None:
    """modelPackageGroupName may hold the group's ARN: the same group is revoked."""
    world.role("alice")
    arn = world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud", "alice")])
    world.delete_group("fraud")
    world.send(rt, [world.delete_group_event(arn)])
    assert world.granted(rt, "alice") == set()


def test_group_name_as_arn_of_another_account_is_refused(world: World) -> None:
    """A group ARN of another account in the name member: ForeignModel, nothing written."""
    world.role("alice")
    world.group("fraud", "alice")
    rt = world.runtime()
    before = world.iam_writes()
    foreign = f"arn:aws:sagemaker:{REGION}:210987654321:model-package-group/fraud"
    result = handle(world.delete_group_event(foreign), rt)
    assert result["outcome"] == "ForeignModel"
    other_region = f"arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model-package-group/fraud"
    assert handle(world.delete_group_event(other_region), rt)["outcome"] == "ForeignModel"
    assert world.iam_writes() == before


def test_owner_change_on_a_group_moves_the_grant(world: World) -> None:
    """The group's owner re-tags it to bob (a trusted change): the grant moves."""
    world.role("alice")
    world.role("bob")
    arn = world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud", "alice")])
    world.set_group_owner("fraud", "bob")
    caller = f"arn:aws:iam::{ACCOUNT}:role/alice"
    world.send(rt, [world.group_tags_event("fraud", "bob", caller_role_arn=caller)])
    assert world.granted(rt, "alice") == set()
    assert world.granted(rt, "bob") == {arn}


def test_a_model_and_a_group_of_one_name_are_never_confused(world: World) -> None:
    """Model `fraud` owned by alice and group `fraud` owned by bob: two grants, two records."""
    world.role("alice")
    world.role("bob")
    model = world.model("fraud", "alice")
    group = world.group("fraud", "bob")
    rt = world.runtime()
    world.send(rt, [world.create_event("fraud", "alice"), world.create_group_event("fraud", "bob")])
    assert world.granted(rt, "alice") == {model}
    assert world.granted(rt, "bob") == {group}
    world.delete_group("fraud")
    world.send(rt, [world.delete_group_event("fraud")])
    assert world.granted(rt, "alice") == {model}
    assert world.granted(rt, "bob") == set()
    assert world.record(rt, "fraud").role == "alice"
