"""The backfill function's work: run one slice, emit metrics, hand the rest to itself."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from model_access.aws.translate import translated
from model_access.backfill import Backfill
from model_access.observability import count_calls, count_outcome, logger
from model_access.outcomes import Outcome
from model_access.runtime import Runtime

RESERVE_SECONDS: Final = 90.0
"""Stop paging this long before the Lambda's deadline (one chunk's reconcile must fit)."""


def handle(event: Any, context: Any, runtime: Runtime) -> dict[str, Any]:
    """Run the backfill; when it returns a continuation, invoke this function again async."""
    event = event if isinstance(event, Mapping) else {}
    dry_run = bool(event.get("dryRun", False))
    continuation = event.get("continuation")
    continuation = continuation if isinstance(continuation, dict) else None
    before = runtime.clients.counter.snapshot()

    def time_left() -> float:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining() / 1000.0 if callable(remaining) else float("inf")

    try:
        result = Backfill(runtime).run(
            dry_run=dry_run, continuation=continuation, time_left=time_left,
            reserve_seconds=RESERVE_SECONDS,
        )
    finally:
        count_calls(runtime.clients.counter, before)
    for name, n in result.counts.items():
        count_outcome(Outcome(name), n)
    summary = result.as_dict()
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
