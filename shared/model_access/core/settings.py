"""Settings read once from a mapping (the environment in Lambda, a dict in tests).

Every environment variable the runtime reads is named here, so the Pulumi program and
`model-access local up` set exactly these and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from model_access.core.arns import is_account_id, is_region_name, is_valid_role_name
from model_access.core.errors import ConfigurationError


class Env:
    """Names of the environment variables the functions read."""

    OWNER_TAG_KEY: Final = "MODEL_ACCESS_OWNER_TAG_KEY"
    POLICY_PATH: Final = "MODEL_ACCESS_POLICY_PATH"
    POLICY_NAME_PREFIX: Final = "MODEL_ACCESS_POLICY_NAME_PREFIX"
    ACCESS_LEVEL: Final = "MODEL_ACCESS_ACCESS_LEVEL"
    GROUP_ACCESS_LEVEL: Final = "MODEL_ACCESS_GROUP_ACCESS_LEVEL"
    EXTRA_MODEL_ACTIONS: Final = "MODEL_ACCESS_EXTRA_MODEL_ACTIONS"
    ALLOW_TAG_EDITS: Final = "MODEL_ACCESS_ALLOW_TAG_EDITS"
    ROLE_POLICY_SHARE: Final = "MODEL_ACCESS_ROLE_POLICY_SHARE"
    POLICY_SIZE_MARGIN: Final = "MODEL_ACCESS_POLICY_SIZE_MARGIN"
    KEEP_POLICY_VERSIONS: Final = "MODEL_ACCESS_KEEP_POLICY_VERSIONS"
    DENY_ROLES: Final = "MODEL_ACCESS_DENY_ROLES"
    ROLE_PATH_PREFIX: Final = "MODEL_ACCESS_ROLE_PATH_PREFIX"
    ROLE_TAG: Final = "MODEL_ACCESS_ROLE_TAG"
    PROVISIONER_ROLE: Final = "MODEL_ACCESS_PROVISIONER_ROLE"
    OWNER_CHANGE_MODE: Final = "MODEL_ACCESS_OWNER_CHANGE_MODE"
    OWNER_CHANGE_ALLOW: Final = "MODEL_ACCESS_OWNER_CHANGE_ALLOW"
    TABLE_NAME: Final = "MODEL_ACCESS_TABLE"
    QUEUE_NAME: Final = "MODEL_ACCESS_QUEUE"
    LEASE_SECONDS: Final = "MODEL_ACCESS_LEASE_SECONDS"
    LEASE_WAIT_SECONDS: Final = "MODEL_ACCESS_LEASE_WAIT_SECONDS"
    MAX_RECEIVES_FOR_MISSING: Final = "MODEL_ACCESS_MAX_RECEIVES_FOR_MISSING"
    MEMBER_ROLE: Final = "MODEL_ACCESS_MEMBER_ROLE"
    MEMBER_ACCOUNTS: Final = "MODEL_ACCESS_MEMBER_ACCOUNTS"
    REGIONS: Final = "MODEL_ACCESS_REGIONS"
    ACCOUNT_ID: Final = "MODEL_ACCESS_ACCOUNT_ID"
    PARTITION: Final = "MODEL_ACCESS_PARTITION"
    REGION: Final = "AWS_REGION"
    DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
    METRICS_NAMESPACE: Final = "POWERTOOLS_METRICS_NAMESPACE"
    SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
    TRACE_DISABLED: Final = "POWERTOOLS_TRACE_DISABLED"

    @classmethod
    def all_names(cls) -> tuple[str, ...]:
        """Every variable name above, for the infra test that checks the stack sets them."""
        return tuple(v for k, v in vars(cls).items() if k.isupper() and isinstance(v, str))


class AccessLevel(StrEnum):
    """How much an owner may do with their model (see access.py for the actions)."""

    READ = "read"
    MANAGE = "manage"
    DEPLOY = "deploy"


class OwnerChangeMode(StrEnum):
    """Whether a re-tagged owner is believed from anyone, or only from trusted callers."""

    OPEN = "open"
    PROTECTED = "protected"


DEFAULT_ROLE_TAG: Final = ("model-access:eligible", "true")
"""Roles opt in by carrying this tag (`MODEL_ACCESS_ROLE_TAG` unset)."""
ANY_ROLE: Final = "*"
"""`MODEL_ACCESS_ROLE_TAG=*`: no tag makes a role eligible; with no path prefix either, every
role is (explicit, insecure configuration: anyone able to tag a model can target any role)."""
DEFAULT_TABLE_NAME: Final = "model-access-grants"
DEFAULT_QUEUE_NAME: Final = "model-access-events"
DEFAULT_NAMESPACE: Final = "ModelAccess"
DEFAULT_SERVICE: Final = "model-access"
DEFAULT_MEMBER_ROLE: Final = "model-access-member"
ORGANIZATION_MEMBERS: Final = "organization"
"""`MODEL_ACCESS_MEMBER_ACCOUNTS=organization`: every ACTIVE account of the hub's organization."""
IAM_POLICY_MAX_CHARS: Final = 6144
"""IAM's managed policy size limit (non-whitespace characters). moto does not enforce it."""

