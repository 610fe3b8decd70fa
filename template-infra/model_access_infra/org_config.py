"""The organization keys of the stack config: what they must look like, and how they combine.

All are off by default (no organization, no OUs, no other region), so a stack that sets
none of them is the single-account, single-region stack it always was. `StackConfig`
calls these; they only read its fields.
"""

from __future__ import annotations

import re
from typing import Final, Protocol

from model_access.core.settings import ORGANIZATION_MEMBERS

DELEGATED_ADMIN: Final = "DELEGATED_ADMIN"
SELF: Final = "SELF"
_ORGANIZATION_ID = re.compile(r"^o-[a-z0-9]{10,32}$")
_TARGET_ID = re.compile(r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_ACCOUNT = re.compile(r"^\d{12}$")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/\S+$")


class OrganizationKeys(Protocol):
    """The fields of StackConfig read here."""

    @property
    def organization_id(self) -> str: ...
    @property
    def organizational_unit_ids(self) -> tuple[str, ...]: ...
    @property
    def member_regions(self) -> tuple[str, ...]: ...
    @property
    def member_accounts(self) -> tuple[str, ...]: ...
    @property
    def management_account_role_arn(self) -> str: ...
    @property
    def stack_set_call_as(self) -> str: ...
    @property
    def forward_regions(self) -> tuple[str, ...]: ...


def served_regions(config: OrganizationKeys) -> tuple[str, ...]:
    """Regions besides the home region whose events reach the hub (MODEL_ACCESS_REGIONS)."""
    return tuple(dict.fromkeys((*config.member_regions, *config.forward_regions)))


def _region_problems(key: str, regions: tuple[str, ...]) -> list[str]:
    found = [f"{key}: {r!r} is not a region name" for r in regions if not _REGION.match(r)]
    if len(set(regions)) != len(regions):
        found.append(f"{key}: a region is listed twice")
    return found


def _member_problems(config: OrganizationKeys) -> list[str]:
    members = config.member_accounts
    if members == (ORGANIZATION_MEMBERS,):
        return []
    found = [f"memberAccounts: {m!r} is neither a 12-digit account id nor "
             f"'{ORGANIZATION_MEMBERS}' (alone)" for m in members if not _ACCOUNT.match(m)]
    if len(set(members)) != len(members):
        found.append("memberAccounts: an account is listed twice")
    return found


def organization_problems(config: OrganizationKeys) -> list[str]:
    """Every problem with the organization keys, as sentences naming the key."""
    found = [*_region_problems("memberRegions", config.member_regions),
             *_region_problems("forwardRegions", config.forward_regions),
             *_member_problems(config)]
    organization = config.organization_id
    if organization and not _ORGANIZATION_ID.match(organization):
        found.append(f"organizationId: {organization!r} does not look like o-xxxxxxxxxx")
    found += [f"organizationalUnitIds: {t!r} is neither an OU id (ou-...) nor a root (r-...)"
              for t in config.organizational_unit_ids if not _TARGET_ID.match(t)]
    if config.stack_set_call_as not in (DELEGATED_ADMIN, SELF):
        found.append(f"stackSetCallAs: {DELEGATED_ADMIN} (the hub is a delegated "
                     f"administrator for StackSets) or {SELF} (the management account)")
    if config.management_account_role_arn and not _ROLE_ARN.match(
            config.management_account_role_arn):
        found.append("managementAccountRoleArn: not an IAM role ARN")
    needs_organization = {
        "organizationalUnitIds": bool(config.organizational_unit_ids),
        "memberAccounts": bool(config.member_accounts),
        "managementAccountRoleArn": bool(config.management_account_role_arn),
    }
    found += [f"{key}: needs organizationId" for key, used in needs_organization.items()
              if used and not organization]
    spokes = bool(config.organizational_unit_ids or config.management_account_role_arn)
    if spokes and not config.member_regions:
        found.append("memberRegions: the regions the spokes forward from (at least one) "
                     "must be set with organizationalUnitIds or managementAccountRoleArn")
    if spokes and not config.member_accounts:
        found.append("memberAccounts: spokes are deployed but no member is served, so every "
                     f"member's events would be refused; list the accounts or "
                     f"'{ORGANIZATION_MEMBERS}'")
    return found
