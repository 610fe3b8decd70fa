"""The provisioner's work for one invocation: parse, reconcile once, report per record.

Two shapes arrive: an SQS batch whose bodies are EventBridge events (the production path),
and one EventBridge event invoked directly (re-driving a single event by hand). A batch is
coalesced: records naming the same model are reconciled once, and each role once.

Each hint is routed to the account and region its resource lives in (the resource ARN, else
CloudTrail's `recipientAccountId`/`awsRegion`, never the envelope, which forwarding between
buses rewrites): the hub's own account and home region as always, a member account through
its member role (`Runtime.for_origin`), an account the hub does not serve refused as
`AccountNotMember` before any AWS call. Each origin is reconciled on its own.

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

from model_access.core.arns import ResourceKey
from model_access.core.deadline import Deadline
from model_access.core.errors import (
    AccountNotMemberError,
    BadEventError,
    MemberUnavailableError,
    RetryableError,
)
from model_access.core.outcomes import Outcome
from model_access.engine.reconcile import foreign_model
from model_access.engine.results import ModelResult, Report
from model_access.handlers.observability import count_calls, count_outcome, logger
from model_access.model.accounts import Origin, origin_of_arn, refusal
from model_access.model.events import Ignored, ModelHint, parse_body, parse_event
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
    retry_delay: int | None = None
    """Seconds before a retryable record should come back (a busy role), when shorter than
    the queue's visibility timeout."""
    account: str | None = None
    """The account the record is about, when known (for the log line)."""


@dataclass(frozen=True)
class Routed:
    """A hint and the runtime of the account and region it is about."""

    hint: ModelHint
    runtime: Runtime


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
    parsed: dict[str, Routed | RecordOutcome] = {}
    counts: dict[str, int] = {}
    for raw in event["Records"]:
        record = SQSRecord(raw)
        parsed[record.message_id] = _parse_record(record, runtime)
        counts[record.message_id] = int(record.attributes.approximate_receive_count or 1)
    outcomes = _reconcile_by_origin(parsed, counts, deadline)
    _delay_retries(event["Records"], outcomes, runtime)

    def record_handler(record: SQSRecord) -> None:
        result = outcomes[record.message_id]
        if result.outcome.is_retryable:
            raise RetryableError(result.reason)

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event, record_handler, processor))


def _reconcile_by_origin(parsed: Mapping[str, Routed | RecordOutcome],
                         counts: Mapping[str, int], deadline: Deadline,
                         ) -> dict[str, RecordOutcome]:
    """Reconcile each origin's hints once (hub first), and name every record's outcome."""
    outcomes = _record_outcomes({m: o for m, o in parsed.items()
                                 if isinstance(o, RecordOutcome)}, Report(), None)
    by_origin: dict[str | None, tuple[Runtime, dict[str, ModelHint]]] = {}
    for message_id, item in parsed.items():
        if isinstance(item, Routed):  # one reconcile per account: its reconciler reads
            account_runtime = _account_runtime(item.runtime)  # every served region
            entry = by_origin.setdefault(account_runtime.scope.account, (account_runtime, {}))
            entry[1][message_id] = item.hint
    for origin_runtime, hints in sorted(by_origin.values(), key=lambda v: v[0].hub is not None):
        receive_counts: dict[ResourceKey, int] = {}
        for message_id, hint in hints.items():
            receive_counts[hint.key] = max(receive_counts.get(hint.key, 0), counts[message_id])
        report = _reconcile(list(hints.values()), origin_runtime, receive_counts, deadline)
        outcomes.update(_record_outcomes(hints, report, origin_runtime))
    return outcomes


def _account_runtime(runtime: Runtime) -> Runtime:
    """The runtime of `runtime`'s account in the home region (it reconciles every served
    region of the account: one writer per account and role across regions)."""
    hub = runtime.hub or runtime
    if runtime.scope.region == hub.scope.region or not runtime.settings.regions:
        return runtime
    return hub.for_origin(runtime.scope.account, hub.scope.region)


def _handle_direct(event: Any, runtime: Runtime, deadline: Deadline) -> dict[str, Any]:
    item = _classify(lambda: parse_event(event, runtime.settings.owner_tag_key),
                     _event_id(event), runtime)
    result = _reconcile_by_origin({"direct": item}, {"direct": 1}, deadline)["direct"]
    if result.outcome.is_retryable:
        # An async invoke is retried by Lambda and then goes to its failure destination.
        raise RetryableError(f"{result.outcome}: {result.reason}")
    return {"eventId": result.event_id, "outcome": result.outcome.value, "reason": result.reason}


