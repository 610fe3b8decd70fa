"""DynamoDB adapter for the grant store's role records, and the one transactional commit.

A role record (`pk = role#<lower-cased role name>`) holds what the role must have (model ARNs
per tool policy slot) and what the tool last wrote to IAM (policy id, default version,
document hash, attachment). It is read with consistent reads under the role's lease, and
written in the same transaction as the model records it changed, together with a condition
check on each lease: a worker whose lease was taken over cannot commit (fencing).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from model_access.aws.records import GrantRecord, attribute, batch_get, namespaced, record_pk
from model_access.aws.translate import error_code, translated
from model_access.core.arns import ResourceKey
from model_access.core.errors import AwsTransientError, ConcurrentUpdateError, LeaseLostError
from model_access.model.grants import RoleGrants, WrittenPolicy

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ROLE_PREFIX: Final = "role#"
TRANSACTION_ITEMS: Final = 100
"""DynamoDB's limit of actions per TransactWriteItems."""
_DESER = TypeDeserializer()


def role_pk(role: str) -> str:
    return ROLE_PREFIX + role.lower()


def role_to_item(grants: RoleGrants) -> dict[str, Any]:
    policies = {
        str(i): {k: v for k, v in {
            "name": p.name, "arn": p.arn, "policy_id": p.policy_id, "version_id": p.version_id,
            "hash": p.document_hash, "attached": p.attached, "versions": list(p.versions),
            "intended": list(p.intended),
        }.items() if v is not None}
        for i, p in grants.policies.items()
    }
    item: dict[str, Any] = {
        "pk": role_pk(grants.role_name),
        "role_name": grants.role_name,
        "version": grants.version,
        "slots": {str(i): set(arns) for i, arns in grants.slots.items() if arns},  # SS
        "policies": policies,
        "reserved": sorted(grants.reserved),
    }
    if grants.updated_at:
        item["updated_at"] = grants.updated_at
    return {k: attribute(v) for k, v in item.items()}


def role_from_item(raw: Mapping[str, Any]) -> RoleGrants:
    item = {k: _DESER.deserialize(v) for k, v in raw.items()}
    policies: dict[int, WrittenPolicy] = {}
    for index, p in dict(item.get("policies") or {}).items():
        policies[int(index)] = WrittenPolicy(
            index=int(index), name=str(p["name"]), arn=str(p["arn"]),
            policy_id=str(p["policy_id"]) if p.get("policy_id") else None,
            version_id=str(p["version_id"]) if p.get("version_id") else None,
            document_hash=str(p["hash"]) if p.get("hash") else None,
            attached=bool(p.get("attached", False)),
            versions=tuple(str(v) for v in p.get("versions", [])),
            intended=tuple(str(h) for h in p.get("intended", [])),
        )
    return RoleGrants(
        role_name=str(item["role_name"]),
        version=int(item.get("version", 0)),
        slots={int(i): frozenset(str(a) for a in arns)
               for i, arns in dict(item.get("slots") or {}).items() if arns},
        policies=policies,
        reserved=frozenset(int(i) for i in item.get("reserved", [])),
        updated_at=str(item["updated_at"]) if item.get("updated_at") else None,
    )


