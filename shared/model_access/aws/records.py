"""DynamoDB adapter for the grant record: model -> role, policy, when, why; plus its history.

One item per model (`pk = model#<region>#<lower-cased name>`), found from a DeleteModel
event's bare name without rebuilding an ARN. `pending` lists every role that may hold the
model's grant; it is written *before* IAM changes, so after a crash the record still
names every role to clean up. `version` makes each write conditional on what we read.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from model_access.aws.translate import translated
from model_access.core.arns import ResourceKey
from model_access.core.errors import AwsTransientError
from model_access.model.kinds import KINDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

ROLE_INDEX: Final = "by-role"
HISTORY_LIMIT: Final = 10
_SER = TypeSerializer()
_DESER = TypeDeserializer()


def attribute(value: Any) -> dict[str, Any]:
    """The DynamoDB wire form of the plain values records hold, exactly as TypeSerializer
    writes it, without its type probing per value (a burst writes tens of thousands)."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int):
        return {"N": str(value)}
    if isinstance(value, list):
        return {"L": [attribute(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"M": {k: attribute(v) for k, v in value.items()}}
    if isinstance(value, set | frozenset) and value and all(isinstance(v, str) for v in value):
        return {"SS": list(value)}
    return dict(_SER.serialize(value))  # anything else (every error too) as boto3 has it


def _history_entry(raw: Any) -> dict[str, str]:
    """A history entry as stored: a compact JSON string, or a map (records written before)."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {"entry": raw}
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def record_pk(key: ResourceKey) -> str:
    """`<kind>#<region>#<lower-cased name>`: `model#...` for models, as before kinds existed."""
    return f"{key.kind}#{key.region}#{key.name_lower}"


def key_of_pk(pk: str) -> ResourceKey:
    """The key a record's pk names, whatever account namespace it is under (names and
    regions hold no `#`)."""
    kind, region, name = pk.rsplit("#", 2)[-3:]
    return ResourceKey(region, name, kind.rsplit("#", 1)[-1])


def account_namespace(account: str | None, hub_account: str | None) -> str:
    """The key prefix of an account's items in the hub's table: none for the hub's own
    account (its keys are what they were before organizations), `acct#<id>#` for a member."""
    if not account or account == hub_account:
        return ""
    return f"acct#{account}#"


def namespaced(item: dict[str, Any], namespace: str) -> dict[str, Any]:
    """A serialized item with its `pk` moved into `namespace`."""
    if not namespace:
        return item
    return {**item, "pk": {"S": namespace + item["pk"]["S"]}}


def _resource_filter(namespace: str = "") -> tuple[str, dict[str, Any]]:
    """A scan filter for one namespace's resource records of every kind (leases, roles,
    sweeps and other accounts' items skipped)."""
    clauses = [f"begins_with(pk, :k{i})" for i in range(len(KINDS))]
    values = {f":k{i}": {"S": namespace + kind.record_prefix()} for i, kind in enumerate(KINDS)}
    return "(" + " OR ".join(clauses) + ")", values


@dataclass(frozen=True)
class GrantRecord:
    """What the tool last decided for one model, and which roles may hold its grant."""

    key: ResourceKey
    version: int = 0
    model_arn: str | None = None
    role: str | None = None
    pending: frozenset[str] = frozenset()
    policy: str | None = None
    status: str = "none"
    outcome: str | None = None
    reason: str | None = None
    model_created: str | None = None
    granted_at: str | None = None
    updated_at: str | None = None
    event_id: str | None = None
    trigger: str | None = None
    history: tuple[Mapping[str, str], ...] = field(default=(), compare=False)

    @property
    def holders(self) -> frozenset[str]:
        """Every role that may currently hold this model's grant."""
        return self.pending | ({self.role} if self.role else set())

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {  # region, name and kind are read back from the pk
            "pk": record_pk(self.key),
            "version": self.version,
            "status": self.status,
        }
        optional = {
            "model_arn": self.model_arn, "role": self.role, "policy": self.policy,
            "outcome": self.outcome, "reason": self.reason, "model_created": self.model_created,
            "granted_at": self.granted_at, "updated_at": self.updated_at,
            "event_id": self.event_id, "trigger": self.trigger,
        }
        item.update({k: v for k, v in optional.items() if v})
        if self.pending:
            item["pending"] = set(self.pending)
        if self.history:  # one string per entry: a map of four costs six attributes
            item["history"] = [json.dumps(dict(h), separators=(",", ":"))
                               for h in self.history[-HISTORY_LIMIT:]]
        return {k: attribute(v) for k, v in item.items()}

    @classmethod
    def from_item(cls, raw: Mapping[str, Any]) -> GrantRecord:
        item = {k: _DESER.deserialize(v) for k, v in raw.items()}
        if "region" in item:  # written before the key parts were left to the pk
            key = ResourceKey(str(item["region"]), str(item["name_lower"]),
                              str(item.get("kind") or "model"))
        else:
            key = key_of_pk(str(item["pk"]))
        text = {k: (str(item[k]) if item.get(k) is not None else None) for k in (
            "model_arn", "role", "policy", "outcome", "reason", "model_created", "granted_at",
            "updated_at", "event_id", "trigger")}
        return cls(
            key=key,
            version=int(item.get("version", 0)),
            pending=frozenset(str(p) for p in item.get("pending", set())),
            status=str(item.get("status", "none")),
            history=tuple(_history_entry(h) for h in item.get("history", [])),
            **text,
        )

    def advanced(self, **changes: Any) -> GrantRecord:
        """A copy with `changes` and the next version number."""
        return replace(self, version=self.version + 1, **changes)


class GrantRecords:
    """Reads and conditional writes of grant records."""

    def __init__(self, client: DynamoDBClient, table: str, *, now: Any = time.time,
                 namespace: str = "") -> None:
        self._db = client
        self._table = table
        self._now = now
        self.namespace = namespace

    def get_many(self, keys: Iterable[ResourceKey], *, consistent: bool = True) -> dict[
        ResourceKey, GrantRecord
    ]:
        """Current records (a blank one, version 0, for a model never seen)."""
        wanted = {self.namespace + record_pk(k): k for k in keys}
        found: dict[ResourceKey, GrantRecord] = {k: GrantRecord(k) for k in wanted.values()}
        for raw in batch_get(self._db, self._table, sorted(wanted), consistent):
            record = GrantRecord.from_item(raw)
            found[record.key] = record
        return found

    def by_role(self, role: str) -> list[GrantRecord]:
        """Every record whose grant is held by `role` (the sparse `by-role` index)."""
        out: list[GrantRecord] = []
        kinds, values = _resource_filter(self.namespace)
        with translated("Query by-role"):
            pages = self._db.get_paginator("query").paginate(
                TableName=self._table,
                IndexName=ROLE_INDEX,
                KeyConditionExpression="#r = :r",
                FilterExpression=kinds,  # the same role name in another account is not this
                ExpressionAttributeNames={"#r": "role"},
                ExpressionAttributeValues={":r": {"S": role}, **values},
            )
            for page in pages:
                out += [GrantRecord.from_item(i) for i in page.get("Items", [])]
        return out

    def scan_held(self) -> Iterator[GrantRecord]:
        """Every resource record naming a role that may hold its grant (the sweep's to-do)."""
        kinds, values = _resource_filter(self.namespace)
        with translated("Scan held"):
            pages = self._db.get_paginator("scan").paginate(
                TableName=self._table,
                FilterExpression=f"{kinds} AND "
                                 "(attribute_exists(#r) OR attribute_exists(pending))",
                ExpressionAttributeNames={"#r": "role"},
                ExpressionAttributeValues=values,
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield GrantRecord.from_item(item)

    def scan(self) -> Iterator[GrantRecord]:
        """Every resource record (leases, roles, sweeps skipped), page by page."""
        kinds, values = _resource_filter(self.namespace)
        with translated("Scan"):
            pages = self._db.get_paginator("scan").paginate(
                TableName=self._table,
                FilterExpression=kinds,
                ExpressionAttributeValues=values,
            )
            for page in pages:
                for item in page.get("Items", []):
                    yield GrantRecord.from_item(item)


def batch_get(db: DynamoDBClient, table: str, pks: Sequence[str],
              consistent: bool) -> Iterator[dict[str, Any]]:
    """Items by key, 100 per BatchGetItem, retrying unprocessed keys with backoff."""
    for start in range(0, len(pks), 100):
        request: dict[str, Any] = {table: {
            "Keys": [{"pk": {"S": pk}} for pk in pks[start : start + 100]],
            "ConsistentRead": consistent}}
        for attempt in range(8):
            with translated("BatchGetItem"):
                answer = db.batch_get_item(RequestItems=request)
            yield from answer.get("Responses", {}).get(table, [])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(0.05 * 2**attempt, 1.0))
        else:
            raise AwsTransientError("BatchGetItem left keys unprocessed")
