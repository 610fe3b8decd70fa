"""What each operator command shows: one JSON document and one table per result. Pure.

Lists are sorted wherever their order means nothing (by role, then model), so two runs over
the same state print the same document; docs/cli-output.schema.json describes each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from model_access.core.outcomes import Kind, Outcome
from model_access.engine.results import ModelResult
from model_access.operate.uninstall import ToolPolicyRemoval
from model_access.operate.verify import Discrepancy
from model_access.policy.inventory import PolicyFinding
from model_access.sweep.backfill import BackfillResult
from model_access_cli.commands.table import render

SUMMARY_FIELDS = ("seen", "granted", "moved", "revoked", "repaired", "unchanged", "refused",
                  "failed")


def summary(result: BackfillResult) -> dict[str, int]:
    data = result.as_dict()
    return {name: int(data[name]) for name in SUMMARY_FIELDS}


def summary_table(result: BackfillResult) -> str:
    counts = summary(result)
    return render(SUMMARY_FIELDS, [[counts[f] for f in SUMMARY_FIELDS]])


def model_entry(result: ModelResult) -> dict[str, Any]:
    return {"model": result.model_arn or str(result.key), "key": str(result.key),
            "outcome": result.outcome.value, "reason": result.reason, "owner": result.owner,
            "grantedTo": result.granted_to, "revokedFrom": sorted(result.revoked_from)}


def finding_entries(findings: Iterable[PolicyFinding]) -> list[dict[str, str]]:
    return sorted(({"kind": f.kind, "role": f.role, "policy": f.name, "detail": f.detail}
                   for f in findings), key=lambda e: (e["role"].lower(), e["policy"], e["kind"]))


# --- plan ---------------------------------------------------------------------------------

def plan_document(result: BackfillResult) -> dict[str, Any]:
    """Per role what a backfill would change; per model every change, refusal or failure."""
    roles = [{"role": plan.role, "grant": sorted(plan.added), "revoke": sorted(plan.removed),
              "iamWrites": [{"op": op.kind.value, "policy": op.name} for op in plan.ops],
              "noRoom": sorted(plan.unplaced), "repairs": list(plan.repairs)}
             for plan in sorted(result.report.role_plans.values(), key=lambda p: p.role.lower())
             if plan.changes]
    models = [model_entry(r) for _, r in sorted(result.report.results.items(),
                                                key=lambda kv: str(kv[0]))
              if r.outcome.kind is not Kind.NO_CHANGE]
    return {"changesPending": bool(roles), "roles": roles, "models": models,
            "policyFindings": finding_entries(result.findings), "summary": summary(result)}


def plan_table(document: dict[str, Any], result: BackfillResult) -> str:
    rows = []
    for role in document["roles"]:
        kinds: dict[str, int] = {}
        for write in role["iamWrites"]:
            kinds[write["op"]] = kinds.get(write["op"], 0) + 1
        rows.append((role["role"], f"+{len(role['grant'])}", f"-{len(role['revoke'])}",
                     ", ".join(f"{n} {k}" for k, n in kinds.items()), len(role["noRoom"]) or ""))
    parts = [render(("role", "grant", "revoke", "IAM writes", "no room"), rows,
                    title="Planned changes per role") if rows else "Nothing to change."]
    refusals = [(m["model"], m["outcome"], m["reason"]) for m in document["models"]
                if Outcome(m["outcome"]).is_refusal]
    if refusals:
        parts.append(render(("model", "outcome", "reason"), sorted(refusals), title="Refused"))
    parts.append(summary_table(result))
    return "\n\n".join(parts)


# --- backfill -----------------------------------------------------------------------------

def backfill_document(result: BackfillResult) -> dict[str, Any]:
    failures = [model_entry(r) for _, r in sorted(result.report.results.items(),
                                                  key=lambda kv: str(kv[0]))
                if r.outcome.is_retryable]
    return {"dryRun": result.dry_run, "function": None, "result": result.as_dict(),
            "functionError": None, "failures": failures}


def backfill_table(result: BackfillResult) -> str:
    return ("Dry run: nothing was written.\n" if result.dry_run else "") + summary_table(result)


# --- grants -------------------------------------------------------------------------------

@dataclass(frozen=True)
class GrantRow:
    """One model record, checked against IAM (`in_iam` None when it names no role)."""

    model: str
    key: str
    role: str | None
    policy: str | None
    granted_at: str | None
    status: str
    in_iam: bool | None


def grants_document(rows: Sequence[GrantRow], *, role: str | None,
                    model: str | None) -> dict[str, Any]:
    return {"filter": {"role": role, "model": model}, "grants": [
        {"model": r.model, "key": r.key, "role": r.role, "policy": r.policy,
         "grantedAt": r.granted_at, "status": r.status, "inIam": r.in_iam} for r in rows]}


def grants_table(rows: Sequence[GrantRow]) -> str:
    if not rows:
        return "No grants recorded."
    table = []
    for r in rows:
        if r.role is None:
            table.append((r.model, "-", "-", r.status, "-"))
        else:
            table.append((r.model, r.role, r.policy or "-", r.granted_at or "-",
                          "yes" if r.in_iam else "NO"))
    return render(("model", "role", "policy", "granted at", "in IAM"), table)


# --- verify -------------------------------------------------------------------------------

def verify_document(problems: Sequence[Discrepancy]) -> dict[str, Any]:
    entries = sorted(({"kind": p.kind, "subject": p.subject, "detail": p.detail}
                      for p in problems), key=lambda e: (e["kind"], e["subject"], e["detail"]))
    return {"agree": not problems, "discrepancies": entries}


def verify_table(problems: Sequence[Discrepancy]) -> str:
    if not problems:
        return "verify: IAM, the record and SageMaker agree."
    return render(("kind", "subject", "detail"), [(p.kind, p.subject, p.detail)
                                                 for p in problems],
                  title=f"verify: {len(problems)} discrepancies")


# --- uninstall ----------------------------------------------------------------------------

def uninstall_document(removed: Sequence[ToolPolicyRemoval], *, dry_run: bool) -> dict[str, Any]:
    return {"dryRun": dry_run, "policies": sorted(
        ({"policy": r.name, "arn": r.arn, "role": r.role, "models": r.models} for r in removed),
        key=lambda e: (str(e["role"]).lower(), str(e["policy"])))}


def uninstall_table(removed: Sequence[ToolPolicyRemoval], *, dry_run: bool) -> str:
    if not removed:
        return "No tool policies found."
    verb = "would remove" if dry_run else "removed"
    return render(("policy", "role", "models granted"),
                  [(r.name, r.role, r.models) for r in removed],
                  title=f"{verb} {len(removed)} tool policies")
