"""Run every benchmark of issue 6 in one go and write results.json, RESULTS.md, iam_writes.png.

    python -m bench.run [--quick]      (or: python bench/run.py, make bench, make bench-quick)

Each design runs on its own fresh moto server in this process, one after the other, on the
same events; ratios are baseline / model-access from this very run. Nothing is asserted: a
missed goal is reported, with by how much.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model_access.sweep.backfill import DEFAULT_CHUNK

BENCH_DIR = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, same code paths (a smoke run under a minute)")
    parser.add_argument("--out", type=Path, default=None,
                        help="directory for results.json, RESULTS.md and iam_writes.png "
                             "(default: bench/, or bench/out/ for --quick, which git ignores)")
    options = parser.parse_args(argv)
    if options.out is None:
        options.out = BENCH_DIR / "out" if options.quick else BENCH_DIR

    from bench.harness import prepare_process

    prepare_process(share_service_models=options.quick)
    from bench import report, scenarios
    from bench.cold_start import cold_start
    from bench.harness import MOTO_PATCHES
    from bench.latency import (
        IAM_WRITE_MS_SWEEP,
        IAM_WRITES_PER_SECOND,
        OTHER_MS,
        CallTrace,
    )

    sizes = scenarios.QUICK if options.quick else scenarios.FULL
    began = time.perf_counter()
    load = os.getloadavg() if hasattr(os, "getloadavg") else None

    def step(title: str) -> None:
        print(f"[{time.perf_counter() - began:6.1f}s] {title}", flush=True)

    traces: dict[str, dict[str, CallTrace]] = {"burst": {}, "backfill": {}}

    def traced(scenario: str, design: str, run: Any) -> Any:
        """Run a scenario with its calls recorded for the latency study."""
        trace = traces[scenario][design] = CallTrace()
        with trace.installed():
            return run(trace)

    step(f"burst: {sizes.burst_events} CreateModel events over {sizes.burst_roles} roles "
         f"(ESM batches of {sizes.batch_size}, window {sizes.window_seconds:g} s)")
    base_burst = traced("burst", "baseline", lambda t: scenarios.burst(
        "baseline", sizes.burst_events, sizes, deletes=True, trace=t))
    our_burst = traced("burst", "model-access", lambda t: scenarios.burst(
        "ours", sizes.burst_events, sizes, deletes=True, trace=t))
    if sizes.burst_repeats:
        step(f"burst again, {sizes.burst_repeats} more pairs (timing only; the wall ratio is "
             "the median over every pair)")
    repeats = _burst_repeats(scenarios, sizes, sizes.burst_repeats)
    step("burst sizes for the plot: "
         + (", ".join(map(str, sizes.plot_sizes)) or "none besides the main run's batches"))
    points = _burst_points(scenarios, sizes, base_burst, our_burst)

    step(f"backfill: {sizes.backfill_models:,} models over {sizes.backfill_roles} roles")
    base_backfill = traced("backfill", "baseline", lambda t: scenarios.backfill(
        "baseline", sizes.backfill_models, sizes.backfill_roles, trace=t))
    our_backfill = traced("backfill", "model-access", lambda t: scenarios.backfill(
        "ours", sizes.backfill_models, sizes.backfill_roles, trace=t))

    step(f"single events: {sizes.single_events} one-record batches")
    base_single = scenarios.single_events("baseline", sizes)
    our_single = scenarios.single_events("ours", sizes)

    step("capacity: pure packing, then one case against moto")
    capacity = scenarios.capacity_pure()
    capacity_moto = scenarios.capacity_moto(sizes.capacity_confirm_models,
                                            sizes.capacity_confirm_level)

    from bench import registry

    groups, versions = (5, 100) if options.quick else (20, 1000)
    step(f"registry: {versions} versions over {groups} granted groups (rule, queue, handler); "
         "groups per role at the default level")
    registry_burst = registry.version_burst(groups, versions, sizes)
    group_capacity = registry.group_capacity()

    from bench import org

    org_events, org_roles, org_accounts = org.quick_or_full(options.quick)
    step(f"organization: {org_events} events from {len(org_accounts)} accounts x "
         f"{len(org.REGIONS)} regions through spokes, vs one account of the same shape")
    org_burst = org.burst(org_events, org_roles, sizes, accounts=org_accounts)

    step(f"cold start: median of {sizes.cold_runs} fresh interpreters (source tree with cached "
         "bytecode; the packaged archives under the runtime's Python)")
    cold = cold_start(sizes.cold_runs, count_instructions=not options.quick)

    step(f"planning cost: role holding {sizes.plan_models} models")
    plan = scenarios.planning(sizes.plan_models, sizes.plan_repeats)

    step(f"latency study: IAM writes at {', '.join(f'{ms} ms' for ms in IAM_WRITE_MS_SWEEP)}, "
         f"other calls {OTHER_MS:g} ms, IAM writes capped at {IAM_WRITES_PER_SECOND:g}/s; "
         f"replayed from the burst and backfill traces, then checked by sleeping through a "
         f"{sizes.latency_check_events}-event burst")
    latency = latency_study(scenarios, sizes, traces,
                            {"burst": (our_burst, base_burst),
                             "backfill": (our_backfill, base_backfill)})

    from bench.latency import time_split

    split = {label: time_split(traces["burst"][label], run["wall_seconds"])
             for label, run in (("model-access", our_burst), ("baseline", base_burst))}
    results = _assemble(options, sizes, load, scenarios, MOTO_PATCHES,
                        burst=(our_burst, base_burst), burst_repeats=repeats,
                        points=points,
                        backfill=(our_backfill, base_backfill),
                        single=(our_single, base_single),
                        capacity=(capacity, capacity_moto), cold=cold, plan=plan,
                        latency=latency)
    from bench import scale

    results["burst"]["split"] = split
    results["registry"] = {"version_burst": registry_burst,
                           "version_burst_iam_writes":
                               registry_burst["iam_writes_during_versions"]}
    results["org"] = {"burst": org_burst, "burst_iam_writes_per_account_role":
                       org_burst["iam_writes_per_account_role"]}
    results["capacity"]["groups_40char_default"] = group_capacity["groups"]
    results["capacity"]["groups"] = group_capacity
    results["scale"] = scale.run(options.quick, step)
    results["elapsed_seconds"] = round(time.perf_counter() - began, 1)
    goal_rows = report.goals(results) + scale.goals(results["scale"])
    if options.quick:
        goal_rows = report.at_quick_sizes(goal_rows)
    results["goals"] = [g.as_dict() for g in goal_rows]
    options.out.mkdir(parents=True, exist_ok=True)
    report.write_json(options.out / "results.json", results)
    report.write_markdown(options.out / "RESULTS.md", results, goal_rows)
    plotted = report.plot(options.out / "iam_writes.png", points,
                          f"IAM writes per burst ({sizes.burst_roles} owner roles) - "
                          f"{results['machine']['cpu_count']} CPUs, {results['date'][:10]}")
    step("done: " + ", ".join(str(options.out / n) for n in
                              ("results.json", "RESULTS.md", *(["iam_writes.png"] if plotted
                                                               else []))))
    print()
    if options.quick:
        print("  quick run: sizes far below the issue's; the goals apply to `make bench`")
    for goal in goal_rows:
        mark = {True: "met   ", False: "MISSED", None: "      "}[goal.met]
        print(f"  [{mark}] {goal.metric}: {goal.value} (goal {goal.goal}) {goal.note}")
    return 0


def latency_study(scenarios: Any, sizes: Any, traces: dict[str, dict[str, Any]],
                  runs: dict[str, tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """The sweep over the recorded traces, whether the traces saw every call, and a check of
    the replay against a small burst that really sleeps."""
    import dataclasses

    from bench import latency

    out: dict[str, Any] = {
        "parameters": {
            "iam_write_ms": list(latency.IAM_WRITE_MS_SWEEP),
            "other_calls_ms": latency.OTHER_MS,
            "iam_writes_per_second": latency.IAM_WRITES_PER_SECOND,
            "iam_write_bucket_capacity": latency.IAM_WRITE_BURST,
            "chosen": "all four are parameters chosen for this study, not AWS figures",
        },
    }
    for scenario, (ours, base) in runs.items():
        swept = latency.sweep(traces[scenario])
        counted = {"model-access": ours["aws_calls"], "baseline": base["aws_calls"]}
        out[scenario] = {
            **swept,
            "calls_traced": {d: t.calls() for d, t in traces[scenario].items()},
            "calls_counted_by_the_design": counted,
            "threads_making_calls": {d: t.threads() for d, t in traces[scenario].items()},
        }
    out["wall_ratio_by_iam_write_ms"] = out["burst"]["wall_ratio_by_iam_write_ms"]
    out["backfill_wall_ratio_by_iam_write_ms"] = out["backfill"]["wall_ratio_by_iam_write_ms"]
    small = dataclasses.replace(sizes, burst_roles=sizes.latency_check_roles,
                                window_seconds=min(sizes.window_seconds, 0.2))
    profile = latency.LatencyProfile(iam_write_ms=latency.IAM_WRITE_MS_SWEEP[0])
    out["sleep_check"] = {
        label: latency.sleep_check(
            lambda trace, kind=kind: scenarios.burst(  # type: ignore[misc]
                kind, sizes.latency_check_events, small, trace=trace, log=lambda _: None),
            profile)
        for label, kind in (("model-access", "ours"), ("baseline", "baseline"))
    }
    out["sleep_check"]["events"] = sizes.latency_check_events
    out["sleep_check"]["roles"] = sizes.latency_check_roles
    return out


def _burst_repeats(scenarios: Any, sizes: Any, pairs: int) -> list[dict[str, float]]:
    """`pairs` more runs of the main burst per design, alternating which design goes first
    (the main run had the baseline first), each on its own fresh moto server."""
    out: list[dict[str, float]] = []
    for i in range(pairs):
        order = ("ours", "baseline") if i % 2 == 0 else ("baseline", "ours")
        walls = {kind: scenarios.burst(kind, sizes.burst_events, sizes)["wall_seconds"]
                 for kind in order}
        out.append({"wall_seconds": walls["ours"], "baseline_wall_seconds": walls["baseline"],
                    "first": "model-access" if order[0] == "ours" else "baseline"})
    return out


def _burst_points(scenarios: Any, sizes: Any, base: dict[str, Any],
                  ours: dict[str, Any]) -> list[dict[str, Any]]:
    """IAM writes for several burst sizes: separate runs, plus the main run's batches.

    After its k-th batch the main run has seen exactly the first k x batch-size events, in
    the same batches a burst of that size alone would get, so its running IAM-write count
    is that burst's count; the first batch of each design is also its cold start.
    """
    points: dict[int, dict[str, Any]] = {}
    for n in sizes.plot_sizes:
        b = scenarios.burst("baseline", n, sizes)
        o = scenarios.burst("ours", n, sizes)
        points[n] = {"events": n, "iam_writes": o["iam_writes"],
                     "baseline_iam_writes": b["iam_writes"], "source": "separate run",
                     "lost_grants": o["lost_grants"], "baseline_lost_grants": b["lost_grants"]}
    for o, b in zip(ours["iam_writes_after_each_batch"], base["iam_writes_after_each_batch"],
                    strict=False):
        n = o["records"]
        if n == b["records"] and n not in points:
            points[n] = {"events": n, "iam_writes": o["iam_writes"],
                         "baseline_iam_writes": b["iam_writes"],
                         "source": f"running count after a batch of the {ours['events']} run"}
    return [points[n] for n in sorted(points)]


def _wall_ratios(base: dict[str, Any], ours: dict[str, Any],
                 repeats: list[dict[str, float]]) -> dict[str, Any]:
    """The burst's wall ratio: the median over the main run and the repeated pairs."""
    from statistics import median

    from bench.report import ratio

    pairs = [{"wall_seconds": ours["wall_seconds"],
              "baseline_wall_seconds": base["wall_seconds"], "first": "baseline"}, *repeats]
    samples = [ratio(p["baseline_wall_seconds"], p["wall_seconds"]) for p in pairs]
    return {"wall_ratio": round(median(samples), 2), "wall_ratio_main_run": samples[0],
            "wall_ratio_samples": samples, "wall_pairs": pairs}


