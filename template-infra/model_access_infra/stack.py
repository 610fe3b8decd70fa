"""`ModelAccess`: the whole stack as one component, for this repository's program or yours.

`template-infra/__main__.py` is the ready-made program: it reads the stack config into a
`StackConfig` and declares one `ModelAccess`. A platform team's own Pulumi program does the
same with a `StackConfig` it builds in code (docs/deploy.md, "Embed it in your program").
The children are the components the program always declared, in the order events flow
through them; each carries an alias to its old place at the stack's root (Pulumi's recipe
for wrapping resources in a component, docs "Refactoring with aliases"), so a stack
deployed before this component existed updates in place instead of being replaced.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

from model_access.core.errors import ConfigurationError
from model_access_infra.artifacts import DIST_DIR
from model_access_infra.functions import Functions, FunctionsArgs
from model_access_infra.hub import HubBus, HubBusArgs
from model_access_infra.observability import Observability, ObservabilityArgs
from model_access_infra.org import OrganizationSpokes, OrganizationSpokesArgs
from model_access_infra.queue import EventQueue, EventQueueArgs
from model_access_infra.routing import EventRouting, EventRoutingArgs
from model_access_infra.schedule import BackfillSchedule, BackfillScheduleArgs
from model_access_infra.stack_config import StackConfig
from model_access_infra.table import GrantTable, GrantTableArgs
from model_access_infra.trail import CloudTrailFeed, CloudTrailFeedArgs

COMPONENT_TYPE = "model-access:index:ModelAccess"


@dataclass(frozen=True)
class ModelAccessArgs:
    """Everything the stack takes: the settings (every stack config key, typed, defaulted,
    checked), the folder holding provisioner.zip, backfill.zip and layer.zip (`make
    package`), and optionally an alarm topic from the embedding program."""

    config: StackConfig = field(default_factory=StackConfig)
    artifacts_dir: Path = DIST_DIR
    alarm_topic_arn: pulumi.Input[str] | None = None
    """Overrides `config.alarm_topic_arn`, e.g. with the ARN of a topic your program declares."""


class ModelAccess(pulumi.ComponentResource):
    """Trail (optional), grant table, event queue, hub bus (organization or other regions),
    routing, functions, spokes, sweep, observability.

    Raises `model_access.core.errors.ConfigurationError` naming every bad setting before any
    resource is declared.
    """

    def __init__(self, name: str, args: ModelAccessArgs | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        args = args or ModelAccessArgs()
        config = args.config
        config.check()
        _check_forward_regions(config)
        super().__init__(COMPONENT_TYPE, name, None, opts)
        for warning in config.insecure_choices():
            pulumi.log.warn(warning, resource=self)
        prefix = config.name_prefix
        child = pulumi.ResourceOptions(parent=self,
                                       aliases=[pulumi.Alias(parent=pulumi.ROOT_STACK_RESOURCE)])
        invoke = pulumi.InvokeOptions(parent=self)
        self.account_id = aws.get_caller_identity_output(opts=invoke).account_id
        self.partition = aws.get_partition_output(opts=invoke).partition
        self.region = aws.get_region_output(opts=invoke).region

        if config.trail_wanted:
            CloudTrailFeed(f"{prefix}-trail", CloudTrailFeedArgs(
                prefix, self.account_id, self.partition, self.region), opts=child)
        self.table = GrantTable(f"{prefix}-grants", GrantTableArgs(config.table_name),
                                opts=child)
        self.events = EventQueue(f"{prefix}-events", EventQueueArgs(
            queue_name=config.queue_name,
            visibility_timeout_seconds=config.queue_visibility_timeout_seconds,
            max_receive_count=config.max_receive_count,
        ), opts=child)
        self.hub: HubBus | None = None
        if config.hub_bus_wanted:
            self.hub = HubBus(f"{prefix}-hub", HubBusArgs(
                bus_name=prefix, organization_id=config.organization_id,
                trigger=config.trigger_mode), opts=pulumi.ResourceOptions(parent=self))
        EventRouting(f"{prefix}-routing", EventRoutingArgs(
            name_prefix=prefix,
            queue=self.events.queue,
            dlq=self.events.dlq,
            event_max_age_seconds=config.event_max_age_seconds,
            event_retry_attempts=config.event_retry_attempts,
            trigger=config.trigger_mode,
            redrive_principals=config.redrive_principals,
            hub_bus_name=self.hub.name if self.hub else None,
        ), opts=child)
        self.functions = Functions(f"{prefix}-functions", FunctionsArgs(
            config=config,
            table=self.table.table,
            queue=self.events.queue,
            account_id=self.account_id,
            partition=self.partition,
            region=self.region,
            artifacts_dir=Path(args.artifacts_dir),
        ), opts=child)
        if self.hub is not None:
            OrganizationSpokes(f"{prefix}-spokes", OrganizationSpokesArgs(
                config=config,
                hub_bus_arn=self.hub.arn,
                functions_role_arn=self.functions.role.arn,
                account_id=self.account_id,
                partition=self.partition,
                region=self.region,
            ), opts=pulumi.ResourceOptions(parent=self))
        if config.schedule_enabled:
            BackfillSchedule(f"{prefix}-sweep", BackfillScheduleArgs(
                name_prefix=prefix,
                expression=config.backfill_schedule.strip(),
                function=self.functions.backfill,
            ), opts=child)
        self.observability = Observability(f"{prefix}-observability", ObservabilityArgs(
            name_prefix=prefix,
            namespace=config.metrics_namespace,
            service=config.service_name,
            provisioner=self.functions.provisioner,
            backfill=self.functions.backfill,
            queue=self.events.queue,
            dlq=self.events.dlq,
            region=self.region,
            partition=self.partition,
            alarm_topic_arn=(config.alarm_topic_arn if args.alarm_topic_arn is None
                             else args.alarm_topic_arn),
        ), opts=child)
        self.outputs: dict[str, pulumi.Output[str]] = {
            "queueName": self.events.queue.name,
            "queueUrl": self.events.queue.url,
            "dlqName": self.events.dlq.name,
            "dlqUrl": self.events.dlq.url,
            "tableName": self.table.name,
            "provisionerFunctionName": self.functions.provisioner.name,
            "backfillFunctionName": self.functions.backfill.name,
            "functionsRoleName": self.functions.role.name,
            "dashboardName": self.observability.dashboard.dashboard_name,
            "dashboardUrl": self.observability.url,
        }
        """What an operator needs next, by the names `pulumi stack output` shows."""
        if self.hub is not None:
            self.outputs["hubBusArn"] = self.hub.arn
        self.register_outputs(self.outputs)


def _check_forward_regions(config: StackConfig) -> None:
    """forwardRegions are the account's *other* regions: a forwarding stack in the home
    region would feed the hub bus from the default bus whose own rules already feed the
    queue (every event twice). The home region is the provider's, known only here."""
    if not config.forward_regions:
        return
    home = aws.get_region().region
    if home in config.forward_regions:
        raise ConfigurationError(f"invalid stack configuration:\n  forwardRegions: {home} is "
                                 "the home region; list only the other regions of this account")
