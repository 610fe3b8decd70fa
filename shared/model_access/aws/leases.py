"""Per-role leases in DynamoDB: two reconciles of one role never interleave.

A lease is a conditional PutItem that succeeds only when no unexpired lease exists; it
expires on its own (`expires_at`, also the table's TTL attribute) so a worker that dies
cannot wedge a role for longer than `lease_seconds`, which is set above the function
timeout. Roles are taken in sorted order, which rules out deadlock between two batches.

Fencing: before every IAM write the applier calls `ensure(role, seconds)`, which renews the
lease (conditionally: only while it is still ours) unless it has at least that long left;
the final commit carries `fence_checks` so nothing is recorded after the lease was lost.
The final commit may also give the leases back itself (the same conditions as deletes, see
GrantStore.commit), which saves one DeleteItem per role group; `handed_back` then tells
this worker that those leases are gone.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from model_access.aws.store import TRANSACTION_ITEMS
from model_access.aws.translate import error_code, translated
from model_access.core.errors import LeaseLostError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LEASE_PREFIX: Final = "lease#role#"
_TAKE: Final = "attribute_not_exists(pk) OR expires_at < :now OR #o = :o"
_RENEW: Final = "#o = :o AND expires_at >= :now"
CLOCK_SKEW_SECONDS: Final = 2.0
"""Allowance for clock differences between workers when judging our own lease."""


class RoleLeases:
    """Acquire, renew and release role leases for one worker (one `owner` token)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        lease_seconds: float,
        wait_seconds: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        namespace: str = "",
    ) -> None:
        self._db = client
        self._prefix = namespace + LEASE_PREFIX
        """Leases of another account's roles live under its namespace (`account_namespace`):
        one writer per (account, role), whichever region the event came from."""
        self._table = table
        self._ttl = lease_seconds
        self.wait_seconds = wait_seconds
        self._clock = clock
        self._sleep = sleep
        self.owner = uuid.uuid4().hex
        self._acquired_at: dict[str, float] = {}

    def acquire(self, roles: Iterable[str], wait: float | None = None) -> frozenset[str]:
        """Take every lease we can, waiting at most `wait` seconds in all; return those held."""
        wanted = sorted({r.lower() for r in roles})
        if 1 < len(wanted) <= TRANSACTION_ITEMS and self._try_all(wanted):
            return frozenset(wanted)
        held: set[str] = set()
        deadline = self._clock() + (self.wait_seconds if wait is None else max(wait, 0.0))
        for role in wanted:
            delay = 0.05
            while True:
                if self._try(role):
                    held.add(role)
                    break
                if self._clock() + delay > deadline:
                    break
                self._sleep(delay)
                delay = min(delay * 2, 1.0)
        return frozenset(held)

    def remaining(self, role: str) -> float:
        """Seconds our lease on `role` surely has left (0 when not held)."""
        taken = self._acquired_at.get(role.lower())
        if taken is None:
            return 0.0
        return max(0.0, taken + self._ttl - CLOCK_SKEW_SECONDS - self._clock())

    def ensure(self, role: str, seconds: float) -> None:
        """Make sure the lease outlives the next `seconds` (renewing it), or LeaseLostError."""
        if self.remaining(role) > seconds:
            return
        if role.lower() not in self._acquired_at or not self._renew(role.lower()):
            self._acquired_at.pop(role.lower(), None)
            raise LeaseLostError(f"lease on role {role} was lost before an IAM write")

    def fence_checks(self, roles: Iterable[str]) -> list[dict[str, Any]]:
        """Condition checks proving we still hold each lease, for a commit's transaction."""
        now = str(int(self._clock()))
        return [{
            "TableName": self._table,
            "Key": {"pk": {"S": self._prefix + role}},
            "ConditionExpression": "#o = :o AND expires_at >= :now",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": self.owner}, ":now": {"N": now}},
        } for role in sorted({r.lower() for r in roles})]

    def handed_back(self, roles: Iterable[str]) -> None:
        """Forget leases a committed transaction deleted (their fence checks as deletes)."""
        for role in roles:
            self._acquired_at.pop(role.lower(), None)

    def release(self, roles: Iterable[str]) -> None:
        """Give back the leases we still hold; one lost or handed back is left alone."""
        ours = sorted({r.lower() for r in roles} & set(self._acquired_at))
        if 1 < len(ours) <= TRANSACTION_ITEMS and self._release_all(ours):
            return
        for role in ours:
            del self._acquired_at[role]
            with translated(f"release lease {role}"):
                try:
                    self._db.delete_item(**self._lease_delete(role))
                except ClientError as exc:
                    if error_code(exc) != "ConditionalCheckFailedException":
                        raise

    def _release_all(self, roles: list[str]) -> bool:
        """Delete every lease in one transaction; if one was lost meanwhile (cancelled),
        the caller deletes them one by one."""
        with translated("release leases"):
            try:
                self._db.transact_write_items(TransactItems=[
                    {"Delete": self._lease_delete(role)}  # type: ignore[typeddict-item]
                    for role in roles])
            except ClientError as exc:
                if error_code(exc) == "TransactionCanceledException":
                    return False
                raise
        self.handed_back(roles)
        return True

    def _try_all(self, roles: list[str]) -> bool:
        """Every lease in one transaction (all or none): a wave of free roles costs one call;
        any busy role cancels it and the roles are then taken one by one."""
        now = self._clock()
        with translated("lease roles"):
            try:
                self._db.transact_write_items(TransactItems=[
                    {"Put": self._lease_put(role, _TAKE, now)}  # type: ignore[typeddict-item]
                    for role in roles])
            except ClientError as exc:
                if error_code(exc) == "TransactionCanceledException":
                    return False
                raise
        self._acquired_at.update(dict.fromkeys(roles, now))
        return True

    def _try(self, role: str) -> bool:
        return self._put(role, _TAKE)

    def _renew(self, role: str) -> bool:
        return self._put(role, _RENEW)

    def _lease_put(self, role: str, condition: str, now: float) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": {
                "pk": {"S": self._prefix + role},
                "owner": {"S": self.owner},
                "expires_at": {"N": str(int(now + self._ttl))},
            },
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {
                ":now": {"N": str(int(now))},
                ":o": {"S": self.owner},
            },
        }

    def _lease_delete(self, role: str) -> dict[str, Any]:
        """Delete our lease on `role`, only while it is still ours."""
        return {
            "TableName": self._table,
            "Key": {"pk": {"S": self._prefix + role}},
            "ConditionExpression": "#o = :o",
            "ExpressionAttributeNames": {"#o": "owner"},
            "ExpressionAttributeValues": {":o": {"S": self.owner}},
        }

    def _put(self, role: str, condition: str) -> bool:
        now = self._clock()
        with translated(f"lease {role}"):
            try:
                self._db.put_item(**self._lease_put(role, condition, now))
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        self._acquired_at[role] = now
        return True
