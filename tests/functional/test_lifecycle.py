"""Revoke, move and name reuse: access follows the truth whatever the event order."""

from __future__ import annotations

from model_access.handlers.provisioner import handle
from tests.functional.world import World, role_arn


def setup_granted(world: World, name: str = "m1", owner: str = "alice"):  # type: ignore[no-untyped-def]
    world.role("alice")
    world.role("bob")
    world.model(name, owner)
    rt = world.runtime()
    world.send(rt, [world.create_event(name)])
    assert world.granted(rt, owner) == {world.arns[name]}
    return rt


def test_delete_model_revokes_and_deletes_empty_policy(world: World) -> None:
    """DeleteModel (name only) removes the ARN; the emptied policy is detached and deleted."""
    rt = setup_granted(world)
    world.delete_model("m1")
    assert world.send(rt, [world.delete_event("m1")]) == {"batchItemFailures": []}
    assert world.granted(rt, "alice") == set()
    assert list(rt.iam.list_tool_policies()) == []
    record = world.record(rt, "m1")
    assert (record.role, record.status, record.outcome) == (None, "absent", "Revoked")


def test_delete_model_finds_grant_despite_letter_case(world: World) -> None:
    """A DeleteModel naming `churn-model` revokes the grant of `Churn-Model` (same model)."""
    rt = setup_granted(world, "Churn-Model")
    world.delete_model("Churn-Model")
    world.send(rt, [world.delete_event("churn-model")])
    assert world.granted(rt, "alice") == set()


def test_delete_keeps_other_models_of_the_role(world: World) -> None:
    """Revoking one model rewrites the policy without it and leaves the others."""
    rt = setup_granted(world)
    world.model("m2", "alice")
    world.send(rt, [world.create_event("m2")])
    world.delete_model("m1")
    world.send(rt, [world.delete_event("m1")])
    assert world.granted(rt, "alice") == {world.arns["m2"]}


def test_owner_tag_change_moves_the_grant(world: World) -> None:
    """alice's AddTags re-pointing the owner moves the grant from alice to bob."""
    rt = setup_granted(world)
    world.set_owner("m1", "bob")
    world.send(rt, [world.add_tags_event("m1", "bob", caller_role_arn=role_arn("alice"))])
    assert world.granted(rt, "alice") == set()
    assert world.granted(rt, "bob") == {world.arns["m1"]}
    assert world.record(rt, "m1").outcome == "Moved"


def test_owner_tag_removed_revokes(world: World) -> None:
    """alice's DeleteTags of the owner key revokes the grant."""
    rt = setup_granted(world)
    world.set_owner("m1", None)
    world.send(rt, [world.delete_tags_event("m1", caller_role_arn=role_arn("alice"))])
    assert world.granted(rt, "alice") == set()
    assert world.record(rt, "m1").outcome == "NoOwnerTag"


def test_other_tag_edits_cost_no_iam_call(world: World) -> None:
    """An AddTags on another key is ignored before any AWS call."""
    rt = setup_granted(world)
    calls = world.clients.counter.total()
    from model_access_cli.local import cloudtrail

    event = cloudtrail.envelope(cloudtrail.add_tags(world.arns["m1"], {"cost-center": "42"}))
    world.send(rt, [event])
    assert world.clients.counter.total() == calls


def test_name_reuse_create_before_late_delete(world: World) -> None:
    """Delete + re-create for bob, create event first, delete event late: alice loses access."""
    rt = setup_granted(world)
    world.delete_model("m1")
    world.model("m1", "bob")
    world.send(rt, [world.create_event("m1")])
    assert world.granted(rt, "alice") == set()
    assert world.granted(rt, "bob") == {world.arns["m1"]}
    world.send(rt, [world.delete_event("m1")])  # the late delete changes nothing
    assert world.granted(rt, "bob") == {world.arns["m1"]}


def test_name_reuse_events_in_one_batch_any_order(world: World) -> None:
    """Both events in one batch, delete after create: the truth (bob) wins."""
    rt = setup_granted(world)
    world.delete_model("m1")
    world.model("m1", "bob")
    world.send(rt, [world.create_event("m1"), world.delete_event("m1")])
    assert world.granted(rt, "alice") == set()
    assert world.granted(rt, "bob") == {world.arns["m1"]}