def _assemble(options: argparse.Namespace, sizes: Any, load: Any, scenarios: Any,
              patches: tuple[str, ...], **parts: Any) -> dict[str, Any]:
    import boto3
    import moto

    from bench.report import ratio

    our_burst, base_burst = parts["burst"]
    our_backfill, base_backfill = parts["backfill"]
    our_single, base_single = parts["single"]
    capacity, capacity_moto = parts["capacity"]
    cold, plan, latency = parts["cold"], parts["plan"], parts["latency"]
    command = "python -m bench.run" + (" --quick" if options.quick else "")
    deletes = {"model-access": our_burst.get("delete"), "baseline": base_burst.get("delete")}
    burst = {
        "events": sizes.burst_events, "roles": sizes.burst_roles,
        "batch_size": sizes.batch_size, "window_seconds": sizes.window_seconds,
        "iam_writes": our_burst["iam_writes"],
        "baseline_iam_writes": base_burst["iam_writes"],
        "iam_write_ratio": ratio(base_burst["iam_writes"], our_burst["iam_writes"]),
        "aws_calls": our_burst["aws_calls"],
        "baseline_aws_calls": base_burst["aws_calls"],
        "aws_call_ratio": ratio(base_burst["aws_calls"], our_burst["aws_calls"]),
        "wall_seconds": our_burst["wall_seconds"],
        "baseline_wall_seconds": base_burst["wall_seconds"],
        **_wall_ratios(base_burst, our_burst, parts["burst_repeats"]),
        "handler_ratio": ratio(base_burst["handler_seconds"], our_burst["handler_seconds"]),
        "lost_grants": our_burst["lost_grants"],
        "baseline_lost_grants": base_burst["lost_grants"],
        "baseline_grants_real_iam_would_refuse": {
            "at_default_quota_10_per_role": base_burst["refused_by_real_iam_quota_10"],
            "at_max_quota_20_per_role": base_burst["refused_by_real_iam_quota_20"],
            "policies_over_account_default_1500": base_burst["over_account_policy_quota_1500"],
        },
        "deletes": ({"events": our_burst["delete"]["events"],
                     "not_revoked": our_burst["delete"]["not_revoked"],
                     "baseline_not_revoked": base_burst["delete"]["not_revoked"],
                     "iam_writes": our_burst["delete"]["iam_writes"],
                     "baseline_iam_writes": base_burst["delete"]["iam_writes"]}
                    if deletes["model-access"] and deletes["baseline"] else None),
        "ours": our_burst, "baseline": base_burst,
    }
    backfill = {
        "models": sizes.backfill_models, "roles": sizes.backfill_roles,
        "enumeration": "tag index (owner tag only), records and role records; no ListModels",
        "iam_writes": our_backfill["iam_writes"], "policies": our_backfill["policies"],
        "iam_writes_per_policy": our_backfill["iam_writes_per_policy"],
        "second_run_iam_writes": our_backfill["second_run"]["iam_writes"],
        "wall_seconds": our_backfill["wall_seconds"],
        "baseline_iam_writes": base_backfill["iam_writes"],
        "baseline_wall_seconds": base_backfill["wall_seconds"],
        "wall_ratio": ratio(base_backfill["wall_seconds"], our_backfill["wall_seconds"]),
        "iam_write_ratio": ratio(base_backfill["iam_writes"], our_backfill["iam_writes"]),
        "lost_grants": our_backfill["lost_grants"],
        "ours": our_backfill, "baseline": base_backfill,
    }
    single = {
        "events": our_single["events"], "roles": our_single["roles"],
        "aws_calls": our_single["aws_calls_p50"], "aws_calls_p95": our_single["aws_calls_p95"],
        "aws_calls_role_holding_a_policy": our_single["aws_calls_p50_role_holding_a_policy"],
        "baseline_aws_calls": base_single["aws_calls_p50"],
        "wall_ms_p50": our_single["wall_ms_p50"], "wall_ms_p95": our_single["wall_ms_p95"],
        "baseline_wall_ms_p50": base_single["wall_ms_p50"],
        "baseline_wall_ms_p95": base_single["wall_ms_p95"],
        "design_minimum_calls": our_single["design_minimum_p50"],
        "calls_over_minimum_p50": our_single["calls_over_minimum_p50"],
        "calls_over_minimum_max": our_single["calls_over_minimum_max"],
        "minimum_explained": {
            "every event": [{"call": c, "why": w} for c, w in scenarios.MIN_CALLS_EXPLAINED],
            **{case: {"iam_calls": list(ops), "total": len(scenarios.MIN_CALLS_EXPLAINED) + n}
               for case, (ops, n) in scenarios.MIN_IAM_CALLS.items()},
        },
        "ours": our_single, "baseline": base_single,
    }
    cap = {
        "models_40char_default": capacity["manage_40char"]["models"],
        "default_level": "manage",
        "slots": "8 of 10 (role_policy_share 0.8, no other policies attached)",
        "by_level": capacity, "moto": capacity_moto,
    }
    return {
        "command": command, "mode": "quick" if options.quick else "full",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(), "machine": platform.machine(),
            "processor": platform.processor() or "unknown", "cpu_count": os.cpu_count(),
            "python": platform.python_version(), "moto": moto.__version__,
            "boto3": boto3.__version__,
            "load_average_at_start": [round(x, 2) for x in load] if load else None,
        },
        "code": _code_version(),
        "sizes": sizes.__dict__,
        "moto_patches": list(patches),
        "burst": burst, "burst_sizes": parts["points"], "backfill": backfill,
        "single_event": single, "capacity": cap, "cold_start": cold,
        "plan": {"ms_500_models": plan["ms_add_one_to_role_holding"], **plan},
        "latency": latency,
        "notes": [*_notes(burst, backfill, single, cold, patches), _latency_note(latency)],
    }


