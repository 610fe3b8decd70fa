"""The backfill function's work: run one slice, emit metrics, hand the rest to itself.

Started by hand (`{"dryRun": false}`), by the schedule (the drift sweep: its EventBridge
event id names the run, so a retry of the same scheduled invocation resumes the same run),
or by itself (`{"continuation": {"runId": ...}}`). Each slice claims the run in the store;
a duplicate or late retry finds it claimed (or finished) and stops without work.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from model_access.aws.sweep_state import SweepStates
from model_access.aws.translate import translated
from model_access.backfill import Backfill
from model_access.observability import count_calls, count_outcome, logger
from model_access.outcomes import Outcome
from model_access.runtime import Runtime

RESERVE_SECONDS: Final = 90.0
"""Stop starting chunks this long before the Lambda's deadline."""
CLAIM_SECONDS: Final = 960.0
"""How long a slice holds its run: above the 900 s Lambda maximum."""


def handle(event: Any, context: Any, runtime: Runtime) -> dict[str, Any]:
    """Run the backfill; when it returns a continuation, invoke this function again async."""
    event = event if isinstance(event, Mapping) else {}
    dry_run = bool(event.get("dryRun", False))
    continuation = event.get("continuation")
    continuation = continuation if isinstance(continuation, dict) else None
    run_id = None
    if event.get("detail-type") == "Scheduled Event" and isinstance(event.get("id"), str):
        run_id = f"schedule-{event['id']}"
    before = runtime.clients.counter.snapshot()

    def time_left() -> float:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining() / 1000.0 if callable(remaining) else float("inf")

    states = SweepStates(runtime.clients.dynamodb, runtime.settings.table_name,
                         lease_seconds=CLAIM_SECONDS)
    try:
        result = Backfill(runtime, states=states).run(
            dry_run=dry_run, continuation=continuation, time_left=time_left,
            reserve_seconds=RESERVE_SECONDS, run_id=run_id)
    finally:
        count_calls(runtime.clients.counter, before)
    summary = result.as_dict()
    if not result.claimed:
        logger.info("sweep run is held by another invocation or finished; nothing to do",
                    extra={"run_id": result.run_id})
        summary["skipped"] = True
        return summary
    for name, n in result.counts.items():  # this slice's own work, counted once
        count_outcome(Outcome(name), n)
    for finding in result.findings:
        logger.warning(finding.detail, extra={"finding": finding.kind, "role": finding.role,
                                              "policy": finding.name})
    logger.info("backfill slice finished", extra={"summary": summary})
    function = getattr(context, "function_name", None)
    if result.continuation and not dry_run and function:
        payload = {"dryRun": False, "continuation": result.continuation}
        with translated(f"Invoke {function} (continuation)"):
            runtime.clients.lambda_.invoke(
                FunctionName=function, InvocationType="Event", Payload=json.dumps(payload)
            )
        summary["continuedAsync"] = True
    return summary

