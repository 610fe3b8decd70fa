"""Backfill and drift sweep of one account: bring every grant in line, from an empty or
drifted state (`sweep_accounts.py` runs it for every served account).

Cost follows the models that matter, not the account (`sweep_units.collect`: the tag index
of each served region, the grant store, the tool's policies).

The work is sorted by role and cut into chunks that end at a role boundary (so a role is
written once per run), sized from the measured cost of the chunks before (persisted), and
the run's cursor is saved after every chunk: a continuation, a retry or a crash resumes
where the last chunk ended (see aws/sweep_state.py for how one run never forks in two).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from model_access.aws.sweep_state import SweepState, SweepStates
from model_access.core.outcomes import Kind, Outcome
from model_access.engine.results import Report
from model_access.policy.inventory import PolicyFinding
from model_access.runtime import Runtime
from model_access.sweep.regional import reconcile_regions, region_runtimes
from model_access.sweep.units import Unit, collect

DEFAULT_CHUNK: Final = 25_000
"""Most models reconciled at once: a bigger chunk writes each role fewer times."""
FIRST_CHUNK: Final = 500
"""Chunk size before any chunk of the run has been timed."""
Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total)."""


@dataclass
class BackfillResult:
    """Counts for the caller (and the Lambda's response), plus the full report."""

    dry_run: bool
    run_id: str = ""
    seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    continuation: dict[str, Any] | None = None
    report: Report = field(default_factory=Report)
    findings: list[PolicyFinding] = field(default_factory=list)
    chunks: int = 0
    chunks_over_deadline: int = 0
    claimed: bool = True
    totals: dict[str, int] = field(default_factory=dict)
    """Outcome counts of the whole run so far (`counts` are this slice's)."""

    def as_dict(self) -> dict[str, Any]:
        by_kind = {k.value: 0 for k in Kind}
        for name, n in self.counts.items():
            by_kind[Outcome(name).kind.value] += n
        findings: dict[str, int] = {}
        for finding in self.findings:
            findings[finding.kind] = findings.get(finding.kind, 0) + 1
        return {
            "dryRun": self.dry_run,
            "runId": self.run_id,
            "seen": self.seen,
            "granted": self.counts.get(Outcome.GRANTED.value, 0),
            "moved": self.counts.get(Outcome.MOVED.value, 0),
            "revoked": self.counts.get(Outcome.REVOKED.value, 0),
            "repaired": self.counts.get(Outcome.REPAIRED.value, 0),
            "unchanged": self.counts.get(Outcome.UNCHANGED.value, 0),
            "refused": by_kind[Kind.REFUSAL.value],
            "failed": by_kind[Kind.FAILURE.value],
            "outcomes": dict(sorted(self.counts.items())),
            "policyFindings": dict(sorted(findings.items())),
            "chunks": self.chunks,
            "runTotals": dict(sorted(self.totals.items())),
            "continuation": self.continuation,
        }


