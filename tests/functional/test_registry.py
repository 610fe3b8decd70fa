"""The Model Registry: model package groups as a second resource kind of the same engine."""

from __future__ import annotations

from model_access.handlers.provisioner import handle
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
    """A group ARN of another account in the name member: AccountNotMember (the hub serves
    no other account by default); of another region: ForeignModel. Nothing written."""
    world.role("alice")
    world.group("fraud", "alice")
    rt = world.runtime()
    before = world.iam_writes()
    foreign = f"arn:aws:sagemaker:{REGION}:210987654321:model-package-group/fraud"
    result = handle(world.delete_group_event(foreign), rt)
    assert result["outcome"] == "AccountNotMember"
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


def test_backfill_grants_groups_and_models_and_verify_agrees(world: World) -> None:
    """Groups that existed before the pipeline are granted by the backfill (tag index), next
    to models; a second run writes nothing; verify finds no discrepancy; uninstall removes
    the tool policies that hold them."""
    from model_access.operate.uninstall import uninstall
    from model_access.operate.verify import verify
    from tests.functional.functions_loader import backfill_handler, lambda_context

    world.role("alice")
    world.role("bob")
    g1 = world.group("fraud", "alice")
    g2 = world.group("Churn", "bob")
    world.group("untagged")
    model = world.model("fraud", "bob")
    rt = world.runtime()
    result = backfill_handler(rt)({}, lambda_context("model-access-backfill"))
    assert (result["seen"], result["granted"], result["refused"]) == (3, 3, 0)
    assert world.granted(rt, "alice") == {g1}
    assert world.granted(rt, "bob") == {g2, model}
    before = world.iam_writes()
    backfill_handler(rt)({}, lambda_context("model-access-backfill"))
    assert world.iam_writes() == before
    assert verify(rt) == []
    removed = uninstall(rt, dry_run=False)
    assert len(removed) == 2
    assert world.granted(rt, "alice") == world.granted(rt, "bob") == set()


def test_verify_names_a_group_grant_removed_by_hand(world: World) -> None:
    """A hand edit that drops the group from alice's policy is found by verify."""
    import json

    from model_access.operate.verify import verify

    world.role("alice")
    world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud")])
    (policy,) = world.state(rt, "alice").tool_policies.values()
    world.clients.iam.create_policy_version(
        PolicyArn=policy.arn, SetAsDefault=True, PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                    "Action": "sagemaker:*", "Resource": "*"}]}))
    kinds = {d.kind for d in verify(rt)}
    assert "tampered" in kinds


def test_owner_tag_on_a_version_is_counted_and_changes_nothing(world: World) -> None:
    """AddTags of the owner tag on a version: VersionOwnerTag, the group's grant stays."""
    from model_access_cli.local import cloudtrail

    world.role("alice")
    world.role("bob")
    arn = world.group("fraud", "alice")
    rt = world.runtime()
    world.send(rt, [world.create_group_event("fraud")])
    version = world.version("fraud")
    result = handle(cloudtrail.envelope(cloudtrail.add_tags(version, {"owner-role": "bob"})), rt)
    assert result["outcome"] == "VersionOwnerTag"
    assert world.granted(rt, "alice") == {arn} and world.granted(rt, "bob") == set()