def _notes(burst: dict[str, Any], backfill: dict[str, Any], single: dict[str, Any],
           cold: dict[str, Any], patches: tuple[str, ...]) -> list[str]:
    ours, base = burst["ours"], burst["baseline"]
    return [
        "Each design runs on a fresh in-process moto server (ThreadedMotoServer on 127.0.0.1, "
        "dummy credentials): same events (PutEvents -> EventBridge rule -> SQS), same "
        "LocalPoller standing in for the event source mapping, one batch at a time.",
        "moto charges every API call about the same few milliseconds, a real IAM write costs "
        "far more than a DynamoDB or tagging read, and IAM throttles writes; wall-time ratios "
        "here are therefore moto ratios, not a forecast for AWS.",
        f"Burst wall time ends when the last batch returned. It includes the poller's SQS "
        f"receives and deletes between batches ({ours['poller']['batches']} batches of up to "
        f"{burst['batch_size']} for either design), which the real event source mapping makes "
        "outside the function; `time inside the handler` leaves them out.",
        f"Why the wall ratio stays low under moto: the baseline spent {base['handler_seconds']:.1f}"
        f" s in {base['aws_calls']} calls (3 per model, all cheap in moto), model-access "
        f"{ours['handler_seconds']:.1f} s in {ours['aws_calls']} calls, a good part of it in "
        f"{_op_count(ours, 'dynamodb:TransactWriteItems')} TransactWriteItems (each granted "
        "model's record once, written before IAM in its final form; moto evaluates each item "
        "in Python) and in the design's own code (see the split above); the poller's time "
        "between batches is the same for both and bounds the ratio from above.",
        "Backfill lists the models that carry the owner tag from the tag index (untagged "
        "models cost nothing), sorts them by role and reconciles chunks of up to "
        f"{DEFAULT_CHUNK:,} models, cut at role boundaries (fewer when the time left is short)"
        + (": a role whose models fall into two chunks is written twice (create + attach, then "
           "an update and one more create + attach), hence more than 2 writes per policy."
           if (backfill["iam_writes_per_policy"] or 0) > 2 else
           "; every role's models fell into one chunk here."),
        "Single event: the design needs 7 calls whatever IAM holds (tags, role, record read "
        "before and under the lease, lease taken, the record before IAM, the commit that also "
        "gives the lease back) plus 3 for a role's first model (ListAttachedRolePolicies, "
        "CreatePolicy, AttachRolePolicy) or 2 to add to an existing policy "
        "(ListPolicyVersions, CreatePolicyVersion: the document comes from the grant store, "
        "never from an IAM read), 3 once old versions must be pruned (at most "
        "`keep_policy_versions` remain, 3 by default). Measured: p50 "
        f"{single['aws_calls']} calls against a p50 minimum of "
        f"{single['design_minimum_calls']}, at most {single['calls_over_minimum_max']} over "
        "it (GetAccountSummary, read once per container). The baseline needs 3 (ListTags, "
        "CreatePolicy, AttachRolePolicy): for one event at a time it is cheaper in calls, "
        "which is the price of leases, records and re-reading the truth.",
        _cold_note(cold),
        "The baseline's quota refusals are counted from the attachments moto accepted "
        "(moto enforces neither the per-role nor the per-account quota).",
        "Test-double speed-ups applied to both designs (answers unchanged): "
        + "; ".join(patches) + ".",
    ]


