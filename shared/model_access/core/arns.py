"""ARN parsing for what we reason about: SageMaker resources (models, model package groups)
and IAM roles. Which SageMaker resource types are grant-able kinds is said in `kinds/`; this
module only knows their common ARN shape, `arn:<p>:sagemaker:<region>:<account>:<type>/<name>`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

MODEL_NAME_MAX: Final = 63
ROLE_NAME_MAX: Final = 64
ROLE_PATH_MAX: Final = 512
_MODEL_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9])*$")
_ROLE_NAME = re.compile(r"^[\w+=,.@-]+$", re.ASCII)  # IAM names are ASCII only
_ROLE_PATH = re.compile(r"^/([\x21-\x7e]+/)*$")
_PARTITION = re.compile(r"^aws(-[a-z]+)*$")
_ACCOUNT = re.compile(r"^\d{12}$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")


@dataclass(frozen=True)
class Scope:
    """Where this deployment works: one partition, one region, one account."""

    partition: str
    region: str
    account: str | None


MODEL_KIND: Final = "model"
"""The ARN resource type, and record kind, of a SageMaker model."""


@dataclass(frozen=True)
class ResourceKey:
    """A resource's identity that survives letter case (SageMaker treats names
    case-insensitively): region, lower-cased name and kind (its ARN resource type). A model
    and a model package group of the same name are two keys."""

    region: str
    name_lower: str
    kind: str = MODEL_KIND

    def __str__(self) -> str:
        if self.kind == MODEL_KIND:
            return f"{self.region}/{self.name_lower}"
        return f"{self.region}/{self.kind}/{self.name_lower}"

    @classmethod
    def of(cls, region: str, name: str, kind: str = MODEL_KIND) -> ResourceKey:
        return cls(region, name.lower(), kind)


@dataclass(frozen=True)
class ResourceArn:
    """A parsed `arn:<partition>:sagemaker:<region>:<account>:<kind>/<name>`."""

    arn: str
    partition: str
    region: str
    account: str
    name: str
    kind: str = MODEL_KIND

    @property
    def key(self) -> ResourceKey:
        return ResourceKey.of(self.region, self.name, self.kind)

    def with_name(self, name: str) -> str:
        """This ARN with another spelling of its name (the lower-cased twin)."""
        return f"arn:{self.partition}:sagemaker:{self.region}:{self.account}:{self.kind}/{name}"


ModelArn = ResourceArn
"""A model's parsed ARN (kind `model`)."""


@dataclass(frozen=True)
class RoleArn:
    """A parsed `arn:<partition>:iam::<account>:role/<path><name>`."""

    arn: str
    partition: str
    account: str
    path: str
    name: str


def is_valid_model_name(name: str) -> bool:
    """SageMaker's name rule for models and model package groups: 1-63 of [a-zA-Z0-9-], no
    leading or trailing hyphen."""
    return 0 < len(name) <= MODEL_NAME_MAX and bool(_MODEL_NAME.fullmatch(name))


def is_account_id(text: str) -> bool:
    """A 12-digit AWS account id."""
    return bool(_ACCOUNT.match(text))


def is_region_name(text: str) -> bool:
    """The shape of an AWS region name (`us-east-1`, `ap-southeast-2`)."""
    return bool(_REGION.match(text))


def is_valid_role_name(name: str) -> bool:
    """IAM's role name rule: 1-64 of [A-Za-z0-9+=,.@_-]."""
    return 0 < len(name) <= ROLE_NAME_MAX and bool(_ROLE_NAME.fullmatch(name))


def parse_resource_arn(text: str) -> ResourceArn | None:
    """Parse `arn:...:sagemaker:<region>:<account>:<type>/<name>` with one name segment that
    follows SageMaker's name rule (models and model package groups share it), or None.
    A model package version (`model-package/<group>/<n>`) has two segments: None."""
    return _parse_resource_arn(text) if isinstance(text, str) else None


@lru_cache(maxsize=4096)
def _parse_resource_arn(text: str) -> ResourceArn | None:
    """Cached (pure, frozen result): a burst parses each ARN about ten times, from the
    event, the tag index, the records, the policy documents and the plans."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker":
        return None
    _, partition, _, region, account, resource = parts
    kind, _, name = resource.partition("/")
    if not kind or not is_valid_model_name(name):
        return None
    if not (_PARTITION.match(partition) and _REGION.match(region) and _ACCOUNT.match(account)):
        return None
    return ResourceArn(text, partition, region, account, name, kind)


def parse_model_arn(text: str) -> ResourceArn | None:
    """Parse a model ARN, or None when `text` is not one (any other resource type included)."""
    parsed = parse_resource_arn(text)
    return parsed if parsed is not None and parsed.kind == MODEL_KIND else None


def parse_role_arn(text: str) -> RoleArn | None:
    """Parse an IAM role ARN (path kept), or None when `text` is not one."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "iam" or parts[3] != "":
        return None
    _, partition, _, _, account, resource = parts
    kind, sep, rest = resource.partition("/")
    if kind != "role" or not sep:
        return None
    path, _, name = ("/" + rest).rpartition("/")
    path = path + "/"
    if not (_PARTITION.match(partition) and _ACCOUNT.match(account)):
        return None
    if not is_valid_role_name(name) or len(path) > ROLE_PATH_MAX or not _ROLE_PATH.match(path):
        return None
    return RoleArn(text, partition, account, path, name)

