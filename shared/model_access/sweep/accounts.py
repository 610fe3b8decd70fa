"""The sweep of every account the hub serves: its own first, then each member, each in
every served region (the backfill Lambda, the drift sweep and the CLI's `--all-accounts`).

Per account it is the one-account sweep (`backfill.Backfill`) through that account's
runtime (`Runtime.for_origin`: the member role, the account's namespace in the store), with
its own sweep state (`acct#<id>#sweep#<run>`; the hub's is `sweep#<run>` as before), so
chunks, measured costs, claims and continuations work per account under one run id. A
member whose role is missing or refuses the hub is reported (`MemberUnavailable`) and the
sweep goes on; so does one whose sweep fails otherwise (`Failed`, with the reason).

A slice works through the accounts in order (hub first, then members sorted) and stops
before its deadline: the continuation names the run and the account to resume at. An
account whose state for the run is finished is passed; one another invocation holds stops
the slice (that invocation continues the chain: a run never forks).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from model_access.aws.records import account_namespace
from model_access.aws.sweep_state import SweepStates
from model_access.core.errors import AccountNotMemberError, MemberUnavailableError, ModelAccessError
from model_access.core.outcomes import Outcome
from model_access.runtime import Runtime
from model_access.sweep.backfill import DEFAULT_CHUNK, Backfill, BackfillResult, Progress

SWEPT: Final = "Swept"
CONTINUED: Final = "Continued"
FINISHED_EARLIER: Final = "FinishedEarlier"
HELD: Final = "Held"
StatesFor = Callable[[str], SweepStates]
"""The sweep states of one account (its namespace in the hub's table)."""


@dataclass(frozen=True)
class AccountSweep:
    """What a slice did in one account."""

    account: str
    outcome: str
    """Swept, Continued (time ran out), FinishedEarlier, Held (another invocation has it),
    or the outcome that kept the sweep out: MemberUnavailable, AccountNotMember, Failed."""
    reason: str = ""
    result: BackfillResult | None = None

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"outcome": self.outcome}
        if self.reason:
            row["reason"] = self.reason
        if self.result is not None:
            data = self.result.as_dict()
            row.update({k: data[k] for k in _COUNTS})
        return row


_COUNTS: Final = ("seen", "granted", "moved", "revoked", "repaired", "unchanged", "refused",
                  "failed", "chunks")


@dataclass
class SweepResult:
    """One slice over the accounts: each account's result, and where to go on."""

    dry_run: bool
    run_id: str
    accounts: list[AccountSweep] = field(default_factory=list)
    continuation: dict[str, Any] | None = None

    @property
    def claimed(self) -> bool:
        """Whether this slice did any work (False: a duplicate, or a finished run)."""
        return any(a.outcome not in (FINISHED_EARLIER, HELD) for a in self.accounts)

    def results(self) -> list[tuple[str, BackfillResult]]:
        return [(a.account, a.result) for a in self.accounts if a.result is not None]

    def as_dict(self) -> dict[str, Any]:
        """The one-account summary's fields summed over accounts, plus `accounts`."""
        total: dict[str, Any] = {"dryRun": self.dry_run, "runId": self.run_id}
        summed: dict[str, int] = dict.fromkeys(_COUNTS, 0)
        mapped: dict[str, dict[str, int]] = {"outcomes": {}, "policyFindings": {},
                                             "runTotals": {}}
        for _account, result in self.results():
            data = result.as_dict()
            for name in _COUNTS:
                summed[name] += int(data[name])
            for name, counts in mapped.items():
                for k, n in data[name].items():
                    counts[k] = counts.get(k, 0) + n
        for sweep in self.accounts:  # an account kept out counts once under its outcome
            if sweep.result is None and sweep.outcome in _KEPT_OUT:
                mapped["outcomes"][sweep.outcome] = mapped["outcomes"].get(sweep.outcome, 0) + 1
                summed["failed" if sweep.outcome != Outcome.ACCOUNT_NOT_MEMBER.value
                       else "refused"] += 1
        total.update({k: summed[k] for k in _COUNTS if k != "chunks"})
        total.update({k: dict(sorted(v.items())) for k, v in mapped.items()})
        total["chunks"] = summed["chunks"]
        total["continuation"] = self.continuation
        total["accounts"] = {a.account: a.as_dict() for a in self.accounts}
        return total


