"""The hub's own event bus: where spokes (other accounts, other regions) forward to.

EventBridge forwards one bus-to-bus hop only, so every spoke targets this bus directly and
the rules on it (declared by `EventRouting`, the same patterns as on the default bus)
deliver to the queue. With an organization, its policy (`org_templates.hub_bus_policy`)
admits `events:PutEvents` from the organization's principals only, for SageMaker events a
rule forwarded. Without one (regions of one account only) it has no policy: the account's
own forwarding roles need none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from model_access.deploy.org_templates import hub_bus_policy
from model_access.deploy.patterns import TriggerMode, trigger_patterns


@dataclass(frozen=True)
class HubBusArgs:
    """The bus name, the organization it admits (none: same-account regions only), and the
    trigger whose event sources it admits."""

    bus_name: str
    organization_id: str = ""
    trigger: TriggerMode = TriggerMode.BOTH


def event_sources(trigger: TriggerMode) -> list[str]:
    """The `source` values the trigger's patterns match (the bus admits only these)."""
    return sorted({source for pattern in trigger_patterns(trigger).values()
                   for source in pattern["source"]})


class HubBus(pulumi.ComponentResource):
    """A custom event bus, and its organization-only policy when an organization is set."""

    def __init__(self, name: str, args: HubBusArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:HubBus", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.bus = aws.cloudwatch.EventBus(f"{name}-bus", name=args.bus_name, opts=child)
        self.policy: aws.cloudwatch.EventBusPolicy | None = None
        if args.organization_id:
            sources = event_sources(args.trigger)
            self.policy = aws.cloudwatch.EventBusPolicy(
                f"{name}-bus-policy",
                event_bus_name=self.bus.name,
                policy=self.bus.arn.apply(lambda arn: json.dumps(
                    hub_bus_policy(arn, args.organization_id, sources))),
                opts=child,
            )
        self.name = self.bus.name
        self.arn = self.bus.arn
        self.register_outputs({"name": self.name, "arn": self.arn})
