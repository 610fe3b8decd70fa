"""What the local stack adds to moto so the Model Registry can be played end to end.

moto 5.2 implements create, describe, list and update for model package groups and their
versions, but answers `DeleteModelPackageGroup` and `DeleteModelPackage` with
NotImplemented. The product must see a group go (its grant is revoked), so `register()`
adds both operations to moto's SageMaker backend and its JSON responder, in process: the
moto server `make demo`, `make local` and the e2e tests start, and in-process `mock_aws`
in functional tests, answer them like SageMaker does:

- `DeleteModelPackage` (name or ARN of a version): removes it; ValidationException when
  there is no such version.
- `DeleteModelPackageGroup` (name or ARN): removes the group; ValidationException when it
  does not exist; ConflictException while it still holds versions. (That last rule is our
  reading of the API: a registry group is emptied before it is deleted. The product does not
  depend on it: a delete that fails reaches the trail with its errorCode and is ignored.)

One fidelity fix: the Resource Groups Tagging API answers `GetResources` with a
`ResourceARNList` (at most 100 ARNs) in one response and refuses it together with any
pagination parameter (`ResourcesPerPage`, `TagsPerPage`, `PaginationToken`) or a filter
("Invalid Parameter", per the API reference in botocore's service model). moto pages such
an answer at 50 and hands back a token a client could only use in a request AWS refuses;
`register()` makes moto answer as AWS does (`get_resources_by_arn`), so a client that sent
a token with an ARN list fails here as it would on AWS.

One concurrency fix: moto's server answers requests on threads and its DynamoDB backend
takes no lock. A `TransactWriteItems` snapshots every table it touches and, when the
transaction is cancelled (a condition failed: routine for our lease and fence checks),
restores the whole table from that snapshot, wiping every write other request threads made
in the meantime; the snapshot itself can fail mid-copy ("dictionary changed size") when
another thread writes. On AWS a conditional write is atomic and transactions are
serializable with every other write. `register()` serializes DynamoDB requests behind one
lock (`serialize_dynamodb`), which is what DynamoDB's isolation promises to a client and
costs nothing under one GIL.

Nothing else of moto is changed. The product never relies on moto's other registry quirks
(duplicate tag keys are overwritten by `sagemaker_guards.overwrite_tags`; a second
`CreateModelPackageGroup` of the same name is refused by `refuse_existing_group`).
"""

from __future__ import annotations

import threading
from typing import Any

_REGISTERED: dict[str, bool] = {"done": False}
DYNAMODB_LOCK = threading.RLock()


def _name(text: str) -> str:
    """A name from a name-or-ARN request member (`...:model-package-group/<name>`)."""
    return text.split("/", 1)[1] if text.startswith("arn:") and "/" in text else text


def delete_model_package_group(backend: Any, name_or_arn: str) -> None:
    """Remove a group, as SageMaker would (see the module docstring)."""
    from moto.sagemaker.exceptions import ConflictException, ValidationError

    name = _name(name_or_arn)
    group = backend.model_package_groups.get(name)
    if group is None:
        raise ValidationError(f"ModelPackageGroup {name_or_arn} does not exist.")
    versions = [p for p in backend.model_packages.values()
                if (p.model_package_group_name or "").lower() == name.lower()]
    if versions:
        raise ConflictException(f"Model package group {name} still has {len(versions)} "
                                "model package(s); delete them first.")
    del backend.model_package_groups[name]


def delete_model_package(backend: Any, name_or_arn: str) -> None:
    """Remove one model package (a version of a group, or an unversioned package)."""
    from moto.sagemaker.exceptions import ValidationError

    arn = backend.model_package_name_mapping.get(name_or_arn, name_or_arn)
    if arn not in backend.model_packages:
        arn = next((a for a in backend.model_packages if a.lower() == arn.lower()), arn)
    if arn not in backend.model_packages:
        raise ValidationError(f"Model package {name_or_arn} not found")
    del backend.model_packages[arn]
    for name, mapped in list(backend.model_package_name_mapping.items()):
        if mapped == arn:
            del backend.model_package_name_mapping[name]


