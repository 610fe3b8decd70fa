"""Stack configuration: typed, defaulted and checked before any resource is declared.

`Pulumi.yaml` declares the same keys (type, default, description) for the CLI; a test keeps
the two equal, and another keeps docs/deploy.md's table equal to `Pulumi.yaml`.
Settings the runtime reads are turned into its environment here, using the names in
`model_access.core.settings.Env`, and parsed with the runtime's own `Settings.from_mapping`, so a
value the functions would reject fails at `pulumi preview` instead of in Lambda.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Any, Final

import pulumi

from model_access.core.errors import ConfigurationError
from model_access.core.settings import (
    ANY_ROLE,
    DEFAULT_MEMBER_ROLE,
    Env,
    OwnerChangeMode,
    Settings,
)
from model_access.deploy.patterns import TriggerMode
from model_access.model.access import profile_from_settings, validate_profile
from model_access.model.catalog import default_catalog
from model_access_infra.org_config import (
    DELEGATED_ADMIN,
    organization_problems,
    served_regions,
)

LAMBDA_RUNTIME: Final = "python3.13"
LAMBDA_ARCHITECTURE: Final = "arm64"
BACKFILL_TIMEOUT_SECONDS: Final = 900
VISIBILITY_TIMEOUT_FACTOR: Final = 6
"""AWS: queue visibility timeout >= 6x the function timeout (plus the batching window)."""
LAMBDA_PROVIDED_ENV: Final = frozenset({Env.REGION, Env.DEFAULT_REGION})
"""Reserved by Lambda: set by the service, rejected in a function's configuration."""
SCHEDULE_OFF: Final = "off"
LOG_RETENTION_DAYS: Final = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
     2922, 3288, 3653}
)
_SCHEDULE = re.compile(r"^(rate|cron)\(.+\)$")
_IAM_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:(role|user)/\S+$")


def config_key(field_name: str) -> str:
    """`batch_size` -> `batchSize`: the stack config key of a field."""
    head, *rest = field_name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@dataclass(frozen=True)
