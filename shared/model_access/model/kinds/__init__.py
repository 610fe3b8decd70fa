"""The grant-able resource kinds, in the order documents list them.

Adding a kind: a module building a `ResourceKind` (see `base.py`), listed in `KINDS`, plus
fixtures in events/; the engine, store, packing and CLI need no change.
"""

from __future__ import annotations

from typing import Final

from model_access.core.arns import ResourceArn, parse_resource_arn
from model_access.model.kinds.base import CreateEvent, ResourceKind, Target
from model_access.model.kinds.model import MODEL
from model_access.model.kinds.package_group import PACKAGE_GROUP

KINDS: Final[tuple[ResourceKind, ...]] = (MODEL, PACKAGE_GROUP)
BY_NAME: Final = {kind.name: kind for kind in KINDS}


def kind_named(name: str) -> ResourceKind:
    """The kind of a key or record (KeyError for a kind this build does not know)."""
    return BY_NAME[name]


def parse_grantable_arn(text: str) -> ResourceArn | None:
    """An ARN of one of our kinds, or None (other SageMaker types, malformed text)."""
    parsed = parse_resource_arn(text)
    return parsed if parsed is not None and parsed.kind in BY_NAME else None


def child_parent(text: str) -> tuple[ResourceKind, str] | None:
    """For the ARN of a resource that follows a parent of ours (a group's version,
    `model-package/<group>/<n>`): the parent's kind and name; else None."""
    parts = text.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sagemaker":
        return None
    resource_type, _, rest = parts[5].partition("/")
    parent, sep, _child = rest.partition("/")
    if not sep:
        return None
    for kind in KINDS:
        if resource_type in kind.child_types:
            return kind, parent
    return None


__all__ = ["BY_NAME", "KINDS", "CreateEvent", "ResourceKind", "Target", "child_parent",
           "kind_named", "parse_grantable_arn"]
