"""Race-freedom: many workers, one queue, a few roles; no grant is ever lost.

Each worker has its own HTTP clients, its own lease identity and its own poller on the
same SQS queue (as concurrent Lambda invocations of one event source mapping would), all
against one moto server. Without per-role leases, two workers rewriting the same role's
policy from the same old version would drop each other's ARNs.
"""

from __future__ import annotations

import threading

import pytest

from model_access.aws.clients import Clients
from model_access.operate.verify import verify
from model_access_cli.local import cloudtrail
from model_access_cli.local.lambdas import LocalInvoker, load_function
from model_access_cli.local.poller import LocalPoller, PollStats
from model_access_cli.local.stack import LocalStack
from tests.functional.world import World

pytestmark = pytest.mark.e2e

WORKERS = 4
ROLES = ("alice", "bob", "carol")
MODELS_PER_ROLE = 20


def test_concurrent_workers_lose_no_grant(stack: tuple[World, LocalStack], endpoint: str) -> None:
    """Four workers draining 60 CreateModel events for three roles end with every grant in place."""
    world, local = stack
    for role in ROLES:
        world.role(role)
    expected = {role: set() for role in ROLES}
    entries = []
    for i in range(MODELS_PER_ROLE):
        for role in ROLES:
            name = f"{role}-model-{i:02d}"
            arn = world.model(name, role)
            expected[role].add(arn)
            entries.append(cloudtrail.put_events_entry(cloudtrail.create_model(name, arn)))
    for start in range(0, len(entries), 10):
        world.clients.events.put_events(Entries=entries[start : start + 10])

    stats: list[PollStats] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            module = load_function("provisioner")
            clients = Clients(region="us-east-1", endpoint_url=endpoint)
            module._runtime = World(clients).runtime(MODEL_ACCESS_LEASE_WAIT_SECONDS="6")
            poller = LocalPoller(clients.sqs, local.queue_url, local.queue_arn,
                                 LocalInvoker(module), batch_size=5, window_seconds=0.05,
                                 visibility_timeout=10)
            stats.append(poller.drain(timeout=120))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(s.batches for s in stats) >= WORKERS, "workers did not share the queue"
    rt = world.runtime()
    for role in ROLES:
        assert world.granted(rt, role) == expected[role], f"lost grants for {role}"
    dlq = world.clients.sqs.get_queue_attributes(
        QueueUrl=local.dlq_url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    assert dlq["ApproximateNumberOfMessages"] == "0"
    assert verify(rt) == []
