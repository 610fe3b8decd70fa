"""The event queue and its dead-letter queue.

One DLQ serves both failure paths: events EventBridge could not deliver (target DLQ) and
messages the provisioner failed `maxReceiveCount` times (redrive). Both carry the original
event as their body, so one "start DLQ redrive" moves either kind back into the queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

import pulumi
import pulumi_aws as aws

QUEUE_RETENTION_SECONDS: Final = 4 * 24 * 3600
DLQ_RETENTION_SECONDS: Final = 14 * 24 * 3600
"""The maximum: a standard queue's DLQ keeps the original enqueue time, so it must outlast
the source queue's retention or redriven messages expire early."""


@dataclass(frozen=True)
class EventQueueArgs:
    """Names and timings; the visibility timeout is derived from the function timeout."""

    queue_name: str
    visibility_timeout_seconds: int
    max_receive_count: int


def redrive_policy(dlq_arn: str, max_receive_count: int) -> str:
    """SQS's RedrivePolicy attribute."""
    return json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receive_count})


class EventQueue(pulumi.ComponentResource):
    """Standard SQS queue (SSE-SQS) with a redrive policy to a DLQ that only it may use."""

    def __init__(self, name: str, args: EventQueueArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:EventQueue", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.dlq = aws.sqs.Queue(
            f"{name}-dlq",
            name=f"{args.queue_name}-dlq",
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            opts=child,
        )
        self.queue = aws.sqs.Queue(
            f"{name}-queue",
            name=args.queue_name,
            visibility_timeout_seconds=args.visibility_timeout_seconds,
            message_retention_seconds=QUEUE_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            redrive_policy=self.dlq.arn.apply(
                lambda arn: redrive_policy(arn, args.max_receive_count)
            ),
            opts=child,
        )
        aws.sqs.RedriveAllowPolicy(
            f"{name}-dlq-redrive-allow",
            queue_url=self.dlq.url,
            redrive_allow_policy=self.queue.arn.apply(
                lambda arn: json.dumps({"redrivePermission": "byQueue", "sourceQueueArns": [arn]})
            ),
            opts=child,
        )
        self.register_outputs({
            "queue_name": self.queue.name,
            "queue_url": self.queue.url,
            "dlq_name": self.dlq.name,
            "dlq_url": self.dlq.url,
        })
