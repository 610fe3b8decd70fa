"""Clients in member accounts: the member role assumed through STS, per account.

- Admission first (`accounts.admission`): an account the hub does not serve is refused
  (`AccountNotMemberError`) before any call, so nothing is read or written there. In
  `organization` mode Organizations' `DescribeAccount` decides (ACTIVE members only; the
  answer is cached for `organization_ttl`).
- `AssumeRole` on `arn:<p>:iam::<account>:role/<MODEL_ACCESS_MEMBER_ROLE>`; the session is
  reused until `refresh_margin` before its credentials expire (the clock is injectable).
  The functions' own credentials are a role session, so this is role chaining: at most
  one hour (`SESSION_SECONDS`), which outlives any invocation.
- The sweep asks for every served account (`member_accounts`): the listed ones, or
  Organizations' `ListAccounts` (ACTIVE ones) in `organization` mode.
- A role that is missing, does not trust the hub, or a region disabled in the member:
  `MemberUnavailableError` (outcome MemberUnavailable); throttling and 5xx: transient.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from model_access.aws.clients import Clients
from model_access.aws.translate import error_code, is_transient, translate
from model_access.core.errors import AccountNotMemberError, MemberUnavailableError
from model_access.core.settings import Settings
from model_access.model.accounts import Admission, admission, member_role_arn

if TYPE_CHECKING:
    from mypy_boto3_organizations.client import OrganizationsClient

SESSION_SECONDS: Final = 3600
"""Role chaining caps an assumed session at one hour (IAM: "role chaining")."""
REFRESH_MARGIN: Final = timedelta(minutes=5)
ORGANIZATION_TTL: Final = timedelta(minutes=15)
SESSION_NAME: Final = "model-access"
ACTIVE: Final = "ACTIVE"
UNAVAILABLE_CODES: Final = frozenset({
    "AccessDenied", "AccessDeniedException", "NoSuchEntity", "RegionDisabledException",
    "InvalidIdentityToken",
})
"""AssumeRole answers that mean the member role is not usable by the hub (IAM answers
AccessDenied for a role that does not exist as for one whose trust policy refuses us)."""
NOT_A_MEMBER_CODES: Final = frozenset({
    "AccountNotFoundException", "AWSOrganizationsNotInUseException",
})


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Session:
    session: boto3.Session
    expires: datetime


class MemberSessions:
    """Per-account sessions and per-(account, region) clients for the hub's functions."""

    def __init__(
        self,
        settings: Settings,
        hub_account: str,
        hub: Clients,
        *,
        hub_session: boto3.Session | None = None,
        organizations: OrganizationsClient | None = None,
        clock: Callable[[], datetime] = utc_now,
        refresh_margin: timedelta = REFRESH_MARGIN,
        organization_ttl: timedelta = ORGANIZATION_TTL,
    ) -> None:
        self._settings = settings
        self._hub_account = hub_account
        self._hub = hub
        self._hub_session = hub_session
        self._organizations = organizations
        self._clock = clock
        self._margin = refresh_margin
        self._organization_ttl = organization_ttl
        self._sessions: dict[str, _Session] = {}
        self._members: dict[str, tuple[bool, datetime]] = {}
        self._clients: dict[tuple[str, str], tuple[datetime | None, Clients]] = {}
        self._lock = threading.RLock()

    def admit(self, account: str) -> Admission:
        """HUB or MEMBER; AccountNotMemberError for any account the hub does not serve."""
        decision = admission(account, self._settings, self._hub_account)
        if decision is Admission.ASK_ORGANIZATION:
            decision = Admission.MEMBER if self._active_member(account) else Admission.REFUSED
        if decision is Admission.REFUSED:
            mode = ("not an ACTIVE member of the organization"
                    if self._settings.organization_members else
                    "not in MODEL_ACCESS_MEMBER_ACCOUNTS")
            raise AccountNotMemberError(f"account {account} is {mode}: nothing is read or "
                                        "written there")
        return decision

    def clients(self, account: str, region: str) -> Clients:
        """Clients acting in `account` and `region` (the hub's own for its home region)."""
        if account == self._hub_account and region == self._settings.region:
            return self._hub
        with self._lock:
            if account == self._hub_account:
                session, expires = self._hub_session or boto3.Session(), None
            else:
                self.admit(account)
                current = self._member_session(account)
                session, expires = current.session, current.expires
            cached = self._clients.get((account, region))
            if cached is None or cached[0] != expires:
                cached = (expires, Clients(session, region=region, counter=self._hub.counter,
                                           endpoint_url=self._hub.endpoint_url))
                self._clients[(account, region)] = cached
            return cached[1]

    def session(self, account: str) -> boto3.Session:
        """A boto3 session acting as the member role in `account` (admitted first)."""
        with self._lock:
            self.admit(account)
            if account == self._hub_account:
                return self._hub_session or boto3.Session()
            return self._member_session(account).session

    def member_accounts(self) -> list[str]:
        """Every account served besides the hub's, sorted: MODEL_ACCESS_MEMBER_ACCOUNTS, or
        in `organization` mode every ACTIVE account Organizations lists (the answers are
        cached for admission as DescribeAccount's are)."""
        listed = set(self._settings.member_accounts)
        if self._settings.organization_members:
            client = self._organizations or self._hub.organizations
            expires = self._clock() + self._organization_ttl
            try:
                for page in client.get_paginator("list_accounts").paginate():
                    for found in page.get("Accounts", []):
                        state = found.get("State") or found.get("Status")
                        with self._lock:
                            self._members[found["Id"]] = (state == ACTIVE, expires)
                        if state == ACTIVE:
                            listed.add(found["Id"])
            except (ClientError, BotoCoreError) as exc:
                raise translate(exc, "ListAccounts") from exc
        return sorted(listed - {self._hub_account})

    def _member_session(self, account: str) -> _Session:
        current = self._sessions.get(account)
        if current is not None and self._clock() < current.expires - self._margin:
            return current
        role_arn = member_role_arn(account, self._settings)
        try:
            answer = self._hub.sts.assume_role(RoleArn=role_arn, RoleSessionName=SESSION_NAME,
                                               DurationSeconds=SESSION_SECONDS)
        except ClientError as exc:
            if error_code(exc) in UNAVAILABLE_CODES:
                raise MemberUnavailableError(
                    f"cannot assume {role_arn} ({error_code(exc)}): the member role is missing "
                    "or does not trust the hub's functions role") from exc
            raise translate(exc, f"AssumeRole {role_arn}") from exc
        except BotoCoreError as exc:
            raise translate(exc, f"AssumeRole {role_arn}") from exc
        credentials = answer["Credentials"]
        current = _Session(
            boto3.Session(aws_access_key_id=credentials["AccessKeyId"],
                          aws_secret_access_key=credentials["SecretAccessKey"],
                          aws_session_token=credentials["SessionToken"],
                          region_name=self._settings.region),
            credentials["Expiration"],
        )
        self._sessions[account] = current
        return current

    def _active_member(self, account: str) -> bool:
        """Organizations' answer for `account`, cached; only ACTIVE accounts are members."""
        cached = self._members.get(account)
        if cached is not None and self._clock() < cached[1]:
            return cached[0]
        client = self._organizations or self._hub.organizations
        try:
            found = client.describe_account(AccountId=account)["Account"]
            state = found.get("State") or found.get("Status")
            member = state == ACTIVE
        except ClientError as exc:
            if error_code(exc) not in NOT_A_MEMBER_CODES or is_transient(exc):
                raise translate(exc, f"DescribeAccount {account}") from exc
            member = False
        except BotoCoreError as exc:
            raise translate(exc, f"DescribeAccount {account}") from exc
        self._members[account] = (member, self._clock() + self._organization_ttl)
        return member