def _cold_note(cold: dict[str, Any]) -> str:
    shipped = cold["deployed"]
    common = ("Cold start is measured with Lambda's environment and the stack's default "
              "`tracing: false` (with tracing on, the X-Ray SDK adds about 0.4 s). ")
    if not shipped.get("python"):
        return common + f"As deployed: not measured, {shipped['note']}"
    with_, without = shipped["with_bytecode"], shipped["without_bytecode"]
    return common + (
        f"As deployed: the archives `make package` builds, extracted and imported by Python "
        f"{shipped['python_version']} (the runtime's version) with only the function and the "
        f"layer on the path and no bytecode written: {with_['app_import_ms']} ms against "
        f"{with_['boto3_import_ms']} ms for `import boto3` from the same precompiled files "
        f"({with_['ratio']}x). The same layer without its bytecode (what a machine without "
        f"Python 3.13 ships) takes {without['app_import_ms']} ms ({without['ratio']}x): "
        f"model_access, Powertools and the pinned boto3/botocore are compiled at every cold "
        f"start. The pinned SDK is {shipped['sdk_bytes_in_layer'] / 1e6:.1f} MB of the "
        f"layer's {shipped['archives']['layer.zip']['bytes'] / 1e6:.1f} MB; at import it "
        "costs what the runtime's own precompiled copy costs.")


