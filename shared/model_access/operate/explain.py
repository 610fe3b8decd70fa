"""`model-access explain`: why a role holds a model or model package group (or why nobody
does). Pure assembly.

The reads happen in `explainer.py` through the existing adapters; the decision is the one
the reconcile itself makes in a dry run (as `verify` runs it), so explain and reconcile can
never disagree. This module only resolves what the operator typed, finds the statements
that name the model, says what the next reconcile would change, and lays it all out.
No boto3: adapter types are imported for type checking only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from model_access.core.arns import ResourceArn, ResourceKey, Scope, is_valid_model_name
from model_access.core.errors import BadSubjectError
from model_access.model.kinds import child_parent, kind_named, parse_grantable_arn
from model_access.policy.naming import policy_name

if TYPE_CHECKING:
    from model_access.aws.models import ModelTruth
    from model_access.aws.records import GrantRecord
    from model_access.engine.results import ModelResult
    from model_access.model.facts import RoleState
    from model_access.model.grants import RoleGrants
    from model_access.policy.inventory import PolicyFinding
    from model_access.policy.plan import RolePlan

@dataclass(frozen=True)
class Subject:
    """What the operator named, resolved to the key the engine and the record use."""

    query: str
    key: ResourceKey
    name: str
    arn: str | None = None
    """The resource's ARN when one was given (a version's ARN gives its group's)."""

    @property
    def label(self) -> str:
        """"model" or "model package group"."""
        return kind_named(self.key.kind).label


def resolve_subject(text: str, scope: Scope) -> Subject:
    """The one place a name or ARN an operator typed becomes a resource key.

    A bare name is a model's (a model package group is named by its ARN); an ARN of any
    grant-able kind resolves to that resource, a model package version's ARN to its group
    (whose grant it follows). Anything else, or anything outside this deployment's
    partition, region and account, is a BadSubjectError that says why.
    """
    query = text.strip()
    if not query.startswith("arn:"):
        if not is_valid_model_name(query):
            raise BadSubjectError(f"{query!r} is neither a SageMaker model name nor an ARN")
        return Subject(query, ResourceKey.of(scope.region, query), query)
    parsed = parse_grantable_arn(query) or _parent_of(query)
    if parsed is None:
        raise BadSubjectError(f"{query!r} is not the ARN of a SageMaker model or model "
                              "package group (or one of its versions)")
    if parsed.partition != scope.partition or parsed.region != scope.region or (
            scope.account and parsed.account != scope.account):
        raise BadSubjectError(
            f"{query} is outside this deployment ({scope.partition}, {scope.region}, account "
            f"{scope.account or '?'}); use the endpoint and region of the stack that serves it")
    return Subject(query, parsed.key, parsed.name, parsed.arn)


def _parent_of(text: str) -> ResourceArn | None:
    """The parent resource of a child ARN (`model-package/<group>/<n>` -> the group)."""
    parent = child_parent(text)
    if parent is None:
        return None
    kind, name = parent
    head = text.split(":", 5)[:5]
    return parse_grantable_arn(":".join([*head, f"{kind.name}/{name}"]))


@dataclass(frozen=True)
class StatementRef:
    """One statement of a policy document that names the model."""

    index: int
    sid: str | None
    effect: str
    actions: tuple[str, ...]
    via: tuple[str, ...]
    """Where it names the model: `Resource`, `Condition` (sagemaker:ModelArn), or both."""


@dataclass(frozen=True)
class IamHolding:
    """A tool policy attached to a role whose current document names the model."""

    role: str
    policy: str
    policy_arn: str
    default_version: str
    statements: tuple[StatementRef, ...]


@dataclass(frozen=True)
class StoreHolding:
    """A role record in the grant store that says the role must hold the model."""

    role: str
    slot: int
    policy: str


@dataclass(frozen=True)
class NextChange:
    """What the next reconcile of this model would do to its grant."""

    action: str
    """`none`, `grant`, `move`, `revoke`, or `unknown` (the dry run itself failed)."""
    from_roles: tuple[str, ...] = ()
    to_role: str | None = None
    iam_writes: tuple[tuple[str, str, str], ...] = ()
    """(role, operation, policy) of every IAM write the plan of the model's roles holds."""


