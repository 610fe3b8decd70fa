"""What a grant-able resource kind is: its ARN shape, the events that name it, how its truth
is read, and which actions each access level grants on which of its ARNs.

Everything here is data: the engine, the grant store, packing and the CLI work on
`ResourceKey`s and ARNs and ask the kind's `ResourceKind` for what differs. A new kind is
one module in this package that builds a `ResourceKind`, listed in `kinds/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from model_access.core.arns import ResourceArn
from model_access.core.settings import AccessLevel

FormOf = Callable[[ResourceArn, str], str]
"""The resource a statement lists for one resource, given one spelling of its name."""


def itself(arn: ResourceArn, name: str) -> str:
    """The resource's own ARN, spelled with `name`."""
    return arn.with_name(name)


@dataclass(frozen=True)
class Target:
    """One statement of the grant: these actions on this form of each resource's ARN.

    With `condition_key` set, the statement is on `<resource_type>/*` of our own region and
    account, and the forms go into an `ArnEquals` condition on that key instead (actions
    that use a resource but act on another type, like CreateEndpointConfig)."""

    sid: str
    resource_type: str
    """The IAM resource type the forms name; every action must accept it (catalog check)."""
    actions: tuple[str, ...]
    form: FormOf = itself
    condition_key: str | None = None


@dataclass(frozen=True)
class CreateEvent:
    """A CloudTrail event that creates a resource of this kind."""

    name_parameter: str
    """requestParameters member holding the name (or, for some APIs, the ARN)."""
    arn_response: str
    """responseElements member holding the new resource's ARN."""


@dataclass(frozen=True)
class ResourceKind:
    """A grant-able SageMaker resource type; see the module docstring."""

    name: str
    """The ARN resource type (`model`), also the kind stored on records and keys."""
    label: str
    """For people: "model", "model package group"."""
    tag_index_type: str
    """The Resource Groups Tagging API's ResourceTypeFilter (`sagemaker:model`)."""
    describe_operation: str
    """The boto3 method that reads one resource by name (`describe_model`)."""
    name_parameter: str
    """Its request member (`ModelName`)."""
    arn_member: str
    """Its answer's ARN member (`ModelArn`)."""
    name_member: str
    created_member: str = "CreationTime"
    gone_statuses: frozenset[str] = frozenset()
    """Statuses (`<Kind>Status`) that mean the resource is on its way out: treated as gone."""
    status_member: str | None = None
    create_events: Mapping[str, CreateEvent] = field(default_factory=dict)
    delete_events: Mapping[str, str] = field(default_factory=dict)
    """CloudTrail event name -> requestParameters member naming what is deleted."""
    child_types: tuple[str, ...] = ()
    """ARN types of resources that belong to one of this kind (`model-package` versions) and
    follow its grant; an owner tag put on one of them is refused, never believed."""
    levels: Mapping[AccessLevel, tuple[Target, ...]] = field(default_factory=dict)
    tag_edit_sid: str = ""
    """The statement AddTags/DeleteTags join when owners may edit tags (that resource type)."""

    def record_prefix(self) -> str:
        """The grant store's partition key prefix (`model#` for models, as before kinds)."""
        return f"{self.name}#"

    def event_names(self) -> tuple[str, ...]:
        return (*self.create_events, *self.delete_events)
