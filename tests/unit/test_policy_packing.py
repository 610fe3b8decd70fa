"""Policy rendering and packing: sizes exact, limits kept, every ARN placed exactly once.

moto enforces neither IAM's 6,144-character policy size nor the per-role attached-policy
quota, so these guards are the project's own and are proved here.
"""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from model_access.core.arns import Scope
from model_access.core.settings import IAM_POLICY_MAX_CHARS, AccessLevel, Settings
from model_access.model.access import AccessProfile, profile_from_settings
from model_access.policy.packing import pack
from model_access.policy.render import PolicyShape, arn_forms, model_arns_in, to_json

SCOPE = Scope("aws", "us-east-1", "123456789012")
NAMES = st.from_regex(r"[a-zA-Z0-9](-?[a-zA-Z0-9]){0,62}", fullmatch=True).filter(
    lambda n: len(n) <= 63)
ARNS = NAMES.map(lambda n: f"arn:aws:sagemaker:us-east-1:123456789012:model/{n}")
GROUP_ARNS = NAMES.map(
    lambda n: f"arn:aws:sagemaker:us-east-1:123456789012:model-package-group/{n}")
LEVELS = st.sampled_from(list(AccessLevel))


def models(max_size: int, min_size: int = 0) -> st.SearchStrategy[set[str]]:
    """ARNs of distinct models: SageMaker names are unique regardless of letter case."""
    return st.lists(ARNS, min_size=min_size, max_size=max_size, unique_by=str.lower).map(set)


def resources(max_size: int, min_size: int = 0) -> st.SearchStrategy[set[str]]:
    """Distinct models and model package groups, mixed (a model and a group may share a name)."""
    return st.lists(st.one_of(ARNS, GROUP_ARNS), min_size=min_size, max_size=max_size,
                    unique_by=str.lower).map(set)


def shape(level: AccessLevel = AccessLevel.MANAGE) -> PolicyShape:
    return PolicyShape(profile_from_settings(Settings(access_level=level,
                                                      group_access_level=level)), SCOPE)


@given(resources(40, min_size=1), LEVELS)
def test_shape_size_equals_rendered_length(arns: set[str], level: AccessLevel) -> None:
    """The arithmetic size is exactly the compact JSON length IAM counts."""
    s = shape(level)
    assert s.size(arns) == len(to_json(s.render(arns)))


@given(models(20, min_size=1))
def test_render_has_no_wildcards_and_roundtrips_arns(arns: set[str]) -> None:
    """A rendered policy names exactly the models given, and no `*` resource anywhere."""
    document = shape(AccessLevel.DEPLOY).render(arns)
    assert model_arns_in(document) == arns
    forms = sorted({form for arn in arns for form in arn_forms(arn)})
    for statement in document["Statement"]:
        resources = statement["Resource"]
        assert "*" not in resources
        if statement["Sid"] == "OwnerModelAccess":
            assert all("*" not in r for r in resources)
        else:  # type-scoped wildcard only with the ModelArn condition
            assert statement["Condition"]["ArnEquals"]["sagemaker:ModelArn"] == forms
            assert all(r.endswith("/*") and ":model/" not in r for r in resources)


@hsettings(max_examples=150, deadline=None)
@given(
    current=st.lists(resources(30), max_size=4),
    add=resources(300),
    remove_some=st.booleans(),
    max_slots=st.integers(min_value=0, max_value=8),
    level=LEVELS,
)
def test_pack_fits_covers_once_and_respects_share(
    current: list[set[str]], add: set[str], remove_some: bool, max_slots: int,
    level: AccessLevel,
) -> None:
    """Any ARN set packs into policies under the limit, each ARN once, never over the share."""
    s = shape(level)
    budget = IAM_POLICY_MAX_CHARS - 96
    slots = {i + 1: frozenset(arns) for i, arns in enumerate(current)}
    already = set().union(*slots.values()) if slots else set()
    remove = set(sorted(already)[::2]) if remove_some else set()
    result = pack(slots, add, remove, base_size=s.base_size, arn_cost=s.arn_cost,
                  section_of=s.section_of, budget=budget, max_slots=max_slots)
    placed = [arn for arns in result.slots.values() for arn in arns]
    assert len(placed) == len(set(placed)), "an ARN is in two policies"
    wanted = (already - remove) | add
    assert set(placed) | result.unplaced == wanted
    assert not (set(placed) & result.unplaced)
    for arns in result.slots.values():
        assert arns and s.size(arns) <= budget
    assert len(result.slots) <= max(max_slots, len([a for a in slots.values() if a - remove]))
    if result.unplaced:
        assert len(result.slots) >= max_slots


def test_pack_keeps_existing_arns_in_place() -> None:
    """Adding an ARN does not move others: only the policy that gains it changes."""
    s = shape()
    first = {f"arn:aws:sagemaker:us-east-1:123456789012:model/m{i}" for i in range(3)}
    result = pack({1: frozenset(first), 2: frozenset({"arn:aws:sagemaker:us-east-1:"
                                                      "123456789012:model/z"})},
                  {"arn:aws:sagemaker:us-east-1:123456789012:model/new"}, set(),
                  base_size=s.base_size, arn_cost=s.arn_cost, section_of=s.section_of,
                  budget=6048, max_slots=8)
    assert result.slots[1] >= first and result.slots[2] == {
        "arn:aws:sagemaker:us-east-1:123456789012:model/z"}


