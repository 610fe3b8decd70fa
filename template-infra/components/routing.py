"""Event routing: the EventBridge rules on the default bus, their SQS targets and who may send.

The SageMaker rules are those `trigger_patterns(trigger)` names, the same builder the
runtime's tests and the local moto stack use: CloudTrail's API calls (`cloudtrail`),
SageMaker's own model state changes (`native`), or both; plus operators' re-drive rule.
Each queue's policy lets EventBridge send only on behalf of these rules (`aws:SourceArn`),
and refuses any request not made over TLS.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model_access.patterns import (
    MODEL_CALLS_RULE,
    MODEL_STATE_RULE,
    TriggerMode,
    pattern_json,
    queue_policy,
    reconcile_requests_pattern,
    trigger_patterns,
)

RESOURCE_LABELS = {MODEL_CALLS_RULE: "", MODEL_STATE_RULE: "native-"}
"""Pulumi names per rule: the CloudTrail rule keeps the names it had before `trigger`."""
DESCRIPTIONS = {
    MODEL_CALLS_RULE: "SageMaker CreateModel/DeleteModel/AddTags/DeleteTags recorded by "
                      "CloudTrail, to the model-access queue",
    MODEL_STATE_RULE: "SageMaker Model State Change (models created or deleted; no trail "
                      "needed), to the model-access queue",
}


@dataclass(frozen=True)
class EventRoutingArgs:
    """The queue events go to, its DLQ, and the target's retry budget."""

    name_prefix: str
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    event_max_age_seconds: int
    event_retry_attempts: int
    trigger: TriggerMode = TriggerMode.BOTH


class EventRouting(pulumi.ComponentResource):
    """Rule -> SQS target (retry policy, target DLQ) and the queue policies that admit it."""

    def __init__(self, name: str, args: EventRoutingArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:EventRouting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rules = [
            aws.cloudwatch.EventRule(
                f"{name}-{RESOURCE_LABELS[suffix]}rule",
                name=f"{args.name_prefix}-{suffix}",
                description=DESCRIPTIONS[suffix],
                event_bus_name="default",
                event_pattern=pattern_json(pattern),
                opts=child,
            )
            for suffix, pattern in trigger_patterns(args.trigger).items()
        ]
        self.rule = self.rules[0]
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
        every_rule = [*self.rules, self.redrive_rule]
        for label, queue in (("queue", args.queue), ("dlq", args.dlq)):
            policies.append(aws.sqs.QueuePolicy(
                f"{name}-{label}-policy",
                queue_url=queue.url,
                policy=pulumi.Output.all(queue.arn, *(r.arn for r in every_rule)).apply(
                    lambda arns: json.dumps(queue_policy(arns[0], list(arns[1:])))
                ),
                opts=child,
            ))
        labels = [f"{RESOURCE_LABELS[s]}target" for s in trigger_patterns(args.trigger)]
        self.targets = [
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
            for label, rule in zip([*labels, "redrive-target"], every_rule, strict=True)
        ]
        self.register_outputs({"rule_arns": [r.arn for r in self.rules],
                               "rule_names": [r.name for r in self.rules]})
