"""The spokes' templates deployed by CloudFormation StackSets in moto, and what they do there.

moto creates a service-managed StackSet's stacks in the accounts of the target OU, in
every region asked, resolving `Fn::Sub` per account; its rules deliver to buses in other
accounts and regions (the envelope rewritten, as on AWS). So this runs the organization's
event path for real, one hop: a member's default bus in another region -> the hub bus ->
the hub queue. What moto does not do (StackSet auto-deployment to an account that joins an
OU later, IAM evaluation of the bus and trust policies, SQS queue policies in
CloudFormation) is on the live checklist of docs/deploy-org.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto.core.base_backend import BackendDict
from moto.iam.models import iam_backends

from model_access.aws.clients import Clients
from model_access.aws.member_sessions import MemberSessions
from model_access.core.errors import AccountNotMemberError
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
from model_access.model.accounts import Origin, event_origin
from tests.conftest import load_event

pytestmark = pytest.mark.filterwarnings(
    "ignore:Tried to parse AWS")
"""moto's CloudFormation skips the spoke DLQ's queue policy (checked offline instead)."""
HUB = "123456789012"
HOME = "us-east-1"
OTHER = "eu-west-1"
HUB_ROLE = f"arn:aws:iam::{HUB}:role/model-access-functions"


@dataclass
class Organization:
    """The hub (moto's default account, here also the management account), one OU with one
    member, the spokes deployed to it, and the hub's bus and queue."""

    organization_id: str
    member: str
    queue_url: str
    settings: Settings
    hub: Clients


def _member_client(service: str, account: str, region: str) -> Any:
    credentials = boto3.client("sts", region_name=HOME).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName="admin")["Credentials"]
    return boto3.client(service, region_name=region,
                        aws_access_key_id=credentials["AccessKeyId"],
                        aws_secret_access_key=credentials["SecretAccessKey"],
                        aws_session_token=credentials["SessionToken"])


def _hub_bus(hub: Clients, organization_id: str) -> tuple[str, str]:
    """The hub bus with its organization policy and rules to the queue (as the stack has)."""
    bus = hub.events.create_event_bus(Name="model-access")["EventBusArn"]
    hub.events.put_permission(EventBusName="model-access", Policy=json.dumps(
        hub_bus_policy(bus, organization_id, ["aws.sagemaker"])))
    queue_url = hub.sqs.create_queue(QueueName="model-access-events")["QueueUrl"]
    queue_arn = hub.sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    for suffix, pattern in trigger_patterns(TriggerMode.BOTH).items():
        hub.events.put_rule(Name=f"model-access-hub-{suffix}", EventBusName="model-access",
                            EventPattern=pattern_json(pattern))
        hub.events.put_targets(Rule=f"model-access-hub-{suffix}", EventBusName="model-access",
                               Targets=[{"Id": "model-access-queue", "Arn": queue_arn}])
    return bus, queue_url


@pytest.fixture
def organization(aws: Clients) -> Organization:
    BackendDict.reset()
    aws.counter.reset()
    org = aws.organizations
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    ou = org.create_organizational_unit(ParentId=root, Name="ml")["OrganizationalUnit"]["Id"]
    member = org.create_account(Email="ml@example.com",
                                AccountName="ml")["CreateAccountStatus"]["AccountId"]
    org.move_account(AccountId=member, SourceParentId=root, DestinationParentId=ou)
    organization_id = org.describe_organization()["Organization"]["Id"]
    bus, queue_url = _hub_bus(aws, organization_id)
    settings = Settings.from_mapping({Env.ACCOUNT_ID: HUB, Env.REGION: HOME, Env.REGIONS: OTHER,
                                      Env.MEMBER_ACCOUNTS: "organization"})
    stack_sets = {
        "model-access-forwarding": (forwarding_template(
            Forwarding(bus, TriggerMode.BOTH, 3600, 10)), [HOME, OTHER]),
        "model-access-member-role": (member_role_template(
            settings, MemberRole(HUB_ROLE, organization_id)), [HOME]),
    }
    cloudformation = boto3.client("cloudformation", region_name=HOME)
    for name, (template, regions) in stack_sets.items():
        cloudformation.create_stack_set(
            StackSetName=name, TemplateBody=json.dumps(template),
            PermissionModel="SERVICE_MANAGED", Capabilities=["CAPABILITY_NAMED_IAM"],
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False})
        cloudformation.create_stack_instances(
            StackSetName=name, DeploymentTargets={"OrganizationalUnitIds": [ou]},
            Regions=regions)
    return Organization(organization_id, member, queue_url, settings, aws)


