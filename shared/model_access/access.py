"""Access levels: which SageMaker actions an owner gets, and how each is scoped to the model.

Actions that take the `model` resource type are granted on the model ARNs themselves.
Actions that *use* a model but act on another resource (CreateEndpointConfig acts on an
endpoint-config, CreateTransformJob on a transform-job) grant nothing when put on a model
ARN; they are granted on their own resource type and limited by the `sagemaker:ModelArn`
condition key instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from model_access.catalog import Catalog
from model_access.errors import ConfigurationError
from model_access.settings import AccessLevel, Settings

MODEL_RESOURCE_TYPE: Final = "model"
MODEL_ARN_CONDITION_KEY: Final = "sagemaker:ModelArn"

_LEVEL_MODEL_ACTIONS: Final[dict[AccessLevel, tuple[str, ...]]] = {
    AccessLevel.READ: ("sagemaker:DescribeModel", "sagemaker:ListTags"),
    AccessLevel.MANAGE: ("sagemaker:DescribeModel", "sagemaker:ListTags", "sagemaker:DeleteModel"),
    AccessLevel.DEPLOY: ("sagemaker:DescribeModel", "sagemaker:ListTags", "sagemaker:DeleteModel"),
}
_LEVEL_CONDITIONED: Final[dict[AccessLevel, tuple[tuple[str, str], ...]]] = {
    AccessLevel.READ: (),
    AccessLevel.MANAGE: (),
    AccessLevel.DEPLOY: (
        ("sagemaker:CreateEndpointConfig", "endpoint-config"),
        ("sagemaker:CreateTransformJob", "transform-job"),
    ),
}
TAG_EDIT_ACTIONS: Final = ("sagemaker:AddTags", "sagemaker:DeleteTags")


@dataclass(frozen=True)
class AccessProfile:
    """The actions of one access level, split by how they are scoped."""

    model_actions: tuple[str, ...]
    conditioned_actions: tuple[tuple[str, str], ...] = ()
    """(action, resource type) pairs granted on `<type>/*` only where ModelArn matches."""

    @property
    def conditioned_resource_types(self) -> tuple[str, ...]:
        return tuple(sorted({rt for _, rt in self.conditioned_actions}))


def profile_from_settings(settings: Settings) -> AccessProfile:
    """Build the profile the settings ask for (not yet validated)."""
    actions = list(_LEVEL_MODEL_ACTIONS[settings.access_level])
    if settings.allow_tag_edits:
        actions += TAG_EDIT_ACTIONS
    actions += settings.extra_model_actions
    unique = tuple(sorted(dict.fromkeys(actions)))
    return AccessProfile(unique, _LEVEL_CONDITIONED[settings.access_level])


def validate_profile(profile: AccessProfile, catalog: Catalog) -> None:
    """Raise ConfigurationError listing each action that is unknown or cannot be scoped as asked."""
    problems: list[str] = []
    for action in profile.model_actions:
        info = catalog.lookup(action)
        if info is None:
            problems.append(f"{action}: no such IAM action")
        elif MODEL_RESOURCE_TYPE not in info.resource_types:
            kinds = ", ".join(sorted(info.resource_types)) or "none (only '*')"
            problems.append(
                f"{action}: does not take the 'model' resource type (takes {kinds}); "
                "a statement on a model ARN would grant nothing"
            )
    for action, resource_type in profile.conditioned_actions:
        info = catalog.lookup(action)
        if info is None:
            problems.append(f"{action}: no such IAM action")
            continue
        if resource_type not in info.resource_types:
            problems.append(f"{action}: does not take the {resource_type!r} resource type")
        if MODEL_ARN_CONDITION_KEY not in info.condition_keys:
            problems.append(f"{action}: cannot be limited by {MODEL_ARN_CONDITION_KEY}")
    if problems:
        raise ConfigurationError("invalid access profile:\n  " + "\n  ".join(problems))
