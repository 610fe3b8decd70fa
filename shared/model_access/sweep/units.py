"""What a sweep looks at in one account: the models that can matter and the roles with
records, in sweep order (by role), plus drift.

The tag index of each served region lists the models that carry the owner tag (with their
tags, 100 a page), the account's grant store lists what any role may hold (every region),
and ListPolicies lists the tool's policies (IAM is global). A model outside all three needs
nothing, so it costs no call and no write, however many there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from botocore.exceptions import ClientError

from model_access.aws.iam import decode_document
from model_access.aws.models import ModelTruth
from model_access.aws.translate import error_code
from model_access.core.arns import ResourceKey, Scope
from model_access.model.events import ModelHint, Trigger
from model_access.model.grants import document_hash
from model_access.model.kinds import parse_grantable_arn
from model_access.model.owner import OwnerRef, parse_owner
from model_access.policy.inventory import PolicyFinding, compare, drift_by_role
from model_access.runtime import Runtime


@dataclass(frozen=True)
class Unit:
    """One model (or one role with no model in view) to reconcile, in sweep order."""

    order: str
    key: ResourceKey | None = None
    hint: ModelHint | None = None
    truth: ModelTruth | None = None
    role: str | None = None


def collect(rt: Runtime, run_id: str, listed: Callable[[int], None] = lambda _n: None, *,
            regions: Mapping[str, Runtime] | None = None) -> tuple[
    list[Unit], dict[str, dict[int, str]], list[PolicyFinding]
]:
    """Tagged models (the tag index of each of `regions`, default `rt`'s own), held models
    and roles with records (the account's store, every region), sorted by role; plus drift
    (the account's IAM)."""
    s = rt.settings
    roles = list(rt.store.scan_roles())
    rows = list(rt.iam.list_tool_policies())

    def versions(arn: str) -> list[str]:
        answer = rt.clients.iam.list_policy_versions(PolicyArn=arn)
        return [v["VersionId"] for v in answer["Versions"]]

    def hash_of(arn: str, version: str) -> str | None:
        try:
            answer = rt.clients.iam.get_policy_version(PolicyArn=arn, VersionId=version)
        except ClientError as exc:
            if error_code(exc) == "NoSuchEntity":
                return None  # listed by a lagging ListPolicyVersions, deleted since
            raise
        return document_hash(decode_document(answer["PolicyVersion"].get("Document", {})))

    findings = compare(rows, roles, versions, hash_of)
    holders: dict[ResourceKey, set[str]] = {}
    arn_of: dict[ResourceKey, str] = {}
    for record in rt.records.scan_held():
        holders.setdefault(record.key, set()).update(h.lower() for h in record.holders)
        if record.model_arn:
            arn_of.setdefault(record.key, record.model_arn)
    for grants in roles:
        for arn in grants.arns:
            parsed = parse_grantable_arn(arn)
            if parsed is not None:
                holders.setdefault(parsed.key, set()).add(grants.key)
                arn_of.setdefault(parsed.key, arn)
    units: list[Unit] = []
    tagged: set[ResourceKey] = set()
    for arn, tags, scope in _tagged(regions or {rt.scope.region: rt}, s.owner_tag_key):
        parsed = parse_grantable_arn(arn)
        if parsed is None or parsed.region != scope.region:
            continue
        tagged.add(parsed.key)
        owner = parse_owner(tags, s.owner_tag_key, scope)
        names = holders.get(parsed.key, set()) | (
            {owner.name.lower()} if isinstance(owner, OwnerRef) else set())
        truth = ModelTruth(parsed.key, True, arn, parsed.name, tags, from_index=True)
        units.append(_model_unit(parsed.key, arn, parsed.name, roles=names, truth=truth,
                                 run_id=run_id))
        listed(len(units))
    for key, names in holders.items():
        if key in tagged:
            continue
        held_arn = arn_of.get(key)
        held = parse_grantable_arn(held_arn) if held_arn else None
        name = held.name if held else key.name_lower
        # Not in the tag index: no owner tag (or the index lags); confirmed under the lease.
        guess = ModelTruth(key, True, held_arn, name, (), from_index=True) if held_arn else None
        units.append(_model_unit(key, held_arn, name, roles=names, truth=guess, run_id=run_id))
    units += [Unit(g.key, role=g.role_name) for g in roles]
    units.sort(key=lambda u: (u.order, u.role is None, str(u.key)))
    return units, drift_by_role(findings), findings


def _tagged(runtimes: Mapping[str, Runtime], tag_key: str,
            ) -> Iterator[tuple[str, tuple[tuple[str, str], ...], Scope]]:
    """Each region's tag index, with the scope its owners are read in."""
    for runtime in runtimes.values():
        for arn, tags in runtime.models.tagged_models(tag_key):
            yield arn, tags, runtime.scope


def _model_unit(key: ResourceKey, arn: str | None, name: str, *, roles: set[str],
                truth: ModelTruth | None, run_id: str) -> Unit:
    hint = ModelHint(Trigger.RECONCILE, f"sweep-{run_id}", name, key.region, model_arn=arn,
                     kind=key.kind)
    return Unit(min(roles) if roles else "", key, hint, truth)
