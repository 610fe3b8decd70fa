"""The dashboard (built by `model_access.deploy.dashboard`) and the alarms that page someone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from model_access.deploy.dashboard import DashboardTargets, dashboard_body, dashboard_url

ALARM_PERIOD_SECONDS = 300


@dataclass(frozen=True)
class ObservabilityArgs:
    """What to watch, where the metrics live, and an optional SNS topic for alarms."""

    name_prefix: str
    namespace: str
    service: str
    provisioner: aws.lambda_.Function
    backfill: aws.lambda_.Function
    queue: aws.sqs.Queue
    dlq: aws.sqs.Queue
    region: pulumi.Output[str]
    partition: pulumi.Output[str]
    alarm_topic_arn: pulumi.Input[str] = ""
    """An SNS topic ARN (a plain string, or an Output of the embedding program); "" for none."""


class Observability(pulumi.ComponentResource):
    """One dashboard; alarms on DLQ depth, on each function's errors and on the account's
    managed policy quota."""

    def __init__(self, name: str, args: ObservabilityArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("model-access:index:Observability", name, None, opts)
        self._actions = [args.alarm_topic_arn] if args.alarm_topic_arn else []
        dashboard_name = args.name_prefix

        def body(values: list[Any]) -> str:
            region, provisioner, backfill, queue, dlq = values
            targets = DashboardTargets(region, args.namespace, args.service,
                                       provisioner, backfill, queue, dlq)
            return json.dumps(dashboard_body(targets))

        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=dashboard_name,
            dashboard_body=pulumi.Output.all(
                args.region, args.provisioner.name, args.backfill.name,
                args.queue.name, args.dlq.name,
            ).apply(body),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.url = pulumi.Output.all(args.partition, args.region, self.dashboard.dashboard_name
                                     ).apply(lambda v: dashboard_url(v[0], v[1], v[2]))
        self.dlq_alarm = self._alarm(
            f"{name}-dlq-depth", f"{args.name_prefix}-dlq-not-empty",
            "Events or records reached the DLQ: inspect them, fix the cause, then redrive.",
            namespace="AWS/SQS", metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": args.dlq.name}, statistic="Maximum",
        )
        self.error_alarms = [
            self._alarm(
                f"{name}-{label}-errors", f"{args.name_prefix}-{label}-errors",
                f"The {label} function failed (errors are unhandled exceptions or timeouts).",
                namespace="AWS/Lambda", metric_name="Errors",
                dimensions={"FunctionName": function.name}, statistic="Sum",
            )
            for label, function in (("provisioner", args.provisioner), ("backfill", args.backfill))
        ]
        self.policy_quota_alarm = self._alarm(
            f"{name}-account-policy-quota", f"{args.name_prefix}-account-policy-quota",
            "CreatePolicy hit the account's customer managed policy quota (1,500 by default): "
            "grants are refused as AccountPolicyQuota until the quota is raised or freed.",
            namespace=args.namespace, metric_name="AccountPolicyQuota",
            dimensions={"service": args.service}, statistic="Sum",
        )
        self.register_outputs({"dashboard_name": self.dashboard.dashboard_name, "url": self.url})

    def _alarm(self, resource_name: str, alarm_name: str, description: str, *,
               namespace: str, metric_name: str, dimensions: dict[str, Any],
               statistic: str) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            resource_name,
            name=alarm_name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric_name,
            dimensions=dimensions,
            statistic=statistic,
            period=ALARM_PERIOD_SECONDS,
            evaluation_periods=1,
            threshold=0,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=self._actions,
            ok_actions=self._actions,
            opts=pulumi.ResourceOptions(parent=self),
        )
