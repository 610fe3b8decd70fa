"""Render a tool policy document for a set of resource ARNs, and know its size without rendering.

IAM counts a managed policy's size in non-whitespace characters (limit 6,144). We submit
compact JSON, whose only whitespace would be inside strings (ARNs have none), so the
compact length is exactly what IAM counts. `PolicyShape.size` computes it arithmetically
so packing stays cheap; a property test pins it to `len(to_json(render(...)))`.

Letter case: SageMaker returns some ARNs with the name part lower-cased (boto/boto3#4606;
aws-solutions/research-service-workbench-on-aws#1048 had to allow both forms), IAM matches
resource ARNs case-sensitively, and moto keeps the case, so no test here can say which form
IAM evaluates for a model named with capitals. Until a live account settles it, a document
grants both: the ARN SageMaker returned and its lower-cased-name twin, and both count
against the size budget. The twin can never name another model because SageMaker names are
unique regardless of case: its API reference says so of endpoint names ("The name is
case-insensitive in CreateEndpoint", docs.aws.amazon.com/sagemaker/latest/APIReference/
API_CreateEndpoint.html), and SageMaker's own lower-cased ARNs would be ambiguous were it
otherwise for models (the record key, `ResourceKey`, rests on the same fact). The grant store
still knows one ARN per model; only rendering expands it, and `model_arns_in` folds a twin
back into the ARN it came from.

Model package groups follow the same rule (moto lower-cases version ARNs, an AWS sample
needed the original case): a group named with capitals is granted under both spellings,
group ARN and `model-package/<group>/*` alike. The lower-cased twin cannot name another group
for the same reason: SageMaker's own lower-cased version ARNs would be ambiguous if two
groups could differ only in case.

A document holds one section per kind present (the kind's statements, `kinds/`); a model-only
document is exactly what the tool wrote before groups existed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Final

from model_access.core.arns import ResourceArn, Scope
from model_access.model.access import AccessProfile
from model_access.model.kinds import KINDS, Target, parse_grantable_arn

POLICY_VERSION: Final = "2012-10-17"
_ENVELOPE: Final = len(json.dumps({"Version": POLICY_VERSION, "Statement": []},
                                  separators=(",", ":")))


@lru_cache(maxsize=65536)
def arn_forms(arn: str) -> tuple[str, ...]:
    """The ARN as given and, when its name has capitals, its lower-cased-name twin.

    Cached: packing asks for every ARN's cost on each plan, and parsing dominated it."""
    parsed = parse_grantable_arn(arn)
    if parsed is None or parsed.name == parsed.name.lower():
        return (arn,)
    return (arn, parsed.with_name(parsed.name.lower()))


@lru_cache(maxsize=131072)
def _target_forms(arn: str, target: Target) -> tuple[str, ...]:
    """What one resource adds to one statement's list: `target.form` of each spelling."""
    parsed = parse_grantable_arn(arn)
    if parsed is None:
        raise ValueError(f"{arn[:200]!r} is not the ARN of a kind the tool grants")
    return _spellings(parsed, target)


def _spellings(parsed: ResourceArn, target: Target) -> tuple[str, ...]:
    names = dict.fromkeys((parsed.name, parsed.name.lower()))
    return tuple(dict.fromkeys(target.form(parsed, name) for name in names))


def to_json(document: Mapping[str, Any]) -> str:
    """The exact text we send to IAM (compact, key order kept)."""
    return json.dumps(document, separators=(",", ":"))


@lru_cache(maxsize=131072)
def kind_of(arn: str) -> str:
    """The kind name of a grantable ARN (the section of a document it lands in); cached,
    since packing asks it for every ARN a role holds on every plan."""
    parsed = parse_grantable_arn(arn)
    if parsed is None:
        raise ValueError(f"{arn[:200]!r} is not the ARN of a kind the tool grants")
    return parsed.kind


