"""The organization and multi-region parts of the program, read like a policy: the hub bus,
its rules, the StackSets and plain stacks of the spokes, and the keys that turn them on."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from model_access.core.settings import Env, Settings
from model_access.deploy.org_templates import (
    Forwarding,
    MemberRole,
    forwarding_template,
    member_role_template,
)
from model_access.deploy.patterns import TriggerMode, pattern_json, trigger_patterns
from tests.cfn import problems
from tests.infra.conftest import ORG_CONFIG, ORGANIZATION, template
from tests.infra.pulumi_harness import ACCOUNT, REGION, StackRun, run_program

BUS = "aws:cloudwatch/eventBus:EventBus"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
STACK_SET = "aws:cloudformation/stackSet:StackSet"
INSTANCE = "aws:cloudformation/stackSetInstance:StackSetInstance"
STACK = "aws:cloudformation/stack:Stack"
HUB_BUS = f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/model-access"
QUEUE = f"arn:aws:sqs:{REGION}:{ACCOUNT}:model-access-events"
DLQ = f"arn:aws:sqs:{REGION}:{ACCOUNT}:model-access-events-dlq"
FUNCTIONS_ROLE = f"arn:aws:iam::{ACCOUNT}:role/model-access-functions"
REGIONS_ONLY = {"forwardRegions": ["us-west-2", "eu-west-1"]}


def templates(run: StackRun) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every CloudFormation template the program deploys (StackSets and plain stacks)."""
    for resource in [*run.of_type(STACK_SET), *run.of_type(STACK)]:
        yield resource.name, json.loads(resource.inputs["templateBody"])


def settings_of(run: StackRun) -> Settings:
    """The runtime settings the functions get, read back from their environment."""
    env = run.one("aws:lambda/function:Function", "provisioner").inputs["environment"]
    return Settings.from_mapping({**env["variables"], Env.REGION: REGION})


def test_single_account_stack_declares_nothing_of_the_organization(stack: StackRun) -> None:
    """All organization keys off: no bus, no StackSet, no stack, no provider; the runtime
    serves the hub's account and home region only."""
    for kind in (BUS, "aws:cloudwatch/eventBusPolicy:EventBusPolicy", STACK_SET, INSTANCE,
                 STACK, "pulumi:providers:aws"):
        assert stack.of_type(kind) == [], kind
    settings = settings_of(stack)
    assert settings.served_regions == (REGION,) and not settings.serves_members
    assert "hubBusArn" not in stack.outputs


def test_hub_bus_admits_the_organization_only(org_stack: StackRun) -> None:
    """The custom bus `model-access`: PutEvents from the organization's principals only
    (aws:PrincipalOrgID), for SageMaker events forwarded by a rule."""
    assert org_stack.one(BUS).inputs["name"] == "model-access"
    policy = org_stack.one("aws:cloudwatch/eventBusPolicy:EventBusPolicy").json("policy")
    (statement,) = policy["Statement"]
    assert statement["Principal"] == "*" and statement["Action"] == "events:PutEvents"
    assert statement["Resource"] == HUB_BUS
    assert statement["Condition"]["StringEquals"]["aws:PrincipalOrgID"] == ORGANIZATION
    assert statement["Condition"]["StringEquals"]["events:source"] == ["aws.sagemaker"]
    assert org_stack.outputs["hubBusArn"] == HUB_BUS


def test_hub_bus_rules_route_the_runtime_patterns_to_the_queue(org_stack: StackRun) -> None:
    """Each SageMaker pattern has a rule on the hub bus, delivering to the queue with a retry
    policy and the DLQ; the queue policy admits those rules."""
    hub_rules = [r for r in org_stack.of_type(RULE)
                 if r.inputs.get("eventBusName") == "model-access"]
    assert sorted(r.inputs["eventPattern"] for r in hub_rules) == sorted(
        pattern_json(p) for p in trigger_patterns(TriggerMode.BOTH).values())
    targets = [t.inputs for t in org_stack.of_type(TARGET)
               if t.inputs.get("eventBusName") == "model-access"]
    assert len(targets) == len(hub_rules)
    for target in targets:
        assert (target["arn"], target["deadLetterConfig"]) == (QUEUE, {"arn": DLQ})
        assert target["retryPolicy"]["maximumRetryAttempts"] == 185
    admitted = org_stack.of_type("aws:sqs/queuePolicy:QueuePolicy")[0].json("policy")
    sources = admitted["Statement"][0]["Condition"]["ArnEquals"]["aws:SourceArn"]
    for rule in hub_rules:
        assert f"arn:aws:events:{REGION}:{ACCOUNT}:rule/model-access/{rule.inputs['name']}" in (
            sources)