class StackConfig:
    """Every stack config key, with the defaults `Pulumi.yaml` declares."""

    name_prefix: str = "model-access"
    table_name: str = "model-access-grants"
    queue_name: str = "model-access-events"
    batch_size: int = 500
    batching_window_seconds: int = 5
    max_concurrency: int = 5
    max_receive_count: int = 10
    event_max_age_seconds: int = 86400
    event_retry_attempts: int = 185
    provisioner_timeout_seconds: int = 60
    provisioner_memory_mb: int = 512
    backfill_memory_mb: int = 512
    log_retention_days: int = 30
    backfill_schedule: str = "rate(1 day)"
    alarm_topic_arn: str = ""
    redrive_principals: tuple[str, ...] = ()
    create_trail: bool = False
    trigger: str = "both"
    owner_tag_key: str = "owner-role"
    policy_path: str = "/model-access/"
    policy_name_prefix: str = "model-access-"
    access_level: str = "manage"
    group_access_level: str = "manage"
    extra_model_actions: tuple[str, ...] = ()
    allow_tag_edits: bool = False
    role_policy_share_percent: int = 80
    policy_size_margin: int = 96
    keep_policy_versions: int = 3
    deny_roles: tuple[str, ...] = ()
    role_path_prefix: str = ""
    role_tag: str = "model-access:eligible=true"
    owner_change_mode: str = "protected"
    owner_change_allow: tuple[str, ...] = ()
    lease_seconds: int = 120
    lease_wait_seconds: int = 5
    max_receives_for_missing: int = 3
    metrics_namespace: str = "ModelAccess"
    service_name: str = "model-access"
    tracing: bool = False
    organization_id: str = ""
    organizational_unit_ids: tuple[str, ...] = ()
    member_regions: tuple[str, ...] = ()
    member_role_name: str = DEFAULT_MEMBER_ROLE
    member_accounts: tuple[str, ...] = ()
    management_account_role_arn: str = ""
    stack_set_call_as: str = DELEGATED_ADMIN
    forward_regions: tuple[str, ...] = ()

    @classmethod
    def from_pulumi(cls, config: pulumi.Config) -> StackConfig:
        """Read every key that is set; unset keys keep their default."""
        values: dict[str, Any] = {}
        for field in fields(cls):
            key = config_key(field.name)
            if field.type == "int":
                value: Any = config.get_int(key)
            elif field.type == "bool":
                value = config.get_bool(key)
            elif field.type == "str":
                value = config.get(key)
            else:
                listed = config.get_object(key)
                value = None if listed is None else tuple(str(item) for item in listed)
            if value is not None:
                values[field.name] = value
        return cls(**values)

    @property
    def provisioner_role_name(self) -> str:
        return f"{self.name_prefix}-functions"

    @property
    def queue_visibility_timeout_seconds(self) -> int:
        """6x the function timeout plus the batching window (AWS's SQS-Lambda guidance)."""
        return (VISIBILITY_TIMEOUT_FACTOR * self.provisioner_timeout_seconds
                + self.batching_window_seconds)

    @property
    def trigger_mode(self) -> TriggerMode:
        return TriggerMode.parse(self.trigger)

    @property
    def trail_wanted(self) -> bool:
        """The trail component exists only where CloudTrail events are a trigger."""
        return self.create_trail and self.trigger_mode.uses_cloudtrail

    @property
    def hub_bus_wanted(self) -> bool:
        """The hub's own bus exists when other accounts or regions forward to it."""
        return bool(self.organization_id or self.forward_regions)

    @property
    def spokes_wanted(self) -> bool:
        """StackSets deploy the spokes to the configured OUs."""
        return bool(self.organizational_unit_ids)

    @property
    def schedule_enabled(self) -> bool:
        return self.backfill_schedule.strip().lower() != SCHEDULE_OFF

    def static_environment(self) -> dict[str, str]:
        """The functions' environment, except what only exists once deployed (see Env)."""
        return {
            Env.OWNER_TAG_KEY: self.owner_tag_key,
            Env.POLICY_PATH: self.policy_path,
            Env.POLICY_NAME_PREFIX: self.policy_name_prefix,
            Env.ACCESS_LEVEL: self.access_level,
            Env.GROUP_ACCESS_LEVEL: self.group_access_level,
            Env.EXTRA_MODEL_ACTIONS: ",".join(self.extra_model_actions),
            Env.ALLOW_TAG_EDITS: str(self.allow_tag_edits).lower(),
            Env.ROLE_POLICY_SHARE: str(self.role_policy_share_percent / 100),
            Env.POLICY_SIZE_MARGIN: str(self.policy_size_margin),
            Env.KEEP_POLICY_VERSIONS: str(self.keep_policy_versions),
            Env.DENY_ROLES: ",".join(self.deny_roles),
            Env.ROLE_PATH_PREFIX: self.role_path_prefix,
            Env.ROLE_TAG: self.role_tag,
            Env.PROVISIONER_ROLE: self.provisioner_role_name,
            Env.OWNER_CHANGE_MODE: self.owner_change_mode,
            Env.OWNER_CHANGE_ALLOW: ",".join(self.owner_change_allow),
            Env.TABLE_NAME: self.table_name,
            Env.QUEUE_NAME: self.queue_name,
            Env.LEASE_SECONDS: str(self.lease_seconds),
            Env.LEASE_WAIT_SECONDS: str(self.lease_wait_seconds),
            Env.MAX_RECEIVES_FOR_MISSING: str(self.max_receives_for_missing),
            Env.METRICS_NAMESPACE: self.metrics_namespace,
            Env.SERVICE_NAME: self.service_name,
            Env.TRACE_DISABLED: str(not self.tracing).lower(),
            Env.MEMBER_ROLE: self.member_role_name,
            Env.MEMBER_ACCOUNTS: ",".join(self.member_accounts),
            Env.REGIONS: ",".join(served_regions(self)),
        }

    def runtime_settings(self, account_id: str, partition: str, region: str) -> Settings:
        """The runtime's own reading of this environment (ConfigurationError if it refuses)."""
        env = {
            **self.static_environment(),
            Env.ACCOUNT_ID: account_id,
            Env.PARTITION: partition,
            Env.REGION: region,
        }
        return Settings.from_mapping(env)

    def problems(self) -> list[str]:
        """Everything wrong with this configuration, as sentences naming the config key."""
        found = [*self._delivery_problems(), *self._function_problems(),
                 *organization_problems(self)]
        try:
            settings = self.runtime_settings("123456789012", "aws", "us-east-1")
            validate_profile(profile_from_settings(settings), default_catalog())
        except ConfigurationError as exc:
            found.append(f"the functions would refuse this configuration: {exc}")
        return found

    def _delivery_problems(self) -> list[str]:
        found = []
        try:
            if self.create_trail and not self.trigger_mode.uses_cloudtrail:
                found.append("createTrail: a stack with trigger 'native' reads no CloudTrail "
                             "events; set createTrail false, or trigger 'both'")
        except ConfigurationError as exc:
            found.append(str(exc))
        if not 2 <= self.max_concurrency <= 1000:
            found.append("maxConcurrency: the event source mapping takes 2..1000")
        if not 1 <= self.batch_size <= 10000:
            found.append("batchSize: a standard SQS queue takes 1..10000")
        if not 0 <= self.batching_window_seconds <= 300:
            found.append("batchingWindowSeconds: must be 0..300")
        if self.batch_size > 10 and self.batching_window_seconds < 1:
            found.append("batchingWindowSeconds: must be >= 1 when batchSize > 10")
        if not 1 <= self.max_receive_count <= 1000:
            found.append("maxReceiveCount: must be 1..1000")
        if self.max_receives_for_missing >= self.max_receive_count:
            found.append("maxReceivesForMissing: must be below maxReceiveCount, or a record "
                         "about a not-yet-visible model lands in the DLQ first")
        if not 60 <= self.event_max_age_seconds <= 86400:
            found.append("eventMaxAgeSeconds: EventBridge takes 60..86400")
        if not 0 <= self.event_retry_attempts <= 185:
            found.append("eventRetryAttempts: EventBridge takes 0..185")
        found += [f"redrivePrincipals: {arn!r} is not an IAM role or user ARN"
                  for arn in self.redrive_principals if not _IAM_PRINCIPAL.match(arn)]
        return found

    def _function_problems(self) -> list[str]:
        found = []
        if not 1 <= self.provisioner_timeout_seconds <= 900:
            found.append("provisionerTimeoutSeconds: Lambda takes 1..900")
        if self.lease_seconds <= self.provisioner_timeout_seconds:
            found.append(
                f"leaseSeconds ({self.lease_seconds}) must exceed provisionerTimeoutSeconds "
                f"({self.provisioner_timeout_seconds}): a lease must outlive the invocation "
                "holding it, or a second reconcile of the role could interleave"
            )
        if self.lease_wait_seconds >= self.provisioner_timeout_seconds:
            found.append("leaseWaitSeconds: must be below provisionerTimeoutSeconds")
        for key, memory in (("provisionerMemoryMb", self.provisioner_memory_mb),
                            ("backfillMemoryMb", self.backfill_memory_mb)):
            if not 128 <= memory <= 10240:
                found.append(f"{key}: Lambda takes 128..10240")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            allowed = ", ".join(str(d) for d in sorted(LOG_RETENTION_DAYS))
            found.append(f"logRetentionDays: CloudWatch Logs takes one of {allowed}")
        if self.schedule_enabled and not _SCHEDULE.match(self.backfill_schedule.strip()):
            found.append("backfillSchedule: 'off', 'rate(...)' or 'cron(...)'")
        return found

    def insecure_choices(self) -> list[str]:
        """Explicitly chosen open modes, as warnings `pulumi up` prints (pulumi.log.warn)."""
        settings = self.runtime_settings("123456789012", "aws", "us-east-1")
        found = []
        if settings.owner_change_mode is OwnerChangeMode.OPEN:
            found.append("ownerChangeMode is 'open': anyone allowed sagemaker:AddTags on a "
                         "model (AmazonSageMakerFullAccess includes it) can move its grant to "
                         "any eligible role; 'protected' honours only the owner and "
                         "ownerChangeAllow")
        if settings.every_role_eligible:
            found.append(f"roleTag is '{ANY_ROLE}' and rolePathPrefix is empty: every role in "
                         "the account is eligible, so anyone able to create or tag a model can "
                         "route grants to (and fill the policy slots of) any role; opt roles "
                         "in with a tag or a path instead")
        return found

    def check(self) -> None:
        """Raise ConfigurationError listing every problem (the program stops before declaring)."""
        if found := self.problems():
            raise ConfigurationError("invalid stack configuration:\n  " + "\n  ".join(found))
