"""Render a tool policy document for a set of model ARNs, and know its size without rendering.

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
otherwise for models (the record key, `ModelKey`, rests on the same fact). The grant store
still knows one ARN per model; only rendering expands it, and `model_arns_in` folds a twin
back into the ARN it came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Final

from model_access.access import MODEL_ARN_CONDITION_KEY, AccessProfile
from model_access.arns import Scope, parse_model_arn

POLICY_VERSION: Final = "2012-10-17"
MODEL_SID: Final = "OwnerModelAccess"
CONDITIONED_SID: Final = "OwnerModelUse"


@lru_cache(maxsize=65536)
def arn_forms(arn: str) -> tuple[str, ...]:
    """The model ARN as given and, when its name has capitals, its lower-cased-name twin.

    Cached: packing asks for every ARN's cost on each plan, and parsing dominated it."""
    parsed = parse_model_arn(arn)
    if parsed is None or parsed.name == parsed.name.lower():
        return (arn,)
    return (arn, arn[: len(arn) - len(parsed.name)] + parsed.name.lower())


def _all_forms(arns: Iterable[str]) -> Iterator[str]:
    for arn in arns:
        yield from arn_forms(arn)


def to_json(document: Mapping[str, Any]) -> str:
    """The exact text we send to IAM (compact, key order kept)."""
    return json.dumps(document, separators=(",", ":"))


@dataclass(frozen=True)
class PolicyShape:
    """Everything about a tool policy except which ARNs it holds."""

    profile: AccessProfile
    scope: Scope

    def conditioned_resources(self) -> list[str]:
        """`<type>/*` ARNs for the conditioned statements, in our region and account only."""
        return [
            f"arn:{self.scope.partition}:sagemaker:{self.scope.region}:{self.scope.account}:{rt}/*"
            for rt in self.profile.conditioned_resource_types
        ]

    def render(self, arns: Iterable[str]) -> dict[str, Any]:
        """The policy document granting the profile on exactly these models (every letter-case
        form of their ARNs, sorted)."""
        resources = sorted(set(_all_forms(arns)))
        if not resources:
            raise ValueError("a tool policy needs at least one model ARN")
        statements: list[dict[str, Any]] = [
            {
                "Sid": MODEL_SID,
                "Effect": "Allow",
                "Action": list(self.profile.model_actions),
                "Resource": resources,
            }
        ]
        # One statement per resource type: each action only on the type it acts on.
        for resource_type, type_arn in zip(self.profile.conditioned_resource_types,
                                           self.conditioned_resources(), strict=True):
            statements.append(
                {
                    "Sid": CONDITIONED_SID + resource_type.title().replace("-", ""),
                    "Effect": "Allow",
                    "Action": sorted({a for a, rt in self.profile.conditioned_actions
                                      if rt == resource_type}),
                    "Resource": [type_arn],
                    "Condition": {"ArnEquals": {MODEL_ARN_CONDITION_KEY: resources}},
                }
            )
        return {"Version": POLICY_VERSION, "Statement": statements}

    @property
    def arn_occurrences(self) -> int:
        """How many lists of the document repeat every ARN."""
        return 1 + len(self.profile.conditioned_resource_types)

    @cached_property
    def base_size(self) -> int:
        """Size of the document with empty ARN lists."""
        probe = "arn:aws:sagemaker:r:1:model/x"
        return len(to_json(self.render([probe]))) - self.arn_occurrences * (len(probe) + 2)

    def _form_cost(self, form: str) -> int:
        return self.arn_occurrences * (len(form) + 3)

    def arn_cost(self, arn: str) -> int:
        """Characters one more model adds: each form of its ARN, with quotes and a comma, in
        each list it appears in (a name with capitals costs about twice one without)."""
        return sum(self._form_cost(form) for form in arn_forms(arn))

    def size(self, arns: Iterable[str]) -> int:
        """Exactly `len(to_json(self.render(arns)))`, for a non-empty set, without rendering."""
        unique = set(_all_forms(arns))
        if not unique:
            return self.base_size
        return self.base_size + sum(self._form_cost(f) for f in unique) - self.arn_occurrences


def model_arns_in(document: Any) -> set[str]:
    """Every model a (possibly hand-edited) tool policy mentions, in resources or conditions,
    one ARN per model: a lower-cased twin found next to the ARN it was made from is not a
    model of its own."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, str):
            if parse_model_arn(node) is not None:
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