IAM_CONNECT_SECONDS: Final = 3
IAM_READ_SECONDS: Final = 7
IAM_RETRIES: Final = 2
IAM_TOTAL_ATTEMPTS: Final = IAM_RETRIES + 1
"""botocore's `max_attempts` counts retries: 2 means three attempts in all."""
IAM_CALL_MAX_SECONDS: Final = IAM_TOTAL_ATTEMPTS * (IAM_CONNECT_SECONDS + IAM_READ_SECONDS) + sum(
    2**attempt for attempt in range(1, IAM_TOTAL_ATTEMPTS))
"""The longest one IAM call can take with its retries (36 s: standard mode backs off at most
2^attempt seconds between attempts). An IAM write starts only while the role's lease has at
least this long left (renewing it if needed), so a slow write can never land after another
worker took the role."""
MIN_LEASE_SECONDS: Final = IAM_CALL_MAX_SECONDS + 10

_POLICY_PATH = re.compile(r"^/([\w+=,.@-]+/)+$")
_NAME_PREFIX = re.compile(r"^[\w+=,.@-]{1,32}$")
_ROLE_TAG = re.compile(r"^[^=]{1,128}=.{0,256}$")


def _csv(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _bool(name: str, value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name}={value!r}: expected true or false")


def _number(name: str, value: str | None, default: float, low: float, high: float) -> float:
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: expected a number") from None
    if not low <= number <= high:
        raise ConfigurationError(f"{name}={value!r}: must be between {low} and {high}")
    return number


def _role_tag(text: str | None) -> tuple[str, str] | None:
    """`key=value`, the default tag when unset, None for `*` (no tag makes a role eligible)."""
    text = (text or "").strip()
    if not text:
        return DEFAULT_ROLE_TAG
    if text == ANY_ROLE:
        return None
    if not _ROLE_TAG.match(text):
        raise ConfigurationError(f"{Env.ROLE_TAG}={text!r}: expected key=value, or {ANY_ROLE}")
    key, _, value = text.partition("=")
    return (key, value)


def _member_accounts(text: str | None) -> tuple[tuple[str, ...], bool]:
    """`MODEL_ACCESS_MEMBER_ACCOUNTS`: (account ids, every organization member?)."""
    entries = _csv(text)
    if entries == (ORGANIZATION_MEMBERS,):
        return (), True
    bad = [e for e in entries if not is_account_id(e)]
    if bad:
        raise ConfigurationError(
            f"{Env.MEMBER_ACCOUNTS}={text!r}: a comma list of 12-digit account ids, or "
            f"{ORGANIZATION_MEMBERS!r} alone (not {bad[0]!r})")
    return tuple(dict.fromkeys(entries)), False


def _regions(text: str | None) -> tuple[str, ...]:
    """`MODEL_ACCESS_REGIONS`: region names, duplicates dropped, order kept."""
    regions = _csv(text)
    bad = [r for r in regions if not is_region_name(r)]
    if bad:
        raise ConfigurationError(f"{Env.REGIONS}={text!r}: {bad[0]!r} is not a region name")
    return tuple(dict.fromkeys(regions))


def _member_role(text: str | None) -> str:
    name = (text or "").strip() or DEFAULT_MEMBER_ROLE
    if not is_valid_role_name(name):
        raise ConfigurationError(f"{Env.MEMBER_ROLE}={text!r}: an IAM role name (no path)")
    return name


@dataclass(frozen=True)
class Settings:
    """Everything the runtime is configured by; build with `Settings.from_mapping`."""

    owner_tag_key: str = "owner-role"
    policy_path: str = "/model-access/"
    policy_name_prefix: str = "model-access-"
    access_level: AccessLevel = AccessLevel.MANAGE
    group_access_level: AccessLevel = AccessLevel.MANAGE
    """The level for model package groups (Model Registry); `access_level` is for models."""
    extra_model_actions: tuple[str, ...] = ()
    allow_tag_edits: bool = False
    role_policy_share: float = 0.8
    policy_size_margin: int = 96
    keep_policy_versions: int = 3
    deny_roles: tuple[str, ...] = ()
    role_path_prefix: str | None = None
    role_tag: tuple[str, str] | None = DEFAULT_ROLE_TAG
    """A role carrying this tag is eligible; None when `MODEL_ACCESS_ROLE_TAG=*`."""
    provisioner_role: str | None = None
    owner_change_mode: OwnerChangeMode = OwnerChangeMode.PROTECTED
    owner_change_allow: tuple[str, ...] = ()
    table_name: str = DEFAULT_TABLE_NAME
    queue_name: str = DEFAULT_QUEUE_NAME
    lease_seconds: float = 120.0
    lease_wait_seconds: float = 5.0
    max_receives_for_missing: int = 3
    account_id: str | None = None
    partition: str = "aws"
    region: str = "us-east-1"
    metrics_namespace: str = DEFAULT_NAMESPACE
    service_name: str = DEFAULT_SERVICE
    member_role: str = DEFAULT_MEMBER_ROLE
    """The role the functions assume in a member account (`MODEL_ACCESS_MEMBER_ROLE`)."""
    member_accounts: tuple[str, ...] = ()
    """Member accounts served besides the hub's own (`MODEL_ACCESS_MEMBER_ACCOUNTS`)."""
    organization_members: bool = False
    """Every ACTIVE account of the hub's organization is a member (`organization`)."""
    regions: tuple[str, ...] = ()
    """Regions served besides `region`, whose events are forwarded to the hub's bus."""

    @property
    def served_regions(self) -> tuple[str, ...]:
        """The home region first, then every other region whose events reach the hub."""
        return tuple(dict.fromkeys((self.region, *self.regions)))

    @property
    def serves_members(self) -> bool:
        """Whether any account besides the hub's own may be served."""
        return self.organization_members or bool(self.member_accounts)

    @property
    def every_role_eligible(self) -> bool:
        """Neither a tag nor a path narrows eligibility (only by explicit configuration)."""
        return self.role_tag is None and self.role_path_prefix is None

    @property
    def policy_size_budget(self) -> int:
        """Characters one tool policy may use: IAM's limit minus the safety margin."""
        return IAM_POLICY_MAX_CHARS - self.policy_size_margin

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        """Read and validate settings; raise ConfigurationError naming the bad variable."""
        get = env.get
        path = get(Env.POLICY_PATH) or "/model-access/"
        if not _POLICY_PATH.match(path) or len(path) > 512:
            raise ConfigurationError(f"{Env.POLICY_PATH}={path!r}: must look like /a/b/")
        prefix = get(Env.POLICY_NAME_PREFIX) or "model-access-"
        if not _NAME_PREFIX.match(prefix):
            raise ConfigurationError(
                f"{Env.POLICY_NAME_PREFIX}={prefix!r}: 1-32 characters of [A-Za-z0-9+=,.@_-]"
            )
        level = _level(Env.ACCESS_LEVEL, get(Env.ACCESS_LEVEL))
        group_level = _level(Env.GROUP_ACCESS_LEVEL, get(Env.GROUP_ACCESS_LEVEL))
        mode_text = (get(Env.OWNER_CHANGE_MODE) or OwnerChangeMode.PROTECTED).strip().lower()
        try:
            mode = OwnerChangeMode(mode_text)
        except ValueError:
            raise ConfigurationError(
                f"{Env.OWNER_CHANGE_MODE}={mode_text!r}: choose open or protected"
            ) from None
        role_tag = _role_tag(get(Env.ROLE_TAG))
        role_prefix = get(Env.ROLE_PATH_PREFIX) or None
        if role_prefix is not None and not (
            role_prefix.startswith("/") and role_prefix.endswith("/")
        ):
            raise ConfigurationError(f"{Env.ROLE_PATH_PREFIX}={role_prefix!r}: must look like /a/")
        owner_key = get(Env.OWNER_TAG_KEY) or "owner-role"
        if len(owner_key) > 128:
            raise ConfigurationError(f"{Env.OWNER_TAG_KEY}: tag keys have at most 128 characters")
        region = get(Env.REGION) or get(Env.DEFAULT_REGION) or "us-east-1"
        lease = _number(Env.LEASE_SECONDS, get(Env.LEASE_SECONDS), 120.0, MIN_LEASE_SECONDS,
                        3600.0)
        member_accounts, organization_members = _member_accounts(get(Env.MEMBER_ACCOUNTS))
        return cls(
            owner_tag_key=owner_key,
            policy_path=path,
            policy_name_prefix=prefix,
            access_level=level,
            group_access_level=group_level,
            extra_model_actions=_csv(get(Env.EXTRA_MODEL_ACTIONS)),
            allow_tag_edits=_bool(Env.ALLOW_TAG_EDITS, get(Env.ALLOW_TAG_EDITS), False),
            role_policy_share=_number(
                Env.ROLE_POLICY_SHARE, get(Env.ROLE_POLICY_SHARE), 0.8, 0.05, 1.0
            ),
            policy_size_margin=int(
                _number(Env.POLICY_SIZE_MARGIN, get(Env.POLICY_SIZE_MARGIN), 96, 0, 2048)
            ),
            keep_policy_versions=int(
                _number(Env.KEEP_POLICY_VERSIONS, get(Env.KEEP_POLICY_VERSIONS), 3, 1, 4)
            ),
            deny_roles=_csv(get(Env.DENY_ROLES)),
            role_path_prefix=role_prefix,
            role_tag=role_tag,
            provisioner_role=get(Env.PROVISIONER_ROLE) or None,
            owner_change_mode=mode,
            owner_change_allow=_csv(get(Env.OWNER_CHANGE_ALLOW)),
            table_name=get(Env.TABLE_NAME) or DEFAULT_TABLE_NAME,
            queue_name=get(Env.QUEUE_NAME) or DEFAULT_QUEUE_NAME,
            lease_seconds=lease,
            lease_wait_seconds=_number(
                Env.LEASE_WAIT_SECONDS, get(Env.LEASE_WAIT_SECONDS), 5.0, 0.0, lease
            ),
            max_receives_for_missing=int(
                _number(
                    Env.MAX_RECEIVES_FOR_MISSING, get(Env.MAX_RECEIVES_FOR_MISSING), 3, 1, 100
                )
            ),
            account_id=get(Env.ACCOUNT_ID) or None,
            partition=get(Env.PARTITION) or "aws",
            region=region,
            metrics_namespace=get(Env.METRICS_NAMESPACE) or DEFAULT_NAMESPACE,
            service_name=get(Env.SERVICE_NAME) or DEFAULT_SERVICE,
            member_role=_member_role(get(Env.MEMBER_ROLE)),
            member_accounts=member_accounts,
            organization_members=organization_members,
            regions=_regions(get(Env.REGIONS)),
        )


def _level(name: str, text: str | None) -> AccessLevel:
    level_text = (text or AccessLevel.MANAGE.value).strip().lower()
    try:
        return AccessLevel(level_text)
    except ValueError:
        choices = ", ".join(level.value for level in AccessLevel)
        raise ConfigurationError(f"{name}={level_text!r}: choose one of {choices}") from None
