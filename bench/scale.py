"""Scale benchmarks of the reconcile engine (issue 9): cost follows the models that matter.

- `calls_per_untagged_model`: a sweep on a moto server over N models, 90 % of them without
  an owner tag, minus the same sweep over the tagged models alone, per untagged model.
- `cpu_growth_100k_vs_10k`: CPU seconds per model of `Reconciler.reconcile` over every model
  of an account (90 % untagged) on in-memory adapters, at 100,000 models over 10,000 (median
  of three interleaved pairs after a warm-up; again with the garbage collector paused).
- `backfill_100k`: the backfill function's sweep over 100,000 models (90 % untagged, 1,000
  owner roles) on in-memory adapters with stated per-call latencies, driven through its
  continuations on a simulated 900 s Lambda clock: chunks that ran past the deadline, IAM
  writes per tool policy, and whether every owner ended with exactly their models.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from bench.harness import ACCOUNT, REGION, fresh_aws
from bench.memory import Account, Latency, Sim, granted, memory_runtime, owner_of

TRUST = ('{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":'
         '"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}')
ELIGIBLE = [{"Key": "model-access:eligible", "Value": "true"}]


def _moto_sweep_calls(models: int, tagged_share: float, roles_n: int) -> tuple[int, int, int]:
    """(AWS calls of one sweep, tagged models, untagged models) on a fresh moto server."""
    from moto.sagemaker.models import sagemaker_backends

    from model_access.aws.clients import Clients
    from model_access.runtime import build_runtime
    from model_access.sweep.backfill import Backfill

    with fresh_aws() as aws:
        roles = [f"owner-{i:04d}" for i in range(roles_n)]
        for role in roles:
            aws.clients.iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST,
                                        Tags=ELIGIBLE)
        backend = sagemaker_backends[ACCOUNT][REGION]
        every = round(1 / tagged_share)
        tagged = 0
        for i in range(models):
            owner = roles[(i // every) % roles_n] if i % every == 0 else None
            tagged += owner is not None
            backend.create_model(
                model_name=f"model-{i:06d}", execution_role_arn=f"arn:aws:iam::{ACCOUNT}:role/x",
                primary_container={"Image": "img"}, vpc_config=None, containers=None,
                tags=[{"Key": "owner-role", "Value": owner}] if owner else [])
        env = {"AWS_REGION": REGION, "MODEL_ACCESS_ACCOUNT_ID": ACCOUNT}
        runtime = build_runtime(env, clients=Clients(region=REGION, endpoint_url=aws.url))
        counter = runtime.clients.counter
        counter.reset()
        Backfill(runtime).run()
        return counter.total(), tagged, models - tagged


def calls_per_untagged_model(models: int, roles_n: int) -> dict[str, Any]:
    """Sweep calls with 90 % untagged models, minus the same sweep of the tagged ones only."""
    tagged_models = models // 10
    with_untagged, tagged, untagged = _moto_sweep_calls(models, 0.1, roles_n)
    alone, tagged_alone, _ = _moto_sweep_calls(tagged_models, 1.0, roles_n)
    extra = with_untagged - alone
    return {"models": models, "tagged": tagged, "untagged": untagged, "roles": roles_n,
            "calls_with_untagged": with_untagged, "calls_tagged_only": alone,
            "tagged_only_models": tagged_alone,
            "calls_per_untagged_model": round(max(extra, 0) / max(untagged, 1), 4)}


def _account(models: int, roles_n: int) -> Account:
    from model_access.core.arns import Scope

    acct = Account(Scope("aws", REGION, ACCOUNT))
    roles = [f"owner-{i:04d}" for i in range(roles_n)]
    for role in roles:
        acct.add_role(role)
    for i in range(models):
        acct.add_model(f"model-{i:06d}", roles[(i // 10) % roles_n] if i % 10 == 0 else None)
    return acct


def cpu_per_model(models: int) -> float:
    """CPU seconds per model of one reconcile over every model of the account."""
    from model_access.model.events import ModelHint, Trigger

    acct = _account(models, max(1, models // 100))
    sim = Sim(Latency(0, 0, 0))
    rt = memory_runtime(acct, sim)
    hints = [ModelHint(Trigger.RECONCILE, "bench", str(t.name), REGION, model_arn=t.arn)
             for t in acct.models.values()]
    # What the process holds before the reconcile (the simulated account, which stands in
    # for AWS's side, moto's state and the earlier scenarios of the bench) is not the
    # engine's heap: a Lambda container does not hold it. It is frozen out of the cyclic
    # collector's walks for the timing; the collector stays on for everything the
    # reconcile itself allocates.
    gc.collect()
    gc.freeze()
    try:
        started = time.process_time()
        rt.reconciler.reconcile(hints)
        return (time.process_time() - started) / models
    finally:
        gc.unfreeze()


def cpu_growth(small: int, large: int, *, repeats: int = 1,
               without_gc: bool = False) -> dict[str, Any]:
    """Per-model CPU at both sizes: one warm-up run (one-time costs: imports, caches), then
    `repeats` interleaved pairs, the medians compared (every sample is reported). With
    `without_gc`, the same again with the interpreter's cyclic garbage collector paused (a
    report: it tells the engine's own growth from the collector's, whose collections walk
    the objects the reconcile keeps alive; see `cpu_per_model` for what is frozen out)."""
    cpu_per_model(small)
    out: dict[str, Any] = {"small_models": small, "large_models": large, "repeats": repeats,
                           **_pairs(small, large, repeats)}
    if without_gc:
        gc.collect()
        gc.disable()
        try:
            out["without_gc"] = _pairs(small, large, repeats)
        finally:
            gc.enable()
    return out


def _pairs(small: int, large: int, repeats: int) -> dict[str, Any]:
    pairs = [(cpu_per_model(small), cpu_per_model(large)) for _ in range(repeats)]
    small_cpu = statistics.median(p[0] for p in pairs)
    large_cpu = statistics.median(p[1] for p in pairs)
    return {"cpu_us_per_model_small": round(small_cpu * 1e6, 2),
            "cpu_us_per_model_large": round(large_cpu * 1e6, 2),
            "samples_us": [[round(a * 1e6, 1), round(b * 1e6, 1)] for a, b in pairs],
            "cpu_growth": round(large_cpu / small_cpu, 3)}


def backfill_through_continuations(models: int, roles_n: int,
                                   latency: Latency | None = None) -> dict[str, Any]:
    """The backfill function's slices on a simulated 900 s clock, until the run is done."""
    from bench.memory import FakeStates
    from model_access.sweep.backfill import Backfill

    latency = latency or Latency()
    acct = _account(models, roles_n)
    sim = Sim(latency)
    rt = memory_runtime(acct, sim)
    states = FakeStates(acct, sim)
    continuation: dict[str, Any] | None = None
    invocations = chunks = over = 0
    started_real = time.perf_counter()
    while True:
        invocations += 1
        start = sim.now

        def time_left(start: float = start) -> float:
            return 900.0 - (sim.now - start)

        result = Backfill(rt, states=states, clock=sim.clock).run(  # type: ignore[arg-type]
            continuation=continuation, time_left=time_left, reserve_seconds=90.0,
            run_id="bench")
        chunks += result.chunks
        over += result.chunks_over_deadline
        if sim.now - start > 900:
            over += 1
        if result.continuation is None or invocations > 1000:
            break
        continuation = result.continuation
    expected: dict[str, set[str]] = {}
    for arn, role in owner_of(acct).items():
        expected.setdefault(role, set()).add(arn)
    policies = len(acct.policies)
    writes = sim.iam_writes()
    return {
        "models": models, "roles": roles_n, "latency_seconds": vars(latency),
        "invocations": invocations, "chunks": chunks, "chunks_over_deadline": over,
        "simulated_seconds": round(sim.now - 1_000_000.0, 1),
        "iam_writes": writes, "policies": policies,
        "iam_writes_per_policy": round(writes / policies, 3) if policies else None,
        "every_owner_exact": granted(acct) == expected,
        "real_seconds": round(time.perf_counter() - started_real, 1),
    }