def _received(org: Organization) -> list[dict[str, Any]]:
    messages = org.hub.sqs.receive_message(QueueUrl=org.queue_url, MaxNumberOfMessages=10,
                                           WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def _as_member(name: str, account: str, region: str) -> dict[str, Any]:
    """A fixture as CloudTrail or SageMaker would write it in `account` and `region`."""
    event = load_event(name)
    text = json.dumps(event).replace(HUB, account).replace(HOME, region)
    moved: dict[str, Any] = json.loads(text)
    return moved


def test_stack_sets_put_the_member_role_in_each_ou_account(organization: Organization) -> None:
    """The member-role StackSet creates `model-access-member` in the member account, with
    the trust of the hub's role in the organization and member_policy's document for that
    very account (CloudFormation's Fn::Sub resolved)."""
    role = iam_backends[organization.member]["aws"].get_role("model-access-member")
    (trust,) = json.loads(role.assume_role_policy_document)["Statement"]
    assert trust["Principal"] == {"AWS": HUB_ROLE}
    assert trust["Condition"] == {"StringEquals": {
        "aws:PrincipalOrgID": organization.organization_id}}
    document = role.policies["model-access-member"]
    document = json.loads(document) if isinstance(document, str) else document
    assert document == member_policy(organization.settings, organization.member, "aws")
    assert "model-access-member" not in {r.name for r in iam_backends[HUB]["aws"].roles.values()}


def test_forwarding_rules_exist_in_every_member_region(organization: Organization) -> None:
    """The forwarding StackSet's rules are on the member's default bus in both regions, each
    targeting the hub bus with a role and a DLQ."""
    for region in (HOME, OTHER):
        events = _member_client("events", organization.member, region)
        rules = events.list_rules(EventBusName="default")["Rules"]
        assert len(rules) == 2, region
        for rule in rules:
            (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            assert target["Arn"] == f"arn:aws:events:{HOME}:{HUB}:event-bus/model-access"
            assert target["RoleArn"] and target["DeadLetterConfig"]["Arn"]


@pytest.mark.parametrize("fixture", ["lambda/create-model.json",
                                     "lambda/native-create-model.json"])
def test_member_event_reaches_the_hub_queue_in_one_hop(organization: Organization,
                                                       fixture: str) -> None:
    """A SageMaker event on a member's default bus in another region arrives in the hub
    queue; its envelope now names the hub's region, its record still names the member."""
    event = _as_member(fixture, organization.member, OTHER)
    member_events = _member_client("events", organization.member, OTHER)
    answer = member_events.put_events(Entries=[{
        "Source": event["source"], "DetailType": event["detail-type"],
        "Detail": json.dumps(event["detail"]), "Resources": event["resources"]}])
    assert answer["FailedEntryCount"] == 0
    (body,) = _received(organization)
    assert body["region"] == HOME  # rewritten by the forwarding, as on AWS
    assert event_origin(body) == Origin(organization.member, OTHER)


def test_an_event_of_another_source_is_not_forwarded(organization: Organization) -> None:
    """The spoke rules forward SageMaker's events only: a custom event stays in the member."""
    member_events = _member_client("events", organization.member, OTHER)
    member_events.put_events(Entries=[{"Source": "com.example", "DetailType": "x",
                                       "Detail": "{}"}])
    assert _received(organization) == []


def test_hub_assumes_the_stack_set_role_and_writes_only_there(organization: Organization) -> None:
    """MemberSessions admits the ACTIVE member (Organizations), assumes the role the
    StackSet made, and a tool policy written through it exists in the member only; an
    account outside the organization is refused before any call."""
    sessions = MemberSessions(organization.settings, HUB, organization.hub)
    member = sessions.clients(organization.member, OTHER)
    assert member.iam.get_role(RoleName="model-access-member")["Role"]["Arn"] == (
        f"arn:aws:iam::{organization.member}:role/model-access-member")
    member.iam.create_policy(PolicyName="model-access-alice-01", Path="/model-access/",
                             PolicyDocument=json.dumps(member_policy(
                                 organization.settings, organization.member, "aws")))
    in_member = {p.name for p in iam_backends[organization.member]["aws"]
                 .managed_policies.values() if p.path == "/model-access/"}
    in_hub = {p.name for p in iam_backends[HUB]["aws"].managed_policies.values()
              if p.path == "/model-access/"}
    assert (in_member, in_hub) == ({"model-access-alice-01"}, set())
    with pytest.raises(AccountNotMemberError):
        sessions.clients("999999999999", HOME)
