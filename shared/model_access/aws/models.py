"""SageMaker adapter: the truth about our resources (exists? which ARN? which tags?), for
every kind (models, model package groups): the kind says which Describe call reads it.

Tags come in bulk from the Resource Groups Tagging API (100 ARNs a call). That index is
eventually consistent and leaves out untagged resources, so every model missing from it,
and every model whose tags just changed, is confirmed with SageMaker's own Describe call
(DescribeModel, DescribeModelPackageGroup) and ListTags before we act on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from model_access.aws.translate import error_code, translated
from model_access.core.arns import ResourceKey
from model_access.model.kinds import KINDS, kind_named, parse_grantable_arn

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi.client import ResourceGroupsTaggingAPIClient
    from mypy_boto3_sagemaker.client import SageMakerClient

TAGGING_BATCH: Final = 100
"""GetResources takes at most 100 ARNs per call."""


class ModelGoneError(Exception):
    """The model disappeared while we were reading it."""


@dataclass(frozen=True)
class ModelTruth:
    """What SageMaker says about one model right now."""

    key: ResourceKey
    exists: bool
    arn: str | None = None
    name: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    created: str | None = None
    from_index: bool = False
    """True when the tags came from the eventually consistent tagging index."""


class ModelReader:
    """Reads model existence and tags, in bulk from the tag index or one by one from SageMaker."""

    def __init__(self, sagemaker: SageMakerClient, tagging: ResourceGroupsTaggingAPIClient) -> None:
        self._sm = sagemaker
        self._tagging = tagging

    def read(
        self,
        by_arn: dict[ResourceKey, str],
        by_name: dict[ResourceKey, str],
    ) -> dict[ResourceKey, ModelTruth]:
        """Truth for every key: `by_arn` may use the tag index, `by_name` always asks SageMaker."""
        found = self._tags_from_index(by_arn.values())
        truths: dict[ResourceKey, ModelTruth] = {}
        confirm = dict(by_name)
        for key, arn in by_arn.items():
            parsed = parse_grantable_arn(arn)
            if parsed is None:
                continue
            tags = found.get(arn)
            if tags is None:
                confirm.setdefault(key, parsed.name)
            else:
                truths[key] = ModelTruth(key, True, arn, parsed.name, tags, from_index=True)
        for key, name in confirm.items():
            if key not in truths:
                truths[key] = self.describe(key, name)
        return truths

    def describe(self, key: ResourceKey, name: str) -> ModelTruth:
        """The kind's Describe call then ListTags: SageMaker's own, strongly consistent answer."""
        kind = kind_named(key.kind)
        with translated(f"{kind.describe_operation} {name}"):
            try:
                found = getattr(self._sm, kind.describe_operation)(
                    **{kind.name_parameter: name})
            except ClientError as exc:
                if _is_not_found(exc):
                    return ModelTruth(key, False)
                raise
        if kind.status_member and found.get(kind.status_member) in kind.gone_statuses:
            return ModelTruth(key, False)  # being deleted: nobody should gain access now
        arn = found[kind.arn_member]
        created = found.get(kind.created_member)
        try:
            tags = tuple(self.list_tags(arn))
        except ModelGoneError:
            return ModelTruth(key, False)  # deleted between Describe and ListTags
        return ModelTruth(
            key,
            True,
            arn,
            found.get(kind.name_member, name),
            tags,
            created.isoformat() if isinstance(created, datetime) else None,
        )

    def list_tags(self, arn: str) -> Iterator[tuple[str, str]]:
        """Every tag of a model, following NextToken; ModelGoneError if it vanished."""
        with translated(f"ListTags {arn}"):
            try:
                for page in self._sm.get_paginator("list_tags").paginate(ResourceArn=arn):
                    for tag in page.get("Tags", []):
                        yield tag["Key"], tag["Value"]
            except ClientError as exc:
                if _is_not_found(exc):
                    raise ModelGoneError(arn) from exc
                raise

    def tagged_models(self, tag_key: str) -> Iterator[tuple[str, tuple[tuple[str, str], ...]]]:
        """(ARN, tags) of every resource of our kinds carrying `tag_key`, from the tag index,
        page by page (one listing for all kinds: ResourceTypeFilters takes several).

        This is how a sweep finds the models that matter without a call per model: in a
        real account most models carry no owner tag and need nothing.
        """
        token = ""
        while True:
            with translated("GetResources (owner tag)"):
                kwargs: dict[str, Any] = {
                    "TagFilters": [{"Key": tag_key}],
                    "ResourceTypeFilters": [kind.tag_index_type for kind in KINDS],
                    "ResourcesPerPage": TAGGING_BATCH,
                }
                if token:
                    kwargs["PaginationToken"] = token
                page = self._tagging.get_resources(**kwargs)
            for row in page.get("ResourceTagMappingList", []):
                yield row["ResourceARN"], tuple((t["Key"], t["Value"]) for t in row.get("Tags", []))
            token = page.get("PaginationToken", "")
            if not token:
                return

    def _tags_from_index(self, arns: Iterable[str]) -> dict[str, tuple[tuple[str, str], ...]]:
        """Tags of up to 100 ARNs a call. AWS answers an ARN list in one response and
        refuses it with a pagination token; should an answer still carry a token, the ARNs
        it left out are asked again on their own (never a token with a list)."""
        unique: Sequence[str] = sorted(set(arns))
        found: dict[str, tuple[tuple[str, str], ...]] = {}
        for start in range(0, len(unique), TAGGING_BATCH):
            chunk = list(unique[start : start + TAGGING_BATCH])
            while chunk:
                with translated("GetResources"):
                    page = self._tagging.get_resources(ResourceARNList=chunk)
                for row in page.get("ResourceTagMappingList", []):
                    found[row["ResourceARN"]] = tuple(
                        (t["Key"], t["Value"]) for t in row.get("Tags", [])
                    )
                answered = {row["ResourceARN"] for row in page.get("ResourceTagMappingList", [])}
                left = [arn for arn in chunk if arn not in answered]
                if not page.get("PaginationToken") or len(left) == len(chunk):
                    break  # a complete answer (or one that cannot progress)
                chunk = left
        return found


def _is_not_found(exc: ClientError) -> bool:
    code = error_code(exc)
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return code in {"ResourceNotFound", "ValidationException"} and (
        "not find" in message.lower() or "does not exist" in message.lower()
        or code == "ResourceNotFound"
    )
