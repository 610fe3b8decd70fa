"""Turn the measurements into bench/results.json, bench/RESULTS.md and bench/iam_writes.png."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final


@dataclass(frozen=True)
class Goal:
    """One goal of issue 6 and how the run did against it."""

    metric: str
    goal: str
    value: str
    met: bool | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "goal": self.goal, "value": self.value, "met": self.met,
                "note": self.note}


SIZED_GOALS: Final = frozenset({
    "burst: IAM writes, baseline / model-access",
    "burst: wall time, baseline / model-access",
    "scale: reconcile CPU per model, 100k / 10k models",
})
"""Goals about how the designs scale: at quick sizes (batches of 50 over 10 roles, 1,000
models instead of 100,000) their figures cannot show it, so a quick run reports, not judges."""


def at_quick_sizes(rows: Sequence[Goal]) -> list[Goal]:
    """A quick run's rows: the sized goals reported without a verdict; the rest as they are
    (a lost grant is a lost grant at any size)."""
    return [Goal(g.metric, g.goal, g.value, None, "not judged at quick sizes (`make bench`)")
            if g.metric in SIZED_GOALS else g for g in rows]


def ratio(baseline: float, ours: float) -> float | None:
    """How many times smaller `ours` is than `baseline` (None when ours is zero)."""
    return round(baseline / ours, 2) if ours else None


def _at_least(metric: str, goal: float, value: float | None, unit: str = "x") -> Goal:
    if value is None:
        return Goal(metric, f">= {goal:g}{unit}", "n/a", None)
    met = value >= goal
    note = "" if met else f"missed: {value:g}{unit} is {goal / value:.2f}x short of {goal:g}{unit}"
    return Goal(metric, f">= {goal:g}{unit}", f"{value:g}{unit}", met, note)


def _at_most(metric: str, goal: float, value: float | None, unit: str = "") -> Goal:
    if value is None:
        return Goal(metric, f"<= {goal:g}{unit}", "n/a", None)
    met = value <= goal
    over = (value - goal) / goal * 100 if goal else float("inf")
    note = "" if met else f"missed by {value - goal:g}{unit} ({over:.0f}% over)"
    return Goal(metric, f"<= {goal:g}{unit}", f"{value:g}{unit}", met, note)


def goals(results: Mapping[str, Any]) -> list[Goal]:
    burst, backfill = results["burst"], results["backfill"]
    single, cold, plan = results["single_event"], results["cold_start"], results["plan"]
    out = [
        _at_least("burst: IAM writes, baseline / model-access", 20, burst["iam_write_ratio"]),
        _with_samples(_at_least("burst: wall time, baseline / model-access", 5,
                                burst["wall_ratio"]), burst.get("wall_ratio_samples", [])),
        _at_most("burst: lost grants", 0, burst["lost_grants"]),
        _at_most("backfill: IAM writes per tool policy", 2, backfill["iam_writes_per_policy"]),
        _at_most("backfill: IAM writes of a second backfill", 0,
                 backfill["second_run_iam_writes"]),
        Goal("backfill: wall time, baseline / model-access", "(report)",
             f"{backfill['wall_ratio']}x", None),
        Goal("single event: AWS calls p50 / p95", "(report)",
             f"{single['aws_calls']} / {single['aws_calls_p95']}", None,
             f"design minimum for each event's IAM situation: {_minimums(single)}; measured "
             f"{single['calls_over_minimum_p50']} over it at p50, at most "
             f"{single['calls_over_minimum_max']}; baseline {single['baseline_aws_calls']}"),
        _at_most("single event: AWS calls p50, CreateModel for a role already holding a tool "
                 "policy", 10, single.get("aws_calls_role_holding_a_policy"), unit=""),
        _at_least("capacity: models per role, 40-char names, default level", 500,
                  results["capacity"]["models_40char_default"], unit=""),
        _at_least("capacity: model package groups per role, 40-char mixed-case names, "
                  "default level", 100, results["capacity"].get("groups_40char_default"),
                  unit=""),
        _at_most("registry: IAM writes for 1,000 new versions in 20 granted groups", 0,
                 results.get("registry", {}).get("version_burst_iam_writes")),
        _org_goal(results.get("org", {})),
        _at_most("cold start: import time / bare `import boto3`, bytecode cached", 2,
                 cold["import_ratio_vs_boto3"], unit="x"),
        _at_most("cold start as deployed (layer as packaged, runtime's Python) / "
                 "`import boto3`", 1.5, cold["deployed_ratio_vs_boto3"], unit="x"),
        Goal("cold start as deployed, if the layer shipped no bytecode", "(report)",
             f"{cold['deployed_without_bytecode_ratio_vs_boto3']}x"
             if cold["deployed_without_bytecode_ratio_vs_boto3"] else "n/a", None,
             "what `make package` ships on a machine without Python 3.13"),
        Goal("cold start as deployed, counted in instructions (callgrind) / `import boto3`",
             "(report)", f"{cold['deployed_instruction_ratio_vs_boto3']}x"
             if cold.get("deployed_instruction_ratio_vs_boto3") else "n/a", None,
             "the same on every run, where wall time is not; "
             + _instruction_note(cold["deployed"])),
        _at_most("planning: CPU ms for a role holding 500 models", 5, plan["ms_500_models"],
                 unit=" ms"),
    ]
    latency = results["latency"]
    for scenario, key in (("burst", "wall_ratio_by_iam_write_ms"),
                          ("backfill", "backfill_wall_ratio_by_iam_write_ms")):
        by_ms = latency[key]
        out.append(Goal(
            f"latency study, {scenario}: simulated wall time, baseline / model-access, at IAM "
            f"writes of {' / '.join(by_ms)} ms", "(report)",
            " / ".join(f"{r:g}x" for r in by_ms.values()), None,
            f"other calls {latency['parameters']['other_calls_ms']:g} ms, IAM writes capped at "
            f"{latency['parameters']['iam_writes_per_second']:g}/s (chosen parameters)"))
    deletes = burst.get("deletes")
    if deletes:
        missed = deletes["not_revoked"]
        out.append(Goal("burst deletes: grants left after DeleteModel (correctness)", "0",
                        str(missed), missed == 0,
                        "" if missed == 0 else "revocation on delete did not happen"))
    return out


def _org_goal(org: Mapping[str, Any]) -> Goal:
    """One writer per (account, role) across regions: an organization burst costs each
    (account, role) what a single-account burst of the same shape costs each role."""
    burst = org.get("burst", {})
    single = burst.get("single_account", {})
    goal = _at_most(
        f"organization: IAM writes per (account, role), {burst.get('events', 2000):,} events "
        f"from {burst.get('accounts', 5)} accounts x {burst.get('regions', 2)} regions / per "
        "role of a single-account burst of the same shape", 1,
        burst.get("iam_writes_ratio_vs_single_account"), unit="x")
    if burst:
        return Goal(goal.metric, goal.goal, goal.value, goal.met, (goal.note + " " if goal.note
                    else "") + f"{org['burst_iam_writes_per_account_role']} vs "
                    f"{single.get('iam_writes_per_role')}; lost grants {burst['lost_grants']}")
    return goal


def write_json(path: Path, results: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(results, indent=2, sort_keys=False, default=str) + "\n")


def _pair_lines(pairs: list[Mapping[str, Any]]) -> list[str]:
    """Every timed pair of the main burst (the table above is the first)."""
    if len(pairs) < 2:
        return []
    rows = [f"| {i} | {p['first']} | {p['wall_seconds']:.1f} s | "
            f"{p['baseline_wall_seconds']:.1f} s | "
            f"{p['baseline_wall_seconds'] / p['wall_seconds']:.2f}x |"
            for i, p in enumerate(pairs, start=1)]
    return ["The same burst timed again (each run on a fresh moto server; which design ran "
            "first alternates); the goal row is the median of the ratios:", "",
            "| pair | first | model-access | baseline | ratio |", "|---|---|---|---|---|",
            *rows, ""]


def _with_samples(goal: Goal, samples: list[float]) -> Goal:
    """A median goal row names every pair it is the median of."""
    if len(samples) < 2:
        return goal
    listed = ", ".join(f"{x:g}x" for x in samples)
    note = f"median of {len(samples)} pairs ({listed})"
    return Goal(goal.metric, goal.goal, goal.value, goal.met,
                f"{goal.note}; {note}" if goal.note else note)


def _mark(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "-"}[met]


def write_markdown(path: Path, results: Mapping[str, Any], goal_rows: Sequence[Goal]) -> None:
    machine, burst, backfill = results["machine"], results["burst"], results["backfill"]
    single, cold, cap = results["single_event"], results["cold_start"], results["capacity"]
    lines = [
        "<!-- generated by bench/run.py; do not edit by hand -->",
        f"### Benchmarks ({results['mode']} run)",
        "",
        f"Command: `{results['command']}` - date: {results['date']} - took "
        f"{results['elapsed_seconds']:.0f} s",
        "",
        f"Machine: {machine['platform']}, {machine['cpu_count']} CPUs, Python "
        f"{machine['python']}, moto {machine['moto']}, boto3 {machine['boto3']}; load average "
        f"at start {machine['load_average_at_start']}. Code: {results['code']['commit']}"
        + (f" plus uncommitted changes to {', '.join(results['code']['uncommitted'])}"
           if results["code"]["uncommitted"] else "") + ".",
        "",
        *(["**Quick run**: sizes far below the issue's (see results.json `sizes`); it checks "
           "that every scenario runs. The goals apply to the full run (`make bench`).", ""]
          if results["mode"] == "quick" else []),
        "| metric | goal | value | result | note |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {g.metric} | {g.goal} | {g.value} | {_mark(g.met)} | {g.note} |"
              for g in goal_rows]
    b_ours, b_base = burst["ours"], burst["baseline"]
    lines += [
        "",
        f"Burst ({burst['events']} CreateModel events, {burst['roles']} roles, ESM-like batches "
        f"of {burst['batch_size']} with a {burst['window_seconds']:g} s window, same queue and "
        "poller for both):",
        "",
        "| | model-access | baseline | ratio |",
        "|---|---|---|---|",
        f"| IAM writes | {b_ours['iam_writes']} | {b_base['iam_writes']} | "
        f"{burst['iam_write_ratio']}x |",
        f"| all AWS calls by the function | {b_ours['aws_calls']} | {b_base['aws_calls']} | "
        f"{burst['aws_call_ratio']}x |",
        f"| wall time until every grant is in place | {b_ours['wall_seconds']:.1f} s | "
        f"{b_base['wall_seconds']:.1f} s | "
        f"{burst.get('wall_ratio_main_run', burst['wall_ratio'])}x |",
        f"| time inside the handler | {b_ours['handler_seconds']:.1f} s | "
        f"{b_base['handler_seconds']:.1f} s | {burst['handler_ratio']}x |",
        f"| lost grants | {b_ours['lost_grants']} | {b_base['lost_grants']} | |",
        f"| managed policies created | {b_ours['policies']} | {b_base['policies']} | |",
        f"| most policies attached to one role | {b_ours['max_attached_per_role']} | "
        f"{b_base['max_attached_per_role']} | |",
        f"| grants real IAM would refuse (10 / 20 attached per role) | "
        f"{b_ours['refused_by_real_iam_quota_10']} / {b_ours['refused_by_real_iam_quota_20']} | "
        f"{b_base['refused_by_real_iam_quota_10']} / {b_base['refused_by_real_iam_quota_20']} | |",
        f"| policies over the account's 1,500 default | "
        f"{b_ours['over_account_policy_quota_1500']} | "
        f"{b_base['over_account_policy_quota_1500']} | |",
        "",
        *_pair_lines(burst.get("wall_pairs", [])),
        *_split_lines(burst.get("split")),
        f"Backfill ({backfill['models']:,} models, {backfill['roles']} roles, empty IAM): "
        f"model-access {backfill['iam_writes']} IAM writes for {backfill['policies']} tool "
        f"policies ({backfill['iam_writes_per_policy']} per policy), "
        f"{backfill['wall_seconds']:.1f} s; second backfill {backfill['second_run_iam_writes']} "
        f"IAM writes; baseline {backfill['baseline_iam_writes']} IAM writes, "
        f"{backfill['baseline_wall_seconds']:.1f} s ({backfill['wall_ratio']}x); the baseline's "
        f"{backfill['baseline']['policies']:,} policies are "
        f"{backfill['baseline']['over_account_policy_quota_1500']:,} over the account default and "
        f"{backfill['baseline']['refused_by_real_iam_quota_10']:,} of its grants exceed 10 per "
        "role.",
        "",
        f"Single CreateModel (one-record batches, {single['events']} events): AWS calls p50 "
        f"{single['aws_calls']}, p95 {single['aws_calls_p95']} (baseline "
        f"{single['baseline_aws_calls']}); wall p50 {single['wall_ms_p50']} ms, p95 "
        f"{single['wall_ms_p95']} ms (baseline {single['baseline_wall_ms_p50']} / "
        f"{single['baseline_wall_ms_p95']} ms); for a role already holding a tool policy p50 "
        f"{single.get('aws_calls_role_holding_a_policy')}. Design minimum by situation: "
        f"{_minimums(single)}; events by situation: "
        f"{single['ours']['events_by_iam_situation']} (see the notes and results.json "
        "`single_event.minimum_explained`).",
        "",
        "Capacity (8 of 10 slots, models one role can hold): " + ", ".join(
            f"{k.replace('_', ' ')}: {v['models']}" for k, v in cap["by_level"].items())
        + f"; confirmed against moto: {cap['moto']['granted_in_iam']} of "
        f"{cap['moto']['models_created']} 40-char models granted in "
        f"{cap['moto']['attached_tool_policies']} policies.",
        "",
        _cold_paragraph(cold),
        "",
        *_latency_table(results["latency"]),
        "",
        "![IAM writes vs models](iam_writes.png)",
        "",
        "Notes:",
        "",
    ]
    lines += [f"- {note}" for note in results["notes"]]
    path.write_text("\n".join(lines) + "\n")


def _latency_table(latency: Mapping[str, Any]) -> list[str]:
    p = latency["parameters"]
    lines = [
        f"Latency study (simulated, parameters chosen, not AWS figures: other calls "
        f"{p['other_calls_ms']:g} ms, IAM writes capped at {p['iam_writes_per_second']:g}/s "
        f"with a bucket of {p['iam_write_bucket_capacity']}); the burst and backfill above, "
        "replayed with each call's latency:",
        "",
        "| IAM write latency | burst: model-access | burst: baseline | ratio | "
        "backfill: model-access | backfill: baseline | ratio |",
        "|---|---|---|---|---|---|---|",
    ]
    for ms in latency["wall_ratio_by_iam_write_ms"]:
        burst, backfill = latency["burst"]["simulated"][ms], latency["backfill"]["simulated"][ms]
        lines.append(
            f"| {ms} ms | {burst['model-access']['seconds']:,.1f} s | "
            f"{burst['baseline']['seconds']:,.1f} s | "
            f"{latency['wall_ratio_by_iam_write_ms'][ms]}x | "
            f"{backfill['model-access']['seconds']:,.1f} s | "
            f"{backfill['baseline']['seconds']:,.1f} s | "
            f"{latency['backfill_wall_ratio_by_iam_write_ms'][ms]}x |")
    check = latency["sleep_check"]
    lines += ["", f"Replay checked on a {check['events']}-event burst that really slept "
              f"({check['model-access']['profile']['iam_write_ms']:g} ms IAM writes): " + "; ".join(
        f"{d}: same calls in the same order as at moto's speed: "
        f"{'yes' if check[d]['same_calls_in_same_order'] else 'NO'}; slept run "
        f"{check[d]['slept_seconds']:.2f} s, its replay {check[d]['replayed_seconds']:.2f} s "
        f"({check[d]['error_percent']:+g}%)"
        for d in ("model-access", "baseline")) + "."]
    return lines


def _cold_paragraph(cold: Mapping[str, Any]) -> str:
    cached, shipped = cold["bytecode_cached"], cold["deployed"]
    text = (f"Cold start: `functions/provisioner/app.py` imports in {cached['app_import_ms']} ms "
            f"vs {cached['boto3_import_ms']} ms for `import boto3` ({cached['ratio']}x, Python "
            f"{cold['python']}, bytecode cached). ")
    if not shipped.get("python"):
        return text + f"As deployed: not measured ({shipped['note']})"
    with_, without = shipped["with_bytecode"], shipped["without_bytecode"]
    sizes = ", ".join(f"{n} {v['bytes']:,} B" for n, v in shipped["archives"].items())
    return text + (
        f"As deployed (Python {shipped['python_version']}, the archives as packaged): "
        f"{with_['app_import_ms']} ms vs {with_['boto3_import_ms']} ms ({with_['ratio']}x)"
        f"{_paused_clause(shipped)}; "
        f"the same layer without bytecode: {without['app_import_ms']} ms "
        f"({without['ratio']}x). Archives: {sizes} (pinned SDK "
        f"{shipped['sdk_bytes_in_layer']:,} B of the layer).") + _family_sentence(shipped)


def _instruction_note(shipped: Mapping[str, Any]) -> str:
    counted = shipped.get("instructions") or {}
    if "ratio" not in counted:
        return str(counted.get("note", "not counted (quick run, or no Python 3.13)"))
    return (f"{counted['app_instructions'] / 1e6:,.0f}M vs "
            f"{counted['boto3_instructions'] / 1e6:,.0f}M instructions")


def _paused_clause(shipped: Mapping[str, Any]) -> str:
    """The like-for-like figure: `import boto3` with the collector off throughout, as the app
    has it during its imports (paused, then in Lambda frozen: no collection walks them)."""
    paused = shipped.get("vs_boto3_collector_paused")
    if not paused:
        return ""
    return (f" (the functions pause the cyclic collector during their imports and, in "
            f"Lambda, freeze what they made; against `import boto3` with the collector off "
            f"throughout: {paused['app_import_ms']} ms vs "
            f"{paused['boto3_import_ms']} ms, {paused['ratio']}x)")


def _family_sentence(shipped: Mapping[str, Any]) -> str:
    """Where the deployed import's time goes (one `-X importtime` run of each)."""
    app, boto = shipped.get("import_ms_by_family"), shipped.get("boto3_import_ms_by_family")
    if not app or not boto:
        return ""
    parts = ", ".join(f"{name} {ms:g} ms" for name, ms in app.items())
    return (f" Self time by who imported it (`-X importtime`, one run; the flag inflates "
            f"times): the app {sum(app.values()):.0f} ms ({parts}); `import boto3` "
            f"{sum(boto.values()):.0f} ms.")