class GrantStore:
    """Consistent reads of model and role records, and their all-or-nothing commit."""

    def __init__(self, client: DynamoDBClient, table: str, *, namespace: str = "") -> None:
        self._db = client
        self._table = table
        self.namespace = namespace
        """Another account's records live under its prefix (`records.account_namespace`)."""

    def read(
        self, keys: Iterable[ResourceKey], roles: Iterable[str], *, consistent: bool = True
    ) -> tuple[dict[ResourceKey, GrantRecord], dict[str, RoleGrants]]:
        """Model records (blank when absent) and role records (empty when absent), batched."""
        ns = self.namespace
        key_of = {ns + record_pk(k): k for k in keys}
        role_of = {ns + role_pk(r): r for r in roles}
        records = {k: GrantRecord(k) for k in key_of.values()}
        grants = {r.lower(): RoleGrants(r) for r in role_of.values()}
        for raw in batch_get(self._db, self._table, sorted(set(key_of) | set(role_of)),
                             consistent):
            pk = raw["pk"]["S"][len(ns):]
            if pk.startswith(ROLE_PREFIX):
                role = role_from_item(raw)
                grants[role.key] = role
            else:
                record = GrantRecord.from_item(raw)
                records[record.key] = record
        return records, grants

    def scan_roles(self) -> Iterator[RoleGrants]:
        """Every role record, page by page (the sweep and verify read them all)."""
        with translated("Scan roles"):
            pages = self._db.get_paginator("scan").paginate(
                TableName=self._table, FilterExpression="begins_with(pk, :p)",
                ExpressionAttributeValues={":p": {"S": self.namespace + ROLE_PREFIX}},
                ConsistentRead=True)
            for page in pages:
                for item in page.get("Items", []):
                    yield role_from_item(item)

    def delete_role(self, grants: RoleGrants) -> None:
        """Forget a role's record (uninstall): unconditional, the policies are gone."""
        with translated("DeleteItem role"):
            self._db.delete_item(TableName=self._table,
                                 Key={"pk": {"S": self.namespace + role_pk(grants.role_name)}})

    def commit(
        self,
        records: Sequence[GrantRecord],
        roles: Sequence[RoleGrants],
        fence: Sequence[dict[str, Any]] = (),
        *,
        release: bool = False,
    ) -> set[ResourceKey]:
        """Write records and role records, each only if its stored version is one less.

        `fence` (lease condition checks) rides in every transaction: if a lease was lost the
        commit fails with LeaseLostError and nothing is written. With `release`, the last
        transaction deletes those leases under the same conditions instead of only checking
        them (the caller's last write: the leases are given back with it, one call saved).
        Returns the model keys whose version condition failed; a role record conflict raises
        ConcurrentUpdateError.
        """
        items: list[tuple[str, dict[str, Any], ResourceKey | str]] = []
        ns = self.namespace
        items += [("Put", _conditional_put(self._table, namespaced(r.to_item(), ns), r.version),
                   r.key) for r in records]
        for role in roles:
            if role.empty:
                items.append(("Delete", _conditional_delete(self._table, role, ns), role.key))
            else:
                items.append(("Put", _conditional_put(
                    self._table, namespaced(role_to_item(role), ns), role.version), role.key))
        if not items:
            return set()
        room = TRANSACTION_ITEMS - len(fence)
        conflicts: set[ResourceKey] = set()
        for start in range(0, len(items), room):
            last = start + room >= len(items)
            guard = "Delete" if release and last and fence else "ConditionCheck"
            conflicts |= self._transact(items[start : start + room], fence, guard)
        return conflicts

    def _transact(
        self, chunk: list[tuple[str, dict[str, Any], ResourceKey | str]],
        fence: Sequence[dict[str, Any]], guard: str = "ConditionCheck",
    ) -> set[ResourceKey]:
        actions: list[Any] = [{kind: body} for kind, body, _ in chunk]
        actions += [{guard: check} for check in fence]
        with translated("TransactWriteItems"):
            try:
                self._db.transact_write_items(TransactItems=actions)
                return set()
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise
                reasons = exc.response.get("CancellationReasons") or []
        failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
        if not reasons or any(r.get("Code") not in {"None", "ConditionalCheckFailed"}
                              for r in reasons):
            raise AwsTransientError(f"TransactWriteItems cancelled: {reasons}")
        if any(i >= len(chunk) for i in failed):
            raise LeaseLostError("a lease was taken over before the commit; nothing written")
        if any(isinstance(chunk[i][2], str) for i in failed):
            raise ConcurrentUpdateError("a role record changed under its lease")
        # Retry the rest without the conflicting records: a transaction is all or nothing.
        # Leases to give back are given back even when no record is left to write.
        conflicts = {key for i in failed if isinstance(key := chunk[i][2], ResourceKey)}
        rest = [item for i, item in enumerate(chunk) if i not in failed]
        retry = bool(rest) or guard == "Delete"
        return conflicts | (self._transact(rest, fence, guard) if retry else set())


def _conditional_put(table: str, item: dict[str, Any], version: int) -> dict[str, Any]:
    previous = version - 1
    condition = "version = :v"
    if previous <= 0:
        condition = "attribute_not_exists(pk) OR " + condition
    return {"TableName": table, "Item": item, "ConditionExpression": condition,
            "ExpressionAttributeValues": {":v": {"N": str(max(previous, 0))}}}


def _conditional_delete(table: str, role: RoleGrants, namespace: str) -> dict[str, Any]:
    return {"TableName": table, "Key": {"pk": {"S": namespace + role_pk(role.role_name)}},
            "ConditionExpression": "attribute_not_exists(pk) OR version = :v",
            "ExpressionAttributeValues": {":v": {"N": str(max(role.version - 1, 0))}}}