def test_stack_sets_are_service_managed_and_auto_deploy(org_stack: StackRun) -> None:
    """Two StackSets, service-managed, called as the delegated administrator, deployed
    automatically to accounts joining the OUs and removed from those that leave."""
    sets = {s.inputs["name"]: s.inputs for s in org_stack.of_type(STACK_SET)}
    assert sorted(sets) == ["model-access-forwarding", "model-access-member-role"]
    for inputs in sets.values():
        assert inputs["permissionModel"] == "SERVICE_MANAGED"
        assert inputs["callAs"] == "DELEGATED_ADMIN"
        assert inputs["autoDeployment"] == {"enabled": True,
                                            "retainStacksOnAccountRemoval": False}
    assert sets["model-access-forwarding"]["capabilities"] == ["CAPABILITY_IAM"]
    assert sets["model-access-member-role"]["capabilities"] == ["CAPABILITY_NAMED_IAM"]


def test_forwarding_in_every_member_region_member_role_in_one(org_stack: StackRun) -> None:
    """The regional StackSet has an instance per member region, the global one a single
    instance in the home region; both target the configured OUs."""
    regions: dict[str, list[str]] = {}
    for instance in org_stack.of_type(INSTANCE):
        inputs = instance.inputs
        assert inputs["deploymentTargets"] == {
            "organizationalUnitIds": ORG_CONFIG["organizationalUnitIds"]}
        regions.setdefault(inputs["stackSetName"], []).append(inputs["stackSetInstanceRegion"])
    assert sorted(regions["model-access-forwarding"]) == sorted(ORG_CONFIG["memberRegions"])
    assert regions["model-access-member-role"] == [REGION]


def test_every_template_is_valid_cloudformation(org_stack: StackRun) -> None:
    """StackSets and plain stacks: format version, typed resources, references that resolve."""
    found = dict(templates(org_stack))
    assert len(found) == 2 + 1 + 2 + 1  # two StackSets; management: role + 2 regions; 1 region
    for name, body in found.items():
        assert problems(body) == [], name


def test_templates_are_built_by_the_shared_builders(org_stack: StackRun) -> None:
    """The forwarding template is forwarding_template's for the hub bus, the member role
    template member_role_template's for the functions' role: so the patterns are
    patterns.py's and the member policy function_policy.py's, not copies."""
    forwarding = forwarding_template(Forwarding(HUB_BUS, TriggerMode.BOTH, 86400, 185))
    member = member_role_template(settings_of(org_stack), MemberRole(FUNCTIONS_ROLE, ORGANIZATION))
    assert template(org_stack, "forwarding") == forwarding
    assert template(org_stack, "member-role") == member
    for name, body in templates(org_stack):
        assert body in (forwarding, member), name


