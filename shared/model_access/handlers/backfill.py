"""The backfill function's work: run one slice, emit metrics, hand the rest to itself.

Started by hand (`{"dryRun": false}`), by the schedule (the drift sweep: its EventBridge
event id names the run, so a retry of the same scheduled invocation resumes the same run),
or by itself (`{"continuation": {"runId": ..., "account": ...}}`). It sweeps the hub's
account and every member it serves, in every served region (`sweep_accounts.py`); each
slice claims the run of each account in the store; a duplicate or late retry finds it
claimed (or finished) and stops without work. One log line per account names its outcome
(a member that is unavailable is counted as MemberUnavailable, and the sweep goes on).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final

from model_access.aws.translate import translated
from model_access.core.outcomes import Outcome
from model_access.handlers.observability import count_calls, count_outcome, logger
from model_access.runtime import Runtime
from model_access.sweep.accounts import AccountSweep, states_in_table, sweep_accounts

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

    try:
        result = sweep_accounts(
            runtime, dry_run=dry_run, continuation=continuation, time_left=time_left,
            reserve_seconds=RESERVE_SECONDS, run_id=run_id,
            states_for=states_in_table(runtime, CLAIM_SECONDS), on_account=_report_account)
    finally:
        count_calls(runtime.clients.counter, before)
    summary = result.as_dict()
    if not result.claimed:
        logger.info("sweep run is held by another invocation or finished; nothing to do",
                    extra={"run_id": result.run_id})
        summary["skipped"] = True
        return summary
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


def _report_account(sweep: AccountSweep) -> None:
    """One log line per account (the account is never a metric dimension), its outcomes
    counted once, and its policy findings."""
    done = sweep.result
    if done is None:
        kept_out = sweep.outcome in {o.value for o in Outcome}
        if kept_out:
            count_outcome(Outcome(sweep.outcome))
        (logger.warning if kept_out else logger.info)(
            sweep.reason or "account not swept by this slice",
            extra={"account": sweep.account, "outcome": sweep.outcome})
        return
    for name, n in done.counts.items():  # this slice's own work, counted once
        count_outcome(Outcome(name), n)
    for finding in done.findings:
        logger.warning(finding.detail, extra={"account": sweep.account,
                                              "finding": finding.kind, "role": finding.role,
                                              "policy": finding.name})
    logger.info("account swept", extra={"account": sweep.account, "outcome": sweep.outcome,
                                        **sweep.as_dict()})
