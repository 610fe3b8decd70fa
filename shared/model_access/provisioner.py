"""The provisioner's work for one invocation: parse, reconcile once, report per record.

Two shapes arrive: an SQS batch whose bodies are EventBridge events (the production path),
and one EventBridge event invoked directly (re-driving a single event by hand). A batch is
coalesced: records naming the same model are reconciled once, and each role once.

Only the entry path knows whether the caller an event names can be believed: a record read
from our event queue (whose policy admits nothing but the stack's EventBridge rules) is
trusted; a direct invoke is a hint that still triggers a reconcile, but its caller is not
believed (protected owner-change mode then refuses what only that caller vouches for).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Final

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from botocore.exceptions import BotoCoreError, ClientError

from model_access.arns import ResourceKey
from model_access.deadline import Deadline
from model_access.errors import BadEventError, RetryableError
from model_access.events import Ignored, ModelHint, parse_body, parse_event
from model_access.observability import count_calls, count_outcome, logger
from model_access.outcomes import Outcome
from model_access.reconcile import foreign_model
from model_access.results import ModelResult, Report
from model_access.runtime import Runtime

DEADLINE_RESERVE_SECONDS: Final = 10.0
"""No role group starts this close to the function's timeout (one group's writes fit)."""


@dataclass(frozen=True)
class RecordOutcome:
    """What became of one SQS record (or the one direct event)."""

    event_id: str
    outcome: Outcome
    reason: str
    key: ResourceKey | None = None
    kind: str | None = None
    """The resource kind the record was about, when known (for the log line)."""


def handle(event: Any, runtime: Runtime, context: Any = None) -> dict[str, Any]:
    """Entry point behind the Lambda handler; never raises for bad input.

    With a Lambda `context`, no role group starts within DEADLINE_RESERVE_SECONDS of the
    function's timeout: what is left comes back as batch item failures, not as a timeout.
    """
    before = runtime.clients.counter.snapshot()
    deadline = Deadline.from_context(context, DEADLINE_RESERVE_SECONDS)
    try:
        if isinstance(event, Mapping) and isinstance(event.get("Records"), list):
            return _handle_batch(dict(event), runtime, deadline)
        return _handle_direct(event, runtime, deadline)
    finally:
        count_calls(runtime.clients.counter, before)


def _handle_batch(event: dict[str, Any], runtime: Runtime,
                  deadline: Deadline) -> dict[str, Any]:
    parsed: dict[str, ModelHint | RecordOutcome] = {}
    receive_counts: dict[ResourceKey, int] = {}
    for raw in event["Records"]:
        record = SQSRecord(raw)
        parsed[record.message_id] = _parse_record(record, runtime)
        hint = parsed[record.message_id]
        if isinstance(hint, ModelHint):
            count = int(record.attributes.approximate_receive_count or 1)
            receive_counts[hint.key] = max(receive_counts.get(hint.key, 0), count)
    hints = [h for h in parsed.values() if isinstance(h, ModelHint)]
    report = _reconcile(hints, runtime, receive_counts, deadline)
    outcomes = _record_outcomes(parsed, report)
    _delay_retries(event["Records"], outcomes, report, runtime)

    def record_handler(record: SQSRecord) -> None:
        result = outcomes[record.message_id]
        if result.outcome.is_retryable:
            raise RetryableError(result.reason)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, record_handler, processor))


def _handle_direct(event: Any, runtime: Runtime, deadline: Deadline) -> dict[str, Any]:
    item = _classify(lambda: parse_event(event, runtime.settings.owner_tag_key),
                     _event_id(event), runtime)
    hints = [item] if isinstance(item, ModelHint) else []
    report = _reconcile(hints, runtime, {}, deadline)
    result = _record_outcomes({"direct": item}, report)["direct"]
    if result.outcome.is_retryable:
        # An async invoke is retried by Lambda and then goes to its failure destination.
        raise RetryableError(f"{result.outcome}: {result.reason}")
    return {"eventId": result.event_id, "outcome": result.outcome.value, "reason": result.reason}


def _parse_record(record: SQSRecord, runtime: Runtime) -> ModelHint | RecordOutcome:
    item = _classify(lambda: parse_body(record.body, runtime.settings.owner_tag_key),
                     record.message_id, runtime)
    if isinstance(item, ModelHint) and from_event_queue(record.event_source_arn, runtime):
        return replace(item, caller_trusted=True)
    return item


def from_event_queue(source_arn: str | None, runtime: Runtime) -> bool:
    """Whether a record came from this stack's event queue (and not, say, another queue
    someone mapped to the function): same name, account and region as configured."""
    parts = (source_arn or "").split(":")
    if len(parts) != 6 or parts[:3] != ["arn", runtime.scope.partition, "sqs"]:
        return False
    _, _, _, region, account, name = parts
    return (name == runtime.settings.queue_name and region == runtime.scope.region
            and account == runtime.scope.account)


def _classify(
    parse: Callable[[], ModelHint | Ignored], fallback_id: str, runtime: Runtime
) -> ModelHint | RecordOutcome:
    """A hint to reconcile, or the record's final outcome when there is nothing to reconcile."""
    try:
        hint = parse()
    except BadEventError as exc:
        return RecordOutcome(fallback_id, Outcome.BAD_EVENT, str(exc))
    if isinstance(hint, Ignored):
        return RecordOutcome(hint.event_id, hint.outcome, hint.reason, kind=hint.kind)
    if (problem := foreign_model(hint, runtime.scope)) is not None:  # before grouping by name
        return RecordOutcome(hint.event_id, Outcome.FOREIGN_MODEL, problem, hint.key, hint.kind)
    return hint


