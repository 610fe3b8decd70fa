"""Event routing: the EventBridge rule on the default bus, its SQS target and who may send.

The rule's pattern is `sagemaker_model_calls_pattern()`, the same builder the runtime's
tests and the local moto stack use. Each queue's policy lets EventBridge send only on
behalf of this rule (`aws:SourceArn`), and refuses any request not made over TLS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model_access.patterns import (
    queue_policy,
    reconcile_requests_pattern,
    sagemaker_model_calls_pattern_json,
)


@dataclass(frozen=True)
class EventRoutingArgs:
    """The queue events go to, its DLQ, and the target's retry budget."""

    name_prefix: str
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    event_max_age_seconds: int
    event_retry_attempts: int


class EventRouting(pulumi.ComponentResource):
    """Rule -> SQS target (retry policy, target DLQ) and the queue policies that admit it."""

    def __init__(self, name: str, args: EventRoutingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:EventRouting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=f"{args.name_prefix}-sagemaker-model-calls",
            description="SageMaker CreateModel/DeleteModel/AddTags/DeleteTags recorded by "
                        "CloudTrail, to the model-access queue",
            event_bus_name="default",
            event_pattern=sagemaker_model_calls_pattern_json(),
            opts=child,
        )
        self.redrive_rule = aws.cloudwatch.EventRule(
            f"{name}-redrive-rule",
            name=f"{args.name_prefix}-reconcile-requests",
            description="Operators' 'Reconcile Model' re-drive requests, to the model-access "
                        "queue (events/stack/reconcile-model.put-events.json)",
            event_bus_name="default",
            event_pattern=json.dumps(reconcile_requests_pattern(), sort_keys=True),
            opts=child,
        )
        policies = []
        for label, queue in (("queue", args.queue), ("dlq", args.dlq)):
            policies.append(aws.sqs.QueuePolicy(
                f"{name}-{label}-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, self.rule.arn, self.redrive_rule.arn).apply(
                    lambda arns: json.dumps(queue_policy(arns[0], [arns[1], arns[2]]))
                ),
                opts=child,
            ))
        self.target, self.redrive_target = (
            aws.cloudwatch.EventTarget(
                f"{name}-{label}",
                rule=rule.name,
                event_bus_name="default",
                target_id="model-access-queue",
                arn=args.queue.arn,
                retry_policy={
                    "maximum_event_age_in_seconds": args.event_max_age_seconds,
                    "maximum_retry_attempts": args.event_retry_attempts,
                },
                dead_letter_config={"arn": args.dlq.arn},
                opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
            )
            for label, rule in (("target", self.rule), ("redrive-target", self.redrive_rule))
        )
        self.register_outputs({"rule_arn": self.rule.arn, "rule_name": self.rule.name})
