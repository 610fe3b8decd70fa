"""Model Registry figures: what new versions cost, and how many groups one role can hold.

`version_burst`: 20 groups are created and granted through the real rule, queue and
provisioner; then 1,000 versions are registered with ordinary SageMaker calls and each
call's CloudTrail record (`CreateModelPackage`) is put on the bus as CloudTrail would. The
stack's rule (the same pattern builder as the stack, matched by moto's EventBridge) decides
what reaches the queue; whatever does is handled. The figure is the provisioner's IAM writes
during the versions: 0 by design (`model-package/<group>/*` already names every version).

`group_capacity`: groups one role holds in its 8 of 10 slots at the default level, names of
40 characters with capitals (each granted under both spellings), packed like the engine
packs them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.harness import ACCOUNT, PROVISIONER_ROLE, REGION, fresh_aws
from bench.scenarios import DEFAULT_QUOTA, Sizes, _drain, iam_writes, make_design, role_names

OWNER_TAG = "owner-role"


def _group_name(i: int, length: int = 40) -> str:
    stem = f"Fraud-Detector-Registry-{i:05d}-"
    return (stem + "X" * length)[:length]


def version_burst(groups: int, versions: int, sizes: Sizes,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    from model_access_cli.local import cloudtrail

    with fresh_aws() as aws:
        roles = role_names(groups, "registry-owner")
        aws.roles([*roles, PROVISIONER_ROLE])
        sm = aws.clients.sagemaker
        arns = {}
        for i, role in enumerate(roles):
            name = _group_name(i)
            arns[name] = sm.create_model_package_group(
                ModelPackageGroupName=name, Tags=[{"Key": OWNER_TAG, "Value": role}],
            )["ModelPackageGroupArn"]
        aws.emit([cloudtrail.create_model_package_group(name, arn) for name, arn in arns.items()])
        design = make_design("ours", aws)
        _drain(aws, design, sizes)
        granted = sum(len(held) for held in aws.grants(design.path).values())
        writes_before = iam_writes(design.calls())
        details = []
        names = list(arns)
        for v in range(versions):
            group = names[v % len(names)]
            answer = sm.create_model_package(
                ModelPackageGroupName=group, ModelPackageDescription="nightly run",
                InferenceSpecification={
                    "Containers": [{"Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/x:1"}],
                    "SupportedContentTypes": ["text/csv"],
                    "SupportedResponseMIMETypes": ["text/csv"]})
            details.append(cloudtrail.detail(
                "CreateModelPackage",
                {"modelPackageGroupName": group, "modelPackageDescription": "nightly run"},
                {"modelPackageArn": answer["ModelPackageArn"]}))
        aws.emit(details)
        queued = aws.queue_depth()
        clock, _, _ = _drain(aws, design, sizes)
        writes = iam_writes(design.calls()) - writes_before
        still = sum(len(held) for held in aws.grants(design.path).values())
    out = {"groups": groups, "versions": versions, "groups_granted": granted,
           "version_events_put_on_bus": len(details), "version_events_queued": queued,
           "version_events_handled": clock.records, "iam_writes_during_versions": writes,
           "groups_still_granted": still}
    log(f"   registry: {versions} versions over {groups} granted groups -> {writes} IAM "
        f"writes ({queued} of {len(details)} events routed to the queue)")
    return out


def group_capacity(max_groups: int = 2000) -> dict[str, Any]:
    from model_access.core.arns import Scope
    from model_access.core.settings import Settings
    from model_access.model.access import profile_from_settings
    from model_access.policy.packing import pack
    from model_access.policy.plan import role_share
    from model_access.policy.render import PolicyShape, to_json

    settings = Settings()
    shape = PolicyShape(profile_from_settings(settings), Scope("aws", REGION, ACCOUNT))
    slots = role_share(DEFAULT_QUOTA, settings.role_policy_share, 0)
    current: dict[int, frozenset[str]] = {}
    held = 0
    prefix = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package-group/"
    for i in range(max_groups):
        arn = prefix + _group_name(i)
        result = pack(current, [arn], [], base_size=shape.base_size, arn_cost=shape.arn_cost,
                      section_of=shape.section_of, budget=settings.policy_size_budget,
                      max_slots=slots)
        if result.unplaced:
            break
        current = dict(result.slots)
        held += 1
    return {"groups": held, "level": settings.group_access_level.value, "name_chars": 40,
            "mixed_case": True, "policies": len(current), "slots_allowed": slots,
            "largest_policy_chars": max(len(to_json(shape.render(a))) for a in current.values())}
