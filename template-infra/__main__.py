"""model-access: SageMaker model events -> queue -> provisioner, plus backfill and dashboard.

Reads the stack config (stack_config.py checks it before anything is declared), then wires
the components in the order events flow through them.
"""

import pulumi
import pulumi_aws as aws

from components import (
    BackfillSchedule,
    BackfillScheduleArgs,
    CloudTrailFeed,
    CloudTrailFeedArgs,
    EventQueue,
    EventQueueArgs,
    EventRouting,
    EventRoutingArgs,
    Functions,
    FunctionsArgs,
    GrantTable,
    GrantTableArgs,
    Observability,
    ObservabilityArgs,
)
from stack_config import StackConfig

config = StackConfig.from_pulumi(pulumi.Config())
config.check()
for warning in config.insecure_choices():
    pulumi.log.warn(warning)
prefix = config.name_prefix
account_id = aws.get_caller_identity_output().account_id
partition = aws.get_partition_output().partition
region = aws.get_region_output().region

if config.trail_wanted:
    CloudTrailFeed(f"{prefix}-trail", CloudTrailFeedArgs(prefix, account_id, partition, region))

table = GrantTable(f"{prefix}-grants", GrantTableArgs(config.table_name))

events = EventQueue(f"{prefix}-events", EventQueueArgs(
    queue_name=config.queue_name,
    visibility_timeout_seconds=config.queue_visibility_timeout_seconds,
    max_receive_count=config.max_receive_count,
))

EventRouting(f"{prefix}-routing", EventRoutingArgs(
    name_prefix=prefix,
    queue=events.queue,
    dlq=events.dlq,
    event_max_age_seconds=config.event_max_age_seconds,
    event_retry_attempts=config.event_retry_attempts,
    trigger=config.trigger_mode,
    redrive_principals=config.redrive_principals,
))

functions = Functions(f"{prefix}-functions", FunctionsArgs(
    config=config,
    table=table.table,
    queue=events.queue,
    account_id=account_id,
    partition=partition,
    region=region,
))

if config.schedule_enabled:
    BackfillSchedule(f"{prefix}-sweep", BackfillScheduleArgs(
        name_prefix=prefix,
        expression=config.backfill_schedule.strip(),
        function=functions.backfill,
    ))

observability = Observability(f"{prefix}-observability", ObservabilityArgs(
    name_prefix=prefix,
    namespace=config.metrics_namespace,
    service=config.service_name,
    provisioner=functions.provisioner,
    backfill=functions.backfill,
    queue=events.queue,
    dlq=events.dlq,
    region=region,
    partition=partition,
    alarm_topic_arn=config.alarm_topic_arn,
))

pulumi.export("queueName", events.queue.name)
pulumi.export("queueUrl", events.queue.url)
pulumi.export("dlqName", events.dlq.name)
pulumi.export("dlqUrl", events.dlq.url)
pulumi.export("tableName", table.name)
pulumi.export("provisionerFunctionName", functions.provisioner.name)
pulumi.export("backfillFunctionName", functions.backfill.name)
pulumi.export("functionsRoleName", functions.role.name)
pulumi.export("dashboardName", observability.dashboard.dashboard_name)
pulumi.export("dashboardUrl", observability.url)
