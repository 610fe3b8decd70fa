"""Model package groups: the Model Registry's "model repository".

A group holds the versions of one model (`model-package/<group>/<n>`). Versions carry no tags
of their own (AWS: a version in a group uses the group's tags), so the group's owner tag
decides, and the grant covers the group ARN and `model-package/<group>/*`. The slash stays:
`model-package/<group>*` would also match the versions of a group named `<group>-v2`. A new
version needs no IAM write, the wildcard already names it.

`deploy` adds CreateModel. CreateModel acts on the `model` resource type only and no
condition key names the package a model is made from (the catalog lists CreateModel's keys:
RequestTag, TagKeys, DirectGatedModelAccess, NetworkIsolation, VpcSecurityGroupIds,
VpcSubnets), so it is granted on models named after the group, `model/<group>-*`: the owner
deploys a version as a model named `<group>-...`. That prefix can also name a model of a
group called `<group>-x`; it grants creating such a name, never access to the other group.

Never PutModelPackageGroupPolicy or DeleteModelPackageGroupPolicy: they open a group to
other accounts (a unit test checks no level grants them).
"""

from __future__ import annotations

from typing import Final

from model_access.core.arns import ResourceArn
from model_access.core.settings import AccessLevel
from model_access.model.kinds.base import CreateEvent, ResourceKind, Target

GROUP_KIND: Final = "model-package-group"
VERSION_TYPE: Final = "model-package"
FORBIDDEN_ACTIONS: Final = ("sagemaker:PutModelPackageGroupPolicy",
                            "sagemaker:DeleteModelPackageGroupPolicy")


def versions_of(arn: ResourceArn, name: str) -> str:
    """Every version of the group: `model-package/<group>/*`."""
    return (f"arn:{arn.partition}:sagemaker:{arn.region}:{arn.account}:"
            f"{VERSION_TYPE}/{name}/*")


def models_named_after(arn: ResourceArn, name: str) -> str:
    """Models named `<group>-...`, the ones deploy may create from the group's versions."""
    return f"arn:{arn.partition}:sagemaker:{arn.region}:{arn.account}:model/{name}-*"


_GROUP_READ: Final = ("sagemaker:DescribeModelPackageGroup", "sagemaker:ListTags")
_GROUP_MANAGE: Final = (*_GROUP_READ, "sagemaker:CreateModelPackage",
                        "sagemaker:DeleteModelPackageGroup")
_VERSIONS_READ: Final = ("sagemaker:BatchDescribeModelPackage", "sagemaker:DescribeModelPackage",
                         "sagemaker:ListModelPackages")
_VERSIONS_MANAGE: Final = (*_VERSIONS_READ, "sagemaker:CreateModelPackage",
                           "sagemaker:DeleteModelPackage", "sagemaker:UpdateModelPackage")
GROUP_SID: Final = "OwnerModelPackageGroupAccess"


def _targets(group: tuple[str, ...], versions: tuple[str, ...]) -> tuple[Target, ...]:
    return (
        Target(GROUP_SID, GROUP_KIND, tuple(sorted(group))),
        Target("OwnerModelPackageAccess", VERSION_TYPE, tuple(sorted(versions)), versions_of),
    )


PACKAGE_GROUP: Final = ResourceKind(
    name=GROUP_KIND,
    label="model package group",
    tag_index_type="sagemaker:model-package-group",
    describe_operation="describe_model_package_group",
    name_parameter="ModelPackageGroupName",
    arn_member="ModelPackageGroupArn",
    name_member="ModelPackageGroupName",
    status_member="ModelPackageGroupStatus",
    gone_statuses=frozenset({"Deleting", "DeleteFailed"}),
    create_events={"CreateModelPackageGroup": CreateEvent("modelPackageGroupName",
                                                          "modelPackageGroupArn")},
    delete_events={"DeleteModelPackageGroup": "modelPackageGroupName"},
    child_types=(VERSION_TYPE,),
    levels={
        AccessLevel.READ: _targets(_GROUP_READ, _VERSIONS_READ),
        AccessLevel.MANAGE: _targets(_GROUP_MANAGE, _VERSIONS_MANAGE),
        AccessLevel.DEPLOY: (
            *_targets(_GROUP_MANAGE, _VERSIONS_MANAGE),
            Target("OwnerModelPackageDeploy", "model", ("sagemaker:CreateModel",),
                   models_named_after),
        ),
    },
    tag_edit_sid=GROUP_SID,
)