_KEPT_OUT: Final = frozenset({Outcome.MEMBER_UNAVAILABLE.value,
                              Outcome.ACCOUNT_NOT_MEMBER.value, Outcome.FAILED.value})


def served_accounts(rt: Runtime) -> list[str]:
    """The hub's account first, then every member it serves, sorted."""
    hub = rt.hub or rt
    members = (hub.sessions.member_accounts() if hub.sessions is not None
               else sorted(set(hub.settings.member_accounts)))
    return [hub.scope.account or "", *(m for m in members if m != hub.scope.account)]


def sweep_accounts(
    rt: Runtime,
    *,
    accounts: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
    dry_run: bool = False,
    continuation: dict[str, Any] | None = None,
    run_id: str | None = None,
    time_left: Callable[[], float] = lambda: float("inf"),
    reserve_seconds: float = 60.0,
    states_for: StatesFor | None = None,
    chunk_models: int = DEFAULT_CHUNK,
    progress: Progress | None = None,
    on_account: Callable[[AccountSweep], None] = lambda _a: None,
) -> SweepResult:
    """Sweep `accounts` (default: every served account) in `regions` (default: every
    served region), resuming `continuation`; see the module docstring."""
    hub = rt.hub or rt
    run_id = str((continuation or {}).get("runId") or run_id or uuid.uuid4().hex[:12])
    result = SweepResult(dry_run, run_id)
    order = list(accounts) if accounts is not None else served_accounts(hub)
    resume_at = (continuation or {}).get("account")
    if isinstance(resume_at, str) and resume_at in order:
        order = order[order.index(resume_at):]
    tick = progress or (lambda _phase, _done, _total: None)
    for account in order:
        if result.accounts and time_left() - reserve_seconds <= 0:
            result.continuation = {"runId": run_id, "account": account}
            break
        sweep = _sweep_one(hub, account, regions=regions, dry_run=dry_run, run_id=run_id,
                           time_left=time_left, reserve_seconds=reserve_seconds,
                           states_for=states_for, chunk_models=chunk_models,
                           progress=_prefixed(tick, account))
        result.accounts.append(sweep)
        on_account(sweep)
        if sweep.outcome == HELD:
            break
        if sweep.outcome == CONTINUED:
            result.continuation = {"runId": run_id, "account": account}
            break
    return result


def _prefixed(progress: Progress, account: str) -> Progress:
    """Progress lines that name the account."""
    def tick(phase: str, done: int, total: int | None) -> None:
        progress(f"{account} {phase}", done, total)
    return tick


def _sweep_one(hub: Runtime, account: str, *, regions: Sequence[str] | None, dry_run: bool,
               run_id: str, time_left: Callable[[], float], reserve_seconds: float,
               states_for: StatesFor | None, chunk_models: int,
               progress: Progress) -> AccountSweep:
    member = account != hub.scope.account
    states = states_for(account) if states_for is not None else None
    try:
        runtime = hub.for_origin(account, hub.scope.region) if member else hub
        backfill = Backfill(runtime, regions=regions, states=states, chunk_models=chunk_models,
                            progress=progress)
        done = backfill.run(dry_run=dry_run, continuation={"runId": run_id},
                            time_left=time_left, reserve_seconds=reserve_seconds)
    except AccountNotMemberError as exc:
        return AccountSweep(account, Outcome.ACCOUNT_NOT_MEMBER.value, str(exc))
    except MemberUnavailableError as exc:
        return AccountSweep(account, Outcome.MEMBER_UNAVAILABLE.value, str(exc))
    except ModelAccessError as exc:
        if not member:
            raise  # the hub's own failure fails the slice (Lambda retries it)
        return AccountSweep(account, Outcome.FAILED.value, str(exc))
    if not done.claimed:
        state = states.get(run_id) if states is not None else None
        finished = state is not None and state.status == "done"
        return AccountSweep(account, FINISHED_EARLIER if finished else HELD)
    return AccountSweep(account, CONTINUED if done.continuation else SWEPT, result=done)


def states_in_table(hub: Runtime, lease_seconds: float) -> StatesFor:
    """Sweep states per account in the hub's table."""
    hub_account = (hub.hub or hub).scope.account

    def states_for(account: str) -> SweepStates:
        return SweepStates(hub.clients.dynamodb, hub.settings.table_name,
                           lease_seconds=lease_seconds,
                           namespace=account_namespace(account, hub_account))

    return states_for