class Backfill:
    """Runs the sweep of one account against its Runtime; `run` is resumable from a
    continuation. The account's every served region is swept (its tag index there, its
    models reconciled there), or only `regions` when given."""

    def __init__(self, runtime: Runtime, *, chunk_models: int = DEFAULT_CHUNK,
                 progress: Progress | None = None, states: SweepStates | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 regions: Sequence[str] | None = None) -> None:
        self.rt = runtime
        self.regions = regions
        self.runtimes: dict[str, Runtime] = {}
        self.chunk = chunk_models
        self.progress = progress or (lambda _phase, _done, _total: None)
        self.states = states
        self.clock = clock
        self.dry_run = False

    def run(
        self,
        *,
        dry_run: bool = False,
        continuation: dict[str, Any] | None = None,
        time_left: Callable[[], float] = lambda: float("inf"),
        reserve_seconds: float = 60.0,
        run_id: str | None = None,
    ) -> BackfillResult:
        run_id = str((continuation or {}).get("runId") or run_id or uuid.uuid4().hex[:12])
        self.dry_run = dry_run
        self.runtimes = region_runtimes(self.rt, self.regions)  # MemberUnavailable: no claim
        result = BackfillResult(dry_run, run_id)
        owner = uuid.uuid4().hex
        state = SweepState(run_id)
        if self.states is not None and not dry_run:
            claimed = self.states.claim(run_id, owner)
            if claimed is None:  # another invocation holds the run, or it is finished
                result.claimed = False
                return result
            state = claimed
        try:
            return self._sweep(result, state, owner, time_left, reserve_seconds)
        except Exception:
            self._release(run_id, owner)  # a retry of this slice resumes at the cursor
            raise

    def _sweep(self, result: BackfillResult, state: SweepState, owner: str,
               time_left: Callable[[], float], reserve_seconds: float) -> BackfillResult:
        carried, carried_seen = dict(state.counts), state.seen  # earlier slices of the run
        units, drift, result.findings = collect(self.rt, result.run_id, self._progress_listing,
                                                regions=self.runtimes)
        if self.regions is not None:  # asked for some regions: the others' models stay out
            units = [u for u in units if u.key is None or u.key.region in self.runtimes]
        todo = [u for u in units if u.order > state.cursor] if state.cursor else units
        done_units = len(units) - len(todo)
        while todo:
            size = self._chunk_size(state, time_left, reserve_seconds)
            if size <= 0:
                result.continuation = {"runId": result.run_id}
                self._save(state, owner, advance=True)
                return result
            chunk, todo = _cut(todo, size)
            started = self.clock()
            self._reconcile(result, chunk, self.dry_run, drift)
            elapsed = self.clock() - started
            result.chunks += 1
            if time_left() < 0:
                result.chunks_over_deadline += 1
            done_units += len(chunk)
            self.progress("reconciling", done_units, len(units))
            totals = {k: carried.get(k, 0) + result.counts.get(k, 0)
                      for k in set(carried) | set(result.counts)}
            result.totals = totals
            state = replace(state, cursor=chunk[-1].order, counts=totals,
                            seen=carried_seen + result.seen,
                            seconds_per_model=max(elapsed / len(chunk), 1e-6))
            self._save(state, owner)
        self._save(state, owner, done=True)
        return result

    def _progress_listing(self, done: int) -> None:
        self.progress("listing tagged models", done, None)

    # --- doing it ---------------------------------------------------------------------

    def _chunk_size(self, state: SweepState, time_left: Callable[[], float],
                    reserve: float) -> int:
        """How many units fit the time left, from the measured cost per unit."""
        left = time_left() - reserve
        if left <= 0:
            return 0
        if not state.seconds_per_model:
            return self.chunk if left == float("inf") else min(self.chunk, FIRST_CHUNK)
        return min(self.chunk, int(left / state.seconds_per_model))

    def _reconcile(self, result: BackfillResult, chunk: list[Unit], dry_run: bool,
                   drift: dict[str, dict[int, str]]) -> None:
        hints = [u.hint for u in chunk if u.hint is not None]
        truths = {u.key: u.truth for u in chunk if u.key is not None and u.truth is not None}
        roles = [u.role for u in chunk if u.role is not None]
        report = reconcile_regions(
            self.runtimes, hints, truths, dry_run=dry_run, roles=roles,
            drift={r.lower(): drift[r.lower()] for r in roles if r.lower() in drift},
            progress=lambda done, total: self.progress("reconciling role groups", done, total))
        result.seen += len(hints)
        for model_result in report.results.values():
            _count(result, model_result.outcome)
        for _role, _repair in report.repairs:
            _count(result, Outcome.REPAIRED)
        result.report.merge(report)

    def _release(self, run_id: str, owner: str) -> None:
        """Hand the run back after a failure (best effort: else its claim expires)."""
        if self.states is None or self.dry_run:
            return
        try:
            self.states.release(run_id, owner)
        except Exception:
            return

    def _save(self, state: SweepState, owner: str, *, advance: bool = False,
              done: bool = False) -> None:
        if self.states is not None and not self.dry_run:
            self.states.save(state, owner, advance=advance, done=done)


def _cut(units: list[Unit], size: int) -> tuple[list[Unit], list[Unit]]:
    """The first `size` units, extended to the end of the last one's role (order key)."""
    end = min(max(size, 1), len(units))
    while end < len(units) and units[end].order == units[end - 1].order:
        end += 1
    return units[:end], units[end:]


def _count(result: BackfillResult, outcome: Outcome) -> None:
    result.counts[outcome.value] = result.counts.get(outcome.value, 0) + 1

