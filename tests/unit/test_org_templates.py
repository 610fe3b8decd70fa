"""The spokes' CloudFormation templates, built from the same builders as the hub."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from model_access.core.settings import Env, Settings
from model_access.deploy.function_policy import member_policy
from model_access.deploy.org_templates import (
    Forwarding,
    MemberRole,
    forwarding_template,
    hub_bus_policy,
    member_role_template,
)
from model_access.deploy.patterns import TriggerMode, pattern_json, trigger_patterns
from tests.cfn import problems, resolve_sub

HUB_BUS = "arn:aws:events:us-east-1:123456789012:event-bus/model-access"
HUB_ROLE = "arn:aws:iam::123456789012:role/model-access-functions"
ORG = "o-a1b2c3d4e5"
MEMBER = "111111111111"
SETTINGS = Settings.from_mapping({Env.ACCOUNT_ID: "123456789012", Env.REGIONS: "eu-west-1",
                                  Env.MEMBER_ACCOUNTS: "organization"})


def forwarding(trigger: TriggerMode = TriggerMode.BOTH) -> dict[str, Any]:
    return forwarding_template(Forwarding(HUB_BUS, trigger, 3600, 20))


def of_type(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


@pytest.mark.parametrize("trigger", list(TriggerMode))
def test_forwarding_template_is_valid_cloudformation(trigger: TriggerMode) -> None:
    """Format version, typed resources, resolvable references, outputs: for every trigger."""
    assert problems(forwarding(trigger)) == []


def test_member_role_template_is_valid_cloudformation() -> None:
    """The member role template passes the same structural checks."""
    assert problems(member_role_template(SETTINGS, MemberRole(HUB_ROLE, ORG))) == []


def test_checker_is_not_vacuous() -> None:
    """A broken reference, an unknown property and a missing version are each reported."""
    template = copy.deepcopy(forwarding())
    del template["AWSTemplateFormatVersion"]
    template["Resources"]["ForwardRole"]["Properties"]["Colour"] = "blue"
    template["Outputs"]["Bad"] = {"Value": {"Fn::GetAtt": ["Nowhere", "Arn"]}}
    assert len(problems(template)) == 3


@pytest.mark.parametrize("trigger", list(TriggerMode))
def test_forwarding_rules_use_the_runtime_patterns(trigger: TriggerMode) -> None:
    """Each rule's pattern is exactly what patterns.trigger_patterns builds, one per rule."""
    rules = of_type(forwarding(trigger), "AWS::Events::Rule")
    found = sorted(pattern_json(rule["Properties"]["EventPattern"]) for rule in rules.values())
    expected = sorted(pattern_json(p) for p in trigger_patterns(trigger).values())
    assert found == expected and len(rules) == len(expected)
    assert all(r["Properties"]["EventBusName"] == "default" for r in rules.values())


def test_every_forwarding_target_is_the_hub_bus_with_role_and_dlq() -> None:
    """One hop to the hub bus; each target has a RoleArn (the role may only PutEvents there),
    a dead-letter queue and a retry policy."""
    template = forwarding()
    (role,) = of_type(template, "AWS::IAM::Role").values()
    (queue_id,) = of_type(template, "AWS::SQS::Queue")
    for rule in of_type(template, "AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        assert target["Arn"] == HUB_BUS
        assert target["RoleArn"] == {"Fn::GetAtt": ["ForwardRole", "Arn"]}
        assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
        assert target["RetryPolicy"] == {"MaximumEventAgeInSeconds": 3600,
                                         "MaximumRetryAttempts": 20}
    (policy,) = role["Properties"]["Policies"]
    assert policy["PolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": HUB_BUS}]


def test_forwarding_dlq_admits_only_its_rules() -> None:
    """The spoke DLQ takes messages from EventBridge for this template's rules only."""
    template = forwarding()
    (policy,) = of_type(template, "AWS::SQS::QueuePolicy").values()
    allow, tls = policy["Properties"]["PolicyDocument"]["Statement"]
    rules = sorted(of_type(template, "AWS::Events::Rule"))
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": [r, "Arn"]} for r in rules]
    assert tls["Effect"] == "Deny"


def test_member_role_policy_is_the_builders_document() -> None:
    """Substituted in a member account, the template's policy is member_policy's, verbatim."""
    template = member_role_template(SETTINGS, MemberRole(HUB_ROLE, ORG))
    (policy,) = template["Resources"]["MemberRole"]["Properties"]["Policies"]
    assert resolve_sub(policy["PolicyDocument"], MEMBER) == member_policy(SETTINGS, MEMBER, "aws")


def test_member_role_trusts_the_hub_role_inside_the_organization() -> None:
    """Only the hub functions' role, and only with aws:PrincipalOrgID, may assume it."""
    role = member_role_template(SETTINGS, MemberRole(HUB_ROLE, ORG))["Resources"]["MemberRole"]
    assert role["Properties"]["RoleName"] == "model-access-member"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {"Effect": "Allow", "Principal": {"AWS": HUB_ROLE}, "Action": "sts:AssumeRole",
                     "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}}
    assert role["Properties"]["MaxSessionDuration"] == 3600


def test_member_policy_leaves_out_what_only_the_hub_needs() -> None:
    """No queue, table, logs, Lambda, X-Ray or STS in a member: only SageMaker, the tagging
    index and IAM; its own role is denied like the hub's."""
    document = member_policy(SETTINGS, MEMBER, "aws")
    services = {a.split(":")[0] for s in document["Statement"] for a in s["Action"]}
    assert services == {"sagemaker", "tag", "iam"}
    (deny,) = [s for s in document["Statement"] if s["Sid"] == "NeverTouchOwnOrServiceLinkedRoles"]
    assert f"arn:aws:iam::{MEMBER}:role/model-access-member" in deny["Resource"]
    reads = next(s for s in document["Statement"] if s["Sid"] == "ReadModels")
    assert reads["Resource"] == [f"arn:aws:sagemaker:{r}:{MEMBER}:model/*"
                                 for r in ("us-east-1", "eu-west-1")]


def test_hub_bus_policy_admits_forwarded_events_of_the_organization_only() -> None:
    """PutEvents for anyone in the organization, only forwarded by a rule, only SageMaker's."""
    (statement,) = hub_bus_policy(HUB_BUS, ORG, ["aws.sagemaker"])["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("events:PutEvents", HUB_BUS)
    assert statement["Condition"] == {"StringEquals": {
        "aws:PrincipalOrgID": ORG, "events:source": ["aws.sagemaker"],
        "events:eventBusInvocation": "true"}}
