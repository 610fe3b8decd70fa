"""Stack config: one set of keys and defaults in the program, Pulumi.yaml and docs/deploy.md."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pytest
import yaml

from tests.infra.pulumi_harness import PROGRAM_DIR, PROJECT, REPO_ROOT, program_module

stack_config = program_module("model_access_infra.stack_config")
StackConfig = stack_config.StackConfig
PULUMI_TYPES = {"str": "string", "int": "integer", "bool": "boolean", "tuple[str, ...]": "array"}
DECLARATION_KEYS = {"type", "items", "description", "secret", "default"}
"""What Pulumi's project schema (configTypeDeclaration) allows in a config entry."""


def declared() -> dict[str, dict[str, Any]]:
    project = yaml.safe_load((PROGRAM_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == PROJECT
    entries: dict[str, dict[str, Any]] = project["config"]
    return entries


def program_defaults() -> dict[str, tuple[str, Any]]:
    """config key -> (Pulumi type, default) as StackConfig declares them."""
    return {
        stack_config.config_key(f.name): (PULUMI_TYPES[str(f.type)],
                                          list(f.default) if isinstance(f.default, tuple)
                                          else f.default)
        for f in dataclasses.fields(StackConfig)
    }


def shown(value: Any) -> str:
    """A default as docs/deploy.md writes it."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return value or '""'
    return json.dumps(value)


def test_pulumi_yaml_declares_program_keys_types_and_defaults() -> None:
    """Pulumi.yaml and StackConfig list the same keys with the same types and defaults."""
    assert {k: (v["type"], v["default"]) for k, v in declared().items()} == program_defaults()


def test_pulumi_yaml_entries_are_typed_and_described() -> None:
    """Each entry fits Pulumi's config schema: a simple type, arrays typed, a description."""
    for key, entry in declared().items():
        assert set(entry) <= DECLARATION_KEYS, key
        assert entry["type"] in {"string", "integer", "boolean", "array"}, key
        assert entry.get("items", {"type": "string"}) == {"type": "string"}, key
        assert ("items" in entry) == (entry["type"] == "array"), key
        assert len(entry["description"]) > 20, key


def test_deploy_doc_lists_every_config_key_with_its_default() -> None:
    """docs/deploy.md's table has exactly the declared keys, types and defaults, in order."""
    text = (REPO_ROOT / "docs" / "deploy.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| (\w+) \| `(.*?)` \|", text, flags=re.MULTILINE)
    assert rows == [(k, v["type"], shown(v["default"])) for k, v in declared().items()]


def test_sample_stack_file_uses_declared_keys_and_valid_values() -> None:
    """Pulumi.dev.yaml sets only declared keys, and the program accepts its values."""
    sample = yaml.safe_load((PROGRAM_DIR / "Pulumi.dev.yaml").read_text())["config"]
    ours = {k.split(":", 1)[1]: v for k, v in sample.items() if k.startswith(f"{PROJECT}:")}
    assert ours
    assert set(ours) <= set(declared())
    fields = {stack_config.config_key(f.name): f.name for f in dataclasses.fields(StackConfig)}
    config = StackConfig(**{fields[k]: v for k, v in ours.items()})
    assert config.problems() == []


def test_stack_config_defaults_are_valid() -> None:
    """The defaults pass every check, the runtime's own included."""
    assert StackConfig().problems() == []


@pytest.mark.parametrize(("change", "named"), [
    ({"max_concurrency": 1}, "maxConcurrency"),
    ({"lease_seconds": 60}, "leaseSeconds"),
    ({"lease_wait_seconds": 60}, "leaseWaitSeconds"),
    ({"batching_window_seconds": 0}, "batchingWindowSeconds"),
    ({"max_receives_for_missing": 10}, "maxReceivesForMissing"),
    ({"backfill_schedule": "daily"}, "backfillSchedule"),
    ({"log_retention_days": 10}, "logRetentionDays"),
    ({"provisioner_timeout_seconds": 901, "lease_seconds": 1000}, "provisionerTimeoutSeconds"),
    ({"access_level": "admin"}, "MODEL_ACCESS_ACCESS_LEVEL"),
    ({"policy_path": "model-access"}, "MODEL_ACCESS_POLICY_PATH"),
    ({"extra_model_actions": ("sagemaker:GetModel",)}, "sagemaker:GetModel"),
    ({"extra_model_actions": ("sagemaker:CreateEndpointConfig",)}, "model' resource type"),
])
def test_stack_config_names_the_key_it_refuses(change: dict[str, Any], named: str) -> None:
    """Each invalid setting is reported, naming the config key or the runtime's variable."""
    problems = dataclasses.replace(StackConfig(), **change).problems()
    assert len(problems) == 1
    assert named in problems[0]


def test_backfill_schedule_off_is_valid() -> None:
    """`off` (any case) disables the sweep without being a schedule expression."""
    config = StackConfig(backfill_schedule="OFF")
    assert (config.schedule_enabled, config.problems()) == (False, [])


ORGANIZATION_KEYS = ["organizationId", "organizationalUnitIds", "memberRegions",
                     "memberRoleName", "memberAccounts", "managementAccountRoleArn",
                     "stackSetCallAs", "forwardRegions"]


def test_org_doc_lists_every_organization_key_with_its_default() -> None:
    """docs/deploy-org.md's key table has the organization keys and Pulumi.yaml's defaults."""
    text = (REPO_ROOT / "docs" / "deploy-org.md").read_text()
    rows = re.findall(r"^\| `(\w+)` \| `(.*?)` \|", text, flags=re.MULTILINE)
    entries = declared()
    assert rows == [(k, shown(entries[k]["default"])) for k in ORGANIZATION_KEYS]
    assert list(entries)[-len(ORGANIZATION_KEYS):] == ORGANIZATION_KEYS