def _rules(run: StackRun) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(where, bus, target) for every rule target: the program's and each template's, with
    target keys as CloudFormation names them."""
    for target in run.of_type(TARGET):
        inputs = target.inputs
        yield ("hub", inputs.get("eventBusName", "default"), {
            "Arn": inputs["arn"], "RoleArn": inputs.get("roleArn"),
            "DeadLetterConfig": inputs.get("deadLetterConfig")})
    for name, body in templates(run):
        for resource in body["Resources"].values():
            if resource["Type"] == "AWS::Events::Rule":
                for target in resource["Properties"]["Targets"]:
                    yield (name, f"{name}:{resource['Properties']['EventBusName']}", target)


@pytest.mark.parametrize("config", [ORG_CONFIG, REGIONS_ONLY])
def test_every_bus_target_has_a_role_and_a_dlq(config: dict[str, Any]) -> None:
    """A target that is an event bus names a RoleArn and a dead-letter queue (EventBridge
    needs the role when the receiving bus admits an organization, and across regions)."""
    bus_targets = [(where, t) for where, _, t in _rules(run_program(config))
                   if ":event-bus/" in t["Arn"]]
    assert bus_targets
    for where, target in bus_targets:
        assert target["RoleArn"], where
        assert target["DeadLetterConfig"]["Arn"], where


@pytest.mark.parametrize("config", [ORG_CONFIG, REGIONS_ONLY])
def test_no_rule_targets_a_bus_that_forwards(config: dict[str, Any]) -> None:
    """One hop: every bus a rule sends to has only rules that deliver to a queue."""
    rules = list(_rules(run_program(config)))
    buses_targeted = {t["Arn"] for _, _, t in rules if ":event-bus/" in t["Arn"]}
    assert buses_targeted == {HUB_BUS}
    on_hub_bus = [t for _, bus, t in rules if bus == "model-access"]
    assert on_hub_bus and all(":sqs:" in t["Arn"] for t in on_hub_bus)


def test_management_account_gets_both_templates_as_plain_stacks(org_stack: StackRun) -> None:
    """managementAccountRoleArn: a provider assuming that role, the member role stack in the
    home region and a forwarding stack per member region, all through that provider."""
    (provider,) = org_stack.of_type("pulumi:providers:aws")
    assert json.loads(provider.inputs["assumeRoles"])[0]["roleArn"] == (
        ORG_CONFIG["managementAccountRoleArn"])
    management = [s for s in org_stack.of_type(STACK) if "-management-" in s.name]
    assert sorted(s.inputs.get("region", REGION) for s in management) == sorted(
        [REGION, *ORG_CONFIG["memberRegions"]])


def test_without_opt_in_the_management_account_is_left_out() -> None:
    """No managementAccountRoleArn: no provider and no stack for it."""
    run = run_program({k: v for k, v in ORG_CONFIG.items() if k != "managementAccountRoleArn"})
    assert run.of_type("pulumi:providers:aws") == []
    assert all("-management-" not in s.name for s in run.of_type(STACK))


def test_regions_of_one_account_forward_without_an_organization() -> None:
    """forwardRegions alone: the hub bus (no policy: the account's own roles need none), a
    forwarding stack in each other region, no StackSet, no way into other accounts, and the
    runtime told to serve those regions (the one-region refusal lifted)."""
    run = run_program(REGIONS_ONLY)
    assert run.one(BUS).inputs["name"] == "model-access"
    assert run.of_type("aws:cloudwatch/eventBusPolicy:EventBusPolicy") == []
    assert run.of_type(STACK_SET) == []
    assert sorted(s.inputs["region"] for s in run.of_type(STACK)) == ["eu-west-1", "us-west-2"]
    policy = json.loads(run.one("aws:iam/rolePolicy:RolePolicy").inputs["policy"])
    assert not [s for s in policy["Statement"] if "sts:AssumeRole" in s["Action"]]
    settings = settings_of(run)
    assert settings.served_regions == (REGION, "us-west-2", "eu-west-1")
    assert not settings.serves_members


def test_functions_learn_the_members_and_regions(org_stack: StackRun) -> None:
    """memberAccounts, memberRoleName, memberRegions and forwardRegions reach both functions."""
    settings = settings_of(org_stack)
    assert settings.organization_members and settings.member_role == "model-access-member"
    assert settings.served_regions == (REGION, "eu-west-1", "us-west-2")


def test_home_region_among_forward_regions_is_refused() -> None:
    """Forwarding the home region's default bus to the hub bus would double every event."""
    with pytest.raises(Exception, match="forwardRegions: us-east-1 is the home region"):
        run_program({"forwardRegions": [REGION]})


@pytest.mark.parametrize(("change", "named"), [
    ({"organizationId": "org-1"}, "organizationId"),
    ({"organizationalUnitIds": ["ou-ab12-cd34ef56"]}, "organizationalUnitIds: needs"),
    ({**ORG_CONFIG, "organizationalUnitIds": ["sales"]}, "organizationalUnitIds: 'sales'"),
    ({**ORG_CONFIG, "memberRegions": []}, "memberRegions"),
    ({**ORG_CONFIG, "memberRegions": ["us-east-1", "us-east-1"]}, "memberRegions: a region"),
    ({**ORG_CONFIG, "memberAccounts": []}, "memberAccounts: spokes"),
    ({**ORG_CONFIG, "memberAccounts": ["organization", "111111111111"]}, "memberAccounts"),
    ({**ORG_CONFIG, "stackSetCallAs": "ADMIN"}, "stackSetCallAs"),
    ({**ORG_CONFIG, "managementAccountRoleArn": "admin"}, "managementAccountRoleArn"),
    ({"forwardRegions": ["narnia"]}, "forwardRegions"),
    ({**ORG_CONFIG, "memberRoleName": "team/member"}, "MODEL_ACCESS_MEMBER_ROLE"),
])
def test_organization_keys_are_checked_before_anything_is_declared(
    change: dict[str, Any], named: str,
) -> None:
    """Each inconsistent organization setting stops the program, naming the key."""
    with pytest.raises(Exception, match=named) as refused:
        run_program(change)
    assert "invalid stack configuration" in str(refused.value)
