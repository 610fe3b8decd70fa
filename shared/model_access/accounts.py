"""Which account and region an event is about, and whether the hub serves them. Pure.

Forwarding between buses rewrites the envelope (`account`, `region`: the forwarding bus's,
and moto does the same), so the origin is read from what CloudTrail or SageMaker wrote
inside the event: `detail.recipientAccountId` and `detail.awsRegion`, or the model ARN
(`responseElements.modelArn`, `requestParameters.resourceArn`, the native event's
`resources`/`detail.ModelArn`, a re-drive's `detail.modelArn`). The envelope is never read.

Admission: the hub's own account is always served; another account only when
`MODEL_ACCESS_MEMBER_ACCOUNTS` lists it, or, with `organization`, when Organizations says
it is an ACTIVE member (that check needs AWS: `aws/member_sessions.py` makes it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from model_access.arns import parse_model_arn
from model_access.errors import BadEventError
from model_access.outcomes import Outcome
from model_access.settings import Settings


@dataclass(frozen=True)
class Origin:
    """Where a model lives: the account and region whose IAM and SageMaker are meant."""

    account: str
    region: str


class Admission(StrEnum):
    """What the hub may do in an account."""

    HUB = "hub"
    """The hub's own account: its functions' role acts directly."""
    MEMBER = "member"
    """Listed in MODEL_ACCESS_MEMBER_ACCOUNTS: act through the member role."""
    ASK_ORGANIZATION = "ask-organization"
    """`organization` mode: a member only if Organizations says it is ACTIVE."""
    REFUSED = "refused"
    """AccountNotMember: read nothing, write nothing."""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _model_arns(event: Mapping[str, Any], detail: Mapping[str, Any]) -> Iterator[str]:
    """Every model ARN the event itself names, wherever its shape puts one."""
    candidates = [
        _mapping(detail.get("responseElements")).get("modelArn"),
        _mapping(detail.get("requestParameters")).get("resourceArn"),
        detail.get("ModelArn"),
        detail.get("modelArn"),
    ]
    resources = event.get("resources")
    if isinstance(resources, list):
        candidates += resources
    for candidate in candidates:
        if (text := _text(candidate)) and parse_model_arn(text) is not None:
            yield text


def event_origin(event: Any, default: Origin | None = None) -> Origin:
    """The account and region an EventBridge event is about; BadEventError when the event
    contradicts itself (a model ARN of another account or region than the CloudTrail
    record's) or names neither and no `default` is given (an operator's re-drive by model
    name is about the hub: pass the hub's account and home region). Never reads the
    envelope's `account` or `region`."""
    if not isinstance(event, Mapping) or not isinstance(event.get("detail"), Mapping):
        raise BadEventError("event has no 'detail' object: no account or region to read")
    detail: Mapping[str, Any] = event["detail"]
    origins = {Origin(m.account, m.region)
               for m in map(parse_model_arn, _model_arns(event, detail)) if m is not None}
    account, region = _text(detail.get("recipientAccountId")), _text(detail.get("awsRegion"))
    if account and region:
        recorded = Origin(account, region)
        if origins - {recorded}:
            raise BadEventError(f"model ARN of {sorted(map(str, origins))} contradicts the "
                                f"record's account {account} and region {region}")
        return recorded
    if not origins and not account and not region and default is not None:
        return default
    if len(origins) != 1:
        raise BadEventError("event names no account and region (detail.recipientAccountId "
                            f"and detail.awsRegion, or one model ARN): {len(origins)} found")
    (origin,) = origins
    if (account and account != origin.account) or (region and region != origin.region):
        raise BadEventError(f"model ARN of {origin} contradicts the record")
    return origin


def origin_of_arn(arn: str) -> Origin | None:
    """The account and region of a model ARN (None when `arn` is not one)."""
    model = parse_model_arn(arn)
    return None if model is None else Origin(model.account, model.region)


def admission(account: str, settings: Settings, hub_account: str) -> Admission:
    """Whether (and how) the hub may act in `account`, before any AWS call."""
    if account == hub_account:
        return Admission.HUB
    if account in settings.member_accounts:
        return Admission.MEMBER
    if settings.organization_members:
        return Admission.ASK_ORGANIZATION
    return Admission.REFUSED


def refusal(origin: Origin, settings: Settings,
            hub_account: str) -> tuple[Outcome, str] | None:
    """The outcome and reason when the hub must not act on this origin (`ForeignModel` for
    a region it does not serve, `AccountNotMember` for an account it does not serve), or
    None when it may (organization mode still asks Organizations, in member_sessions)."""
    if origin.region not in settings.served_regions:
        served = ", ".join(settings.served_regions)
        return (Outcome.FOREIGN_MODEL,
                f"model is in region {origin.region}; this deployment serves {served}")
    if admission(origin.account, settings, hub_account) is Admission.REFUSED:
        return (Outcome.ACCOUNT_NOT_MEMBER,
                f"account {origin.account} is not a member this hub serves "
                "(MODEL_ACCESS_MEMBER_ACCOUNTS)")
    return None


def member_role_arn(account: str, settings: Settings) -> str:
    """The role the functions assume in a member account."""
    return f"arn:{settings.partition}:iam::{account}:role/{settings.member_role}"
