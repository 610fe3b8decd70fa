"""Member sessions under moto: the member role assumed per account, writes land there.

moto maps AssumeRole credentials to the account in the role ARN (the role need not exist,
trust policies are not checked), so what a member session writes lands in that account's
backend. What moto does not do (refuse a missing role, throttle) is injected with Stubber.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.stub import Stubber
from moto.core.base_backend import BackendDict
from moto.iam.models import iam_backends

from model_access.aws.clients import Clients
from model_access.aws.member_sessions import MemberSessions
from model_access.core.errors import (
    AccountNotMemberError,
    AwsTransientError,
    MemberUnavailableError,
)
from model_access.core.settings import Env, Settings
from model_access.model.accounts import Admission

HUB = "123456789012"
MEMBER = "111111111111"
SECOND = "222222222222"
STRANGER = "999999999999"
REGION = "us-east-1"
OTHER_REGION = "eu-west-1"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Action": "sagemaker:DescribeModel",
    "Resource": f"arn:aws:sagemaker:{REGION}:{MEMBER}:model/m"}]})


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def hub(aws: Clients) -> Clients:
    """Fresh moto state; the hub's clients (moto's default account is the hub)."""
    BackendDict.reset()
    aws.counter.reset()
    return aws


def sessions(hub: Clients, members: str = f"{MEMBER},{SECOND}", **kwargs: Any) -> MemberSessions:
    settings = Settings.from_mapping({Env.MEMBER_ACCOUNTS: members, Env.REGION: REGION,
                                      Env.REGIONS: OTHER_REGION})
    return MemberSessions(settings, HUB, hub, **kwargs)


def policy_names(account: str) -> set[str]:
    return {p.name for p in iam_backends[account]["aws"].managed_policies.values()
            if p.path == "/model-access/"}


def test_member_session_writes_land_in_the_member_account(hub: Clients) -> None:
    """An IAM write through a member's clients exists in that member only, never in the hub."""
    member = sessions(hub).clients(MEMBER, REGION)
    member.iam.create_policy(PolicyName="model-access-alice-01", Path="/model-access/",
                             PolicyDocument=POLICY)
    assert policy_names(MEMBER) == {"model-access-alice-01"}
    assert policy_names(HUB) == set()
    assert policy_names(SECOND) == set()
    identity = member.sts.get_caller_identity()
    assert identity["Account"] == MEMBER
    assert identity["Arn"].startswith(f"arn:aws:sts::{MEMBER}:assumed-role/model-access-member/")


def test_member_clients_act_in_the_region_asked(hub: Clients) -> None:
    """A member's SageMaker client of another region reads that region, in that account."""
    member = sessions(hub)
    client = member.clients(MEMBER, OTHER_REGION).sagemaker
    assert client.meta.region_name == OTHER_REGION
    client.create_model(ModelName="m", ExecutionRoleArn=f"arn:aws:iam::{MEMBER}:role/x",
                        PrimaryContainer={"Image": "img"})
    arn = client.describe_model(ModelName="m")["ModelArn"]
    assert arn == f"arn:aws:sagemaker:{OTHER_REGION}:{MEMBER}:model/m"
    assert hub.sagemaker.list_models()["Models"] == []


def test_hub_account_uses_the_functions_own_credentials(hub: Clients) -> None:
    """The hub's home region gets the hub's clients; no AssumeRole for the hub itself."""
    member = sessions(hub)
    assert member.clients(HUB, REGION) is hub
    assert member.clients(HUB, OTHER_REGION).sts.get_caller_identity()["Account"] == HUB
    assert hub.counter.snapshot().get("sts:AssumeRole", 0) == 0


def test_credentials_are_reused_until_shortly_before_they_expire(hub: Clients) -> None:
    """One AssumeRole per account while the credentials last; a new one 5 minutes before
    they expire (moto's session lasts the hour asked for)."""
    clock = Clock()
    member = sessions(hub, clock=clock)
    first = member.clients(MEMBER, REGION)
    assert member.clients(MEMBER, REGION) is first
    member.clients(MEMBER, OTHER_REGION)
    member.clients(SECOND, REGION)
    assert hub.counter.snapshot()["sts:AssumeRole"] == 2
    clock.now += timedelta(minutes=54)
    assert member.clients(MEMBER, REGION) is first
    clock.now += timedelta(minutes=1, seconds=1)
    renewed = member.clients(MEMBER, REGION)
    assert renewed is not first
    assert hub.counter.snapshot()["sts:AssumeRole"] == 3
    assert renewed.sts.get_caller_identity()["Account"] == MEMBER


