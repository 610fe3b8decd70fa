"""Access levels: which SageMaker actions an owner gets on each kind of resource, and how each
is scoped.

The statements per level come from the kinds (`kinds/`): on a model, the model ARN; on a
model package group, the group ARN and `model-package/<group>/*`. Actions that *use* a
model but act on another resource (CreateEndpointConfig acts on an endpoint-config) grant
nothing when put on a model ARN; they are granted on their own resource type and limited by
the `sagemaker:ModelArn` condition key instead. Every action is checked against the offline
IAM catalog at start-up: IAM itself accepts actions that do not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Final

from model_access.core.errors import ConfigurationError
from model_access.core.settings import AccessLevel, Settings
from model_access.model.catalog import Catalog
from model_access.model.kinds import KINDS, Target
from model_access.model.kinds.model import MODEL, MODEL_ARN_CONDITION_KEY
from model_access.model.kinds.package_group import FORBIDDEN_ACTIONS, PACKAGE_GROUP

__all__ = ["MODEL_ARN_CONDITION_KEY", "AccessProfile", "profile_from_settings",
           "validate_profile"]

TAG_EDIT_ACTIONS: Final = ("sagemaker:AddTags", "sagemaker:DeleteTags")


@dataclass(frozen=True)
class AccessProfile:
    """The statements (targets) an owner's grant has, per resource kind."""

    by_kind: tuple[tuple[str, tuple[Target, ...]], ...]

    def targets(self, kind: str) -> tuple[Target, ...]:
        return next((t for k, t in self.by_kind if k == kind), ())

    def all_targets(self) -> Iterator[tuple[str, Target]]:
        for kind, targets in self.by_kind:
            for target in targets:
                yield kind, target

    @classmethod
    def for_models(cls, actions: tuple[str, ...],
                   conditioned: tuple[tuple[str, str], ...] = ()) -> AccessProfile:
        """A model-only profile from plain action lists (tests, the bench baseline)."""
        from model_access.model.kinds.model import MODEL_SID, _use

        targets = (Target(MODEL_SID, MODEL.name, tuple(sorted(set(actions)))),
                   *(_use(action, rtype) for action, rtype in conditioned))
        return cls(((MODEL.name, targets),))


def _levels(settings: Settings) -> dict[str, AccessLevel]:
    return {MODEL.name: settings.access_level, PACKAGE_GROUP.name: settings.group_access_level}


def profile_from_settings(settings: Settings) -> AccessProfile:
    """Build the profile the settings ask for (not yet validated)."""
    levels = _levels(settings)
    by_kind: list[tuple[str, tuple[Target, ...]]] = []
    for kind in KINDS:
        extra = list(TAG_EDIT_ACTIONS) if settings.allow_tag_edits else []
        if kind is MODEL:
            extra += settings.extra_model_actions
        targets = tuple(
            replace(t, actions=tuple(sorted({*t.actions, *extra})))
            if t.sid == kind.tag_edit_sid and extra else t
            for t in kind.levels[levels[kind.name]])
        by_kind.append((kind.name, targets))
    return AccessProfile(tuple(by_kind))


def validate_profile(profile: AccessProfile, catalog: Catalog) -> None:
    """Raise ConfigurationError listing each action that is unknown or cannot be scoped as asked."""
    problems: list[str] = []
    for _kind, target in profile.all_targets():
        for action in target.actions:
            problems += _problems(action, target, catalog)
    if problems:
        raise ConfigurationError("invalid access profile:\n  " + "\n  ".join(problems))


def _problems(action: str, target: Target, catalog: Catalog) -> list[str]:
    if action in FORBIDDEN_ACTIONS:
        return [f"{action}: never granted (it opens a model package group to other accounts)"]
    info = catalog.lookup(action)
    if info is None:
        return [f"{action}: no such IAM action"]
    problems = []
    if target.resource_type not in info.resource_types:
        kinds = ", ".join(sorted(info.resource_types)) or "none (only '*')"
        problems.append(
            f"{action}: does not take the {target.resource_type!r} resource type (takes "
            f"{kinds}); a statement on that ARN would grant nothing")
    if target.condition_key and target.condition_key not in info.condition_keys:
        problems.append(f"{action}: cannot be limited by {target.condition_key}")
    return problems
