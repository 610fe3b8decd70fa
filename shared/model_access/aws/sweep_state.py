"""DynamoDB adapter for a sweep's progress: which run, which slice, how far, how fast.

A sweep runs as a chain of Lambda invocations (slices). Each slice first *claims* the run
(a conditional write: only one invocation works on a run at a time), resumes from the
persisted cursor, saves the cursor after every chunk, and finally *advances* the run to the
next slice before invoking its continuation. A retried invocation (Lambda's async retries,
or the schedule's) claims the same run again and resumes where the last chunk ended; it
never forks a second chain, because a claim fails while another invocation holds the run.

Each account of a run has its own state under its namespace (`records.account_namespace`:
`acct#<id>#sweep#<run>`; the hub's own stays `sweep#<run>`), so cursors, measured costs and
claims are per account while the run id is shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from model_access.aws.translate import error_code, translated

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SWEEP_PREFIX: Final = "sweep#"
KEEP_SECONDS: Final = 14 * 24 * 3600
"""A finished run's record expires (table TTL) after two weeks."""
_SER = TypeSerializer()
_DESER = TypeDeserializer()


@dataclass(frozen=True)
class SweepState:
    """One run's persisted progress."""

    run_id: str
    slice: int = 0
    cursor: str = ""
    seconds_per_model: float = 0.0
    status: str = "running"
    counts: Mapping[str, int] = field(default_factory=dict)
    seen: int = 0


class SweepStates:
    """Claim, save and advance sweep runs."""

    def __init__(self, client: DynamoDBClient, table: str, *, lease_seconds: float,
                 clock: Callable[[], float] = time.time, namespace: str = "") -> None:
        self._db = client
        self._table = table
        self._lease = lease_seconds
        self._clock = clock
        self._prefix = namespace + SWEEP_PREFIX

    def _key(self, run_id: str) -> dict[str, Any]:
        return {"pk": {"S": self._prefix + run_id}}

    def get(self, run_id: str) -> SweepState | None:
        with translated("GetItem sweep"):
            item = self._db.get_item(TableName=self._table, Key=self._key(run_id),
                                     ConsistentRead=True).get("Item")
        return _from_item(item, run_id) if item else None

    def claim(self, run_id: str, owner: str) -> SweepState | None:
        """Take the run for this invocation (created when new); None if another holds it
        or it is finished."""
        now = self._clock()
        with translated("UpdateItem sweep claim"):
            try:
                answer = self._db.update_item(
                    TableName=self._table, Key=self._key(run_id),
                    UpdateExpression="SET lease_owner = :me, lease_until = :until, "
                                     "#s = if_not_exists(#s, :running), "
                                     "slice_no = if_not_exists(slice_no, :zero), "
                                     "expires_at = :keep",
                    ConditionExpression="attribute_not_exists(pk) OR (#s = :running AND "
                                        "(attribute_not_exists(lease_until) OR "
                                        "lease_until < :now OR lease_owner = :me))",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":me": {"S": owner}, ":until": {"N": str(int(now + self._lease))},
                        ":running": {"S": "running"}, ":zero": {"N": "0"},
                        ":now": {"N": str(int(now))},
                        ":keep": {"N": str(int(now + KEEP_SECONDS))}},
                    ReturnValues="ALL_NEW")
            except ClientError as exc:
                if error_code(exc) == "ConditionalCheckFailedException":
                    return None
                raise
        return _from_item(answer["Attributes"], run_id)

    def save(self, state: SweepState, owner: str, *, advance: bool = False,
             done: bool = False) -> None:
        """Persist progress (still holding the run), or hand it on (`advance`/`done`)."""
        values: dict[str, Any] = {
            ":me": owner, ":cursor": state.cursor, ":spm": str(state.seconds_per_model),
            ":counts": dict(state.counts), ":seen": state.seen,
            ":slice": state.slice + (1 if advance else 0),
            ":status": "done" if done else "running"}
        update = ("SET #c = :cursor, seconds_per_model = :spm, counts = :counts, seen = :seen, "
                  "slice_no = :slice, #s = :status")
        if advance or done:
            update += " REMOVE lease_owner, lease_until"
        with translated("UpdateItem sweep progress"):
            self._db.update_item(
                TableName=self._table, Key=self._key(state.run_id), UpdateExpression=update,
                ConditionExpression="lease_owner = :me",
                ExpressionAttributeNames={"#c": "cursor", "#s": "status"},
                ExpressionAttributeValues={k: _SER.serialize(v) for k, v in values.items()})


    def release(self, run_id: str, owner: str) -> None:
        """Give the run up without touching its progress (a failed slice: a retry of it
        claims the run at once and resumes from the last saved cursor)."""
        with translated("UpdateItem sweep release"):
            try:
                self._db.update_item(
                    TableName=self._table, Key=self._key(run_id),
                    UpdateExpression="REMOVE lease_owner, lease_until",
                    ConditionExpression="lease_owner = :me",
                    ExpressionAttributeValues={":me": {"S": owner}})
            except ClientError as exc:
                if error_code(exc) != "ConditionalCheckFailedException":
                    raise


def _from_item(raw: Mapping[str, Any], run_id: str) -> SweepState:
    item = {k: _DESER.deserialize(v) for k, v in raw.items()}
    return SweepState(
        run_id=run_id,
        slice=int(item.get("slice_no", 0)),
        cursor=str(item.get("cursor", "")),
        seconds_per_model=float(item.get("seconds_per_model", 0) or 0),
        status=str(item.get("status", "running")),
        counts={str(k): int(v) for k, v in dict(item.get("counts") or {}).items()},
        seen=int(item.get("seen", 0)),
    )
