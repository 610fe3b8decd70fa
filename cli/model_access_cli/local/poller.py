"""A local stand-in for the Lambda SQS event source mapping.

Like the real mapping it long-polls the queue, gathers a batch (up to `batch_size`
records or until the batching window closes), invokes the handler, deletes the records
that succeeded, and leaves the `batchItemFailures` in the queue to come back after the
visibility timeout; SQS itself (moto here) moves a record to the DLQ after
`maxReceiveCount` receives. A handler that raises fails the whole batch. `drain` stops when
the queue is empty (the demo, the tests); `run` polls until told to stop (`local serve`).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

HandlerFn = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalContext:
    """The parts of a LambdaContext our handlers and Powertools read."""

    function_name: str
    invoked_function_arn: str
    timeout_seconds: float = 900.0
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return int(max(0.0, self.timeout_seconds - (time.monotonic() - self.started)) * 1000)


@dataclass
class PollStats:
    """What a drain did, for the demo's table and the tests."""

    batches: int = 0
    records: int = 0
    failed_records: int = 0
    handler_errors: int = 0


class LocalPoller:
    """Drain a queue into a handler the way the event source mapping would."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        queue_arn: str,
        handler: HandlerFn,
        *,
        function_name: str = "model-access-provisioner",
        account: str = "123456789012",
        batch_size: int = 100,
        window_seconds: float = 0.3,
        visibility_timeout: int = 1,
    ) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.queue_arn = queue_arn
        self.handler = handler
        self.batch_size = batch_size
        self.window = window_seconds
        self.visibility = visibility_timeout
        region = queue_arn.split(":")[3]
        self.function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.function_name = function_name
        self.stats = PollStats()

    def drain(self, timeout: float = 120.0) -> PollStats:
        """Deliver batches until the queue (visible and in flight) is empty, or `timeout`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self._gather()
            if batch:
                self._deliver(batch)
            elif self._queue_empty():
                break
            else:
                time.sleep(0.2)  # records in flight: wait for their visibility timeout
        return self.stats

    def run(self, stop: threading.Event) -> PollStats:
        """Poll until `stop` is set, as the mapping of a deployed stack polls for ever."""
        while not stop.is_set():
            batch = self._gather(first_wait=1)
            if batch:
                self._deliver(batch)
        return self.stats

    def _gather(self, first_wait: int = 0) -> list[dict[str, Any]]:
        """A batch; with `first_wait`, long-poll for the first record, then open the window."""
        batch: list[dict[str, Any]] = []
        if first_wait:
            batch = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, self.batch_size),
                AttributeNames=["All"], VisibilityTimeout=self.visibility,
                WaitTimeSeconds=first_wait,
            ).get("Messages", [])
            if not batch:
                return []
        window_ends = time.monotonic() + self.window
        while len(batch) < self.batch_size and time.monotonic() < window_ends:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(10, self.batch_size - len(batch)),
                AttributeNames=["All"],
                VisibilityTimeout=self.visibility,
                WaitTimeSeconds=0,
            )
            messages = answer.get("Messages", [])
            if not messages and batch:
                break
            if not messages:
                time.sleep(0.05)
                continue
            batch += messages
        return batch

    def _deliver(self, messages: list[dict[str, Any]]) -> None:
        records = [self._record(m) for m in messages]
        self.stats.batches += 1
        self.stats.records += len(records)
        context = LocalContext(self.function_name, self.function_arn)
        try:
            response = self.handler({"Records": records}, context) or {}
        except Exception:  # the whole batch goes back, as with the real mapping
            self.stats.handler_errors += 1
            self.stats.failed_records += len(records)
            return
        failed = {f["itemIdentifier"] for f in response.get("batchItemFailures", [])}
        self.stats.failed_records += len(failed)
        done = [m for m in messages if m["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            chunk = done[start : start + 10]
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                         for i, m in enumerate(chunk)],
            )

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": {
                "ApproximateReceiveCount": attributes.get("ApproximateReceiveCount", "1"),
                "SentTimestamp": attributes.get("SentTimestamp", "0"),
                "SenderId": attributes.get("SenderId", "local"),
                "ApproximateFirstReceiveTimestamp":
                    attributes.get("ApproximateFirstReceiveTimestamp", "0"),
            },
            "messageAttributes": {},
            "md5OfBody": message.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self.queue_arn,
            "awsRegion": self.queue_arn.split(":")[3],
        }

    def _queue_empty(self) -> bool:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return (int(attributes.get("ApproximateNumberOfMessages", 0))
                + int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0))) == 0