def test_account_not_listed_is_refused_before_any_call(hub: Clients) -> None:
    """A stranger account: AccountNotMemberError, and not one AWS call is made for it."""
    member = sessions(hub)
    with Stubber(hub.sts):  # no answers queued: any STS call would raise
        with pytest.raises(AccountNotMemberError, match=STRANGER):
            member.clients(STRANGER, REGION)
        with pytest.raises(AccountNotMemberError):
            member.session(STRANGER)
    assert hub.counter.total() == 0


def test_single_account_settings_refuse_every_other_account(hub: Clients) -> None:
    """Without MODEL_ACCESS_MEMBER_ACCOUNTS only the hub is served."""
    member = sessions(hub, members="")
    assert member.admit(HUB) is Admission.HUB
    with pytest.raises(AccountNotMemberError, match="MODEL_ACCESS_MEMBER_ACCOUNTS"):
        member.admit(MEMBER)


@pytest.mark.parametrize("code", ["AccessDenied", "NoSuchEntity", "RegionDisabledException"])
def test_missing_or_distrustful_member_role_is_member_unavailable(hub: Clients,
                                                                   code: str) -> None:
    """AssumeRole refused (as IAM refuses a role that is missing or does not trust the hub):
    MemberUnavailableError naming the role; nothing is cached, the next call asks again."""
    member = sessions(hub)
    with Stubber(hub.sts) as stub:
        stub.add_client_error("assume_role", service_error_code=code, http_status_code=403)
        with pytest.raises(MemberUnavailableError, match="role/model-access-member"):
            member.clients(MEMBER, REGION)
        stub.assert_no_pending_responses()
    assert member.clients(MEMBER, REGION).sts.get_caller_identity()["Account"] == MEMBER


def test_throttled_assume_role_is_transient(hub: Clients) -> None:
    """Throttling after botocore's retries is AwsTransientError (back to the queue)."""
    member = sessions(hub)
    with Stubber(hub.sts) as stub:
        stub.add_client_error("assume_role", service_error_code="Throttling",
                              http_status_code=400)
        with pytest.raises(AwsTransientError):
            member.clients(MEMBER, REGION)


def organization(hub: Clients) -> tuple[str, str]:
    """An organization whose management account is the hub, one ACTIVE member and one
    closed (moto's CloseAccount leaves it SUSPENDED)."""
    hub.organizations.create_organization(FeatureSet="ALL")
    ids = []
    for name in ("ml-team", "closed-team"):
        status = hub.organizations.create_account(Email=f"{name}@example.com",
                                                  AccountName=name)["CreateAccountStatus"]
        ids.append(status["AccountId"])
    hub.organizations.close_account(AccountId=ids[1])
    return ids[0], ids[1]


def test_organization_mode_admits_active_members_only(hub: Clients) -> None:
    """`organization`: an ACTIVE member is assumed into; a closed one and a stranger are
    refused; Organizations is asked once per account within the cache's lifetime."""
    active, closed = organization(hub)
    clock = Clock()
    member = sessions(hub, members="organization", clock=clock)
    assert member.admit(active) is Admission.MEMBER
    assert member.clients(active, REGION).sts.get_caller_identity()["Account"] == active
    for refused in (closed, STRANGER):
        with pytest.raises(AccountNotMemberError, match="ACTIVE member"):
            member.admit(refused)
        with pytest.raises(AccountNotMemberError):
            member.admit(refused)
    calls = hub.counter.snapshot()
    assert calls["organizations:DescribeAccount"] == 3
    clock.now += timedelta(minutes=16)
    member.admit(active)
    assert hub.counter.snapshot()["organizations:DescribeAccount"] == 4


def test_organization_mode_denied_describe_account_is_not_a_refusal(hub: Clients) -> None:
    """A hub that may not call DescribeAccount cannot tell: an error, never a cached
    'not a member' (nor a guessed 'member')."""
    member = sessions(hub, members="organization")
    with Stubber(hub.organizations) as stub:
        stub.add_client_error("describe_account", service_error_code="AccessDeniedException",
                              http_status_code=403)
        with pytest.raises(Exception, match="DescribeAccount") as raised:
            member.admit(MEMBER)
    assert not isinstance(raised.value, AccountNotMemberError)
