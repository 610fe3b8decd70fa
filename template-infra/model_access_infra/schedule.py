"""The drift sweep: an EventBridge schedule that runs the backfill function.

The function receives EventBridge's "Scheduled Event" envelope; a manual
`aws lambda invoke` sends whatever payload the operator chooses.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class BackfillScheduleArgs:
    """A `rate(...)` or `cron(...)` expression and the function it runs."""

    name_prefix: str
    expression: str
    function: aws.lambda_.Function


class BackfillSchedule(pulumi.ComponentResource):
    """Schedule rule -> backfill function, with the permission that lets only this rule invoke."""

    def __init__(self, name: str, args: BackfillScheduleArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:BackfillSchedule", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.rule = aws.cloudwatch.EventRule(
            f"{name}-rule",
            name=f"{args.name_prefix}-drift-sweep",
            description="Runs the model-access backfill as a periodic drift sweep",
            schedule_expression=args.expression,
            opts=child,
        )
        permission = aws.lambda_.Permission(
            f"{name}-permission",
            action="lambda:InvokeFunction",
            function=args.function.name,
            principal="events.amazonaws.com",
            source_arn=self.rule.arn,
            opts=child,
        )
        aws.cloudwatch.EventTarget(
            f"{name}-target",
            rule=self.rule.name,
            target_id="model-access-backfill",
            arn=args.function.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[permission]),
        )
        self.register_outputs({"rule_name": self.rule.name})