@dataclass(frozen=True)
class Explanation:
    """Everything `explain` shows about one model."""

    subject: Subject
    truth: ModelTruth
    owner_tag_key: str
    decision: ModelResult
    next_change: NextChange
    record: GrantRecord
    store: tuple[StoreHolding, ...]
    iam: tuple[IamHolding, ...]
    findings: tuple[PolicyFinding, ...] = field(default=())

    @property
    def known(self) -> bool:
        """Whether anything knows this model: SageMaker, the record, the store or IAM."""
        return (self.truth.exists or self.record.version > 0 or bool(self.store)
                or bool(self.iam))

    @property
    def model_arn(self) -> str | None:
        return self.truth.arn or self.record.model_arn or self.subject.arn

    @property
    def owner_values(self) -> list[str]:
        return [value for key, value in self.truth.tags if key == self.owner_tag_key]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document (see docs/cli-output.schema.json, `explain`)."""
        d, r, n = self.decision, self.record, self.next_change
        return {
            "query": self.subject.query,
            "model": {"key": str(self.subject.key), "kind": self.subject.key.kind,
                      "name": self.truth.name or self.subject.name,
                      "arn": self.model_arn, "exists": self.truth.exists,
                      "created": self.truth.created},
            "ownerTag": {"key": self.owner_tag_key, "values": self.owner_values},
            "decision": {"outcome": d.outcome.value, "kind": d.outcome.kind.value,
                         "reason": d.reason, "owner": d.owner, "grantedTo": d.granted_to,
                         "revokedFrom": sorted(d.revoked_from), "policy": d.policy},
            "nextReconcile": {"action": n.action, "from": list(n.from_roles), "to": n.to_role,
                              "iamWrites": [{"role": role, "op": op, "policy": policy}
                                            for role, op, policy in n.iam_writes]},
            "iam": [{"role": h.role, "policy": h.policy, "policyArn": h.policy_arn,
                     "defaultVersion": h.default_version,
                     "statements": [{"index": s.index, "sid": s.sid, "effect": s.effect,
                                     "actions": list(s.actions), "via": list(s.via)}
                                    for s in h.statements]} for h in self.iam],
            "record": None if r.version == 0 else {
                "version": r.version, "role": r.role, "pending": sorted(r.pending),
                "policy": r.policy, "status": r.status, "outcome": r.outcome,
                "reason": r.reason, "modelCreated": r.model_created,
                "grantedAt": r.granted_at, "updatedAt": r.updated_at,
                "eventId": r.event_id, "trigger": r.trigger},
            "store": [{"role": h.role, "slot": h.slot, "policy": h.policy} for h in self.store],
            "history": [dict(entry) for entry in r.history],
            "policyFindings": [{"kind": f.kind, "role": f.role, "policy": f.name,
                                "detail": f.detail} for f in self.findings],
        }


def assemble(  # noqa: PLR0917 - every view of one model, each needed
    subject: Subject,
    truth: ModelTruth,
    result: ModelResult,
    plans: Mapping[str, RolePlan],
    record: GrantRecord,
    grants: Iterable[RoleGrants],
    states: Iterable[RoleState],
    findings: Iterable[PolicyFinding],
    *,
    owner_tag_key: str,
    name_prefix: str,
) -> Explanation:
    """Lay the reads and the dry run's result for one model side by side."""
    key = subject.key
    arn = truth.arn or record.model_arn or subject.arn
    store = tuple(sorted(
        (StoreHolding(g.role_name, slot, policy_name(name_prefix, g.role_name, slot))
         for g in grants for slot, arns in g.slots.items() if key in _keys(arns)),
        key=lambda h: (h.role.lower(), h.slot)))
    iam = tuple(sorted(
        (IamHolding(state.role.name, p.name, p.arn, p.default_version,
                    statements_naming(p.document, key, arn))
         for state in states for p in state.tool_policies.values()
         if p.attached and key in _keys(p.model_arns)),
        key=lambda h: (h.role.lower(), h.policy)))
    return Explanation(subject, truth, owner_tag_key, result, next_change(key, result, plans),
                       record, store, iam, tuple(sorted(
                           findings, key=lambda f: (f.role.lower(), f.name, f.kind))))


def next_change(key: ResourceKey, result: ModelResult, plans: Mapping[str, RolePlan]) -> NextChange:
    """Grant, move, revoke or nothing, read off the dry run's result and role plans."""
    writes = tuple((plan.role, op.kind.value, op.name)
                   for _, plan in sorted(plans.items()) for op in plan.ops)
    if result.outcome.is_retryable:
        return NextChange("unknown", iam_writes=writes)
    target = plans.get((result.granted_to or "").lower())
    granted = target is not None and key in _keys(target.added)
    revoked = tuple(sorted(result.revoked_from))
    if granted and revoked:
        return NextChange("move", revoked, result.granted_to, writes)
    if granted:
        return NextChange("grant", (), result.granted_to, writes)
    if revoked:
        return NextChange("revoke", revoked, None, writes)
    return NextChange("none", iam_writes=writes)


def candidate_roles(record: GrantRecord, result: ModelResult,
                    plans: Mapping[str, RolePlan]) -> dict[str, str]:
    """Every role that may hold the model, lower-cased name -> name: the record names each
    role before IAM is written (intent), and the dry run planned each role it would touch."""
    names = [*record.holders, *(p.role for p in plans.values()), *result.revoked_from]
    if result.granted_to:
        names.append(result.granted_to)
    return {name.lower(): name for name in sorted(names)}


def statements_naming(document: Mapping[str, Any], key: ResourceKey,
                      arn: str | None = None) -> tuple[StatementRef, ...]:
    """The statements of a policy document that name the resource, and where they name it:
    its ARN in any letter case, or any form its kind's statements list for `arn` (a group's
    `model-package/<group>/*`, say)."""
    forms = forms_of(arn) if arn else frozenset()
    raw = document.get("Statement", [])
    statements: Sequence[Any] = [raw] if isinstance(raw, Mapping) else raw
    found: list[StatementRef] = []
    for index, statement in enumerate(statements):
        if not isinstance(statement, Mapping):
            continue
        via = tuple(part for part in ("Resource", "Condition")
                    if any(text in forms or key in _keys([text])
                           for text in _strings(statement.get(part))))
        if via:
            actions = statement.get("Action", [])
            found.append(StatementRef(
                index, statement.get("Sid"), str(statement.get("Effect", "")),
                tuple(sorted([actions] if isinstance(actions, str) else actions)), via))
    return tuple(found)


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from _strings(item)


def forms_of(arn: str) -> frozenset[str]:
    """Every resource string any access level of the ARN's kind lists for it, in both
    spellings of its name (see policy.arn_forms)."""
    parsed = parse_grantable_arn(arn)
    if parsed is None:
        return frozenset()
    names = {parsed.name, parsed.name.lower()}
    return frozenset(target.form(parsed, name)
                     for targets in kind_named(parsed.kind).levels.values()
                     for target in targets for name in names)


def _keys(arns: Iterable[str]) -> set[ResourceKey]:
    return {parsed.key for arn in arns if (parsed := parse_grantable_arn(arn)) is not None}
