"""Gather what `explain` shows about one model (or model package group), through the
adapters the engine uses.

The decision is not re-derived here: the reconcile runs as a dry run on this one resource,
with SageMaker's own answer (its kind's Describe call, ListTags) as its truth, exactly as
`verify` runs it over every resource. What IAM holds comes from the roles that may hold it
(the record names each one before IAM is written; the dry run plans each one it would
touch), and drift from the one inventory of tool policies.
"""

from __future__ import annotations

from collections.abc import Callable

from model_access.model.events import ModelHint, Trigger
from model_access.model.facts import RoleState
from model_access.operate.explain import Explanation, assemble, candidate_roles, resolve_subject
from model_access.policy.inventory import compare
from model_access.runtime import Runtime


def explain(rt: Runtime, text: str,
            progress: Callable[[str], None] = lambda _step: None) -> Explanation:
    """Explain the resource `text` names (a model name, a model or model package group ARN);
    BadSubjectError if it names nothing this deployment serves."""
    subject = resolve_subject(text, rt.scope)
    progress(f"reading the {subject.label} from SageMaker (Describe, ListTags)")
    truth = rt.models.describe(subject.key, subject.name)
    progress("deciding: the reconcile, as a dry run")
    hint = ModelHint(Trigger.RECONCILE, "explain", truth.name or subject.name,
                     subject.key.region, model_arn=truth.arn or subject.arn,
                     kind=subject.key.kind)
    report = rt.reconciler.reconcile([hint], dry_run=True, truths={subject.key: truth})
    result = report.results[subject.key]
    progress("reading the grant record, the grant store and IAM")
    record = rt.records.get_many([subject.key])[subject.key]
    roles = candidate_roles(record, result, report.role_plans)
    _, grants = rt.store.read([], roles.values())
    states: list[RoleState] = []
    for name in roles.values():
        facts = rt.iam.get_role(name)
        if facts is not None:
            states.append(rt.iam.read_role_state(facts))
    mine = [g for g in grants.values() if not g.empty]
    findings = [f for f in compare(rt.iam.list_tool_policies(), mine)
                if f.role.lower() in roles]
    return assemble(subject, truth, result, report.role_plans, record, mine, states,
                    findings, owner_tag_key=rt.settings.owner_tag_key,
                    name_prefix=rt.settings.policy_name_prefix)
