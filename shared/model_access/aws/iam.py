"""IAM adapter: read a role's tool policies, and apply planned changes to them.

Only policies that are under the tool's path, carry a tool name *and* the `managed-by` tag
are treated as ours; everything else attached to a role is counted against its quota and
never touched.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Final, TypeVar
from urllib.parse import unquote

from botocore.exceptions import ClientError

from model_access.arns import Scope
from model_access.aws.translate import error_code, translated
from model_access.naming import parse_policy_name, policy_arn
from model_access.owner import RoleFacts
from model_access.policy import model_arns_in, to_json
from model_access.state import RoleState, ToolPolicy

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient

MANAGED_BY_KEY: Final = "managed-by"
MANAGED_BY_VALUE: Final = "model-access"
ROLE_TAG_KEY: Final = "model-access:role"
DEFAULT_ROLE_POLICY_QUOTA: Final = 10
NO_SUCH_ENTITY_DELAYS: Final = (0.2, 0.5, 1.0, 2.0)
"""Backoff for IAM's eventual consistency (a policy just created may not be attachable yet)."""

T = TypeVar("T")


class PolicyExistsError(Exception):
    """CreatePolicy found the deterministic name taken (a leftover of a crash or a detach)."""


class IamGateway:
    """The only code that talks to IAM."""

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
        document = _decode_document(raw["PolicyVersion"].get("Document", {}))
        return ToolPolicy(name, arn, parsed.index, attached, version, document,
                          frozenset(model_arns_in(document)))

    def list_tool_policies(self) -> Iterator[tuple[str, str, int]]:
        """(name, arn, attachment count) of every policy under the tool's path."""
        with translated("ListPolicies"):
            pages = self._iam.get_paginator("list_policies")
            for page in pages.paginate(Scope="Local", PathPrefix=self._path):
                for p in page["Policies"]:
                    if parse_policy_name(self._prefix, p["PolicyName"]) is not None:
                        yield p["PolicyName"], p["Arn"], int(p.get("AttachmentCount", 0))

    # --- writes -------------------------------------------------------------------------

    def create_policy(self, role_name: str, name: str, document: dict[str, Any]) -> str:
        """Create one of our policies; PolicyExistsError when the name is taken."""
        with translated(f"CreatePolicy {name}"):
            try:
                result = self._iam.create_policy(
                    PolicyName=name,
                    Path=self._path,
                    PolicyDocument=to_json(document),
                    Description=f"model-access grants for role {role_name}"[:1000],
                    Tags=[
                        {"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE},
                        {"Key": ROLE_TAG_KEY, "Value": role_name},
                    ],
                )
            except ClientError as exc:
                if error_code(exc) == "EntityAlreadyExists":
                    raise PolicyExistsError(name) from exc
                raise
        return result["Policy"]["Arn"]

    def put_version(self, arn: str, document: dict[str, Any], keep_versions: int) -> None:
        """Make `document` the default version, pruning the oldest so at most `keep` remain."""
        with translated(f"ListPolicyVersions {arn}"):
            versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
        old = sorted(
            (v for v in versions if not v["IsDefaultVersion"]), key=lambda v: v["CreateDate"]
        )
        excess = len(versions) + 1 - keep_versions
        for version in old[: max(excess, 0)]:
            self._delete_version(arn, version["VersionId"])
        with translated(f"CreatePolicyVersion {arn}"):
            self._iam.create_policy_version(
                PolicyArn=arn, PolicyDocument=to_json(document), SetAsDefault=True
            )

    def attach(self, role_name: str, arn: str) -> None:
        """AttachRolePolicy, retrying IAM's NoSuchEntity right after CreatePolicy."""
        self._retry_no_such_entity(
            f"AttachRolePolicy {role_name}",
            lambda: self._iam.attach_role_policy(RoleName=role_name, PolicyArn=arn),
        )

    def detach(self, role_name: str, arn: str) -> None:
        """DetachRolePolicy; already detached (or role gone) counts as done."""
        with translated(f"DetachRolePolicy {role_name}"):
            try:
                self._iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def delete_policy(self, arn: str) -> None:
        """Delete one of our policies: detach leftovers, delete versions, then the policy."""
        with translated(f"ListEntitiesForPolicy {arn}"):
            try:
                entities = self._iam.list_entities_for_policy(PolicyArn=arn)
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return
                raise
        for role in entities.get("PolicyRoles", []):
            self.detach(role["RoleName"], arn)
        with translated(f"ListPolicyVersions {arn}"):
            versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
        for version in versions:
            if not version["IsDefaultVersion"]:
                self._delete_version(arn, version["VersionId"])
        with translated(f"DeletePolicy {arn}"):
            try:
                self._iam.delete_policy(PolicyArn=arn)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def _delete_version(self, arn: str, version_id: str) -> None:
        with translated(f"DeletePolicyVersion {arn} {version_id}"):
            try:
                self._iam.delete_policy_version(PolicyArn=arn, VersionId=version_id)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def _retry_no_such_entity(self, what: str, call: Callable[[], T]) -> T:
        for delay in (*NO_SUCH_ENTITY_DELAYS, None):
            with translated(what):
                try:
                    return call()
                except ClientError as exc:
                    if error_code(exc) != "NoSuchEntity" or delay is None:
                        raise
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _decode_document(document: Any) -> dict[str, Any]:
    """IAM returns documents URL-encoded JSON text (boto3 decodes some, moto's need unquoting)."""
    if isinstance(document, dict):
        return document
    text = unquote(str(document))
    try:
        decoded = json.loads(text)
    except ValueError:
        return {}
    return decoded if isinstance(decoded, dict) else {}
