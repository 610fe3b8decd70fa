"""SageMaker's own model state-change events as a trigger, alone and next to CloudTrail's."""

from __future__ import annotations

from typing import Any

import pytest

from model_access.handlers import provisioner
from tests.functional.world import ACCOUNT, World


def test_native_create_alone_grants(world: World) -> None:
    """A model seen only through a native event is granted; the record names the trigger."""
    world.role("alice")
    arn = world.model("Churn-Native", "alice")
    rt = world.runtime()
    assert world.send(rt, [world.native_event("Churn-Native")]) == {"batchItemFailures": []}
    assert world.granted(rt, "alice") == {arn}
    assert world.record(rt, "churn-native").trigger == "ModelStateChange"


def test_native_delete_alone_revokes(world: World) -> None:
    """A native event for a model that is gone revokes its grant (no guess needed)."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    world.send(rt, [world.native_event("m1")])
    world.delete_model("m1")
    world.send(rt, [world.native_event("m1")])
    assert world.granted(rt, "alice") == set()
    assert world.record(rt, "m1").outcome == "Revoked"


def test_native_event_tags_are_never_believed(world: World) -> None:
    """The event's Tags name mallory; SageMaker's own tags name alice, who is granted."""
    world.role("alice")
    world.role("mallory")
    arn = world.model("m1", "alice")
    rt = world.runtime()
    world.send(rt, [world.native_event("m1", tags={"owner-role": "mallory"})])
    assert world.granted(rt, "alice") == {arn}
    assert world.granted(rt, "mallory") == set()


@pytest.mark.parametrize("together", [True, False], ids=["one-batch", "two-batches"])
def test_both_events_for_one_call_make_one_grant_and_one_set_of_writes(
        world: World, together: bool) -> None:
    """CloudTrail's and SageMaker's event for one CreateModel cost what one event costs."""
    world.role("alice")
    world.role("bob")
    alone = world.model("alone", "bob")
    rt = world.runtime()
    before = world.iam_writes()
    world.send(rt, [world.create_event("alone")])
    single = world.iam_writes() - before
    arn = world.model("twice", "alice")
    before = world.iam_writes()
    events = [world.create_event("twice"), world.native_event("twice")]
    if together:
        world.send(rt, events)
    else:
        for event in events:
            world.send(rt, [event])
    assert world.iam_writes() - before == single > 0
    assert world.granted(rt, "alice") == {arn}
    assert world.granted(rt, "bob") == {alone}
    history = world.record(rt, "twice").history
    assert [h["outcome"] for h in history] == ["Granted"]


@pytest.mark.parametrize("arn", [
    "arn:aws:sagemaker:us-east-1:999999999999:model/m1",
    "arn:aws:sagemaker:eu-west-1:123456789012:model/m1",
], ids=["other-account", "other-region"])
def test_native_event_for_a_foreign_model_is_refused(world: World, arn: str) -> None:
    """A native event naming another account's or region's model ends as ForeignModel."""
    world.role("alice")
    world.model("m1", "alice")
    rt = world.runtime()
    assert world.send(rt, [world.native_event("m1", arn=arn)]) == {"batchItemFailures": []}
    assert world.granted(rt, "alice") == set()
    assert world.record(rt, "m1").version == 0


def test_protected_mode_native_event_never_moves_a_grant(world: World) -> None:
    """An owner change only a native event shows waits: the trusted CloudTrail edit moves it."""
    world.role("alice")
    world.role("mallory")
    arn = world.model("m1", "alice")
    rt = world.runtime(MODEL_ACCESS_OWNER_CHANGE_MODE="protected")
    world.send(rt, [world.native_event("m1")])
    world.set_owner("m1", "mallory")
    world.send(rt, [world.native_event("m1")])
    assert world.granted(rt, "alice") == {arn}
    assert world.granted(rt, "mallory") == set()
    assert "carries no caller" in world.record(rt, "m1").reason
    world.send(rt, [world.add_tags_event(
        "m1", "mallory", caller_role_arn=f"arn:aws:iam::{ACCOUNT}:role/alice")])
    assert world.granted(rt, "mallory") == {arn}
    assert world.granted(rt, "alice") == set()


def test_log_line_names_the_trigger_of_each_decision(world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Each record's log line says which trigger led to the decision and by which path."""
    lines: list[dict[str, Any]] = []
    monkeypatch.setattr(provisioner.logger, "info",
                        lambda _message, extra=None: lines.append(dict(extra or {})))
    world.role("alice")
    world.model("m1", "alice")
    world.model("m2", "alice")
    rt = world.runtime()
    world.send(rt, [world.native_event("m1"), world.create_event("m2")])
    by_model = {line["model_name"]: (line["trigger"], line["via"]) for line in lines
                if "model_name" in line}
    assert by_model == {"m1": ("ModelStateChange", "native"),
                        "m2": ("CreateModel", "cloudtrail")}
