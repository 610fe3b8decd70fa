"""Per-role leases in DynamoDB: two reconciles of one role never interleave.

A lease is a conditional PutItem that succeeds only when no unexpired lease exists; it
expires on its own (`expires_at`, also the table's TTL attribute) so a worker that dies
cannot wedge a role for longer than `lease_seconds`, which is set above the function
timeout. Roles are taken in sorted order, which rules out deadlock between two batches.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from model_access.aws.translate import error_code, translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

LEASE_PREFIX: Final = "lease#role#"


class RoleLeases:
    """Acquire and release role leases for one worker (one `owner` token)."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        lease_seconds: float,
        wait_seconds: float,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._db = client
        self._table = table
        self._ttl = lease_seconds
        self._wait = wait_seconds
        self._clock = clock
        self._sleep = sleep
        self.owner = uuid.uuid4().hex
        self._acquired_at: dict[str, float] = {}

    def acquire(self, roles: Iterable[str]) -> set[str]:
        """Take every lease we can within the wait budget; return the roles we now hold."""
        held: set[str] = set()
        deadline = self._clock() + self._wait
        for role in sorted({r.lower() for r in roles}):
            delay = 0.05
            while True:
                if self._try(role):
                    held.add(role)
                    break
                if self._clock() + delay > deadline:
                    break
                self._sleep(delay)
                delay = min(delay * 2, 1.0)
        return held

    def still_valid(self, role: str, margin: float = 5.0) -> bool:
        """Whether our lease on `role` has comfortably not expired (checked before writes)."""
        taken = self._acquired_at.get(role.lower())
        return taken is not None and self._clock() < taken + self._ttl - margin

    def release(self, roles: Iterable[str]) -> None:
        """Give leases back early; a lease someone else took over is left alone."""
        for role in sorted({r.lower() for r in roles}):
            self._acquired_at.pop(role, None)
            with translated(f"release lease {role}"):
                try:
                    self._db.delete_item(
                        TableName=self._table,
                        Key={"pk": {"S": LEASE_PREFIX + role}},
                        ConditionExpression="#o = :o",
                        ExpressionAttributeNames={"#o": "owner"},
                        ExpressionAttributeValues={":o": {"S": self.owner}},
                    )
                except ClientError as exc:
                    if error_code(exc) != "ConditionalCheckFailedException":
                        raise

    def _try(self, role: str) -> bool:
        now = self._clock()
        with translated(f"acquire lease {role}"):
            try:
                self._db.put_item(
                    TableName=self._table,
                    Item={
                        "pk": {"S": LEASE_PREFIX + role},
                        "owner": {"S": self.owner},
                        "expires_at": {"N": str(int(now + self._ttl))},
                    },
                    ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :o",
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(int(now))},
                        ":o": {"S": self.owner},
                    },
                )
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return False
                raise
        self._acquired_at[role] = now
        return True