def run(quick: bool, step: Any) -> dict[str, Any]:
    """Every scale figure (`results["scale"]`); quick sizes are a tenth or less."""
    sweep_models, small, large = (500, 2000, 20_000) if quick else (10_000, 10_000, 100_000)
    backfill_models, backfill_roles = (10_000, 100) if quick else (100_000, 1000)
    step(f"scale: sweep of {sweep_models:,} models (90 % untagged) on moto, twice")
    calls = calls_per_untagged_model(sweep_models, 20)
    repeats = 1 if quick else 3
    step(f"scale: reconcile CPU per model at {small:,} and {large:,} models (in memory, "
         f"median of {repeats}; what the process held before each reconcile frozen out of "
         "the collector)" + ("" if quick else "; again with the garbage collector paused"))
    growth = cpu_growth(small, large, repeats=repeats, without_gc=not quick)
    latency = Latency(read=0.05, write=0.05, iam_write=0.3)  # chosen, not AWS figures
    step(f"scale: backfill of {backfill_models:,} models through its continuations "
         f"(in memory, simulated 900 s clock, latency {vars(latency)} s)")
    backfill = backfill_through_continuations(backfill_models, backfill_roles, latency)
    return {
        "calls_per_untagged_model": calls["calls_per_untagged_model"],
        "cpu_growth_100k_vs_10k": growth["cpu_growth"],
        "cpu_growth_100k_vs_10k_without_gc": growth.get("without_gc", {}).get("cpu_growth"),
        "backfill_100k_chunks_over_deadline": backfill["chunks_over_deadline"],
        "backfill_100k_iam_writes_per_policy": backfill["iam_writes_per_policy"],
        "backfill_100k_every_owner_exact": backfill["every_owner_exact"],
        "sweep": calls, "cpu": growth, "backfill_100k": backfill,
    }


def goals(scale: dict[str, Any] | None) -> list[Any]:
    """The scale rows of the goal table."""
    from bench.report import Goal, _at_most

    if not scale:
        return []
    exact = scale["backfill_100k_every_owner_exact"]
    return [
        _at_most("scale: AWS calls per untagged model in a sweep", 0.1,
                 scale["calls_per_untagged_model"]),
        _at_most("scale: reconcile CPU per model, 100k / 10k models", 1.3,
                 scale["cpu_growth_100k_vs_10k"], unit="x"),
        *([Goal("scale: the same with the garbage collector paused (the engine's own growth)",
                "(report)", f"{scale['cpu_growth_100k_vs_10k_without_gc']}x", None)]
          if scale.get("cpu_growth_100k_vs_10k_without_gc") is not None else []),
        _at_most("scale: backfill of 100k models, chunks past the 900 s deadline", 0,
                 scale["backfill_100k_chunks_over_deadline"]),
        _at_most("scale: backfill of 100k models, IAM writes per tool policy", 2,
                 scale["backfill_100k_iam_writes_per_policy"]),
        Goal("scale: backfill of 100k models, every owner holds exactly its models",
             "yes", "yes" if exact else "no", bool(exact)),
    ]
