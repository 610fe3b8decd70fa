"""Which account and region an event is about, and whether the hub serves them. Pure.

Forwarding between buses rewrites the envelope (`account`, `region`: the forwarding bus's,
and moto does the same), so the origin is read from what CloudTrail or SageMaker wrote
inside the event: the SageMaker resource ARN it names (`responseElements.modelArn`,
`requestParameters.resourceArn`, a group name given as an ARN, the native event's
`resources`/`detail.ModelArn`, a re-drive's `detail.modelArn`), else
`detail.recipientAccountId` and `detail.awsRegion`. The envelope is never read.

Admission: the hub's own account is always served; another account only when
`MODEL_ACCESS_MEMBER_ACCOUNTS` lists it, or, with `organization`, when Organizations says
it is an ACTIVE member (that check needs AWS: `aws/member_sessions.py` makes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from model_access.core.arns import is_account_id, is_region_name
from model_access.core.errors import BadEventError
from model_access.core.outcomes import Outcome
from model_access.core.settings import Settings


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


def _sagemaker_origin(text: str) -> Origin | None:
    """The account and region of any SageMaker ARN (model, model package group, version)."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker" or "/" not in parts[5]:
        return None
    region, account = parts[3], parts[4]
    if not (is_region_name(region) and is_account_id(account)):
        return None
    return Origin(account, region)


def _named_origins(event: Mapping[str, Any], detail: Mapping[str, Any]) -> set[Origin]:
    """Where the SageMaker resources the event itself names live: top-level ARNs of the
    request and response (a name may be given as an ARN), the native event's `resources`
    and `ModelArn`, a re-drive's `modelArn`. Nested values (a container's model package)
    are not the resource the call acted on and are not read."""
    candidates: list[Any] = [detail.get(key) for key in ("ModelArn", "modelArn", "resourceArn")]
    for block in (detail.get("requestParameters"), detail.get("responseElements")):
        candidates += list(_mapping(block).values())
    resources = event.get("resources")
    if isinstance(resources, list):
        candidates += resources
    return {origin for c in candidates
            if (text := _text(c)) and (origin := _sagemaker_origin(text)) is not None}


def event_origin(event: Any, default: Origin | None = None) -> Origin:
    """The account and region an EventBridge event is about: those of the SageMaker resource
    it names (a cross-account call is about the resource's account, whichever account's
    copy of the record this is), else the record's `recipientAccountId` and `awsRegion`.
    BadEventError when it names resources in several places, or nothing and no `default`
    is given (an operator's re-drive by name is about the hub: pass the hub's account and
    home region). Never reads the envelope's `account` or `region`."""
    if not isinstance(event, Mapping) or not isinstance(event.get("detail"), Mapping):
        raise BadEventError("event has no 'detail' object: no account or region to read")
    detail: Mapping[str, Any] = event["detail"]
    named = _named_origins(event, detail)
    if len(named) > 1:
        raise BadEventError(f"event names resources in {sorted(map(str, named))}: "
                            "not one account and region")
    if named:
        return named.pop()
    account, region = _text(detail.get("recipientAccountId")), _text(detail.get("awsRegion"))
    if account and region:
        return Origin(account, region)
    if default is not None and not account and not region:
        return default
    raise BadEventError("event names no account and region (a SageMaker ARN, or "
                        "detail.recipientAccountId and detail.awsRegion)")


def origin_of_arn(arn: str) -> Origin | None:
    """The account and region of a SageMaker resource ARN (None when `arn` is not one)."""
    return _sagemaker_origin(arn)


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
