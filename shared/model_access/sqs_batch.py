"""The SQS side of one invocation: the records the event source mapping sends, and the partial
batch response (`ReportBatchItemFailures`). Pure.

Powertools' batch utility does this with a handler per record; here the engine decides every
record of the batch at once, so the response is only the ids of the records to retry, and
that utility would cost 70-100 ms of every cold start (it imports the data classes of every
event source). Same shape as its answer: `{"batchItemFailures": [{"itemIdentifier": id}]}`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SqsRecord:
    """One SQS message as Lambda delivers it (only the fields the provisioner reads)."""

    message_id: str
    body: str
    receipt_handle: str | None = None
    event_source_arn: str | None = None
    receive_count: int = 1

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> SqsRecord:
        """From the event's record; a missing `messageId` fails the invocation (nothing
        could be reported for it), a missing receive count counts as the first."""
        attributes = raw.get("attributes") or {}
        count = str(attributes.get("ApproximateReceiveCount") or "1")
        return cls(
            message_id=str(raw["messageId"]),
            body=str(raw.get("body") or ""),
            receipt_handle=raw.get("receiptHandle"),
            event_source_arn=raw.get("eventSourceARN"),
            receive_count=int(count) if count.isdigit() else 1,
        )


def partial_response(failed_ids: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The answer that makes SQS delete every record but these (which come back later)."""
    return {"batchItemFailures": [{"itemIdentifier": i} for i in failed_ids]}