ARN_LIST_LIMIT = 100
_ARN_LIST_EXCLUSIVE = ("ResourcesPerPage", "TagsPerPage", "PaginationToken", "TagFilters",
                       "ResourceTypeFilters")


def get_resources_by_arn(backend: Any, arns: list[str]) -> list[Any]:
    """The tagged (or previously tagged) resources among `arns`, as moto's generator yields
    them, in one answer."""
    from moto.core.resource_tagging import TaggedResource, iter_taggable_backends
    from moto.sagemaker.models import sagemaker_backends

    wanted = set(arns)
    found = []
    # Models and model package groups, looked up as AWS looks them up (by ARN), without
    # building every resource's tag map first; any other ARN takes moto's own walk.
    sagemaker = sagemaker_backends[backend.account_id][backend.region_name]
    for kind, items in (("sagemaker:model", sagemaker._models),
                        ("sagemaker:model-package-group", sagemaker.model_package_groups)):
        for item in items.values():
            if item.arn in wanted:
                wanted.discard(item.arn)
                tags = {t["Key"]: t["Value"] for t in getattr(item, "tags", None) or []}
                if tags:
                    found.append(TaggedResource(arn=item.arn, tags=tags, resource_type=kind))
    if not wanted:
        return found
    for taggable in iter_taggable_backends(backend.account_id, backend.region_name):
        for resource in taggable.iter_tagged_resources():
            if resource.arn not in wanted:
                continue
            if not resource.tags and not resource.extra.get("include_untagged"):
                continue
            found.append(resource)
    return found


def serialize_dynamodb() -> None:
    """Answer one DynamoDB request at a time (see the module docstring: isolation)."""
    from moto.dynamodb.responses import DynamoHandler

    answer = DynamoHandler.call_action

    def one_at_a_time(self: Any) -> Any:
        with DYNAMODB_LOCK:
            return answer(self)

    DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]


def register() -> None:
    """Add the two registry deletes, the ARN-list GetResources and DynamoDB isolation to moto
    (idempotent; call before serving requests)."""
    if _REGISTERED["done"]:
        return
    from moto.core.responses import EmptyResult
    from moto.sagemaker.models import SageMakerModelBackend
    from moto.sagemaker.responses import SageMakerResponse

    def backend_group(self: Any, model_package_group_name: str) -> None:
        delete_model_package_group(self, model_package_group_name)

    def backend_package(self: Any, model_package_name: str) -> None:
        delete_model_package(self, model_package_name)

    def respond_group(self: Any) -> Any:
        self.sagemaker_backend.delete_model_package_group(
            self._get_param("ModelPackageGroupName"))
        return EmptyResult()

    def respond_package(self: Any) -> Any:
        self.sagemaker_backend.delete_model_package(self._get_param("ModelPackageName"))
        return EmptyResult()

    from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
    from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse

    by_filters = ResourceGroupsTaggingAPIResponse.get_resources

    def respond_resources(self: Any) -> Any:
        arns = self._get_param("ResourceARNList")
        if not arns:
            return by_filters(self)
        both = [name for name in _ARN_LIST_EXCLUSIVE if self._get_param(name)]
        if both or len(arns) > ARN_LIST_LIMIT:
            raise ResourceGroupsTaggingAPIError(
                "InvalidParameterException",
                f"ResourceARNList cannot be used with {', '.join(both)}" if both
                else f"ResourceARNList takes at most {ARN_LIST_LIMIT} ARNs")
        from moto.core.responses import ActionResult

        return ActionResult({"ResourceTagMappingList": [
            {"ResourceARN": r.arn, "Tags": [{"Key": k, "Value": v} for k, v in r.tags.items()]}
            for r in get_resources_by_arn(self.backend, arns)], "PaginationToken": ""})

    ResourceGroupsTaggingAPIResponse.get_resources = respond_resources  # type: ignore[method-assign]
    SageMakerModelBackend.delete_model_package_group = backend_group  # type: ignore[attr-defined]
    SageMakerModelBackend.delete_model_package = backend_package  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package_group = respond_group  # type: ignore[attr-defined]
    SageMakerResponse.delete_model_package = respond_package  # type: ignore[attr-defined]
    serialize_dynamodb()
    _REGISTERED["done"] = True
