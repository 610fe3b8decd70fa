"""IAM reads: role facts, the attached-policy quota, the tool policy inventory, documents.

The engine plans from the grant store, never from these reads (IAM is eventually
consistent); they size a role's capacity, find drift, and let people and tests observe IAM.
Writes live in policy_writer.py.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import unquote

from botocore.exceptions import ClientError

from model_access.aws.translate import error_code, translated
from model_access.core.arns import Scope
from model_access.model.facts import RoleState, ToolPolicy
from model_access.model.owner import RoleFacts
from model_access.policy.naming import parse_policy_name, policy_arn
from model_access.policy.render import model_arns_in

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient

MANAGED_BY_KEY: Final = "managed-by"
MANAGED_BY_VALUE: Final = "model-access"
ROLE_TAG_KEY: Final = "model-access:role"
DEFAULT_ROLE_POLICY_QUOTA: Final = 10


@dataclass(frozen=True)
class InventoryRow:
    """One policy under the tool's path with a tool name, as ListPolicies shows it."""

    name: str
    arn: str
    role_name: str
    index: int
    policy_id: str
    default_version: str
    attachments: int


class IamGateway:
    """IAM reads (the only IAM writer is PolicyWriter)."""

    def __init__(
        self,
        client: IAMClient,
        scope: Scope,
        *,
        policy_path: str,
        name_prefix: str,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._iam = client
        self._scope = scope
        self._path = policy_path
        self._prefix = name_prefix
        self._sleep = sleep
        self._quota: int | None = None

    def policy_arn(self, name: str) -> str:
        return policy_arn(self._scope, self._path, name)

    def get_role(self, name: str) -> RoleFacts | None:
        """GetRole, or None when the role does not exist."""
        with translated(f"GetRole {name}"):
            try:
                role = self._iam.get_role(RoleName=name)["Role"]
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return None
                raise
        tags = {t["Key"]: t["Value"] for t in role.get("Tags", [])}
        return RoleFacts(role["RoleName"], role.get("Path", "/"), role["Arn"], tags)

    def attached_policy_quota(self) -> int:
        """The account's attached-policies-per-role quota (GetAccountSummary, read once)."""
        if self._quota is None:
            with translated("GetAccountSummary"):
                summary = self._iam.get_account_summary()["SummaryMap"]
            quota = summary.get("AttachedPoliciesPerRoleQuota", DEFAULT_ROLE_POLICY_QUOTA)
            self._quota = int(quota)
        return self._quota

    def read_role_state(self, role: RoleFacts, unattached: tuple[str, ...] = ()) -> RoleState:
        """List what is attached to the role and read each of our policies' current document.

        `unattached` names tool policies of this role that a sweep found detached: they are
        read too, so the plan re-attaches (or deletes) them.
        """
        attached: list[tuple[str, str]] = []
        with translated(f"ListAttachedRolePolicies {role.name}"):
            pages = self._iam.get_paginator("list_attached_role_policies")
            for page in pages.paginate(RoleName=role.name):
                attached += [(p["PolicyName"], p["PolicyArn"]) for p in page["AttachedPolicies"]]
        tool: dict[int, ToolPolicy] = {}
        reserved: set[int] = set()
        foreign = 0
        for name, arn in attached:
            policy = self._read_if_ours(role.name, name, arn, attached=True)
            if policy is None:
                foreign += 1
                lookalike = parse_policy_name(self._prefix, name)
                if lookalike is not None and lookalike.role_name.lower() == role.name.lower():
                    reserved.add(lookalike.index)
            else:
                tool[policy.index] = policy
        for name in unattached:
            if any(p.name == name for p in tool.values()):
                continue
            policy = self._read_if_ours(role.name, name, self.policy_arn(name), attached=False)
            if policy is not None:
                tool[policy.index] = policy
        return RoleState(role, self.attached_policy_quota(), foreign, tool, frozenset(reserved))

    def read_tool_policy(self, role_name: str, name: str, *, attached: bool) -> ToolPolicy | None:
        """Read one of our policies by name; None when absent or not ours."""
        return self._read_if_ours(role_name, name, self.policy_arn(name), attached=attached)

    def _read_if_ours(
        self, role_name: str, name: str, arn: str, *, attached: bool
    ) -> ToolPolicy | None:
        parsed = parse_policy_name(self._prefix, name)
        if parsed is None or parsed.role_name.lower() != role_name.lower():
            return None
        if arn != self.policy_arn(name):
            return None
        with translated(f"GetPolicy {name}"):
            try:
                policy = self._iam.get_policy(PolicyArn=arn)["Policy"]
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return None
                raise
        tags = {t["Key"]: t["Value"] for t in policy.get("Tags", [])}
        if tags.get(MANAGED_BY_KEY) != MANAGED_BY_VALUE:
            return None
        version = policy["DefaultVersionId"]
        with translated(f"GetPolicyVersion {name}"):
            raw = self._iam.get_policy_version(PolicyArn=arn, VersionId=version)
        document = decode_document(raw["PolicyVersion"].get("Document", {}))
        return ToolPolicy(name, arn, parsed.index, attached, version, document,
                          frozenset(model_arns_in(document)))

    def list_tool_policies(self) -> Iterator[InventoryRow]:
        """The one inventory: every policy under the tool's path with a tool name.

        One ListPolicies page holds 100 policies with their default version and attachment
        count, which is all the sweep needs to find drift against the grant store. Whether a
        row is really the tool's is the store's to say (the policy id it recorded).
        """
        with translated("ListPolicies"):
            pages = self._iam.get_paginator("list_policies")
            for page in pages.paginate(Scope="Local", PathPrefix=self._path):
                for p in page["Policies"]:
                    parsed = parse_policy_name(self._prefix, p["PolicyName"])
                    if parsed is not None and p.get("Path") in (None, self._path):
                        yield InventoryRow(p["PolicyName"], p["Arn"], parsed.role_name,
                                           parsed.index, p.get("PolicyId", ""),
                                           p.get("DefaultVersionId", ""),
                                           int(p.get("AttachmentCount", 0)))

    def role_attachments(self, role_name: str) -> tuple[set[str], set[int]]:
        """ARNs of every policy attached to the role, and slot numbers of look-alike names.

        Only used to size the role's capacity (attached-policy quota minus others' policies)
        when a new tool policy must be opened; never as the base of the role's grants.
        """
        arns: set[str] = set()
        lookalikes: set[int] = set()
        with translated(f"ListAttachedRolePolicies {role_name}"):
            try:
                for page in self._iam.get_paginator("list_attached_role_policies").paginate(
                        RoleName=role_name):
                    for p in page["AttachedPolicies"]:
                        arns.add(p["PolicyArn"])
                        parsed = parse_policy_name(self._prefix, p["PolicyName"])
                        if parsed and parsed.role_name.lower() == role_name.lower():
                            lookalikes.add(parsed.index)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise
        return arns, lookalikes

def decode_document(document: Any) -> dict[str, Any]:
    """IAM returns documents URL-encoded JSON text (boto3 decodes some, moto's need unquoting)."""
    if isinstance(document, dict):
        return document
    text = unquote(str(document))
    try:
        decoded = json.loads(text)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}