def plot(path: Path, points: Sequence[Mapping[str, Any]], title: str) -> bool:
    """IAM writes vs number of models for both designs; False when matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    ordered = sorted(points, key=lambda p: p["events"])
    xs = [p["events"] for p in ordered]
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    ax.plot(xs, [p["baseline_iam_writes"] for p in ordered], "o-", color="tab:red",
            label="baseline: one policy per model")
    ax.plot(xs, [p["iam_writes"] for p in ordered], "s-", color="tab:blue",
            label="model-access: packed policies per role")
    for p in ordered:
        if p["iam_writes"]:
            ax.annotate(f"{p['baseline_iam_writes'] / p['iam_writes']:.0f}x",
                        (p["events"], p["iam_writes"]), textcoords="offset points",
                        xytext=(0, 7), ha="center", fontsize=8, color="tab:blue")
    ax.set_yscale("log")
    ax.margins(x=0.06, y=0.15)
    separate = [p["events"] for p in ordered if p.get("source") == "separate run"]
    batches = [p["events"] for p in ordered if p.get("source") != "separate run"]
    detail = "; ".join(part for part in (
        f"{', '.join(map(str, separate))}: bursts of their own" if separate else "",
        f"{', '.join(map(str, batches))}: after each batch of the largest burst"
        if batches else "") if part)
    ax.set_xlabel(f"CreateModel events in the burst (models)\n{detail}", fontsize=9)
    ax.set_ylabel("IAM write calls (log scale)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return True


def _split_lines(split: Mapping[str, Any] | None) -> list[str]:
    """The burst's wall time split (bench/latency.py `time_split`), as a table per design."""
    if not split:
        return []
    ours, base = split["model-access"], split["baseline"]
    lines = [
        "Where the burst's wall time went (from the call trace: each AWS call timed by the "
        "client, from sending to the parsed answer; own code is the rest of the handler, "
        "botocore's request building included; outside the handler is the poller):",
        "",
        "| | model-access | baseline |",
        "|---|---|---|",
    ]
    for label, key in (("wall time", "wall_seconds"), ("inside AWS calls", "in_aws_calls_seconds"),
                       ("own code", "own_code_seconds"),
                       ("outside the handler (poller)", "outside_handler_seconds")):
        lines.append(f"| {label} | {ours[key]:.2f} s | {base[key]:.2f} s |")
    for op in dict.fromkeys([*ours["by_operation"], *base["by_operation"]]):
        cells = []
        for side in (ours, base):
            entry = side["by_operation"].get(op)
            cells.append(f"{entry['calls']} calls, {entry['seconds']:.2f} s "
                         f"({entry['ms_per_call']:.1f} ms each)" if entry else "-")
        lines.append(f"| {op} | {cells[0]} | {cells[1]} |")
    return [*lines, ""]


def _minimums(single: Mapping[str, Any]) -> str:
    """The design minimum per IAM situation, as `case: n` (from results.json)."""
    explained = single.get("minimum_explained") or {}
    return ", ".join(f"{case} {v['total']}" for case, v in explained.items()
                     if isinstance(v, dict) and "total" in v)
