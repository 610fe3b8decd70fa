"""Backfill and drift sweep: bring every model's grant in line, from an empty or drifted state.

Three phases, all feeding the one reconcile path:
1. tool policies: list our policies (cheap: no documents) to find detached ones and ones
   whose role is gone;
2. models: page through ListModels and reconcile in chunks (a chunk holds all models of
   many roles, so each role is written once per chunk: from an empty state that is one
   create and one attach per policy);
3. orphans: every ARN in a tool policy or a record that phase 2 did not see (deleted
   models, hand edits) is reconciled too, which revokes it.
A caller with a time limit (the Lambda) gets a continuation back instead of running out.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from model_access.arns import ModelKey, parse_model_arn
from model_access.events import ModelHint, Trigger
from model_access.naming import parse_policy_name
from model_access.outcomes import Kind, Outcome
from model_access.results import Report
from model_access.runtime import Runtime

DEFAULT_CHUNK: Final = 25_000
"""Most models reconciled at once: a bigger chunk writes each role fewer times."""
PAGE_SIZE: Final = 100
FIRST_SECONDS_PER_MODEL: Final = 0.01
"""Reconcile cost assumed before the first chunk has been timed (AWS measures ~1-5 ms)."""
Progress = Callable[[str, int, int | None], None]
"""progress(phase, done, total): `total` is None while listing (ListModels gives no count)."""


@dataclass
class BackfillResult:
    """Counts for the caller (and the Lambda's response), plus the full report."""

    dry_run: bool
    seen: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    continuation: dict[str, Any] | None = None
    report: Report = field(default_factory=Report)

    def as_dict(self) -> dict[str, Any]:
        by_kind = {k.value: 0 for k in Kind}
        for name, n in self.counts.items():
            by_kind[Outcome(name).kind.value] += n
        return {
            "dryRun": self.dry_run,
            "seen": self.seen,
            "granted": self.counts.get(Outcome.GRANTED.value, 0),
            "moved": self.counts.get(Outcome.MOVED.value, 0),
            "revoked": self.counts.get(Outcome.REVOKED.value, 0),
            "repaired": self.counts.get(Outcome.REPAIRED.value, 0),
            "unchanged": self.counts.get(Outcome.UNCHANGED.value, 0),
            "refused": by_kind[Kind.REFUSAL.value],
            "failed": by_kind[Kind.FAILURE.value],
            "outcomes": dict(sorted(self.counts.items())),
            "continuation": self.continuation,
        }


class Backfill:
    """Runs the three phases against a Runtime; `run` is resumable from a continuation."""

    def __init__(self, runtime: Runtime, *, chunk_models: int = DEFAULT_CHUNK,
                 progress: Progress | None = None) -> None:
        self.rt = runtime
        self.chunk = chunk_models
        self.progress = progress or (lambda _phase, _done, _total: None)

    def run(
        self,
        *,
        dry_run: bool = False,
        continuation: dict[str, Any] | None = None,
        time_left: Callable[[], float] = lambda: float("inf"),
        reserve_seconds: float = 60.0,
    ) -> BackfillResult:
        result = BackfillResult(dry_run)
        run_id = (continuation or {}).get("runId") or uuid.uuid4().hex[:12]
        unattached = self._sweep_policies(result, dry_run)
        phase = (continuation or {}).get("phase", "models")
        seen: set[ModelKey] | None = set() if continuation is None else None
        if phase == "models":
            token = (continuation or {}).get("token")
            token = self._models(result, dry_run=dry_run, token=token, unattached=unattached,
                                 seen=seen, time_left=time_left, reserve=reserve_seconds,
                                 run_id=run_id)
            if token is not None:
                result.continuation = {"phase": "models", "token": token, "runId": run_id}
                return result
        self._orphans(result, dry_run, unattached, seen, run_id)
        return result

    # --- phases ----------------------------------------------------------------------

    def _sweep_policies(self, result: BackfillResult, dry_run: bool) -> dict[str, tuple[str, ...]]:
        """Map role -> its detached tool policies; delete policies whose role is gone."""
        unattached: dict[str, list[str]] = {}
        role_exists: dict[str, bool] = {}
        for name, arn, attachments in self.rt.iam.list_tool_policies():
            parsed = parse_policy_name(self.rt.settings.policy_name_prefix, name)
            if parsed is None:
                continue
            role = parsed.role_name
            if role.lower() not in role_exists:
                role_exists[role.lower()] = self.rt.iam.get_role(role) is not None
            if not role_exists[role.lower()]:
                if self.rt.iam.read_tool_policy(role, name, attached=False) is None:
                    continue  # not ours after all (no managed-by tag): never touched
                if not dry_run:
                    self.rt.iam.delete_policy(arn)
                result.report.repairs.append((role, f"{name}: role is gone; policy deleted"))
                self._count(result, Outcome.REPAIRED)
            elif attachments == 0:
                unattached.setdefault(role.lower(), []).append(name)
        return {role: tuple(names) for role, names in unattached.items()}

    def _models(
        self,
        result: BackfillResult,
        *,
        dry_run: bool,
        token: str | None,
        unattached: dict[str, tuple[str, ...]],
        seen: set[ModelKey] | None,
        time_left: Callable[[], float],
        reserve: float,
        run_id: str,
    ) -> str | None:
        """Page through ListModels, reconciling a chunk at a time; a token if time ran out."""
        chunk: list[ModelHint] = []
        per_model = FIRST_SECONDS_PER_MODEL
        while True:
            page, token = self.rt.models.list_models(token, PAGE_SIZE)
            for model in page:
                parsed = parse_model_arn(model.arn)
                region = parsed.region if parsed else self.rt.scope.region
                chunk.append(ModelHint(Trigger.RECONCILE, f"backfill-{run_id}", model.name,
                                       region, model_arn=model.arn))
            result.seen += len(page)
            self.progress("listing models", result.seen, None)
            # Reconcile while the chunk still fits the time left (its cost is estimated from
            # the last chunk), so the Lambda never dies mid-chunk near its deadline.
            affordable = (time_left() - reserve) / per_model
            out_of_time = len(chunk) + PAGE_SIZE > affordable
            if len(chunk) >= self.chunk or token is None or out_of_time:
                started = time.monotonic()
                self._reconcile(result, chunk, dry_run, unattached, seen)
                if chunk:
                    per_model = max(per_model, (time.monotonic() - started) / len(chunk))
                chunk = []
            if token is None:
                return None
            if time_left() - reserve < per_model * PAGE_SIZE:
                return token

    def _orphans(
        self,
        result: BackfillResult,
        dry_run: bool,
        unattached: dict[str, tuple[str, ...]],
        seen: set[ModelKey] | None,
        run_id: str,
    ) -> None:
        """Reconcile every model a tool policy or a record names but ListModels did not show."""
        hints: dict[ModelKey, ModelHint] = {}
        for name, _arn, _attachments in self.rt.iam.list_tool_policies():
            parsed = parse_policy_name(self.rt.settings.policy_name_prefix, name)
            if parsed is None:
                continue
            policy = self.rt.iam.read_tool_policy(parsed.role_name, name, attached=True)
            for arn in policy.model_arns if policy else ():
                model = parse_model_arn(arn)
                if model and (seen is None or model.key not in seen):
                    hints.setdefault(model.key, ModelHint(
                        Trigger.RECONCILE, f"sweep-{run_id}", model.name, model.region,
                        model_arn=arn))
        for record in self.rt.records.scan():
            if record.holders and (seen is None or record.key not in seen):
                recorded = parse_model_arn(record.model_arn) if record.model_arn else None
                name = recorded.name if recorded else record.key.name_lower
                hints.setdefault(record.key, ModelHint(
                    Trigger.RECONCILE, f"sweep-{run_id}", name, record.key.region))
        if hints:
            self._reconcile(result, list(hints.values()), dry_run, unattached, None)

    def _reconcile(
        self,
        result: BackfillResult,
        hints: list[ModelHint],
        dry_run: bool,
        unattached: dict[str, tuple[str, ...]],
        seen: set[ModelKey] | None,
    ) -> None:
        if not hints:
            return
        report = self.rt.reconciler.reconcile(
            hints, dry_run=dry_run, unattached=unattached,
            progress=lambda done, total: self.progress("reconciling role groups", done, total),
        )
        for key, model_result in report.results.items():
            self._count(result, model_result.outcome)
            if seen is not None:
                seen.add(key)
        for _role, _repair in report.repairs:
            self._count(result, Outcome.REPAIRED)
        result.report.merge(report)

    @staticmethod
    def _count(result: BackfillResult, outcome: Outcome) -> None:
        result.counts[outcome.value] = result.counts.get(outcome.value, 0) + 1

