"""Where an event's model lives, and whether the hub serves that account and region."""

from __future__ import annotations

import json
from typing import Any

import pytest

from model_access.core.errors import BadEventError, ConfigurationError
from model_access.core.outcomes import Outcome
from model_access.core.settings import Env, Settings
from model_access.model.accounts import (
    Admission,
    Origin,
    admission,
    event_origin,
    member_role_arn,
    origin_of_arn,
    refusal,
)
from tests.conftest import ACCOUNT, REGION, load_event

MEMBER = "111111111111"
STRANGER = "999999999999"
OTHER_REGION = "eu-west-1"
FIXTURES = ["lambda/create-model.json", "lambda/add-tags-owner.json",
            "lambda/delete-model.json", "lambda/native-create-model.json",
            "lambda/reconcile-model.json", "lambda/create-model-package-group.json",
            "lambda/create-model-package-group-arn-as-name.json",
            "lambda/delete-model-package-group.json", "lambda/add-tags-model-package-group.json",
            "lambda/add-tags-model-package-version.json"]


def forwarded(name: str, account: str = MEMBER, region: str = OTHER_REGION) -> Any:
    """A fixture as it reaches the hub from a member's region: what CloudTrail or SageMaker
    wrote names the member; the envelope names the hub, as bus-to-bus forwarding leaves it."""
    event = load_event(name)
    body = json.dumps({"detail": event["detail"], "resources": event.get("resources", [])})
    moved = json.loads(body.replace(ACCOUNT, account).replace(REGION, region))
    return {**event, **moved, "account": ACCOUNT, "region": REGION}


@pytest.mark.parametrize("name", FIXTURES)
def test_event_origin_reads_the_record_never_the_envelope(name: str) -> None:
    """Every event shape gives the member's account and region though the envelope says hub."""
    assert event_origin(forwarded(name)) == Origin(MEMBER, OTHER_REGION)


@pytest.mark.parametrize("name", FIXTURES)
def test_event_origin_of_hub_events_is_the_hub(name: str) -> None:
    """The unchanged fixtures (the hub's own account and home region) name the hub."""
    assert event_origin(load_event(name)) == Origin(ACCOUNT, REGION)


def test_event_origin_of_a_cross_account_call_is_the_resources_account() -> None:
    """A call naming another account's group (the hub's copy of the record): the event is
    about where the group lives, which the hub then serves or refuses (AccountNotMember)."""
    event = load_event("lambda/delete-model-package-group-foreign-arn.json")
    assert event["detail"]["recipientAccountId"] == ACCOUNT
    assert event_origin(event) == Origin("210987654321", REGION)


def test_event_origin_refuses_resources_in_several_accounts() -> None:
    """An event naming its model in two accounts (resources and detail.ModelArn) is not
    believed."""
    event = load_event("lambda/native-create-model.json")
    event["detail"]["ModelArn"] = event["detail"]["ModelArn"].replace(ACCOUNT, MEMBER)
    with pytest.raises(BadEventError, match="names resources in"):
        event_origin(event)


def test_event_origin_ignores_arns_nested_in_the_request() -> None:
    """A container's model package of another account (nested) does not move the model."""
    event = load_event("lambda/create-model.json")
    event["detail"]["requestParameters"]["primaryContainer"]["modelPackageName"] = (
        f"arn:aws:sagemaker:{REGION}:865070037744:model-package/vendor-model")
    assert event_origin(event) == Origin(ACCOUNT, REGION)


def test_event_origin_uses_the_arn_when_the_record_lacks_account_or_region() -> None:
    """A record without recipientAccountId falls back to its model ARN, not the envelope."""
    event = forwarded("lambda/create-model.json")
    del event["detail"]["recipientAccountId"]
    assert event_origin(event) == Origin(MEMBER, OTHER_REGION)


def test_event_origin_without_account_needs_a_default() -> None:
    """A DeleteModel record stripped of its account names nothing: refused, or the
    default the caller gives (an operator's re-drive by name is about the hub)."""
    event = load_event("lambda/delete-model.json")
    del event["detail"]["recipientAccountId"], event["detail"]["awsRegion"]
    with pytest.raises(BadEventError, match="names no account"):
        event_origin(event)
    assert event_origin(event, default=Origin(ACCOUNT, REGION)) == Origin(ACCOUNT, REGION)