def test_pack_twenty_five_models_need_one_policy() -> None:
    """25 models of one owner (40-character names) fit in one policy."""
    s = shape()
    arns = {f"arn:aws:sagemaker:us-east-1:123456789012:model/{'m' * 36}{i:04d}" for i in range(25)}
    result = pack({}, arns, set(), base_size=s.base_size, arn_cost=s.arn_cost,
                  section_of=s.section_of, budget=6048, max_slots=8)
    assert len(result.slots) == 1 and not result.unplaced


def test_pack_sheds_from_an_oversized_policy() -> None:
    """A policy over budget (hand edit, lowered margin) sheds ARNs into other policies."""
    s = shape()
    arns = frozenset(f"arn:aws:sagemaker:us-east-1:123456789012:model/{'x' * 50}{i:03d}"
                     for i in range(80))
    result = pack({1: arns}, set(), set(), base_size=s.base_size, arn_cost=s.arn_cost,
                  section_of=s.section_of, budget=6048, max_slots=8)
    assert set().union(*result.slots.values()) == arns
    assert all(s.size(a) <= 6048 for a in result.slots.values())
    assert len(result.slots) == 2


def test_model_arns_in_finds_arns_in_hand_edited_documents() -> None:
    """ARNs hidden in conditions or odd shapes are still found (so drift can be repaired)."""
    document = {"Statement": [{"Resource": "arn:aws:sagemaker:us-east-1:1:model/x"},
                              {"Condition": {"X": {"k": ["arn:aws:sagemaker:us-east-1:"
                                                          "123456789012:model/y"]}}}]}
    assert model_arns_in(json.loads(json.dumps(document))) == {
        "arn:aws:sagemaker:us-east-1:123456789012:model/y"}


def test_render_grants_a_capitalised_name_in_both_letter_cases() -> None:
    """A name with capitals is granted as returned and lower-cased, in every list, and the
    twin is counted in the size and the packing cost but read back as the same model."""
    s = shape(AccessLevel.DEPLOY)
    mixed = "arn:aws:sagemaker:us-east-1:123456789012:model/Churn-Predictor"
    twin = "arn:aws:sagemaker:us-east-1:123456789012:model/churn-predictor"
    plain = "arn:aws:sagemaker:us-east-1:123456789012:model/fraud"
    document = s.render({mixed, plain})
    for statement in document["Statement"]:
        listed = statement.get("Condition", {}).get("ArnEquals", {}).get(
            "sagemaker:ModelArn", statement["Resource"])
        assert listed == sorted([mixed, twin, plain])
    assert s.size({mixed, plain}) == len(to_json(document))
    assert s.arn_cost(mixed) == s.arn_cost(plain.replace("fraud", "churn-predictor")) * 2
    assert model_arns_in(document) == {mixed, plain}


def test_model_arns_in_keeps_a_lower_case_arn_without_its_original() -> None:
    """A lower-case ARN alone is a model of its own (SageMaker may return names that way);
    only next to the capitalised ARN it was made from is it a twin."""
    lower = "arn:aws:sagemaker:us-east-1:123456789012:model/churn"
    assert model_arns_in({"Resource": [lower]}) == {lower}
    assert arn_forms(lower) == (lower,)


def test_profile_deploy_adds_conditioned_actions_only() -> None:
    """The deploy level adds CreateEndpointConfig/CreateTransformJob on their own types."""
    profile = profile_from_settings(Settings(access_level=AccessLevel.DEPLOY))
    assert isinstance(profile, AccessProfile)
    by_sid = {t.sid: t for t in profile.targets("model")}
    use = by_sid["OwnerModelUseEndpointConfig"]
    assert (use.actions, use.resource_type, use.condition_key) == (
        ("sagemaker:CreateEndpointConfig",), "endpoint-config", "sagemaker:ModelArn")
    assert "sagemaker:CreateEndpointConfig" not in by_sid["OwnerModelAccess"].actions


GROUP = "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/Fraud-Detector"


def test_group_grant_names_the_group_and_its_versions_with_the_slash() -> None:
    """A group is granted on its ARN and `model-package/<G>/*` in both letter cases, never
    `model-package/<G>*` (that would match the versions of a group named `<G>-v2`)."""
    document = shape().render({GROUP})
    by_sid = {st["Sid"]: st for st in document["Statement"]}
    assert by_sid["OwnerModelPackageGroupAccess"]["Resource"] == sorted([
        GROUP, GROUP.replace("Fraud-Detector", "fraud-detector")])
    versions = by_sid["OwnerModelPackageAccess"]["Resource"]
    prefix = "arn:aws:sagemaker:us-east-1:123456789012:model-package/"
    assert versions == sorted([prefix + "Fraud-Detector/*", prefix + "fraud-detector/*"])
    assert "OwnerModelAccess" not in by_sid  # no model statement without a model
    assert model_arns_in(document) == {GROUP}


def test_a_model_and_a_group_of_one_name_are_two_grants() -> None:
    """A model and a group named alike land in different statements and both round-trip."""
    model = "arn:aws:sagemaker:us-east-1:123456789012:model/Fraud-Detector"
    s = shape()
    document = s.render({model, GROUP})
    by_sid = {st["Sid"]: st for st in document["Statement"]}
    assert model in by_sid["OwnerModelAccess"]["Resource"]
    assert model not in by_sid["OwnerModelPackageGroupAccess"]["Resource"]
    assert model_arns_in(document) == {model, GROUP}
    assert s.size({model, GROUP}) == len(to_json(document))