def _reconcile(hints: list[ModelHint], runtime: Runtime,
               receive_counts: dict[ResourceKey, int], deadline: Deadline) -> Report:
    if not hints:
        return Report()
    try:
        return runtime.reconciler.reconcile(hints, receive_counts=receive_counts,
                                            deadline=deadline)
    except Exception as exc:  # a bug or an unforeseen AWS answer: retry, never crash-loop
        logger.exception("reconcile failed; every record of the batch goes back to the queue")
        return Report(results={
            h.key: ModelResult(h.key, Outcome.FAILED, f"unexpected error: {exc!r}"[:500],
                               h.model_arn)
            for h in hints
        })


def _record_outcomes(
    parsed: Mapping[str, ModelHint | RecordOutcome], report: Report
) -> dict[str, RecordOutcome]:
    """Map results back to records; log one line per record, count one metric per model."""
    outcomes: dict[str, RecordOutcome] = {}
    counted: set[ResourceKey] = set()
    for message_id, item in parsed.items():
        if isinstance(item, RecordOutcome):
            outcomes[message_id] = item
            count_outcome(item.outcome)
            logger.info(item.reason, extra={"event_id": item.event_id, "message_id": message_id,
                                            "outcome": item.outcome.value, "kind": item.kind})
            continue
        result = report.results.get(item.key) or ModelResult(
            item.key, Outcome.FAILED, "no result for this model", item.model_arn)
        coalesced = item.key in counted
        if not coalesced:
            counted.add(item.key)
            count_outcome(result.outcome)
        outcomes[message_id] = RecordOutcome(item.event_id, result.outcome, result.reason, item.key)
        logger.info(result.reason, extra={
            "event_id": item.event_id, "message_id": message_id, "trigger": item.trigger.value,
            "via": item.trigger.via, "kind": item.kind, "model_name": item.model_name,
            "model_arn": result.model_arn or item.model_arn, "owner": result.owner,
            "outcome": result.outcome.value, "granted_to": result.granted_to,
            "revoked_from": list(result.revoked_from), "policy": result.policy,
            "coalesced": coalesced,
        })
    for role, repair in report.repairs:
        count_outcome(Outcome.REPAIRED)
        logger.info(repair, extra={"outcome": Outcome.REPAIRED.value, "role": role})
    return outcomes


def _delay_retries(records: list[dict[str, Any]], outcomes: Mapping[str, RecordOutcome],
                   report: Report, runtime: Runtime) -> None:
    """Bring back soon (jittered) the records whose role another worker held, instead of
    after the queue's whole visibility timeout; best effort (failure: normal timeout)."""
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for raw in records:
        record = SQSRecord(raw)
        outcome = outcomes.get(record.message_id)
        if outcome is None or outcome.key is None or not outcome.outcome.is_retryable:
            continue
        result = report.results.get(outcome.key)
        if result is None or result.retry_delay is None:
            continue
        by_queue.setdefault(record.event_source_arn, []).append({
            "Id": str(len(by_queue.get(record.event_source_arn, []))),
            "ReceiptHandle": record.receipt_handle, "VisibilityTimeout": result.retry_delay})
    for queue_arn, entries in by_queue.items():
        try:
            url = _queue_url(queue_arn, runtime)
            for start in range(0, len(entries), 10):
                runtime.clients.sqs.change_message_visibility_batch(
                    QueueUrl=url, Entries=entries[start : start + 10])  # type: ignore[arg-type]
        except (BotoCoreError, ClientError) as exc:
            logger.warning("could not shorten the retry delay", extra={"error": str(exc)})


_QUEUE_URLS: dict[str, str] = {}


def _queue_url(queue_arn: str, runtime: Runtime) -> str:
    if queue_arn not in _QUEUE_URLS:
        parts = queue_arn.split(":")
        _QUEUE_URLS[queue_arn] = runtime.clients.sqs.get_queue_url(
            QueueName=parts[5], QueueOwnerAWSAccountId=parts[4])["QueueUrl"]
    return _QUEUE_URLS[queue_arn]


def _event_id(event: Any) -> str:
    if isinstance(event, Mapping):
        detail = event.get("detail")
        if isinstance(detail, Mapping) and isinstance(detail.get("eventID"), str):
            return str(detail["eventID"])
        if isinstance(event.get("id"), str):
            return str(event["id"])
    return "unknown"
