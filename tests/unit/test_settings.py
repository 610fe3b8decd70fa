"""Settings come from a mapping, validated with errors that name the variable."""

from __future__ import annotations

import pytest

from model_access.core.errors import ConfigurationError
from model_access.core.settings import AccessLevel, Env, OwnerChangeMode, Settings


def test_settings_defaults() -> None:
    """An empty environment gives the documented defaults."""
    s = Settings.from_mapping({})
    assert (s.owner_tag_key, s.policy_path, s.access_level, s.role_policy_share) == (
        "owner-role", "/model-access/", AccessLevel.MANAGE, 0.8)
    assert s.policy_size_budget == 6144 - 96


def test_settings_defaults_are_the_secure_ones() -> None:
    """Protected owner changes and opt-in roles (by the model-access:eligible=true tag)."""
    s = Settings.from_mapping({})
    assert s.owner_change_mode is OwnerChangeMode.PROTECTED
    assert s.role_tag == ("model-access:eligible", "true") and s.role_path_prefix is None
    assert not s.every_role_eligible
    assert s == Settings()


def test_settings_open_modes_are_explicit() -> None:
    """`open` and `MODEL_ACCESS_ROLE_TAG=*` (with no path) are the only way to the open modes."""
    s = Settings.from_mapping({Env.OWNER_CHANGE_MODE: "open", Env.ROLE_TAG: "*"})
    assert s.owner_change_mode is OwnerChangeMode.OPEN and s.every_role_eligible
    scoped = Settings.from_mapping({Env.ROLE_TAG: "*", Env.ROLE_PATH_PREFIX: "/ml/"})
    assert scoped.role_tag is None and not scoped.every_role_eligible


def test_settings_read_every_knob() -> None:
    """Each variable reaches its field."""
    s = Settings.from_mapping({
        Env.ACCESS_LEVEL: "deploy", Env.DENY_ROLES: "admin, root ", Env.ROLE_TAG: "k=v",
        Env.OWNER_CHANGE_MODE: "protected", Env.OWNER_CHANGE_ALLOW: "ops",
        Env.ROLE_PATH_PREFIX: "/ml/", Env.ALLOW_TAG_EDITS: "true",
    })
    assert s.access_level is AccessLevel.DEPLOY and s.deny_roles == ("admin", "root")
    assert s.role_tag == ("k", "v") and s.owner_change_mode is OwnerChangeMode.PROTECTED
    assert s.owner_change_allow == ("ops",) and s.role_path_prefix == "/ml/"
    assert s.allow_tag_edits


@pytest.mark.parametrize(("name", "value"), [
    (Env.ACCESS_LEVEL, "admin"),
    (Env.ROLE_POLICY_SHARE, "1.5"),
    (Env.ROLE_POLICY_SHARE, "lots"),
    (Env.POLICY_PATH, "model-access"),
    (Env.OWNER_CHANGE_MODE, "sometimes"),
    (Env.ALLOW_TAG_EDITS, "maybe"),
    (Env.ROLE_TAG, "no-equals-sign"),
])
def test_settings_reject_bad_values_naming_the_variable(name: str, value: str) -> None:
    """A bad value fails at start-up with the variable's name in the message."""
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_mapping({name: value})
