"""The measurements of issue 6, one function each; every number comes from a run, none is assumed.

Designs compared on identical inputs, each on its own fresh moto server (same process, same
machine, same run): `ours` is the real provisioner Lambda module (functions/provisioner/app.py,
through Powertools' decorators) or the real `Backfill`; `baseline` is bench/baseline.py.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from bench.baseline import BASELINE_PATH, NaiveProvisioner
from bench.harness import (
    ACCOUNT,
    OWNER_TAG,
    PROVISIONER_ROLE,
    REGION,
    Aws,
    call_delta,
    expected_grants,
    fresh_aws,
    missing_grants,
    model_name,
)
from model_access_cli.local.poller import PollStats

if TYPE_CHECKING:
    from bench.latency import CallTrace

REPO: Final = Path(__file__).resolve().parents[1]
OUR_PATH: Final = "/model-access/"
DEFAULT_QUOTA: Final = 10
MAX_QUOTA: Final = 20
ACCOUNT_POLICY_QUOTA: Final = 1500
"""Customer managed policies per account (IAM default; adjustable)."""


@dataclass(frozen=True)
class Sizes:
    """How big each scenario is; `quick` shrinks them, the code paths stay the same."""

    burst_events: int
    burst_roles: int
    batch_size: int
    window_seconds: float
    plot_sizes: tuple[int, ...]
    delete_every: int
    backfill_models: int
    backfill_roles: int
    single_events: int
    single_roles: int
    capacity_confirm_models: int
    capacity_confirm_level: str
    cold_runs: int
    plan_models: int
    plan_repeats: int
    latency_check_events: int
    latency_check_roles: int
    burst_repeats: int = 0
    """More baseline/ours pairs of the main burst, timing only: the wall ratio is the
    median over every pair (the machine's speed drifts between two runs minutes apart)."""


FULL: Final = Sizes(burst_events=2000, burst_roles=20, batch_size=500, window_seconds=5.0,
                    plot_sizes=(100, 250), delete_every=10,
                    backfill_models=10_000, backfill_roles=100, single_events=200,
                    single_roles=20, capacity_confirm_models=600,
                    capacity_confirm_level="manage", cold_runs=10, plan_models=500,
                    plan_repeats=300, latency_check_events=60, latency_check_roles=6,
                    burst_repeats=2)
QUICK: Final = Sizes(burst_events=150, burst_roles=10, batch_size=50, window_seconds=0.5,
                     plot_sizes=(), delete_every=10, backfill_models=120, backfill_roles=10,
                     single_events=10, single_roles=5, capacity_confirm_models=180,
                     capacity_confirm_level="deploy", cold_runs=1, plan_models=500,
                     plan_repeats=30, latency_check_events=4, latency_check_roles=2)
"""Smaller sizes, the same code paths: every scenario runs, goals are only meaningful in FULL
(batches of 50 over 10 roles cannot show what batches of 500 do)."""


def role_names(n: int, prefix: str = "ds-team") -> list[str]:
    return [f"{prefix}-{r:03d}" for r in range(n)]


def round_robin(models: int, roles: list[str], length: int = 40, start: int = 0) -> dict[str, str]:
    """model name -> owner, interleaved across roles (models of a team are created over time)."""
    return {model_name(start + i, length): roles[i % len(roles)] for i in range(models)}


# --- the two designs, as the event source mapping sees them -------------------------------


class Design:
    """A handler the poller can call, and the call counter of the function's own clients."""

    label: str
    path: str

    def handler(self, event: dict[str, Any], context: Any) -> Any:
        raise NotImplementedError

    def calls(self) -> dict[str, int]:
        raise NotImplementedError


class Ours(Design):
    """The real provisioner Lambda module, loaded fresh for each server (its runtime is cached)."""

    label, path = "model-access", OUR_PATH

    def __init__(self) -> None:
        from model_access_cli.local.lambdas import LocalInvoker, MetricTally, load_function

        self.module = load_function("provisioner")
        self.invoke = LocalInvoker(self.module, MetricTally())

    def handler(self, event: dict[str, Any], context: Any) -> Any:
        return self.invoke(event, context)

    def calls(self) -> dict[str, int]:
        runtime = getattr(self.module, "_runtime", None)
        return runtime.clients.counter.snapshot() if runtime is not None else {}


class Baseline(Design):
    label, path = "baseline", BASELINE_PATH

    def __init__(self, aws: Aws) -> None:
        from model_access.aws.clients import Clients

        self.naive = NaiveProvisioner(Clients(region=REGION, endpoint_url=aws.url),
                                      aws.settings, ACCOUNT)

    def handler(self, event: dict[str, Any], context: Any) -> Any:
        return self.naive(event, context)

    def calls(self) -> dict[str, int]:
        return self.naive.clients.counter.snapshot()


def make_design(kind: str, aws: Aws) -> Design:
    return Ours() if kind == "ours" else Baseline(aws)


def iam_writes(calls: Mapping[str, int]) -> int:
    from model_access.aws.calls import is_write

    return sum(n for k, n in calls.items() if k.startswith("iam:") and is_write(k.split(":")[1]))


def totals(calls: Mapping[str, int]) -> dict[str, Any]:
    return {
        "iam_writes": iam_writes(calls),
        "iam_calls": sum(n for k, n in calls.items() if k.startswith("iam:")),
        "aws_calls": sum(calls.values()),
        "calls_by_operation": dict(sorted(calls.items())),
    }


# --- burst ---------------------------------------------------------------------------------


class _Timed:
    """Wraps a design's handler: when its last invocation returned, time spent inside it, and
    the design's IAM writes after each batch (with how many records had been delivered).

    Wall time "until every grant is in place" ends when the last batch returned, not when the
    poller has waited out one more empty batching window to notice the queue is empty.
    """

    def __init__(self, design: Design, trace: CallTrace | None = None) -> None:
        self.design = design
        self.trace = trace
        self.finished = time.perf_counter()
        self.inside = 0.0
        self.records = 0
        self.after_batch: list[tuple[int, int]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        started = time.perf_counter()
        try:
            with self.trace.window() if self.trace else nullcontext():
                return self.design.handler(event, context)
        finally:
            self.finished = time.perf_counter()
            self.inside += self.finished - started
            self.records += len(event.get("Records", []))
            self.after_batch.append((self.records, iam_writes(self.design.calls())))


def _drain(aws: Aws, design: Design, sizes: Sizes,
           trace: CallTrace | None = None) -> tuple[_Timed, PollStats, float]:
    """Deliver the queue to `design` as the event source mapping would; time until done."""
    clock = _Timed(design, trace)
    poller = aws.poller(clock, batch_size=sizes.batch_size, window_seconds=sizes.window_seconds)
    started = time.perf_counter()
    stats = poller.drain(timeout=900)
    return clock, stats, clock.finished - started


def burst(kind: str, events: int, sizes: Sizes, *, deletes: bool = False,
          trace: CallTrace | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """`events` CreateModel events over the roles, queued, then drained in ESM-like batches
    (each handler invocation of the creates is a window of `trace`, if given)."""
    with fresh_aws() as aws:
        roles = role_names(sizes.burst_roles)
        aws.roles([*roles, PROVISIONER_ROLE])
        owners = round_robin(events, roles)
        aws.models(owners)
        aws.emit(aws.create_events(owners))
        queued = aws.queue_depth()
        design = make_design(kind, aws)
        clock, stats, wall = _drain(aws, design, sizes, trace)
        calls = design.calls()
        granted = aws.grants(design.path)
        expected = expected_grants(owners, aws.arns)
        attached = aws.attached_counts(design.path)
        out: dict[str, Any] = {
            "design": design.label, "events": events, "roles": len(roles), "queued": queued,
            "wall_seconds": round(wall, 3), "handler_seconds": round(clock.inside, 3),
            **totals(calls),
            "iam_writes_after_each_batch": [{"records": r, "iam_writes": w}
                                            for r, w in clock.after_batch],
            "poller": {"batches": stats.batches, "records": stats.records,
                       "failed_records": stats.failed_records,
                       "handler_errors": stats.handler_errors,
                       "batch_size": sizes.batch_size, "window_seconds": sizes.window_seconds},
            "lost_grants": missing_grants(expected, granted),
            "left_in_queue": aws.queue_depth(),
            "policies": aws.policy_count(design.path),
            "max_attached_per_role": max(attached.values(), default=0),
            "refused_by_real_iam_quota_10": sum(max(0, n - DEFAULT_QUOTA)
                                                for n in attached.values()),
            "refused_by_real_iam_quota_20": sum(max(0, n - MAX_QUOTA) for n in attached.values()),
            "over_account_policy_quota_1500": max(0, aws.policy_count(design.path)
                                                  - ACCOUNT_POLICY_QUOTA),
            "max_policy_chars": max(aws.policy_sizes(design.path), default=0),
        }
        log(f"   {design.label:>12}: {events} events -> {out['iam_writes']} IAM writes, "
            f"{out['aws_calls']} AWS calls, {wall:.1f}s, {stats.batches} batches, "
            f"lost {out['lost_grants']}")
        if deletes:
            out["delete"] = _burst_deletes(aws, design, owners, sizes, log)
        return out


def _burst_deletes(aws: Aws, design: Design, owners: Mapping[str, str], sizes: Sizes,
                   log: Callable[[str], None]) -> dict[str, Any]:
    """Follow-up in the same run: delete every n-th model and deliver the DeleteModel events."""
    from model_access_cli.local import cloudtrail

    doomed = [name for i, name in enumerate(owners) if i % sizes.delete_every == 0]
    aws.delete_models(doomed)
    aws.emit([cloudtrail.delete_model(name) for name in doomed])
    before = design.calls()
    clock, stats, wall = _drain(aws, design, sizes)
    calls = call_delta(design.calls(), before)
    granted = aws.grants(design.path)
    gone = {aws.arns[n] for n in doomed}
    kept = {n: o for n, o in owners.items() if n not in set(doomed)}
    out = {
        "events": len(doomed), "wall_seconds": round(wall, 3),
        "handler_seconds": round(clock.inside, 3), **totals(calls),
        "not_revoked": sum(len(arns & gone) for arns in granted.values()),
        "lost_grants": missing_grants(expected_grants(kept, aws.arns), granted),
        "failed_records": stats.failed_records,
    }
    log(f"   {design.label:>12}: {len(doomed)} deletes -> {out['iam_writes']} IAM writes, "
        f"{wall:.1f}s, not revoked {out['not_revoked']}")
    return out


# --- backfill ------------------------------------------------------------------------------


def backfill(kind: str, models: int, roles_n: int, *,
             trace: CallTrace | None = None,
             log: Callable[[str], None] = print) -> dict[str, Any]:
    """Every model already exists, IAM holds nothing; run the backfill (ours: twice; the
    first run is a window of `trace`, if given)."""
    from model_access.aws.clients import Clients
    from model_access.runtime import build_runtime
    from model_access.sweep.backfill import Backfill

    with fresh_aws() as aws:
        roles = role_names(roles_n, "team")
        aws.roles([*roles, PROVISIONER_ROLE])
        owners = round_robin(models, roles)
        aws.models(owners)
        expected = expected_grants(owners, aws.arns)
        out: dict[str, Any] = {"models": models, "roles": roles_n}
        if kind == "baseline":
            naive = NaiveProvisioner(Clients(region=REGION, endpoint_url=aws.url),
                                     aws.settings, ACCOUNT)
            started = time.perf_counter()
            with trace.window() if trace else nullcontext():
                seen = naive.backfill()
            wall = time.perf_counter() - started
            out.update(design="baseline", seen=seen, wall_seconds=round(wall, 3),
                       **totals(naive.clients.counter.snapshot()),
                       policies=aws.policy_count(BASELINE_PATH),
                       lost_grants=missing_grants(expected, aws.grants(BASELINE_PATH)))
            attached = aws.attached_counts(BASELINE_PATH)
            out["refused_by_real_iam_quota_10"] = sum(max(0, n - DEFAULT_QUOTA)
                                                      for n in attached.values())
            out["over_account_policy_quota_1500"] = max(0, out["policies"]
                                                        - ACCOUNT_POLICY_QUOTA)
            log(f"   {'baseline':>12}: {models} models -> {out['iam_writes']} IAM writes, "
                f"{wall:.1f}s")
            return out
        env = {"AWS_REGION": REGION, "MODEL_ACCESS_ACCOUNT_ID": ACCOUNT,
               "MODEL_ACCESS_PROVISIONER_ROLE": PROVISIONER_ROLE}
        runtime = build_runtime(env, clients=Clients(region=REGION, endpoint_url=aws.url))
        counter = runtime.clients.counter
        started = time.perf_counter()
        with trace.window() if trace else nullcontext():
            first = Backfill(runtime).run()
        wall = time.perf_counter() - started
        calls = counter.snapshot()
        policies = aws.policy_count(OUR_PATH)
        writes = iam_writes(calls)
        out.update(design="model-access", seen=first.seen,
                   wall_seconds=round(wall, 3), **totals(calls), policies=policies,
                   iam_writes_per_policy=round(writes / policies, 3) if policies else None,
                   outcomes=dict(sorted(first.counts.items())),
                   lost_grants=missing_grants(expected, aws.grants(OUR_PATH)),
                   max_attached_per_role=max(aws.attached_counts(OUR_PATH).values(), default=0),
                   max_policy_chars=max(aws.policy_sizes(OUR_PATH), default=0))
        before = counter.snapshot()
        started = time.perf_counter()
        second = Backfill(runtime).run()
        wall2 = time.perf_counter() - started
        delta = call_delta(counter.snapshot(), before)
        out["second_run"] = {"wall_seconds": round(wall2, 3), **totals(delta),
                             "outcomes": dict(sorted(second.counts.items()))}
        log(f"   {'model-access':>12}: {models} models -> {writes} IAM writes for {policies} "
            f"policies, {wall:.1f}s; second run {out['second_run']['iam_writes']} writes, "
            f"{wall2:.1f}s")
        return out


# --- single event --------------------------------------------------------------------------


def single_events(kind: str, sizes: Sizes, log: Callable[[str], None] = print) -> dict[str, Any]:
    """One CreateModel at a time, each its own one-record SQS batch, as in quiet hours."""
    from model_access_cli.local import cloudtrail
    from model_access_cli.local.poller import LocalContext

    with fresh_aws() as aws:
        roles = role_names(sizes.single_roles)
        aws.roles([*roles, PROVISIONER_ROLE])
        design = make_design(kind, aws)
        context = LocalContext("model-access-provisioner",
                               f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:"
                               "model-access-provisioner")
        per_event: list[tuple[int, float, Counter[str]]] = []
        owners = round_robin(sizes.single_events, roles)
        for name, owner in owners.items():
            aws.models({name: owner})
            envelope = cloudtrail.envelope(
                cloudtrail.create_model(name, aws.arns[name], {OWNER_TAG: owner}))
            envelope.pop("account")  # EventBridge -> SQS bodies from moto carry no account
            event = {"Records": [cloudtrail.sqs_record(json.dumps(envelope))]}
            before = design.calls()
            started = time.perf_counter()
            answer = design.handler(event, context)
            wall = time.perf_counter() - started
            if answer and answer.get("batchItemFailures"):
                raise RuntimeError(f"{design.label}: single event failed: {answer}")
            delta = call_delta(design.calls(), before)
            per_event.append((sum(delta.values()), wall, delta))
        lost = missing_grants(expected_grants(owners, aws.arns), aws.grants(design.path))
    calls = [c for c, _, _ in per_event]
    walls = [w * 1000 for _, w, _ in per_event]
    steady = per_event[len(per_event) // 2][2]
    floors = [design_minimum(d) for _, _, d in per_event]
    excess = [c - floor for c, (_, floor) in zip(calls, floors, strict=True)]
    cases = Counter(case for case, _ in floors)
    holding = [c for c, (case, _) in zip(calls, floors, strict=True)
               if case != "first model of a role"]
    out = {
        "design": design.label, "events": len(per_event), "roles": sizes.single_roles,
        "aws_calls_p50": _percentile(calls, 50), "aws_calls_p95": _percentile(calls, 95),
        "aws_calls_min": min(calls), "aws_calls_max": max(calls),
        "aws_calls_p50_role_holding_a_policy": _percentile(holding, 50) if holding else None,
        "wall_ms_p50": round(_percentile(walls, 50), 2),
        "wall_ms_p95": round(_percentile(walls, 95), 2),
        "iam_writes_p50": _percentile([iam_writes(d) for _, _, d in per_event], 50),
        "first_event_calls": calls[0],
        "design_minimum_p50": _percentile([f for _, f in floors], 50),
        "calls_over_minimum_p50": _percentile(excess, 50),
        "calls_over_minimum_max": max(excess),
        "events_by_iam_situation": dict(cases),
        "median_event_calls_by_operation": dict(sorted(steady.items())),
        "lost_grants": lost,
    }
    log(f"   {design.label:>12}: {len(per_event)} events, calls p50 {out['aws_calls_p50']} "
        f"p95 {out['aws_calls_p95']}, wall p50 {out['wall_ms_p50']} ms p95 "
        f"{out['wall_ms_p95']} ms")
    return out


def _percentile(values: list[float] | list[int], pct: float) -> float:
    """Nearest-rank percentile (an observed value, no interpolation)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


MIN_CALLS_EXPLAINED: Final = (
    ("GetResources", "the model's current tags (the event is only a hint)"),
    ("GetRole", "the owner role exists, its path and tags (eligibility)"),
    ("BatchGetItem (consistent)", "the model record, to know every role that may hold the "
     "model (its writes are conditioned on the version read)"),
    ("PutItem (lease)", "per-role lease, so two reconciles of a role never interleave"),
    ("BatchGetItem (consistent)", "the role record under the lease: the base of the role's "
     "IAM writes"),
    ("TransactWriteItems (before IAM)", "the model's record, naming its new holder, written "
     "once in its final form before IAM (crash consistency)"),
    ("TransactWriteItems (commit)", "the role record, fenced by the lease; the same "
     "transaction gives the lease back"),
)
"""Calls every CreateModel needs whatever IAM holds (the design's fixed part)."""
MIN_IAM_CALLS: Final = {
    "first model of a role": (("ListAttachedRolePolicies", "CreatePolicy",
                               "AttachRolePolicy"), 3),
    "policy with room": (("ListPolicyVersions", "CreatePolicyVersion"), 2),
    "policy with room, versions to prune": (("ListPolicyVersions", "DeletePolicyVersion",
                                             "CreatePolicyVersion"), 3),
}
"""The IAM part: the document comes from the grant store (no IAM read); list versions so
that none the tool did not write survives and at most keep_policy_versions remain, write the
new default. Opening a policy sizes the role first (what else is attached)."""


def design_minimum(calls: Mapping[str, int]) -> tuple[str, int]:
    """Which IAM situation one event met, and the fewest calls the design needs for it."""
    fixed = len(MIN_CALLS_EXPLAINED)
    if calls.get("iam:CreatePolicy"):
        case = "first model of a role"
    elif calls.get("iam:DeletePolicyVersion"):
        case = "policy with room, versions to prune"
    else:
        case = "policy with room"
    return case, fixed + MIN_IAM_CALLS[case][1]


# --- capacity ------------------------------------------------------------------------------


def capacity_pure(max_models: int = 2000) -> dict[str, Any]:
    """Models one role can hold in 8 of 10 slots, packing real-looking ARNs one at a time."""
    from model_access.core.arns import Scope
    from model_access.core.settings import IAM_POLICY_MAX_CHARS, AccessLevel, Settings
    from model_access.model.access import profile_from_settings
    from model_access.policy.packing import pack
    from model_access.policy.plan import role_share
    from model_access.policy.render import PolicyShape, to_json

    out: dict[str, Any] = {}
    for level in AccessLevel:
        settings = Settings(access_level=level)
        shape = PolicyShape(profile_from_settings(settings), Scope("aws", REGION, ACCOUNT))
        slots = role_share(DEFAULT_QUOTA, settings.role_policy_share, 0)
        for length in (40, 63):
            current: dict[int, frozenset[str]] = {}
            held = 0
            for i in range(max_models):
                arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{model_name(i, length)}"
                result = pack(current, [arn], [], base_size=shape.base_size,
                              arn_cost=shape.arn_cost, section_of=shape.section_of,
                              budget=settings.policy_size_budget, max_slots=slots)
                if result.unplaced:
                    break
                current = dict(result.slots)
                held += 1
            biggest = max(len(to_json(shape.render(arns))) for arns in current.values())
            out[f"{level.value}_{length}char"] = {
                "models": held, "policies": len(current), "slots_allowed": slots,
                "largest_policy_chars": biggest, "limit_chars": IAM_POLICY_MAX_CHARS,
                "budget_chars": settings.policy_size_budget,
                "arn_chars": len(f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/") + length,
            }
    return out


def capacity_moto(models: int, level: str = "manage",
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """Confirm one 40-character case end to end: one role, the real reconcile path."""
    from model_access.aws.clients import Clients
    from model_access.runtime import build_runtime
    from model_access.sweep.backfill import Backfill

    with fresh_aws() as aws:
        aws.roles(["capacity-owner", PROVISIONER_ROLE])
        aws.models(round_robin(models, ["capacity-owner"]))
        env = {"AWS_REGION": REGION, "MODEL_ACCESS_ACCOUNT_ID": ACCOUNT,
               "MODEL_ACCESS_PROVISIONER_ROLE": PROVISIONER_ROLE,
               "MODEL_ACCESS_ACCESS_LEVEL": level}
        runtime = build_runtime(env, clients=Clients(region=REGION, endpoint_url=aws.url))
        result = Backfill(runtime).run()
        granted = len(aws.grants(OUR_PATH).get("capacity-owner", set()))
        out = {"level": level, "name_chars": 40, "models_created": models,
               "granted_in_iam": granted,
               "outcomes": dict(sorted(result.counts.items())),
               "attached_tool_policies": aws.attached_counts(OUR_PATH).get("capacity-owner", 0),
               "largest_policy_chars": max(aws.policy_sizes(OUR_PATH), default=0)}
    log(f"   moto ({level}): {granted} of {models} granted in "
        f"{out['attached_tool_policies']} policies; outcomes {out['outcomes']}")
    return out


# --- planning cost -------------------------------------------------------------------------


def planning(models: int, repeats: int) -> dict[str, Any]:
    """CPU time of `plan_role` (packing included) for a role holding `models` models."""
    from model_access.core.arns import Scope
    from model_access.core.settings import Settings
    from model_access.model.access import profile_from_settings
    from model_access.model.grants import RoleGrants, WrittenPolicy, document_hash
    from model_access.policy.packing import pack
    from model_access.policy.plan import plan_role, role_share
    from model_access.policy.render import PolicyShape

    settings = Settings()
    shape = PolicyShape(profile_from_settings(settings), Scope("aws", REGION, ACCOUNT))
    arns = [f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model/{model_name(i)}"
            for i in range(models + 1)]
    slots = role_share(DEFAULT_QUOTA, settings.role_policy_share, 0)
    packed = pack({}, arns[:models], [], base_size=shape.base_size, arn_cost=shape.arn_cost,
                  section_of=shape.section_of, budget=settings.policy_size_budget,
                  max_slots=slots)
    if packed.unplaced:
        raise RuntimeError(f"{models} models do not fit one role")
    written = {i: WrittenPolicy(i, f"model-access-planner-{i:02d}", f"arn:x:{i}", f"ID{i}",
                                "v1", document_hash(shape.render(a)), True, ("v1",))
               for i, a in packed.slots.items()}
    holding = RoleGrants("planner", 1, packed.slots, written)
    empty = RoleGrants("planner")

    def cpu_ms(grants: RoleGrants, add: list[str]) -> float:
        samples = []
        for _ in range(repeats):
            started = time.thread_time_ns()
            plan_role(grants, add, [], shape=shape, budget=settings.policy_size_budget,
                      max_slots=slots, name_prefix=settings.policy_name_prefix)
            samples.append((time.thread_time_ns() - started) / 1e6)
        return round(statistics.median(samples), 3)

    return {
        "models": models, "policies": len(packed.slots), "repeats": repeats,
        "ms_add_one_to_role_holding": cpu_ms(holding, [arns[models]]),
        "ms_place_all_from_empty": cpu_ms(empty, arns[:models]),
    }