@dataclass(frozen=True)
class PolicyShape:
    """Everything about a tool policy except which resources it holds."""

    profile: AccessProfile
    scope: Scope

    def type_wildcard(self, resource_type: str) -> str:
        """`<type>/*` in our region and account, for conditioned statements."""
        s = self.scope
        return f"arn:{s.partition}:sagemaker:{s.region}:{s.account}:{resource_type}/*"

    def _statement(self, target: Target, forms: list[str]) -> dict[str, Any]:
        if target.condition_key is None:
            return {"Sid": target.sid, "Effect": "Allow", "Action": list(target.actions),
                    "Resource": forms}
        return {"Sid": target.sid, "Effect": "Allow", "Action": list(target.actions),
                "Resource": [self.type_wildcard(target.resource_type)],
                "Condition": {"ArnEquals": {target.condition_key: forms}}}

    def _section(self, kind: str, arns: Iterable[str]) -> list[dict[str, Any]]:
        arns = list(arns)
        return [self._statement(t, sorted({f for a in arns for f in _target_forms(a, t)}))
                for t in self.profile.targets(kind)]

    def render(self, arns: Iterable[str]) -> dict[str, Any]:
        """The policy document granting the profile on exactly these resources (every
        letter-case form, sorted), one section per kind present, in `KINDS` order."""
        by_kind: dict[str, set[str]] = {}
        for arn in arns:
            by_kind.setdefault(kind_of(arn), set()).add(arn)
        if not by_kind:
            raise ValueError("a tool policy needs at least one resource ARN")
        statements = [st for kind in KINDS if kind.name in by_kind
                      for st in self._section(kind.name, by_kind[kind.name])]
        return {"Version": POLICY_VERSION, "Statement": statements}

    @cached_property
    def _section_base(self) -> dict[str, int]:
        """Per kind: the size its statements add beyond the ARNs' own forms, comma included."""
        out: dict[str, int] = {}
        for kind in KINDS:
            probe = (f"arn:{self.scope.partition}:sagemaker:us-east-1:"
                     f"{self.scope.account or '000000000000'}:{kind.name}/"
                     "x")
            text = ",".join(to_json(st) for st in self._section(kind.name, [probe]))
            out[kind.name] = len(text) + 1 - self._arn_cost(probe)
        return out

    def section_of(self, arn: str) -> tuple[str, int]:
        """The section an ARN lands in and that section's own size (for packing)."""
        kind = kind_of(arn)
        return kind, self._section_base[kind]

    @property
    def base_size(self) -> int:
        """Size of a document with no section (packing adds each section present)."""
        return _ENVELOPE - 1

    def _arn_cost(self, arn: str) -> int:
        parsed = parse_grantable_arn(arn)
        if parsed is None:
            raise ValueError(f"{arn[:200]!r} is not the ARN of a kind the tool grants")
        return sum(len(f) + 3 for t in self.profile.targets(parsed.kind)
                   for f in _spellings(parsed, t))

    def arn_cost(self, arn: str) -> int:
        """Characters one more resource adds: each form of it, with quotes and a comma, in
        each list of its kind's statements (a name with capitals costs about twice one
        without)."""
        cost = self._costs.get(arn)
        if cost is None:
            cost = self._costs[arn] = self._arn_cost(arn)
        return cost

    @cached_property
    def _costs(self) -> dict[str, int]:
        """arn_cost per ARN: packing asks for every ARN's cost on each plan."""
        return {}

    def size(self, arns: Iterable[str]) -> int:
        """Exactly `len(to_json(self.render(arns)))`, for a non-empty set, without rendering."""
        unique = set(arns)
        if not unique:
            return _ENVELOPE
        kinds = {kind_of(a) for a in unique}
        return (self.base_size + sum(self._section_base[k] for k in kinds)
                + sum(self.arn_cost(a) for a in unique))


def model_arns_in(document: Any) -> set[str]:
    """Every resource of ours a (possibly hand-edited) tool policy mentions, in resources or
    conditions, one ARN per resource: a lower-cased twin found next to the ARN it was made
    from is not a resource of its own. (Models and model package groups alike; the name is
    kept from when models were the only kind.)"""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if parse_grantable_arn(node) is not None:
                found.add(node)
        elif isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    twins = {form for arn in found for form in arn_forms(arn)[1:]}
    return found - twins


resource_arns_in = model_arns_in