@pytest.mark.parametrize("event", [None, [], {"detail": "x"}, {"source": "aws.sagemaker"}])
def test_event_origin_refuses_what_is_not_an_event(event: Any) -> None:
    """Not an object with a detail: BadEventError, never a guess."""
    with pytest.raises(BadEventError):
        event_origin(event)


def test_origin_of_arn_reads_sagemaker_resource_arns_only() -> None:
    """A SageMaker resource ARN gives its account and region; anything else gives None."""
    assert origin_of_arn(f"arn:aws:sagemaker:{OTHER_REGION}:{MEMBER}:model/m") == Origin(
        MEMBER, OTHER_REGION)
    assert origin_of_arn(
        f"arn:aws:sagemaker:{REGION}:{MEMBER}:model-package/g/3") == Origin(MEMBER, REGION)
    assert origin_of_arn(f"arn:aws:iam::{MEMBER}:role/r") is None
    assert origin_of_arn(f"arn:aws:sagemaker:{REGION}:*:model/m") is None


@pytest.mark.parametrize(("members", "account", "expected"), [
    ("", ACCOUNT, Admission.HUB),
    ("", MEMBER, Admission.REFUSED),
    (f"{MEMBER}, 222222222222", MEMBER, Admission.MEMBER),
    (f"{MEMBER}", STRANGER, Admission.REFUSED),
    ("organization", MEMBER, Admission.ASK_ORGANIZATION),
    ("organization", ACCOUNT, Admission.HUB),
])
def test_admission_follows_member_accounts(members: str, account: str,
                                           expected: Admission) -> None:
    """The hub always; listed accounts; in organization mode Organizations decides."""
    settings = Settings.from_mapping({Env.MEMBER_ACCOUNTS: members})
    assert admission(account, settings, ACCOUNT) is expected


def test_refusal_names_the_outcome_and_why() -> None:
    """An unserved region is ForeignModel, an unserved account AccountNotMember."""
    settings = Settings.from_mapping({Env.MEMBER_ACCOUNTS: MEMBER,
                                      Env.REGIONS: f"{OTHER_REGION},{REGION}"})
    assert refusal(Origin(MEMBER, OTHER_REGION), settings, ACCOUNT) is None
    assert refusal(Origin(ACCOUNT, REGION), settings, ACCOUNT) is None
    outcome, reason = refusal(Origin(STRANGER, REGION), settings, ACCOUNT) or ("", "")
    assert outcome is Outcome.ACCOUNT_NOT_MEMBER and STRANGER in reason
    outcome, reason = refusal(Origin(MEMBER, "ap-south-1"), settings, ACCOUNT) or ("", "")
    assert outcome is Outcome.FOREIGN_MODEL and "us-east-1, eu-west-1" in reason


def test_single_account_defaults_serve_the_home_region_only() -> None:
    """With no organization settings, another region is still refused (one stack, one region)."""
    settings = Settings.from_mapping({})
    assert settings.served_regions == (REGION,) and not settings.serves_members
    assert refusal(Origin(ACCOUNT, OTHER_REGION), settings, ACCOUNT) is not None


def test_member_role_arn_uses_the_configured_role() -> None:
    """`MODEL_ACCESS_MEMBER_ROLE` names the role; model-access-member by default."""
    assert member_role_arn(MEMBER, Settings()) == (
        f"arn:aws:iam::{MEMBER}:role/model-access-member")
    custom = Settings.from_mapping({Env.MEMBER_ROLE: "ma-spoke", Env.PARTITION: "aws-cn"})
    assert member_role_arn(MEMBER, custom) == f"arn:aws-cn:iam::{MEMBER}:role/ma-spoke"


@pytest.mark.parametrize(("name", "value"), [
    (Env.MEMBER_ACCOUNTS, "11111111111"),
    (Env.MEMBER_ACCOUNTS, "organization,111111111111"),
    (Env.MEMBER_ACCOUNTS, "*"),
    (Env.REGIONS, "us-east-1,mars-1"),
    (Env.MEMBER_ROLE, "team/model-access-member"),
    (Env.MEMBER_ROLE, "r" * 65),
])
def test_organization_settings_reject_bad_values_naming_the_variable(name: str,
                                                                     value: str) -> None:
    """A malformed member list, region or role name fails at start-up, naming the variable."""
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_mapping({name: value})
