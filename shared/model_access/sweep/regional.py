"""An account's served regions: one runtime per region for the tag index, one reconcile.

IAM and the grant store are per account, SageMaker and its tag index per region. The sweep,
`plan` and `verify` list each region's tag index through that region's runtime, then hand
the account's whole work to one reconciler, which reads each model in its own region
(`runtime._span_regions`): a role is planned and written once for its models of every
region, as the provisioner does for a batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from model_access.aws.models import ModelTruth
from model_access.core.arns import ResourceKey
from model_access.engine.results import Report
from model_access.model.events import ModelHint
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
    """One reconcile of the account's hints of every region in `runtimes`, by the first
    runtime's reconciler (with several served regions it reads each model in its own:
    runtime._span_regions), so a role is planned and written once for all its regions."""
    first = next(iter(runtimes.values()))
    return first.reconciler.reconcile(hints, dry_run=dry_run, truths=truths,
                                      extra_roles=roles, drift=drift, progress=progress)
