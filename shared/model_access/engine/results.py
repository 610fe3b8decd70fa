"""What a reconcile reports: one result per model, plus each role's plan and repairs."""

from __future__ import annotations

from dataclasses import dataclass, field

from model_access.core.arns import ResourceKey
from model_access.core.outcomes import Outcome
from model_access.policy.plan import RolePlan


@dataclass(frozen=True)
class ModelResult:
    """The outcome for one model, with enough context for one log line."""

    key: ResourceKey
    outcome: Outcome
    reason: str
    model_arn: str | None = None
    owner: str | None = None
    granted_to: str | None = None
    revoked_from: tuple[str, ...] = ()
    policy: str | None = None
    retry_delay: int | None = None
    """For a retry: seconds until the record should come back (a busy role: soon, jittered)."""


@dataclass
class Report:
    """Everything one reconcile decided and did (or, in a dry run, would do)."""

    results: dict[ResourceKey, ModelResult] = field(default_factory=dict)
    role_plans: dict[str, RolePlan] = field(default_factory=dict)
    repairs: list[tuple[str, str]] = field(default_factory=list)
    dry_run: bool = False

    def merge(self, other: Report) -> None:
        self.results.update(other.results)
        self.role_plans.update(other.role_plans)
        self.repairs += other.repairs