def _parse_record(record: SQSRecord, runtime: Runtime) -> Routed | RecordOutcome:
    item = _classify(lambda: parse_body(record.body, runtime.settings.owner_tag_key),
                     record.message_id, runtime)
    if isinstance(item, Routed) and from_event_queue(record.event_source_arn, runtime):
        return replace(item, hint=replace(item.hint, caller_trusted=True))
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
) -> Routed | RecordOutcome:
    """A hint routed to its origin's runtime, or the record's final outcome when there is
    nothing to reconcile (or nothing the hub may do there)."""
    try:
        hint = parse()
    except BadEventError as exc:
        return RecordOutcome(fallback_id, Outcome.BAD_EVENT, str(exc))
    if isinstance(hint, Ignored):
        return RecordOutcome(hint.event_id, hint.outcome, hint.reason, kind=hint.kind)
    origin = hint_origin(hint, runtime)
    target = runtime
    if (origin.account, origin.region) != (runtime.scope.account, runtime.scope.region):
        refused = refusal(origin, runtime.settings, runtime.scope.account or "")
        if refused is None:
            try:
                target = runtime.for_origin(origin.account, origin.region)
            except AccountNotMemberError as exc:
                refused = (Outcome.ACCOUNT_NOT_MEMBER, str(exc))
            except MemberUnavailableError as exc:
                refused = (Outcome.MEMBER_UNAVAILABLE, str(exc))
        if refused is not None:
            return RecordOutcome(hint.event_id, refused[0], refused[1], hint.key, hint.kind,
                                 account=origin.account)
    if (problem := foreign_model(hint, target.scope)) is not None:  # before grouping by name
        return RecordOutcome(hint.event_id, Outcome.FOREIGN_MODEL, problem, hint.key, hint.kind,
                             account=origin.account)
    return Routed(hint, target)


def hint_origin(hint: ModelHint, runtime: Runtime) -> Origin:
    """The account and region a hint is about: its resource ARN's, else the CloudTrail
    record's (`recipientAccountId`, `awsRegion`), else the hub's (a re-drive by name)."""
    named = origin_of_arn(hint.model_arn) if hint.model_arn else None
    if named is not None:
        return named
    return Origin(hint.account or runtime.scope.account or "", hint.region)


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
    parsed: Mapping[str, ModelHint | RecordOutcome], report: Report, runtime: Runtime | None,
) -> dict[str, RecordOutcome]:
    """Map results back to records; log one line per record, count one metric per model.
    The account and region are in the log line (never a metric dimension)."""
    where = {"account": runtime.scope.account} if runtime is not None else {}
    outcomes: dict[str, RecordOutcome] = {}
    counted: set[ResourceKey] = set()
    for message_id, item in parsed.items():
        if isinstance(item, RecordOutcome):
            outcomes[message_id] = item
            count_outcome(item.outcome)
            logger.info(item.reason, extra={"event_id": item.event_id, "message_id": message_id,
                                            "outcome": item.outcome.value, "kind": item.kind,
                                            "account": item.account})
            continue
        result = report.results.get(item.key) or ModelResult(
            item.key, Outcome.FAILED, "no result for this model", item.model_arn)
        coalesced = item.key in counted
        if not coalesced:
            counted.add(item.key)
            count_outcome(result.outcome)
        outcomes[message_id] = RecordOutcome(item.event_id, result.outcome, result.reason,
                                             item.key, item.kind, result.retry_delay)
        logger.info(result.reason, extra={
            **where, "region": item.region,
            "event_id": item.event_id, "message_id": message_id, "trigger": item.trigger.value,
            "via": item.trigger.via, "kind": item.kind, "model_name": item.model_name,
            "model_arn": result.model_arn or item.model_arn, "owner": result.owner,
            "outcome": result.outcome.value, "granted_to": result.granted_to,
            "revoked_from": list(result.revoked_from), "policy": result.policy,
            "coalesced": coalesced,
        })
    for role, repair in report.repairs:
        count_outcome(Outcome.REPAIRED)
        logger.info(repair, extra={**where, "outcome": Outcome.REPAIRED.value, "role": role})
    return outcomes


def _delay_retries(records: list[dict[str, Any]], outcomes: Mapping[str, RecordOutcome],
                   runtime: Runtime) -> None:
    """Bring back soon (jittered) the records whose role another worker held, instead of
    after the queue's whole visibility timeout; best effort (failure: normal timeout)."""
    by_queue: dict[str, list[dict[str, Any]]] = {}
    for raw in records:
        record = SQSRecord(raw)
        outcome = outcomes.get(record.message_id)
        if outcome is None or not outcome.outcome.is_retryable or outcome.retry_delay is None:
            continue
        by_queue.setdefault(record.event_source_arn, []).append({
            "Id": str(len(by_queue.get(record.event_source_arn, []))),
            "ReceiptHandle": record.receipt_handle, "VisibilityTimeout": outcome.retry_delay})
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
