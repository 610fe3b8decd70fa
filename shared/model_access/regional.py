"""An account's served regions: one runtime per region, and a sweep's work split by region.

IAM and the grant store are per account, SageMaker and its tag index per region, and a
reconciler acts in one region (it refuses other regions' models as ForeignModel). So the
sweep, `plan` and `verify` look at an account through one runtime per served region: each
region's models go to that region's reconciler, and the roles with no model in view (drift
repairs, policies of deleted roles: IAM is global) to the first one's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace

from model_access.arns import ResourceKey
from model_access.aws.models import ModelTruth
from model_access.events import ModelHint
from model_access.plan import RolePlan
from model_access.results import Report
from model_access.runtime import Runtime

Progress = Callable[[int, int], None]


def region_runtimes(rt: Runtime, regions: Sequence[str] | None = None) -> dict[str, Runtime]:
    """`rt`'s account in each of `regions` (default: every served region), `rt`'s own region
    first when it is one of them. Raises what `Runtime.for_origin` raises."""
    wanted = list(dict.fromkeys(regions or rt.settings.served_regions))
    if rt.scope.region in wanted:
        wanted.remove(rt.scope.region)
        wanted.insert(0, rt.scope.region)
    account = rt.scope.account
    return {region: rt if region == rt.scope.region else rt.for_origin(account, region)
            for region in wanted}


def reconcile_regions(
    runtimes: Mapping[str, Runtime],
    hints: Sequence[ModelHint],
    truths: Mapping[ResourceKey, ModelTruth],
    *,
    dry_run: bool,
    roles: Iterable[str] = (),
    drift: Mapping[str, Mapping[int, str]] | None = None,
    progress: Progress | None = None,
) -> Report:
    """Reconcile each region's hints with its runtime (a hint of a region not in `runtimes`
    goes to the first, which reports it as ForeignModel); `roles` and `drift` go with the
    first. One report: results by key (keys name their region), role plans merged."""
    first = next(iter(runtimes))
    by_region: dict[str, list[ModelHint]] = {region: [] for region in runtimes}
    for hint in hints:
        by_region[hint.key.region if hint.key.region in runtimes else first].append(hint)
    merged = Report(dry_run=dry_run)
    for region, runtime in runtimes.items():
        extra = list(roles) if region == first else []
        if not by_region[region] and not extra:
            continue
        wanted = {h.key for h in by_region[region]}
        report = runtime.reconciler.reconcile(
            by_region[region], dry_run=dry_run,
            truths={k: t for k, t in truths.items() if k in wanted},
            extra_roles=extra, drift=drift if region == first else None, progress=progress)
        merged.results.update(report.results)
        merged.repairs += report.repairs
        for key, plan in report.role_plans.items():
            earlier = merged.role_plans.get(key)
            merged.role_plans[key] = plan if earlier is None else merge_plans(earlier, plan)
    return merged


def merge_plans(first: RolePlan, second: RolePlan) -> RolePlan:
    """One role planned by two regions' reconciles: both regions' changes and writes."""
    return replace(second, ops=first.ops + second.ops, added=first.added | second.added,
                   removed=first.removed | second.removed,
                   unplaced=first.unplaced | second.unplaced,
                   repairs=first.repairs + second.repairs)
