"""Event routing: the EventBridge rules on the default bus, their SQS targets and who may send.

The SageMaker rules are those `trigger_patterns(trigger)` names, the same builder the
runtime's tests and the local moto stack use: CloudTrail's API calls (`cloudtrail`),
SageMaker's own model state changes (`native`), or both; plus operators' re-drive rule.
With a hub bus (organization or other regions forwarding), the same SageMaker rules exist on
it too, delivering to the same queue. The queue's and the DLQ's policies
(`event_queue_policies`, shared with `model-access local up`) deny `sqs:SendMessage` to
everyone but EventBridge acting for these rules, SQS moving messages between the two
queues, and the operators in `redrivePrincipals`; they also refuse any request not made
over TLS. The provisioner believes the caller a queued event names
only because of this.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model_access.deploy.patterns import (
    MODEL_CALLS_RULE,
    MODEL_STATE_RULE,
    TriggerMode,
    event_queue_policies,
    pattern_json,
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
    redrive_principals: tuple[str, ...] = ()
    hub_bus_name: pulumi.Input[str] | None = None
    """The hub's own bus (spokes forward to it): its rules deliver to the queue as well."""


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
        self.hub_rules = [
            aws.cloudwatch.EventRule(
                f"{name}-hub-{RESOURCE_LABELS[suffix]}rule",
                name=f"{args.name_prefix}-hub-{suffix}",
                description=f"{DESCRIPTIONS[suffix]}, forwarded to the hub bus by the spokes",
                event_bus_name=args.hub_bus_name,
                event_pattern=pattern_json(pattern),
                opts=child,
            )
            for suffix, pattern in trigger_patterns(args.trigger).items()
        ] if args.hub_bus_name is not None else []
        every_rule = [*self.rules, self.redrive_rule, *self.hub_rules]
        documents = pulumi.Output.all(args.queue.arn, args.dlq.arn,
                                      *(r.arn for r in every_rule)).apply(
            lambda arns: event_queue_policies(arns[0], arns[1], list(arns[2:]),
                                              args.redrive_principals))
        policies = [
            aws.sqs.QueuePolicy(
                f"{name}-{label}-policy",
                queue_url=queue.url,
                policy=documents.apply(lambda docs, i=index: json.dumps(docs[i])),
                opts=child,
            )
            for index, (label, queue) in enumerate((("queue", args.queue), ("dlq", args.dlq)))
        ]
        labels = [f"{RESOURCE_LABELS[s]}target" for s in trigger_patterns(args.trigger)]
        hub_labels = [f"hub-{label}" for label in labels] if self.hub_rules else []
        buses: list[pulumi.Input[str]] = ["default"] * (len(labels) + 1)
        buses += [args.hub_bus_name or "default"] * len(hub_labels)
        self.targets = [
            aws.cloudwatch.EventTarget(
                f"{name}-{label}",
                rule=rule.name,
                event_bus_name=bus,
                target_id="model-access-queue",
                arn=args.queue.arn,
                retry_policy={
                    "maximum_event_age_in_seconds": args.event_max_age_seconds,
                    "maximum_retry_attempts": args.event_retry_attempts,
                },
                dead_letter_config={"arn": args.dlq.arn},
                opts=pulumi.ResourceOptions(parent=self, depends_on=policies),
            )
            for label, rule, bus in zip([*labels, "redrive-target", *hub_labels], every_rule,
                                        buses, strict=True)
        ]
        self.register_outputs({"rule_arns": [r.arn for r in self.rules],
                               "rule_names": [r.name for r in self.rules],
                               "hub_rule_arns": [r.arn for r in self.hub_rules]})
