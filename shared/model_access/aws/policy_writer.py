"""IAM writes on tool policies: create, new default version, attach, detach, delete.

Rules IAM enforces but moto does not, handled here (and tested with a fault layer):
- policy names are unique per account across paths: CreatePolicy answers
  EntityAlreadyExists for a name taken at another path (GetPolicy at ours: NoSuchEntity);
- 1,500 customer managed policies per account by default: LimitExceeded on CreatePolicy
  becomes AccountPolicyQuotaError (a named outcome, never a retry storm);
- five versions per policy; DeleteConflict while a policy is attached anywhere (IAM may
  still see an attachment right after a detach); ConcurrentModification (retryable).
Every write of a tool policy leaves no version the tool did not write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, TypeVar

from botocore.exceptions import ClientError

from model_access.aws.iam import MANAGED_BY_KEY, MANAGED_BY_VALUE, ROLE_TAG_KEY, decode_document
from model_access.aws.translate import error_code, translated
from model_access.core.errors import AccountPolicyQuotaError, AwsTransientError, PolicyInUseError
from model_access.model.grants import document_hash
from model_access.policy.render import to_json

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient

IAM_MAX_VERSIONS: Final = 5
RETRY_DELAYS: Final = (0.2, 0.5, 1.0, 2.0)
"""Backoff for IAM's eventual consistency (NoSuchEntity right after CreatePolicy,
DeleteConflict right after a detach, LimitExceeded on a lagging version list)."""

T = TypeVar("T")


class PolicyExistsError(Exception):
    """CreatePolicy found the deterministic name taken (ours after a crash, or someone's)."""


@dataclass(frozen=True)
class CreatedPolicy:
    """What the tool records about a policy it created (or adopted as its own leftover)."""

    arn: str
    policy_id: str
    version_id: str


class PolicyWriter:
    """The only code that writes IAM."""

    def __init__(self, client: IAMClient, *, policy_path: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._iam = client
        self._path = policy_path
        self._sleep = sleep

    def create(self, role_name: str, name: str, document: dict[str, object]) -> CreatedPolicy:
        """CreatePolicy at the tool's path, tagged; PolicyExistsError when the name is taken."""
        with translated(f"CreatePolicy {name}"):
            try:
                result = self._iam.create_policy(
                    PolicyName=name, Path=self._path, PolicyDocument=to_json(document),
                    Description=f"model-access grants for role {role_name}"[:1000],
                    Tags=[{"Key": MANAGED_BY_KEY, "Value": MANAGED_BY_VALUE},
                          {"Key": ROLE_TAG_KEY, "Value": role_name}],
                )
            except ClientError as exc:
                if error_code(exc) == "EntityAlreadyExists":
                    raise PolicyExistsError(name) from exc
                if error_code(exc) == "LimitExceeded":
                    raise AccountPolicyQuotaError(
                        f"CreatePolicy {name}: the account's customer managed policy quota is "
                        "full (1,500 by default); ask for an increase or remove unused policies"
                    ) from exc
                raise
        policy = result["Policy"]
        return CreatedPolicy(policy["Arn"], policy["PolicyId"],
                             policy.get("DefaultVersionId", "v1"))

    def adopt(self, arn: str, intended: Sequence[str]) -> CreatedPolicy | None:
        """Our own leftover of a create that crashed, or None (someone else's: never ours).

        Ours only if it sits at our ARN (names are unique across paths), carries our tag,
        and has exactly one version whose document is one the tool recorded it was about to
        create. A pre-created policy can only pass by granting exactly what we would grant.
        """
        with translated(f"GetPolicy {arn}"):
            try:
                policy = self._iam.get_policy(PolicyArn=arn)["Policy"]
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return None  # the name is taken at another path
                raise
        tags = {t["Key"]: t["Value"] for t in policy.get("Tags", [])}
        if tags.get(MANAGED_BY_KEY) != MANAGED_BY_VALUE or not intended:
            return None
        with translated(f"ListPolicyVersions {arn}"):
            versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
        if len(versions) != 1:
            return None
        version = versions[0]["VersionId"]
        with translated(f"GetPolicyVersion {arn}"):
            raw = self._iam.get_policy_version(PolicyArn=arn, VersionId=version)
        document = decode_document(raw["PolicyVersion"].get("Document", {}))
        if document_hash(document) not in intended:
            return None
        return CreatedPolicy(arn, policy["PolicyId"], version)

    def put_version(self, arn: str, document: dict[str, object], ours: Sequence[str],
                    keep: int) -> tuple[str, tuple[str, ...]]:
        """Make `document` the default; delete every version the tool did not write and
        its own oldest beyond `keep`. Returns the new version id and the versions kept."""
        for delay in (*RETRY_DELAYS, None):
            with translated(f"ListPolicyVersions {arn}"):
                versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
            listed = sorted(versions, key=lambda v: v["CreateDate"])
            default = next((v["VersionId"] for v in listed if v["IsDefaultVersion"]), None)
            foreign = [v["VersionId"] for v in listed
                       if not v["IsDefaultVersion"] and v["VersionId"] not in ours]
            mine = [v["VersionId"] for v in listed
                    if not v["IsDefaultVersion"] and v["VersionId"] in ours]
            for version in foreign:
                self._delete_version(arn, version)
            # After the create: mine + old default + new; keep at most `keep` (IAM: 5).
            excess = len(mine) + 2 - min(keep, IAM_MAX_VERSIONS)
            pruned = mine[: max(excess, 0)]
            for version in pruned:
                self._delete_version(arn, version)
            with translated(f"CreatePolicyVersion {arn}"):
                try:
                    created = self._iam.create_policy_version(
                        PolicyArn=arn, PolicyDocument=to_json(document), SetAsDefault=True)
                except ClientError as exc:
                    if error_code(exc) != "LimitExceeded" or delay is None:
                        raise
                    self._sleep(delay)  # the version list lagged behind our last write
                    continue
            new = created["PolicyVersion"]["VersionId"]
            if default is not None and default not in ours:
                self._delete_version(arn, default)  # a tampered default never survives us
            # Remember every version we wrote and did not delete: a lagging list may have
            # left one out, and forgetting it would make it look foreign later.
            kept = [v for v in ours if v not in pruned]
            return new, tuple(dict.fromkeys([*kept, new]))[-IAM_MAX_VERSIONS:]
        raise AwsTransientError(f"CreatePolicyVersion {arn}: version limit")  # pragma: no cover

    def attach(self, role_name: str, arn: str) -> None:
        """AttachRolePolicy, retrying IAM's NoSuchEntity right after CreatePolicy."""
        self._retry(f"AttachRolePolicy {role_name}", {"NoSuchEntity"},
                    lambda: self._iam.attach_role_policy(RoleName=role_name, PolicyArn=arn))

    def detach(self, role_name: str, arn: str) -> None:
        """DetachRolePolicy; already detached (or role gone) counts as done."""
        with translated(f"DetachRolePolicy {role_name}"):
            try:
                self._iam.detach_role_policy(RoleName=role_name, PolicyArn=arn)
            except ClientError as exc:
                if error_code(exc) != "NoSuchEntity":
                    raise

    def delete(self, arn: str) -> None:
        """Delete one of our policies: detach it from roles, delete versions, then it.

        Attached to a user or group (not something the tool ever does) is reported as
        PolicyInUseError rather than retried forever; so is a DeleteConflict that outlasts
        IAM's usual lag after a detach.
        """
        roles: list[str] = []
        others = 0
        with translated(f"ListEntitiesForPolicy {arn}"):
            try:
                for page in self._iam.get_paginator("list_entities_for_policy").paginate(
                        PolicyArn=arn):
                    roles += [r["RoleName"] for r in page.get("PolicyRoles", [])]
                    others += len(page.get("PolicyUsers", [])) + len(page.get("PolicyGroups", []))
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return
                raise
        if others:
            raise PolicyInUseError(f"{arn} is attached to {others} user(s) or group(s); "
                                   "detach them, then the next sweep deletes it")
        for role in roles:
            self.detach(role, arn)
        with translated(f"ListPolicyVersions {arn}"):
            try:
                versions = self._iam.list_policy_versions(PolicyArn=arn)["Versions"]
            except ClientError as exc:
                if error_code(exc) == "NoSuchEntity":
                    return  # deleted already (a crash right after DeletePolicy)
                raise
        for version in versions:
            if not version["IsDefaultVersion"]:
                self._delete_version(arn, version["VersionId"])
        try:
            self._retry(f"DeletePolicy {arn}", {"DeleteConflict"},
                        lambda: self._delete_policy(arn))
        except AwsTransientError as exc:
            raise PolicyInUseError(f"{arn}: DeleteConflict persisted: {exc}") from exc

    def _delete_policy(self, arn: str) -> None:
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

    def _retry(self, what: str, codes: set[str], call: Callable[[], T]) -> T:
        for delay in (*RETRY_DELAYS, None):
            with translated(what):
                try:
                    return call()
                except ClientError as exc:
                    if error_code(exc) not in codes:
                        raise
                    if delay is None:
                        raise AwsTransientError(f"{what}: {error_code(exc)}") from exc
            self._sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover
