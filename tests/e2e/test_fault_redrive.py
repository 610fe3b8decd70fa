"""Faults over HTTP: a record that keeps failing reaches SQS's DLQ, and a redrive finishes it.

The worker's clients (the Lambda's) get the fault-injecting layer; SQS, EventBridge and the
poller stay healthy. The DLQ move is SQS's own redrive policy on the moto server.
"""

from __future__ import annotations

import pytest

from model_access.aws.clients import IAM_TOTAL_ATTEMPTS, Clients
from model_access.operate.verify import verify
from model_access_cli.local import cloudtrail
from model_access_cli.local.lambdas import LocalInvoker, load_function
from model_access_cli.local.poller import LocalPoller
from model_access_cli.local.stack import MAX_RECEIVE_COUNT, LocalStack
from tests.functional.faults import Faults, Rule, fast_backoff
from tests.functional.world import World

pytestmark = pytest.mark.e2e


def depth(world: World, url: str) -> int:
    attributes = world.clients.sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def redrive(world: World, local: LocalStack) -> int:
    """Move every DLQ message back to the source queue (what StartMessageMoveTask does;
    moto does not implement that call)."""
    sqs, moved = world.clients.sqs, 0
    while messages := sqs.receive_message(QueueUrl=local.dlq_url, MaxNumberOfMessages=10,
                                          VisibilityTimeout=30).get("Messages", []):
        for message in messages:
            sqs.send_message(QueueUrl=local.queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=local.dlq_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1
    return moved


def test_fault_persistent_iam_errors_reach_dlq_and_redrive_finishes(
        stack: tuple[World, LocalStack], endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """IAM answers 500 to every write for alice: her record is retried within bounds, goes to
    the DLQ after maxReceiveCount, bob's is granted meanwhile; a redrive then finishes it."""
    fast_backoff(monkeypatch)
    world, local = stack
    world.role("alice")
    world.role("bob")
    for name, owner in (("blocked", "alice"), ("fine", "bob")):
        arn = world.model(name, owner)
        entry = cloudtrail.put_events_entry(cloudtrail.create_model(name, arn))
        assert world.clients.events.put_events(Entries=[entry])["FailedEntryCount"] == 0
    worker = Clients(region="us-east-1", endpoint_url=endpoint)
    module = load_function("provisioner")
    module._runtime = World(worker).runtime()
    poller = LocalPoller(world.clients.sqs, local.queue_url, local.queue_arn,
                         LocalInvoker(module), visibility_timeout=2)
    broken = Rule("error500", ("iam",), operations=("CreatePolicy", "AttachRolePolicy"),
                  body_contains="alice")
    with Faults(worker, [broken]) as faults:
        stats = poller.drain(timeout=60)
    assert stats.handler_errors == 0, "the handler never raised"
    # Each receive fails; SQS moves the record to the DLQ after maxReceiveCount receives (a
    # receive that outlives the visibility timeout on a loaded machine may be counted once).
    assert 1 <= stats.failed_records <= MAX_RECEIVE_COUNT
    assert broken.injected <= MAX_RECEIVE_COUNT * IAM_TOTAL_ATTEMPTS  # 3 per receive
    assert faults.max_attempts == IAM_TOTAL_ATTEMPTS
    assert depth(world, local.dlq_url) == 1
    rt = world.runtime()
    assert world.granted(rt, "bob") == {world.arns["fine"]}
    assert world.granted(rt, "alice") == set()
    assert sorted(d.kind for d in verify(rt)) == ["missing-grant", "unfinished"]  # seen, not lost

    assert redrive(world, local) == 1
    poller.drain(timeout=60)
    assert depth(world, local.dlq_url) == 0
    assert world.granted(rt, "alice") == {world.arns["blocked"]}
    assert verify(rt) == []