def test_direct_invoke_reconcile_request(world: World) -> None:
    """A manual re-drive of one model (direct invoke) brings its grant in line."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    event = {"version": "0", "id": "redrive-1", "source": "model-access",
             "detail-type": "Reconcile Model", "region": "us-east-1", "resources": [],
             "detail": {"modelArn": world.arns["m1"]}}
    assert handle(event, rt)["outcome"] == "Granted"
    assert handle(event, rt)["outcome"] == "Unchanged"


class TestProtectedOwnerChange:
    """Protected mode: only the current owner or an allowlisted caller may move a grant."""

    def runtime(self, world: World):  # type: ignore[no-untyped-def]
        return world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE="protected",
                             MODEL_ACCESS_OWNER_CHANGE_ALLOW="platform-admin")

    def granted_to_alice(self, world: World):  # type: ignore[no-untyped-def]
        world.role("alice")
        world.role("mallory")
        world.model("m1", "alice")
        rt = self.runtime(world)
        world.send(rt, [world.create_event("m1")])
        return rt

    def test_protected_mode_refuses_change_by_stranger(self, world: World) -> None:
        """mallory re-tags alice's model to herself: refused, the grant stays with alice."""
        rt = self.granted_to_alice(world)
        world.set_owner("m1", "mallory")
        world.send(rt, [world.add_tags_event(
            "m1", "mallory", caller_role_arn="arn:aws:iam::123456789012:role/mallory")])
        assert world.granted(rt, "mallory") == set()
        assert world.granted(rt, "alice") == {world.arns["m1"]}
        assert world.record(rt, "m1").outcome == "OwnerChangeDenied"

    def test_protected_mode_honours_current_owner(self, world: World) -> None:
        """alice hands her model to mallory herself: the grant moves."""
        rt = self.granted_to_alice(world)
        world.set_owner("m1", "mallory")
        world.send(rt, [world.add_tags_event(
            "m1", "mallory", caller_role_arn="arn:aws:iam::123456789012:role/alice")])
        assert world.granted(rt, "mallory") == {world.arns["m1"]}
        assert world.granted(rt, "alice") == set()

    def test_protected_mode_honours_allowlisted_caller(self, world: World) -> None:
        """An allowlisted platform role may move a grant."""
        rt = self.granted_to_alice(world)
        world.set_owner("m1", "mallory")
        world.send(rt, [world.add_tags_event(
            "m1", "mallory", caller_role_arn="arn:aws:iam::123456789012:role/platform-admin")])
        assert world.granted(rt, "mallory") == {world.arns["m1"]}

    def test_protected_mode_sweep_does_not_honour_unverified_change(self, world: World) -> None:
        """A re-tag seen only by a sweep (no trusted event) is not honoured."""
        rt = self.granted_to_alice(world)
        world.set_owner("m1", "mallory")
        from model_access.sweep.backfill import Backfill

        Backfill(rt).run()
        assert world.granted(rt, "mallory") == set()
        assert world.granted(rt, "alice") == {world.arns["m1"]}

    def test_protected_mode_name_reuse_is_not_an_owner_change(self, world: World) -> None:
        """A re-created model (new creation time) for mallory is hers; alice loses access."""
        rt = self.granted_to_alice(world)
        world.delete_model("m1")
        import time

        time.sleep(0.01)  # a later CreationTime
        world.model("m1", "mallory")
        world.send(rt, [world.create_event("m1")])
        assert world.granted(rt, "alice") == set()
        assert world.granted(rt, "mallory") == {world.arns["m1"]}


def test_stale_tag_index_never_moves_a_grant(world: World) -> None:
    """A CreateModel whose tag index answer is stale cannot undo a newer AddTags move."""
    rt = setup_granted(world)
    world.set_owner("m1", "bob")
    world.send(rt, [world.add_tags_event("m1", "bob", caller_role_arn=role_arn("alice"))])
    assert world.granted(rt, "bob") == {world.arns["m1"]}
    stale = (world.arns["m1"], (("owner-role", "alice"),))
    original = rt.models._tags_from_index
    rt.models._tags_from_index = lambda _arns: dict([stale])  # type: ignore[method-assign]
    try:
        world.send(rt, [world.create_event("m1")])  # a late duplicate of the CreateModel
    finally:
        rt.models._tags_from_index = original  # type: ignore[method-assign]
    assert world.granted(rt, "bob") == {world.arns["m1"]}
    assert world.granted(rt, "alice") == set()