def _latency_note(latency: dict[str, Any]) -> str:
    p = latency["parameters"]
    check = latency["sleep_check"]
    designs = ("model-access", "baseline")
    errors = ", ".join(f"{d} {check[d]['error_percent']:+g}%" for d in designs)
    same = all(check[d]["same_calls_in_same_order"] for d in designs)
    return (
        f"Latency study: every AWS call a design makes costs {p['other_calls_ms']:g} ms, an IAM "
        f"write {'/'.join(f'{ms:g}' for ms in p['iam_write_ms'])} ms, and IAM writes are capped "
        f"at {p['iam_writes_per_second']:g} a second (token bucket of "
        f"{p['iam_write_bucket_capacity']}, starting full); these are parameters we chose, not "
        "AWS figures (none of them comes from a published AWS number). The burst "
        "and backfill runs above were recorded through a botocore hook on every client either "
        "design built (calls traced = calls the design counted: "
        f"{latency['burst']['calls_traced']} / {latency['burst']['calls_counted_by_the_design']}"
        f" in the burst); their time between calls is kept and each call's moto time replaced "
        "by its latency and token wait, batches back to back (the poller's own SQS calls are "
        "left out, as the event source mapping makes them outside the function). Both designs "
        "call AWS from one thread, one call after another, so this is the time a run with "
        "those latencies takes. Checked on a "
        f"{check['events']}-event burst run with the hook really sleeping "
        f"({p['iam_write_ms'][0]:g} ms writes): each design made "
        + ("the same calls in the same order as at moto's speed" if same else
           "DIFFERENT calls than at moto's speed (the replay is then not sound)")
        + f", and the replay of that run came within {errors} of its wall time."
    )


def _code_version() -> dict[str, Any]:
    """The commit measured, and which measured files differed from it (read-only git)."""
    import subprocess

    root = BENCH_DIR.parent

    def git(*args: str) -> str:
        try:
            answer = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True,
                                    check=False, timeout=30)
        except OSError:
            return ""
        return answer.stdout.rstrip() if answer.returncode == 0 else ""

    changed = git("status", "--porcelain", "--", "shared", "functions", "cli")
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
            "uncommitted": sorted(line[3:] for line in changed.splitlines() if line[3:])}


def _op_count(run: dict[str, Any], op: str) -> str:
    return str(run["calls_by_operation"].get(op, 0))


if __name__ == "__main__":
    sys.exit(main())
