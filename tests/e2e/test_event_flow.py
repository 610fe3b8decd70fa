"""The production path over HTTP: PutEvents -> EventBridge rule -> SQS -> poller -> handler."""

from __future__ import annotations

import pytest

from model_access_cli.local import cloudtrail
from model_access_cli.local.lambdas import LocalInvoker, load_function
from model_access_cli.local.poller import LocalPoller
from model_access_cli.local.stack import LocalStack
from tests.functional.world import World, role_arn

pytestmark = pytest.mark.e2e


def emit(world: World, detail: dict) -> None:  # type: ignore[type-arg]
    answer = world.clients.events.put_events(Entries=[cloudtrail.put_events_entry(detail)])
    assert answer["FailedEntryCount"] == 0


def poller(world: World, stack: LocalStack) -> LocalPoller:
    module = load_function("provisioner")
    module._runtime = world.runtime()
    return LocalPoller(world.clients.sqs, stack.queue_url, stack.queue_arn, LocalInvoker(module))


def test_events_on_the_bus_become_grants(stack: tuple[World, LocalStack]) -> None:
    """CloudTrail events routed by EventBridge's rule end as grants in IAM, not log lines."""
    world, local = stack
    world.role("alice")
    world.role("ml-platform", "/teams/")
    mixed = world.model("Churn-Predictor", "alice")
    by_arn = world.model("fraud", "arn:aws:iam::123456789012:role/teams/ml-platform")
    world.model("untagged")
    for name in ("Churn-Predictor", "fraud", "untagged"):
        emit(world, cloudtrail.create_model(name, world.arns[name]))
    stats = poller(world, local).drain(timeout=60)
    assert stats.records == 3 and stats.failed_records == 0
    rt = world.runtime()
    assert world.granted(rt, "alice") == {mixed}
    assert world.granted(rt, "ml-platform") == {by_arn}
    assert world.record(rt, "untagged").version == 0  # refused (NoOwnerTag), no record write


def test_rule_filters_failed_calls_and_other_sources(stack: tuple[World, LocalStack]) -> None:
    """EventBridge's pattern drops failed calls and unrelated events before the queue."""
    world, local = stack
    emit(world, cloudtrail.create_model("x", "arn:aws:sagemaker:us-east-1:123456789012:model/x",
                                        error_code="AccessDenied"))
    emit(world, cloudtrail.detail("ListModels", {}))
    attributes = world.clients.sqs.get_queue_attributes(
        QueueUrl=local.queue_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "0"


def test_lifecycle_over_http(stack: tuple[World, LocalStack]) -> None:
    """Delete revokes and the owner's re-tag moves, through the real queue and rule (the
    poller's records come from the stack's queue, so the caller alice is believed)."""
    world, local = stack
    world.role("alice")
    world.role("bob")
    keep, gone = world.model("keep", "alice"), world.model("gone", "alice")
    emit(world, cloudtrail.create_model("keep", keep))
    emit(world, cloudtrail.create_model("gone", gone))
    feed = poller(world, local)
    feed.drain(timeout=60)
    world.delete_model("gone")
    emit(world, cloudtrail.delete_model("gone"))
    world.set_owner("keep", "bob")
    emit(world, cloudtrail.add_tags(keep, {"owner-role": "bob"},
                                    caller_role_arn=role_arn("alice")))
    feed.drain(timeout=60)
    rt = world.runtime()
    assert world.granted(rt, "alice") == set()
    assert world.granted(rt, "bob") == {keep}


def test_poison_record_reaches_the_dlq_without_blocking_others(
        stack: tuple[World, LocalStack]) -> None:
    """A record that keeps failing is redriven to the DLQ by SQS; the others are granted."""
    world, local = stack
    world.role("alice")
    ok = world.model("ok", "alice")
    emit(world, cloudtrail.create_model("ok", ok))
    # A created model SageMaker never shows: retried until maxReceiveCount, then the DLQ.
    emit(world, cloudtrail.create_model(
        "never", "arn:aws:sagemaker:us-east-1:123456789012:model/never", {"owner-role": "alice"}))
    module = load_function("provisioner")
    module._runtime = world.runtime(MODEL_ACCESS_MAX_RECEIVES_FOR_MISSING="99")
    feed = LocalPoller(world.clients.sqs, local.queue_url, local.queue_arn, LocalInvoker(module),
                       visibility_timeout=1)
    feed.drain(timeout=60)
    assert world.granted(module._runtime, "alice") == {ok}
    dlq = world.clients.sqs.get_queue_attributes(
        QueueUrl=local.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert dlq["ApproximateNumberOfMessages"] == "1"
