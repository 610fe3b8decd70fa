"""`model-access explain` for people: the model (or group), its owner tag, the decision and why, who
holds it where, its history, and what the next reconcile would change. Pure."""

from __future__ import annotations

from typing import Any

from model_access_cli.commands.table import render


def next_text(change: dict[str, Any]) -> str:
    """`nothing`, `grant to X`, `move from X to Y`, `revoke from X`, as a sentence."""
    action, source, target = change["action"], ", ".join(change["from"]), change["to"]
    return {
        "none": "nothing",
        "grant": f"grant to {target}",
        "move": f"move from {source} to {target}",
        "revoke": f"revoke from {source}",
    }.get(action, "unknown (the dry run could not decide; see the reason)")


def explain_table(doc: dict[str, Any]) -> str:
    """Every section of the explain document, as short tables."""
    model, decision, record = doc["model"], doc["decision"], doc["record"]
    tag = doc["ownerTag"]
    if model["exists"]:
        state = "exists" + (f", created {model['created']}" if model["created"] else "")
    else:
        state = "does not exist in SageMaker"
    values = ", ".join(repr(v) for v in tag["values"]) or "(no such tag)"
    facts = [
        ("model" if model["kind"] == "model" else "group", model["arn"] or model["key"]),
        ("state", state),
        ("owner tag", f"{tag['key']} = {values}"),
        ("decision", f"{decision['outcome']}: {decision['reason']}"),
        ("next reconcile", next_text(doc["nextReconcile"])),
    ]
    if record is None:
        facts.append(("record", "none: the tool never recorded it"))
    else:
        pending = f", pending {', '.join(record['pending'])}" if record["pending"] else ""
        facts.append(("record", f"{record['status']}, role {record['role'] or '-'}, policy "
                                f"{record['policy'] or '-'}{pending} (version "
                                f"{record['version']}, updated {record['updatedAt'] or '-'})"))
    parts = ["\n".join(f"{name + ':':<16}{value}" for name, value in facts)]
    iam = [(h["role"], h["policy"], h["defaultVersion"], s["sid"] or f"#{s['index']}",
            "+".join(s["via"]), ", ".join(s["actions"]))
           for h in doc["iam"] for s in h["statements"] or [_NO_STATEMENT]]
    parts.append(render(("role", "policy", "version", "statement", "names it in", "actions"),
                        iam, title="Held in IAM (attached tool policies naming it)")
                 if iam else "Held in IAM: by no role the record or the dry run names.")
    store = [(h["role"], h["slot"], h["policy"]) for h in doc["store"]]
    parts.append(render(("role", "slot", "policy"), store, title="Held in the grant store")
                 if store else "Held in the grant store: by nobody.")
    writes = [(w["role"], w["op"], w["policy"]) for w in doc["nextReconcile"]["iamWrites"]]
    if writes:
        parts.append(render(("role", "IAM write", "policy"), writes,
                            title="IAM writes the next reconcile would make"))
    if doc["history"]:
        parts.append(render(("at", "outcome", "role", "event"),
                            [(h.get("at", ""), h.get("outcome", ""), h.get("role", ""),
                              h.get("event", "")) for h in doc["history"]], title="History"))
    if doc["policyFindings"]:
        parts.append(render(("kind", "role", "policy", "detail"),
                            [(f["kind"], f["role"], f["policy"], f["detail"])
                             for f in doc["policyFindings"]], title="Policy findings"))
    return "\n\n".join(parts)


_NO_STATEMENT: dict[str, Any] = {"sid": "-", "index": "-", "via": [], "actions": []}
